# Negative zero, NaN and infinities in printed tensors and in .item().
import torch

x = torch.tensor([-0.0, 0.0, 1.0])
print(x)
z = torch.tensor([1.0, -1.0, 0.0]) / torch.tensor(0.0)
print(z)
print(torch.log(torch.tensor([-1.0, 0.0, 2.0])))
y = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
s = torch.sqrt(y - 1)
s.sum().backward()
print(s)
print(y.grad)
print(z[0].item(), z[1].item(), z[2].item())
print(-torch.zeros(2))
