# A leaf that requires grad cannot be changed in place outside torch.no_grad().
import torch

w = torch.tensor([1.0, 2.0], requires_grad=True)
with torch.no_grad():
    w *= 2
print(w)
w += 1
print(w)
