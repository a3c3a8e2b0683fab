# How tensors print: PyTorch switches to scientific notation when values span a wide range.
import torch

print(torch.tensor([1e-5, 1.0, 1e6]))
print(torch.tensor([0.001, 0.01, 0.1]))
print(torch.tensor([123456.0, 1.5]))
print(torch.tensor([1e-5, 2e-5]))
print(torch.tensor([1e20, 1.0]))
print(torch.tensor([1e-20, 1.0]))
print(torch.tensor(1e-5))
print(torch.tensor(1e6))
print(torch.tensor([0.1, 0.25, 3.14159265]))
print(torch.tensor([1e-5, 1.0, 1e6], dtype=torch.float64))
print(torch.tensor([1e-5, 1.0, 1e6], requires_grad=True))
