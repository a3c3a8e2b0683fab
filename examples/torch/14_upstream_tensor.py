# backward(a) with a tensor upstream: each output element's gradient is weighted.
import torch

a = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
out = a * a
print(out)

# Upstream gradient = a itself: a.grad = 2a * a.
out.backward(a.detach(), retain_graph=True)
print(a.grad)

# After zeroing, an all-ones upstream gives the plain derivative 2a.
a.grad.zero_()
out.backward(torch.ones_like(out))
print(a.grad)
