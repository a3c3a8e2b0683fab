# A non-scalar output needs an upstream gradient v: backward(v) computes v^T J.
import torch

x = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], requires_grad=True)
y = (x * x).view(2, 3)   # reshape the result into a 2x3 matrix
print(y)
print(y.grad_fn)

v = torch.tensor([[1.0, 0.1, 0.01],
                  [1.0, 10.0, 100.0]])
y.backward(v)
print(x.grad)  # 2 * x * v, flattened back to x's shape
