# retain_grad() asks autograd to keep the gradient of an intermediate tensor.
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
h = x * 2
h.retain_grad()
y = (h ** 2).sum()
y.backward()

print(h.grad)   # dy/dh = 2h
print(x.grad)   # dy/dx = 2h * 2
print(h.is_leaf, h.requires_grad)
