# The graph follows the control flow: a while loop decides how many doublings happen.
import torch

x = torch.tensor([0.5, -1.0, 1.5], requires_grad=True)
y = x * 2
steps = 1
while y.data.norm() < 1000:
    y = y * 2
    steps += 1

print(y)
print(steps)

v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(v)
print(x.grad)   # v * 2**steps
