import torch
from torch.nn.utils import clip_grad_norm_, clip_grad_value_
w = torch.nn.Parameter(torch.tensor([3.0, 4.0]))
(w * 10).sum().backward()
print(torch.nn.utils.clip_grad_norm_([w], 1.0), w.grad)
torch.manual_seed(0)
model = torch.nn.Linear(2, 1)
with torch.no_grad():
    model.weight.copy_(torch.tensor([[0.5, -0.25]]))
    model.bias.fill_(0.1)
x = torch.tensor([[1.0, 2.0], [3.0, -1.0]])
loss = ((model(x) - torch.tensor([[1.0], [0.0]])) ** 2).mean()
loss.backward()
print(clip_grad_norm_(model.parameters(), 0.5), model.weight.grad, model.bias.grad)
print(clip_grad_norm_(model.parameters(), 0.1, norm_type=float('inf')), model.weight.grad)
print(clip_grad_norm_(model.parameters(), 10.0, norm_type=1), model.bias.grad)
print(clip_grad_value_(model.parameters(), 0.05), model.weight.grad, model.bias.grad)
v = torch.tensor([1.0, 2.0], requires_grad=True)
print(clip_grad_norm_(v, 1.0), v.grad)
(v * float('inf')).sum().backward()
try:
    clip_grad_norm_([v], 1.0, error_if_nonfinite=True)
except RuntimeError as e:
    print("RuntimeError:", e)
print(clip_grad_norm_([v], 1.0), v.grad)
