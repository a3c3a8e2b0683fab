# A one-layer network: z = x @ w + b, scored with binary cross-entropy on logits.
import torch
import torch.nn.functional as F

x = torch.ones(5)       # input
y = torch.zeros(3)      # target
w = torch.tensor([[0.1, -0.2, 0.3],
                  [0.0, 0.5, -0.1],
                  [0.2, 0.2, 0.2],
                  [-0.3, 0.1, 0.0],
                  [0.4, -0.4, 0.1]], requires_grad=True)
b = torch.tensor([0.1, 0.0, -0.2], requires_grad=True)

z = torch.matmul(x, w) + b
loss = F.binary_cross_entropy_with_logits(z, y)
print(z)
print(f"Gradient function for z = {z.grad_fn}")
print(f"Gradient function for loss = {loss.grad_fn}")
print(loss)

loss.backward()
print(w.grad)
print(b.grad)
