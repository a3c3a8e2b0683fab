import torch
x = torch.tensor([[1., 2., 3.], [4., 5., 6.]], requires_grad=True)
a, b = x
print(a, b)
print(a.grad_fn, a.grad_fn.next_functions)
(a * 2 + b).sum().backward()
print(x.grad)
c0, c1, c2 = x.unbind(1)
print(c1)
print(torch.unbind(x, dim=-1)[2])
total = 0
for row in x:
    total = total + (row ** 2).sum()
total.backward()
print(x.grad)
y = x * 1
p, q = y
try:
    p.mul_(2)
except Exception as e:
    print(type(e).__name__, e)
z = torch.ones(2, 2)
u, v = z
u.add_(1)
print(z)
try:
    torch.unbind(torch.tensor(1.))
except Exception as e:
    print(type(e).__name__, e)
g, = torch.autograd.grad(sum(r.sum() ** 2 for r in x), x, create_graph=True)
print(g.detach())   # (its grad_fn: StackBackward0 in PyTorch, one node for all parts)
g.sum().backward()
print(x.grad)
print(torch.unbind(torch.zeros(0, 2)))
