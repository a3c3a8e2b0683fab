# Fill a table with a double loop: a[i, j] = d/dx x**(j+1) at x = i + 1.
import torch

a = torch.zeros(3, 4)
values = torch.zeros(3, 4)
for i in range(3):
    for j in range(4):
        x = torch.tensor(i + 1.0, requires_grad=True)
        y = x ** (j + 1)
        y.backward()
        values[i, j] = y.item()
        a[i, j] = x.grad
print(values)
print(a)  # (j+1) * x**j
