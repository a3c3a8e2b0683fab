# Reset a gradient between backward calls with x.grad.data.zero_().
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)

print("without zeroing, the gradient keeps growing:")
for step in range(3):
    y = (x * x).sum()   # dy/dx = 2x
    y.backward()
    print(f"step {step}: x.grad = {x.grad}")

x.grad.data.zero_()
print("zeroing after each step, every step sees the same gradient:")
for step in range(3):
    y = (x * x).sum()
    y.backward()
    print(f"step {step}: x.grad = {x.grad}")
    x.grad.data.zero_()   # start the next step from zero

print(x.grad)
