import torch
x = torch.tensor([1., -2., 3., 4.], requires_grad=True)
mask = x > 0
y = x[mask]
print(y)
(y * y).sum().backward()
print(x.grad)
m = torch.arange(12.).reshape(3, 4)
print(m[[0, 2]], m[torch.tensor([2, 0])], m[:, [1, 3]])
print(m[torch.arange(3), torch.tensor([0, 1, 2])])
print(m[m > 5])
w = torch.ones(3, requires_grad=True)
z = w[[0, 0, 2]].sum()
z.backward()
print(w.grad)
print(m[[True, False, True]])
try:
    m[[5]]
except IndexError as e:
    print("IndexError:", e)
