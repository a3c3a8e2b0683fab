import torch
torch.manual_seed(0)
w = torch.empty(2, 3).uniform_(-1, 1)
print(w.shape, bool(((w >= -1) & (w < 1)).all()), w._version)
b = torch.zeros(4).normal_(0, 0.01)
print(b.shape, b.dtype, bool(b.abs().max() < 0.1))
p = torch.zeros(3, requires_grad=True)
with torch.no_grad():
    p.uniform_(0, 2)
print(p.requires_grad, p.is_leaf, bool(((p >= 0) & (p < 2)).all()))
try:
    p.normal_()
except RuntimeError as e:
    print("RuntimeError:", e)
