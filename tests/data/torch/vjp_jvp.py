import torch
from torch.autograd.functional import vjp, jvp, jacobian

def f(x):
    return x ** 3 + 2 * x

x = torch.tensor([1.0, 2.0, 3.0])
v = torch.tensor([1.0, 0.5, 0.25])
out, vj = vjp(f, x, v)
print(out, vj)
out, jv = jvp(f, x, v)
print(out, jv)

def g(a, b):
    return (a * b).sum(), a - b

a = torch.tensor([1.0, 2.0]); b = torch.tensor([3.0, 5.0])
outs, grads = vjp(g, (a, b), (torch.tensor(1.0), torch.tensor([1.0, -1.0])))
print(outs, grads)
outs, tangents = jvp(g, (a, b), (torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])))
print(outs, tangents)
print(vjp(lambda t: (t ** 2).sum(), torch.tensor([1.0, 2.0])))
print(jvp(lambda t: t.exp(), torch.tensor(0.5)))
w = torch.tensor([1.0, 2.0], requires_grad=True)
o, vj2 = vjp(lambda t: t ** 2, w, torch.ones(2), create_graph=True)
print(o, vj2)
vj2.sum().backward()
print(w.grad)
print(vjp(lambda t: torch.ones(2), torch.tensor([1.0, 2.0]), torch.ones(2)))
for bad in (lambda: vjp(f, x), lambda: vjp(f, x, (v, v)), lambda: jvp(f, x, torch.ones(2))):
    try:
        bad()
    except RuntimeError as e:
        print("RuntimeError:", e)
try:
    jvp(lambda t: t * 2, torch.ones(2))
except RuntimeError as e:
    print("RuntimeError:", e)
