"""Engine overhead: forward + backward through gradcli's autograd vs the same by hand.

    python benchmarks/engine.py [--n 1000000] [--repeat 7] [--torch]

loss = sum(tanh(w*x + b)**2) + mean(sigmoid(x)*w) with n-element float64 x, w, b (all
requiring grad), timed in one process, interleaved, best of --repeat.  Target: the
engine within 1.3x of the hand-written numpy.  Both produce the same gradients
(checked to 1e-12 before timing).  With --torch, PyTorch (if importable) is timed too.
A small --n (say 100) measures the engine's own overhead per op rather than numpy's
arithmetic.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import gradcli.autograd as ag
from gradcli.autograd import functional as F


def by_hand(x, w, b):
    """The forward and backward pass written out in numpy, as a person would."""
    n = x.size
    u = w * x + b
    t = np.tanh(u)
    s1 = np.sum(t ** 2)
    sg = 1 / (1 + np.exp(-x))
    m = sg * w
    loss = s1 + np.mean(m)
    # backward
    g_t = 2 * t                      # d(sum(t**2))/dt
    g_u = g_t * (1 - t * t)          # tanh'
    g_w = g_u * x
    g_x = g_u * w
    g_b = g_u
    g_m = 1.0 / n                    # d(mean)/dm
    g_w += g_m * sg
    g_sg = g_m * w
    g_x += g_sg * (1 - sg) * sg      # sigmoid'
    return loss, g_x, g_w, g_b


def by_engine(x, w, b):
    xt, wt, bt = (ag.Tensor._make(a, None).requires_grad_() for a in (x, w, b))
    loss = F.sum(F.tanh(wt * xt + bt) ** 2) + F.mean(F.sigmoid(xt) * wt)
    loss.backward()
    return loss.item(), xt.grad.data, wt.grad.data, bt.grad.data


def by_torch(torch, x, w, b):
    xt, wt, bt = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
    loss = torch.sum(torch.tanh(wt * xt + bt) ** 2) + torch.mean(torch.sigmoid(xt) * wt)
    loss.backward()
    return loss.item(), xt.grad, wt.grad, bt.grad


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:8.1f} ms" if seconds >= 0.01 else f"{seconds * 1e6:8.1f} us"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--torch", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(args.n) for _ in range(3))

    hand, eng = by_hand(x, w, b), by_engine(x, w, b)
    for h, e in zip(hand, eng):
        np.testing.assert_allclose(e, h, rtol=1e-12, atol=1e-12)

    t_hand = t_eng = float("inf")
    for _ in range(args.repeat):          # interleaved, so both see the same machine
        t_hand = min(t_hand, best_of(lambda: by_hand(x, w, b), 1))
        t_eng = min(t_eng, best_of(lambda: by_engine(x, w, b), 1))
    print(f"n = {args.n:,} float64, forward + backward, best of {args.repeat}")
    print(f"numpy by hand:    {_ms(t_hand)}")
    print(f"gradcli engine:   {_ms(t_eng)}")
    print(f"ratio engine/hand: {t_eng / t_hand:.2f}x  (target <= 1.3)")
    if args.torch:
        try:
            import torch
        except ImportError:
            print("torch: not importable")
            return
        torch.set_num_threads(1)
        t_torch = min(best_of(lambda: by_torch(torch, x, w, b), 1)
                      for _ in range(args.repeat))
        print(f"torch (1 thread): {_ms(t_torch)}")


if __name__ == "__main__":
    main()
