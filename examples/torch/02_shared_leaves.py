# One loss, three leaves: which tensors get a .grad after backward()?
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = torch.tensor([4.0, 5.0, 6.0], requires_grad=True)
z = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)

t = x + y          # an intermediate (non-leaf) tensor
loss = t.dot(z)    # sum(t * z), a scalar
loss.backward(retain_graph=True)

print(loss)
print(x.grad)  # d loss / dx = z
print(y.grad)  # d loss / dy = z
print(z.grad)  # d loss / dz = t = x + y

# t is not a leaf: autograd does not store its gradient, and PyTorch warns.
print(t.grad)
print(t.is_leaf, x.is_leaf)
