# Inside torch.no_grad() nothing is recorded: the result does not require grad.
import torch

x = torch.tensor(1.0, requires_grad=True)
y1 = x**2
with torch.no_grad():
    y2 = x**3
print(y1.requires_grad, y2.requires_grad)
print(y2, y2.grad_fn)

y3 = y1 + y2
y3.backward()
print(x.grad)  # only y1 contributes: 2x = 2
