# Continuing the ones(2, 2) example: 4.5, then accumulation to 5.5, then a gradient of 1.
import torch

x = torch.ones(2, 2, requires_grad=True)
y = x + 2
z = y * y * 3
out = z.mean()
out.backward()
print(x.grad)  # 4.5 everywhere

# d(sum(x))/dx is 1 everywhere; it is added to the 4.5 already stored.
s = x.sum()
s.backward()
print(x.grad)  # 5.5 everywhere

# After zeroing, the same backward leaves just the gradient of the sum.
x.grad.zero_()
s = x.sum()
s.backward()
print(x.grad)  # 1 everywhere
