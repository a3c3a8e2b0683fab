# Gradient descent by hand: update the weights under torch.no_grad().
import torch

x = torch.linspace(0, 1, 5)
y = 3 * x - 1
w = torch.tensor(0.0, requires_grad=True)
b = torch.tensor(0.0, requires_grad=True)
lr = 0.5

for step in range(41):
    pred = w * x + b
    loss = ((pred - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
    w.grad.zero_()
    b.grad.zero_()
    if step % 10 == 0:
        print(f"step {step:2d}: loss {loss.item():.4f}  w {w.item():.4f}  b {b.item():+.4f}")

print(w, b)
