# .item() turns a float32 value into a Python float: the float32 rounding shows.
import torch

third = torch.tensor(1.0) / 3
print(third)
print(third.item())
print(f"{third.item():.4f}")
third64 = torch.tensor(1.0, dtype=torch.float64) / 3
print(third64)
print(third64.item())

x = torch.tensor(0.1, requires_grad=True)
y = x * x * 10
y.backward()
print(y.item(), x.grad.item())
print(y, x.grad)
print(torch.tensor(2.0).item(), torch.tensor(7).item(), torch.tensor(True).item())
print(torch.tensor([0.1, 0.2]).sum().item())
