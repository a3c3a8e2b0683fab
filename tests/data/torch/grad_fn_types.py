import torch

# type() of a grad_fn is its PyTorch class, the way blog posts walk a graph
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = (x * 2).sum()
print(type(y.grad_fn).__name__, type(y.grad_fn))
fn = y.grad_fn
while fn is not None:
    print(type(fn).__name__, fn.name())
    fn = fn.next_functions[0][0] if fn.next_functions else None
print(type(y.grad_fn) == type(y.grad_fn), type(y.grad_fn) == type((x + 1).grad_fn))
print(isinstance(y.grad_fn, type(y.grad_fn)))

# _version counts in-place writes, shared by views and detach()
a = torch.tensor([1.0, 2.0, 3.0])
print(a._version)
a.add_(1)
a[0] = 5
print(a._version)
b = a.view(3)
b.mul_(2)
print(a._version, b._version, a.detach()._version)
w = torch.tensor([1.0, 2.0], requires_grad=True)
h = w * 2
print(h._version, w._version)
h.add_(1)
with torch.no_grad():
    w.sub_(0.5)
print(h._version, w._version)

# backward(create_graph=True) warns once per process (on stderr); grad() does not
z = torch.tensor([1.0, 2.0], requires_grad=True)
(z ** 3).sum().backward(create_graph=True)
(z ** 2).sum().backward(create_graph=True)
print(z.grad)
print(torch.autograd.grad((z ** 2).sum(), z, create_graph=True))
