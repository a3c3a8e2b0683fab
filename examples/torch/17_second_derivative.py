# create_graph=True makes the gradient differentiable: second derivatives.
import torch

def second_derivative(value):
    x = torch.tensor(value, requires_grad=True)
    y = x**3
    dy, = torch.autograd.grad(y, x, create_graph=True)   # 3x^2
    d2y, = torch.autograd.grad(dy, x)                    # 6x
    return dy, d2y

dy, d2y = second_derivative(2.0)
print(dy, d2y)     # 12 and 12
dy, d2y = second_derivative(1.0)
print(dy, d2y)     # 3 and 6
