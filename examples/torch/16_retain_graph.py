# retain_graph=True keeps the graph alive so backward can run on it again.
import torch

x = torch.tensor(2.0, requires_grad=True)
y = x**3          # dy/dx = 3x^2 = 12

y.backward(retain_graph=True)
print(x.grad)     # 12
y.backward()      # allowed: the graph was retained
print(x.grad)     # 12 + 12 = 24 (gradients accumulate)
