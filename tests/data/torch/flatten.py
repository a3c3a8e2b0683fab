import torch
x = torch.arange(24.).reshape(2, 3, 4).requires_grad_()
print(torch.flatten(x, 1).shape, x.flatten(1).shape, x.flatten(0, 1).shape, x.flatten(-2).shape)
print(x.flatten(start_dim=1, end_dim=2).grad_fn, x.flatten(1, 1).grad_fn, x.flatten().grad_fn)
y = torch.tensor(3.)
print(y.flatten(), y.flatten().shape, y.flatten(0, 0).shape)
z = torch.ones(2)
print(z.flatten() is z, z.flatten(0) is z)
for a, b in ((2, 1), (0, 3), (-4, 0)):
    try:
        print(x.flatten(a, b).shape)
    except Exception as e:
        print(type(e).__name__, e)
(x.flatten(1) * torch.arange(12.)).sum().backward()
print(x.grad)
try:
    print(y.flatten(1))
except Exception as e:
    print(type(e).__name__, e)
print(torch.nn.Flatten()(x).shape, torch.nn.Flatten(0)(x).shape)
print(torch.nn.Flatten(), torch.nn.Sequential(torch.nn.Flatten(0, 1)))
for f in (lambda: torch.ones(2).sum(3), lambda: torch.ones(2, 2).transpose(0, 5), lambda: torch.ones(2).softmax(2), lambda: torch.ones(2).unsqueeze(3)):
    try:
        f()
    except Exception as e:
        print(type(e).__name__, e)
