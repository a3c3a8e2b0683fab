# nn.Linear with fixed starting weights, trained with optim.SGD: fully deterministic.
import torch
import torch.nn as nn
import torch.optim as optim

x = torch.tensor([[1.0, 2.0], [2.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
y = torch.tensor([[5.0], [2.0], [2.0], [5.0]])   # y = x0 + 2 x1

model = nn.Linear(2, 1)
with torch.no_grad():
    model.weight.fill_(0.5)
    model.bias.zero_()

loss_fn = nn.MSELoss()
optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
for epoch in range(60):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    if epoch % 20 == 0:
        print(f"epoch {epoch}: loss {loss.item():.5f}")
        print(model.weight.grad)

for name, p in model.named_parameters():
    print(name, p.shape, p.requires_grad)
print(model.weight)
print(model(x).detach())
