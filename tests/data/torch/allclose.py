import torch
a = torch.tensor([1.0, 2.0, float('nan')]); b = torch.tensor([1.0, 2.00001, float('nan')])
print(torch.isclose(a, b)); print(torch.isclose(a, b, equal_nan=True)); print(torch.allclose(a, b)); print(torch.allclose(a, b, equal_nan=True))
print(a.isclose(b, rtol=0, atol=0)); print(a.allclose(b, 1e-3)); print(torch.equal(a, a)); print(torch.equal(a[:2], b[:2]))
for f in (lambda: torch.isclose(a, a.double()), lambda: torch.allclose(a, a.double()), lambda: torch.equal(a, a.double()), lambda: torch.allclose(a, torch.ones(2)), lambda: torch.equal(a, torch.ones(2)), lambda: torch.isclose(torch.tensor([1,2]), torch.tensor([1,3])), lambda: torch.allclose(a, 1.0), lambda: torch.isclose(a, b, rtol=-1)):
    try: print(repr(f()))
    except Exception as e: print(type(e).__name__, e)
x = torch.tensor([1.0, 2.0], requires_grad=True)
print(torch.isclose(x, x*1), torch.allclose(x, x), torch.equal(x, x.detach()))
print(torch.isclose(torch.tensor([1,2]), torch.tensor([1,3])))
