# Python views of a tensor: .tolist(), .item(), .shape, .size(), .dtype.
import torch

a = torch.tensor([[1.0, 2.5], [3.0, 0.1]])
print(a.tolist())
print(a.shape, a.size(), a.size(0), a.shape[1])
print(a.dtype, a.dim(), a.numel())
print(torch.tensor([1, 2, 3]).tolist())
print(torch.tensor([True, False]).tolist())
print(torch.tensor(0.1).item())
print(torch.tensor(0.1, dtype=torch.float64).item())
print(a.double().dtype, a.long(), a.long().dtype)
print(torch.tensor(2.5).shape, torch.tensor(2.5).tolist())
print(a.sum().item(), a[1, 1].item())
d = {"mean": a.mean().item(), "rows": a.shape[0]}
print(d)
print(torch.float32, torch.float64, torch.int64, torch.bool)
