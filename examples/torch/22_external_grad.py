# Q = 3a^3 - b^2 is a vector, so backward needs an explicit gradient argument.
import torch

a = torch.tensor([2.0, 3.0], requires_grad=True)
b = torch.tensor([6.0, 4.0], requires_grad=True)
Q = 3 * a**3 - b**2
print(Q)

# dQ/dQ = 1 for each element: pass a vector of ones.
external_grad = torch.tensor([1.0, 1.0])
Q.backward(gradient=external_grad)

# The collected gradients match the hand-derived ones.
print(9 * a**2 == a.grad)
print(-2 * b == b.grad)
print(a.grad, b.grad)
