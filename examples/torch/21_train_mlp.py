# Fit y = 2x + 3 with a small MLP, MSE loss and plain SGD.
# The initial weights are random, so the printed losses depend on the generator.
import torch
import torch.nn as nn
import torch.optim as optim

torch.manual_seed(0)

x = torch.linspace(-1, 1, 20).view(-1, 1)
y = 2 * x + 3

model = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1))
loss_fn = nn.MSELoss()
optimizer = optim.SGD(model.parameters(), lr=0.1)

for epoch in range(200):
    optimizer.zero_grad()
    pred = model(x)
    loss = loss_fn(pred, y)
    loss.backward()
    optimizer.step()
    if epoch % 50 == 0:
        print(f"epoch {epoch:3d}  loss {loss.item():.6f}")

print(f"final loss {loss.item():.6f}")
