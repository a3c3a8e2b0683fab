# Same model, but now x requires grad: x1, w1, w2 are computed, not leaves.
import torch

x = torch.ones(2, 2, requires_grad=True)
x1 = 2 * x
x1.requires_grad_()   # already requires grad: nothing changes
w1 = 5 * x
w2 = 6 * x
print(x1.is_leaf, x1.requires_grad, x1.grad_fn)

y = x1 * w1 * w2
L = 10 * x - y
L.backward(torch.ones_like(L))

# Only the leaf x gets a gradient: 10 - 3 * 2*5*6 = -170.
print(x.grad)
print(x1.grad)
print(w1.grad)
print(w2.grad)
