import torch
x = torch.tensor([3.0, -4.0], requires_grad=True)
n = torch.linalg.norm(x)
n.backward()
print(n, x.grad)
A = torch.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
print(torch.linalg.norm(A), torch.linalg.norm(A, 'fro'), torch.linalg.norm(A, dim=1))
print(torch.linalg.norm(A, ord=1, dim=0), torch.linalg.norm(A, ord=float('inf'), dim=1))
print(torch.linalg.vector_norm(A), torch.linalg.vector_norm(A, ord=1), torch.linalg.vector_norm(A, 3, dim=0, keepdim=True))
print(torch.linalg.norm(x, 1), torch.linalg.norm(x, float('inf')), torch.linalg.norm(x, 0.5))
print(torch.linalg.norm(A, 'fro', dim=(0, 1), keepdim=True))
y = torch.linalg.vector_norm(A, ord=3)
y.backward()
print(A.grad)
try:
    torch.linalg.norm(torch.ones(2, 2, 2), ord=1)
except RuntimeError as e:
    print("RuntimeError:", e)
