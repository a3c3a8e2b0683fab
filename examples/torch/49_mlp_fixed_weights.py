# A small classifier with hand-set starting weights, so every run prints the same.
import torch
from torch import nn, optim

x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y = torch.tensor([[0.0], [1.0], [1.0], [1.0]])   # logical OR

model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
with torch.no_grad():
    for name, p in model.named_parameters():
        p.zero_()
        p.add_(torch.linspace(-0.5, 0.5, p.numel()).reshape(p.shape))

loss_fn = nn.BCEWithLogitsLoss()
optimizer = optim.SGD(model.parameters(), lr=0.5, weight_decay=0.001)
for epoch in range(101):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    if epoch % 25 == 0:
        print(f"epoch {epoch:3d}: loss = {loss.item():.4f}")

with torch.no_grad():
    probs = torch.sigmoid(model(x))
print(probs)
print((probs > 0.5).long().view(-1))
