# Switching gradient recording on and off.
import torch

x = torch.tensor([1.0, 2.0], requires_grad=True)
print(torch.is_grad_enabled())

with torch.no_grad():
    print(torch.is_grad_enabled())
    a = x * 2
    with torch.enable_grad():
        b = x * 2
print(a.requires_grad, b.requires_grad, b.grad_fn)

torch.set_grad_enabled(False)
c = x * 3
print(c.requires_grad, torch.is_grad_enabled())
torch.set_grad_enabled(True)
d = x * 3
print(d.requires_grad)

torch.autograd.backward(d, torch.tensor([1.0, 0.5]))
print(x.grad)
