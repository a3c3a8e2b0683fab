# t.backward(z) and z.backward(t) look alike but feed different leaves.
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = torch.tensor([4.0, 5.0, 6.0], requires_grad=True)
z = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)

t = x + y
loss = t.dot(z)
loss.backward(retain_graph=True)
print("after loss.backward():")
print(x.grad, y.grad, z.grad)

# t.backward(z): a vector-Jacobian product through t = x + y.
# x.grad and y.grad each grow by z; z.grad stays as it was.
t.backward(z, retain_graph=True)
print("after t.backward(z):")
print(x.grad, y.grad, z.grad)

# z.backward(t): z is a leaf, so the upstream vector t lands in z.grad.
# x.grad and y.grad do not change.
z.backward(t)
print("after z.backward(t):")
print(x.grad, y.grad, z.grad)
