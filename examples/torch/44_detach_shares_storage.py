# detach() and .data share storage with the original: in-place changes show through.
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
d = x.detach()
d[0] = 10.0          # writes into x's storage
print(x)

m = torch.arange(6.0).view(2, 3)
row = m[1]           # basic indexing gives a view
row.mul_(10)
print(m)
col = m[:, 0]
col.fill_(-1.0)
print(m)

w = torch.ones(3, requires_grad=True)
with torch.no_grad():
    w.add_(0.5)      # an in-place update autograd does not record
print(w, w.is_leaf)
y = (w * x).sum()
y.backward()
print(w.grad, x.grad)
