# After backward() the graph's saved values are freed: using the graph again fails.
import torch

x = torch.tensor(2.0, requires_grad=True)
y = x**3
y.backward()
print(x.grad)

# autograd.grad walks the same (now freed) graph.
g, = torch.autograd.grad(y, x)
print(g)
