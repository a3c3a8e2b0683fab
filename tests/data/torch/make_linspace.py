"""Write linspace.json: torch.linspace results (PyTorch 2.13, CPU) for the test of
gradcli run's torch.linspace.  Run once with torch installed; tests read the JSON."""
import json
import random
import torch

random.seed(13)
cases = [(-100, 100, 25), (0, 1, 7), (-1, 1, 20), (0, 10, 11), (3, 3, 1), (0, 1, 2),
         (1e-3, 7.7, 13), (-5, 5, 10), (-1, 1, 1001), (2, -2, 9)]
for _ in range(60):
    a = round(random.uniform(-1000, 1000), random.choice([0, 1, 3, 6]))
    b = round(random.uniform(-1000, 1000), random.choice([0, 1, 3, 6]))
    cases.append((a, b, random.choice([2, 3, 5, 10, 17, 33, 64, 100, 257])))
out = []
for a, b, n in cases:
    for dtype in ("float32", "float64"):
        values = torch.linspace(a, b, n, dtype=getattr(torch, dtype)).tolist()
        out.append({"start": a, "end": b, "steps": n, "dtype": dtype, "values": values})
with open("linspace.json", "w") as f:
    json.dump(out, f)
