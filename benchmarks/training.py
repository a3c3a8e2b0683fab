"""A tutorial's training loop: gradcli's nn and optim side by side with PyTorch's.

    python benchmarks/training.py [--epochs 200] [--runs 9] [--optimizer sgd|adam]

Fits y = 2x + 3 on 100 float32 points with Sequential(Linear(1, 16), ReLU(),
Linear(16, 1)), MSELoss and SGD(lr=0.01) (or Adam(lr=0.01)), --epochs epochs of
zero_grad / forward / loss / backward / step.  Each run builds a fresh model from the
same seed; "gradcli" calls the Python API, "script" runs the loop as a PyTorch script
through gradcli's interpreter (the path of `gradcli run`); the runs of gradcli and
PyTorch take turns in one process, and the script
prints the median and the spread (min - max) of each, and the ratio of the medians.
PyTorch's column is left out when torch is not importable (run this with a Python that
has it to get both).  Target: gradcli's 200 epochs well under a second.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # run from a checkout

from gradcli.autograd import nn, optim  # noqa: E402
from gradcli.autograd import random as grandom  # noqa: E402


def gradcli_loop(epochs: int, optimizer: str) -> float:
    grandom.manual_seed(0)
    x = grandom.rand(100, 1) * 4 - 2
    y = 2 * x + 3
    model = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1))
    opt = (optim.SGD if optimizer == "sgd" else optim.Adam)(model.parameters(), lr=0.01)
    loss_fn = nn.MSELoss()
    for _ in range(epochs):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return loss.item()


def torch_loop(torch, epochs: int, optimizer: str) -> float:
    torch.manual_seed(0)
    x = torch.rand(100, 1) * 4 - 2
    y = 2 * x + 3
    model = torch.nn.Sequential(torch.nn.Linear(1, 16), torch.nn.ReLU(),
                                torch.nn.Linear(16, 1))
    cls = torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam
    opt = cls(model.parameters(), lr=0.01)
    loss_fn = torch.nn.MSELoss()
    for _ in range(epochs):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return loss.item()


SCRIPT = """import torch
import torch.nn as nn
import torch.optim as optim
torch.manual_seed(0)
x = torch.rand(100, 1) * 4 - 2
y = 2 * x + 3
model = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1))
opt = optim.{cls}(model.parameters(), lr=0.01)
loss_fn = nn.MSELoss()
for epoch in range({epochs}):
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
print(loss.item())
"""


def script_loop(epochs: int, optimizer: str) -> float:
    """The path a user takes: the loop as a PyTorch script, run by gradcli's interpreter
    (what `gradcli run` does, without the process start-up)."""
    from gradcli.lang.script import run_script
    text = SCRIPT.format(cls="SGD" if optimizer == "sgd" else "Adam", epochs=epochs)
    out, error = run_script(text)
    if error is not None:
        raise error
    return float(out)


def timed(fn) -> tuple:
    start = time.perf_counter()
    loss = fn()
    return time.perf_counter() - start, loss


def summary(name: str, times: list, epochs: int, loss: float) -> str:
    med = statistics.median(times)
    return (f"{name:8s} median {med * 1e3:7.1f} ms  spread {min(times) * 1e3:6.1f} - "
            f"{max(times) * 1e3:6.1f} ms  ({med / epochs * 1e6:6.1f} us/epoch)  "
            f"final loss {loss:.3g}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    times = {"gradcli": [], "script": [], "pytorch": []}
    losses = {}
    gradcli_loop(5, args.optimizer)                       # warm imports and caches
    script_loop(5, args.optimizer)
    if torch is not None:
        torch_loop(torch, 5, args.optimizer)
    for _ in range(args.runs):
        t, losses["gradcli"] = timed(lambda: gradcli_loop(args.epochs, args.optimizer))
        times["gradcli"].append(t)
        t, losses["script"] = timed(lambda: script_loop(args.epochs, args.optimizer))
        times["script"].append(t)
        if torch is not None:
            t, losses["pytorch"] = timed(lambda: torch_loop(torch, args.epochs, args.optimizer))
            times["pytorch"].append(t)
    print(f"{args.epochs} epochs, {args.optimizer}, {args.runs} runs each")
    for name in losses:
        print(summary(name, times[name], args.epochs, losses[name]))
    if torch is None:
        print("pytorch  (not importable: column skipped)")
    else:
        for name in ("gradcli", "script"):
            ratio = statistics.median(times[name]) / statistics.median(times["pytorch"])
            print(f"{name} / pytorch (medians): {ratio:.2f}x")


if __name__ == "__main__":
    main()
