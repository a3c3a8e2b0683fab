import torch
x = torch.tensor([1., -2., 3., -4.], requires_grad=True)
y = x * 1
y[y < 0] = 0
print(y)
print(y.grad_fn, y.grad_fn.next_functions)
y.sum().backward()
print(x.grad)
v = torch.tensor(5., requires_grad=True)
z = x * 2
z[torch.tensor([0, 2])] = v * 3
print(z, z.grad_fn.next_functions)
z.sum().backward()
print(v.grad, x.grad)
w = torch.zeros(2, 3)
w[torch.tensor([True, False])] = torch.tensor([1., 2., 3.])
print(w)
w[:, torch.tensor([0, 2])] = 7.
print(w)
w[0, [1]] = 9
print(w)
d = torch.zeros(3, dtype=torch.float64)
try:
    d[torch.tensor([True, False, True])] = torch.tensor([1., 2.])
    print(d)
except Exception as e:
    print(type(e).__name__, e)
try:
    x[x > 0] = 0
except Exception as e:
    print(type(e).__name__, e)
m = torch.ones(4)
try:
    m[torch.tensor([True, False])] = 1
except Exception as e:
    print(type(e).__name__, e)
try:
    m[torch.tensor([0, 7])] = 1
except Exception as e:
    print(type(e).__name__, e)
m[torch.tensor([1, 1])] = torch.tensor([3., 4.])
print(m)
try:
    m[torch.tensor([True, False, True, True])] = torch.tensor([1., 2.])
except Exception as e:
    print(type(e).__name__, e)
x2 = torch.tensor([1., -2., 3.], requires_grad=True)
y = x2 * 2
y[y < 0] = 0
z = (y ** 2).sum()
g, = torch.autograd.grad(z, x2, create_graph=True)
print(g)
g.sum().backward()
print(x2.grad)
x3 = torch.tensor([1., -2., 3., -4.], requires_grad=True)
y = x3 * 1
z = y[1:]
z[z < 0] = 0
print(y, z)
print(y.grad_fn, z.grad_fn)
y.sum().backward()
print(x3.grad)
x3.data[x3.data < 0] = 0
print(x3)
x3.grad[x3.grad > 0] = 5
print(x3.grad)
m = torch.zeros(2, 3)
m[0][torch.tensor([0, 2])] = 1
print(m)
m[m == 0] = torch.tensor(2.)
print(m)
with torch.no_grad():
    x3[x3 > 0] = 7
print(x3)
