# The derivative of f(x) = x^2 + 3x + 1 at x = 2 is 2*2 + 3 = 7.
import torch

x = torch.tensor(2.0, requires_grad=True)
f = x**2 + 3*x + 1
print(f)
f.backward()
print(x.grad)
print(x.grad.item())
