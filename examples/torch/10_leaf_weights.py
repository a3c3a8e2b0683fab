# Three leaves made with requires_grad_(): L = 10x - x1*w1*w2.
import torch

x = torch.ones(2, 2)
x1 = 2 * x
x1.requires_grad_()
w1 = 5 * x
w1.requires_grad_()
w2 = 6 * x
w2.requires_grad_()

y = x1 * w1 * w2
L = 10 * x - y
print(L)

L.backward(torch.ones_like(L))
print(x1.grad)  # -(w1 * w2) = -30
print(w1.grad)  # -(x1 * w2) = -12
print(w2.grad)  # -(x1 * w1) = -10
print(x1.is_leaf, w1.is_leaf, w2.is_leaf)
