# A value computed under torch.no_grad() has no graph to backpropagate through.
import torch

x = torch.tensor(1.0, requires_grad=True)
with torch.no_grad():
    y2 = x**3
print(y2.requires_grad, y2.is_leaf)
y2.backward()
