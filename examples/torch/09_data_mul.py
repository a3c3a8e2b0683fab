# Changing .data bypasses autograd: the graph silently uses the new value.
import torch

x = torch.tensor(1.0, requires_grad=True)
y = x**2          # PowBackward0 keeps a reference to x for the backward pass

x.data *= 100     # autograd is not told about this change
print(x)
print(y)          # y was computed before the change: still 1

y.backward()
print(x.grad)     # 2 * 100 = 200, not 2: the gradient used the modified x
