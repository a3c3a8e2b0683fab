import torch
from torch.autograd.functional import jacobian, hessian
def f(x, y):
    return x * y, (x ** 2).sum() + y.sum()
x = torch.tensor([1.0, 2.0]); y = torch.tensor([3.0, -1.0])
J = jacobian(f, (x, y))
print(J)
def g(x, y):
    return (x ** 2 * y).sum()
print(hessian(g, (x, y)))
print(hessian(lambda v: (v ** 3).sum(), x))
w = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
print(jacobian(lambda v: w @ v.tanh(), x))
print(jacobian(lambda v: v.sum(), torch.ones(2, 2)))
