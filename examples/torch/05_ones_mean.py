# The classic first autograd example: out = mean(3 * (x + 2)^2) with x = ones(2, 2).
import torch

x = torch.ones(2, 2, requires_grad=True)
print(x)

y = x + 2
print(y)
print(y.grad_fn)   # y was made by an operation, so it has a grad_fn

z = y * y * 3
out = z.mean()
print(z, out)

# d(out)/dx_i = (1/4) * 6 * (x_i + 2) = 1.5 * 3 = 4.5
out.backward()
print(x.grad)
