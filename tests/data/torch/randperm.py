import torch
torch.manual_seed(0)
p = torch.randperm(10)
print(p.dtype, p.shape, sorted(p.tolist()) == list(range(10)))
x = torch.arange(10.0)
print(x[p].sum(), torch.randperm(0), torch.randperm(3, dtype=torch.float64).dtype)
X = torch.arange(12.0).reshape(6, 2)
idx = torch.randperm(6)
for i in range(0, 6, 2):
    batch = X[idx[i:i + 2]]
    print(batch.shape)
for bad in (lambda: torch.randperm(-1),):
    try:
        bad()
    except RuntimeError as e:
        print("RuntimeError:", e)
