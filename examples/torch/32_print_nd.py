# Matrices and 3-D tensors print row by row with aligned columns.
import torch

m = torch.tensor([[1.0, -2.5, 3.25], [10.0, 0.5, -100.0]])
print(m)
print(m.T)
c = torch.arange(24.0).view(2, 3, 4)
print(c)
print(c.shape, c.dim(), c.numel())
print(c.sum(2))
print(torch.eye(3))
print(torch.linspace(-1, 1, 5))
print(torch.arange(30.0) * 1.5)
print(torch.zeros(0), torch.zeros(2, 0))
print(m * 1e-3)
