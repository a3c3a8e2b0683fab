# Accumulation across two different graphs that share a leaf: 4, then 7.
import torch

x = torch.tensor(2.0, requires_grad=True)

y = x**2
y.backward()
print(x.grad)   # 2x = 4

w = 3 * x
w.backward()
print(x.grad)   # 4 + 3 = 7
