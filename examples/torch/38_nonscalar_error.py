# backward() without an argument works only for a scalar output.
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x**2
y.backward(torch.ones(3))
print(x.grad)

x.grad.zero_()
y = x**2
y.backward()
print(x.grad)
