import torch

torch.set_default_dtype(torch.float64)
A = torch.tensor([[2.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]], requires_grad=True)
b = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
print(torch.linalg.det(A), A.det(), torch.det(A))
print(torch.linalg.inv(A), A.inverse())
x = torch.linalg.solve(A, b)
print(x)
s = torch.linalg.slogdet(A)
print(s)
print(torch.slogdet(A).logabsdet, A.slogdet().sign)
print(torch.logdet(A), A.logdet())
L = torch.linalg.cholesky(A)
print(L)
print(torch.outer(b, b), b.outer(b))
print(A.triu(), A.tril(-1), torch.triu(A, 1))
print(torch.diag(b, 1), A.diag(), torch.diag(A, -1))
B = torch.stack([A, 2 * A])
print(torch.bmm(B, B), B @ A, A @ B, B @ b)
loss = torch.linalg.det(A) + x.sum() + s.logabsdet + L.sum() + (B @ b).sum()
loss.backward()
print(A.grad)
print(b.grad)
try:
    torch.linalg.inv(torch.zeros(2, 2))
except RuntimeError as e:
    print("caught:", e)
try:
    torch.linalg.solve(torch.eye(2), torch.ones(3))
except RuntimeError as e:
    print("caught:", e)
# LAPACK's results are laid out column by column: not contiguous, reshape copies
Ai = torch.linalg.inv(A)
print(Ai.is_contiguous(), Ai.reshape(-1).grad_fn.name(), Ai.t().reshape(-1).grad_fn.name())
print(torch.linalg.solve(B, B).is_contiguous(), torch.linalg.solve(B, B[..., 0]).is_contiguous())
print(L.is_contiguous(), L.t().is_contiguous())
