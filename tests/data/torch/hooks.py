import torch
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = x * 3
h = y.register_hook(lambda grad: grad * 2)
print(h)
y.sum().backward()
print(x.grad)
x.grad.zero_()
h.remove()
y = x * 3
y.sum().backward()
print(x.grad)
seen = []
def show(g):
    print("grad of x:", g)
    seen.append(g)
x.register_hook(show)
z = (x ** 2).sum()
z.backward()
print(x.grad, len(seen))
w = torch.tensor(3.0, requires_grad=True)
q = w * w
q.register_hook(lambda g: print("q grad", g))
q.retain_grad()
r = q * 2
r.register_hook(lambda g: g + 1)
r.backward()
print(w.grad, q.grad)
try:
    torch.ones(2).register_hook(show)
except Exception as e:
    print(type(e).__name__, e)
v = torch.ones(2, requires_grad=True)
u = v * 1
u.register_hook(lambda g: torch.ones(3))
try:
    u.sum().backward()
except Exception as e:
    print(type(e).__name__, e)
