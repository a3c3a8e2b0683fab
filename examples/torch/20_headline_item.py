# f = (x1*x2 + x3)^2 at (2, 3, 1): value 49, gradients 42, 28, 14.
import torch

x1 = torch.tensor(2.0, requires_grad=True)
x2 = torch.tensor(3.0, requires_grad=True)
x3 = torch.tensor(1.0, requires_grad=True)

f = (x1 * x2 + x3) ** 2
f.backward()

print(f.item())
print(x1.grad.item(), x2.grad.item(), x3.grad.item())
print(f"f = {f.item()}, df/dx1 = {x1.grad.item()}, df/dx2 = {x2.grad.item()}, df/dx3 = {x3.grad.item()}")
print(f.grad_fn)
