# autograd.grad with an input the output does not depend on.
import torch

x = torch.tensor(2.0, requires_grad=True)
u = torch.tensor(5.0, requires_grad=True)
y = x**2

gx, gu = torch.autograd.grad(y, [x, u], allow_unused=True, retain_graph=True)
print(gx, gu)

gx, gu = torch.autograd.grad(y, [x, u])
print(gx, gu)
