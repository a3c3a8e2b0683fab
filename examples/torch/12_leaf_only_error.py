# requires_grad can only be switched off on a leaf tensor.
import torch

x = torch.ones(2, 2, requires_grad=True)
x1 = 2 * x
print(x1.requires_grad)

# x1 came from x: turning its flag off is an error (use x1.detach() instead).
x1.requires_grad_(False)
print("not reached")
