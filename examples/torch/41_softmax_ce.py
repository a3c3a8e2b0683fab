# Cross-entropy on logits: the gradient is softmax(z) minus the one-hot target.
import torch
import torch.nn.functional as F

z = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.0]], requires_grad=True)
target = torch.tensor([0, 2])
loss = F.cross_entropy(z, target)
print(loss)
loss.backward()
print(z.grad)
print(F.softmax(z, dim=1).detach() / 2)
print(torch.softmax(z, 1).sum(1))
