# Past 1000 elements PyTorch prints only the corners with "..." in between.
import torch

a = torch.arange(1001.0) * 0.5
print(a)
b = torch.arange(1600).view(40, 40)
print(b)
c = torch.linspace(0, 1, 2000, requires_grad=True)
print(c * 2)
print(torch.ones(1000))
