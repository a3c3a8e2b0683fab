# The gradient passed to backward() must have the output's shape.
import torch

a = torch.tensor([1.0, 2.0], requires_grad=True)
b = a * 2
b.backward(torch.ones(2), retain_graph=True)
print(a.grad)
b.backward(torch.ones(3))
