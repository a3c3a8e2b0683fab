import torch

x = torch.tensor([1.5, -2.0, 3.5, 0.25], requires_grad=True)
inside = (x > 0) & (x < 3)
print(inside)
outside = (x < -1) | (x > 3)
print(outside, ~outside)
print(inside ^ outside)
print(x[inside | outside])
y = x // 2
print(y, y.requires_grad)
print(torch.floor_divide(x, -2))
print(torch.tensor([-7, 7]) // 2, 7 // torch.tensor([2, -2]))
print(torch.tensor([5, 6]) & 3, torch.tensor([5, 6]) | torch.tensor([1, 8]), ~torch.tensor([0, 5]))
print(torch.tensor([1.0, -1.0, 0.0]) // 0)
print(torch.bitwise_and(torch.tensor([True, False]), torch.tensor([True, True])))
try:
    y.sum().backward()
except RuntimeError as e:
    print("RuntimeError:", e)
try:
    torch.tensor([1.5]) & torch.tensor([2.0])
except NotImplementedError as e:
    print("NotImplementedError:", e)
try:
    ~torch.tensor([1.5])
except TypeError as e:
    print("TypeError:", e)
try:
    torch.tensor([5]) // 0
except RuntimeError as e:
    print("RuntimeError:", e)
