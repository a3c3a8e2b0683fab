# optim.Adam minimising (p - target)^2 for a parameter vector.
import torch
import torch.optim as optim

p = torch.tensor([5.0, -3.0, 0.5], requires_grad=True)
target = torch.tensor([1.0, 2.0, 3.0])
opt = optim.Adam([p], lr=0.1)

for step in range(101):
    opt.zero_grad()
    loss = ((p - target) ** 2).sum()
    loss.backward()
    opt.step()
    if step % 25 == 0:
        print(f"{step:3d} {loss.item():10.4f}", p.detach())
print(p)
