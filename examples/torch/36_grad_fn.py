# Every result of an op records the function that made it (grad_fn).
import torch

x = torch.tensor([1.0, 2.0], requires_grad=True)
w = torch.tensor([3.0, 4.0], requires_grad=True)
y = x * w
print(y.grad_fn)
print(y.grad_fn.name())
print(y.grad_fn.next_functions)

z = y.sum() + 1
print(z)
print(z.grad_fn.next_functions)
print(z.grad_fn.next_functions[0][0].next_functions)
print(x.is_leaf, y.is_leaf, z.is_leaf)
print(x.grad_fn)
c = torch.tensor([5.0, 6.0])
print((c * 2).grad_fn, (c * x).grad_fn.name())
print(x.requires_grad, c.requires_grad, (c * x).requires_grad)
