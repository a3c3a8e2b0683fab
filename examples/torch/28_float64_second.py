# Higher derivatives in double precision: prints carry a dtype=torch.float64 suffix.
import torch

x = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64, requires_grad=True)
y = torch.sin(x) * x**2
print(y)

dy, = torch.autograd.grad(y.sum(), x, create_graph=True)
print(dy)
d2y, = torch.autograd.grad(dy.sum(), x)
print(d2y)
print(d2y.dtype)

# The same in float32 rounds differently.
x32 = x.detach().float().requires_grad_()
g32, = torch.autograd.grad((torch.sin(x32) * x32**2).sum(), x32)
print(g32)
print(dy.detach() - g32.double())
