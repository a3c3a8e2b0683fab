# Gradients accumulate: every backward() ADDS into .grad instead of replacing it.
import torch

x = torch.tensor(2.0, requires_grad=True)
y = x**2   # dy/dx = 2x = 4
z = x      # dz/dx = 1 (z is x itself, a leaf)

y.backward()
print(x.grad)  # 4

# A second backward adds its gradient to the one already stored.
z.backward()
print(x.grad)  # 4 + 1 = 5
