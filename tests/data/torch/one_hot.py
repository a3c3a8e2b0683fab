import torch
import torch.nn.functional as F
t = torch.tensor([0, 2, 1])
print(F.one_hot(t), F.one_hot(t, 4), F.one_hot(t, num_classes=3).float())
print(F.one_hot(torch.tensor([[1, 0], [2, 2]])))
print(torch.nn.functional.one_hot(torch.tensor(2), 3))
logits = torch.tensor([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]], requires_grad=True)
target = torch.tensor([1, 2])
loss = -(F.one_hot(target, 3) * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
loss.backward()
print(loss, logits.grad)
for bad in (lambda: F.one_hot(torch.tensor([1.0, 2.0])), lambda: F.one_hot(torch.tensor([-1, 2])),
            lambda: F.one_hot(torch.tensor([1, 5]), 3), lambda: F.one_hot(torch.tensor([], dtype=torch.long))):
    try:
        bad()
    except RuntimeError as e:
        print("RuntimeError:", e)
