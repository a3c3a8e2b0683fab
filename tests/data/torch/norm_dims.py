import torch
x = torch.tensor([[3.0, -4.0, 0.5], [1.0, 2.0, -2.0]], requires_grad=True)
for y in (torch.norm(x), x.norm(dim=1), x.norm(1, dim=0), torch.norm(x, p=3, dim=1, keepdim=True),
          x.norm(float("inf"), 1), x.norm(p=2, dim=(0, 1)), torch.norm(x, dim=-1, p=0.5)):
    print(y)
    y.sum().backward()
    print(x.grad)
    x.grad = None
