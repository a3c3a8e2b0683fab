import torch

torch.manual_seed(0)
print(torch.rand(2).dtype, torch.randn(2, 2).dtype, torch.nn.Linear(2, 1).weight.dtype)
torch.set_default_dtype(torch.float64)
print(torch.rand(2).dtype, torch.randn(2, dtype=torch.float32).dtype,
      torch.nn.Linear(2, 1).weight.dtype, torch.ones(2).dtype, torch.tensor([1.0]).dtype)
x = torch.arange(6.0, requires_grad=True).reshape(2, 3)
print(x.mT, x.mH.shape, x.mT.grad_fn.name())
try:
    torch.ones(3).mT
except RuntimeError as e:
    print(e)
