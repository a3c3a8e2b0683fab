# A slice of a leaf shares its storage, so it cannot be modified in place either.
import torch

a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
first = a[0]
print(first, first.is_leaf)
with torch.no_grad():
    first.mul_(5)   # fine: nothing is recorded here
print(a)
a[1:].mul_(2)
