# Plain Python around autograd: functions, loops over lists and tensors, formatting.
import torch

def poly(x, coeffs, shift=0.0):
    """Evaluate c0 + c1*x + c2*x**2 + ... + shift."""
    total = 0.0
    k = 0
    for c in coeffs:
        total = total + c * x**k
        k += 1
    return total + shift

x = torch.tensor(1.5, requires_grad=True)
p = poly(x, [1.0, -2.0, 0.5], shift=2)
p.backward()
print("p", "dp/dx", sep=" | ")
print(p.item(), x.grad.item(), sep=" | ")

# Iterating over a tensor yields its elements as 0-d tensors.
for v in torch.tensor([0.5, -1.0, 2.0, 4.0]):
    if v < 0:
        continue
    elif v > 3:
        break
    print(v, end="; ")
print()

results = {}
for name, value in [("a", 1.0), ("b", 2.0), ("c", 3.0)]:
    t = torch.tensor(value, requires_grad=True)
    (t**2).backward()
    results[name] = t.grad.item()
print(results)
print("%s has gradient %.3f" % ("b", results["b"]))
print("{} has gradient {:.2f}".format("c", results["c"]))
print(f"{x.grad.item():8.3f}|{x.grad.item():<8.3f}|{x.grad.item():e}|{p.item():.2%}")
pair = (x.item(), x.grad.item())
print(pair, [1, 2.5, None, True], None)
