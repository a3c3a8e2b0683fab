# In-place changes to a tensor that a backward pass needs are detected.
import torch

a = torch.tensor([0.0, 1.0, 2.0], requires_grad=True)
b = torch.exp(a)   # ExpBackward0 saves its result b
b += 1             # ... which is now modified in place
print(b)
b.sum().backward()
print(a.grad)
