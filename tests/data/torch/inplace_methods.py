import torch

x = torch.tensor([-1.0, 0.5, 2.0], requires_grad=True)
y = x * 2
y.relu_()
print(y)
z = x * 1
z.sigmoid_()
print(z)
(y.sum() + z.sum()).backward()
print(x.grad)
w = torch.tensor([0.3, 0.7, -1.5])
w.tanh_()
print(w)
w.floor_()
print(w, w.abs_(), w.neg_())
try:
    x.relu_()
except RuntimeError as e:
    print(e)
z.exp_()
try:
    z.sum().backward()
except RuntimeError as e:
    print(str(e)[:60])
