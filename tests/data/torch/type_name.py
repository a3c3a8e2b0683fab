import torch

x = torch.tensor([1.0, 2.0], requires_grad=True)
print(type(x).__name__, type(x.grad).__name__, type(1.5).__name__, type([1]).__name__)
for bad in (lambda: torch.ones(2) + torch.ones(3), lambda: x.backward(),
            lambda: torch.ones(2, 3) @ torch.ones(2, 3)):
    try:
        bad()
    except RuntimeError as e:
        print(type(e).__name__ + ":", e)
try:
    [1, 2][5]
except IndexError as e:
    print(type(e).__name__, e)
