"""Jacobian and Hessian by batched VJPs, against torch.func (when importable).

    python benchmarks/matrices.py [--n-jac 1000] [--n-hess 500] [--repeat 9] [--cli]

In one process, interleaved, one thread each (OMP/OpenBLAS/MKL threads set to 1 before
numpy is imported): ``gradcli.jacobian("tanh(W @ v)")`` with respect to v at n = 1000
against ``torch.func.jacrev``, and ``gradcli.hessian("sum(tanh(W @ v)**2)")`` at
n = 500 against ``torch.func.hessian``; median and max of --repeat runs, and the ratio
of medians.  The values are compared (to 1e-12) before timing.  With --cli, the whole
``gradcli jacobian/hessian --format json`` processes are timed too (start-up, .npy
loading and output included).  Target: gradcli within 2x of torch.func.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import gradcli  # noqa: E402


def timed(fn, repeat: int) -> list:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def cases(n_jac: int, n_hess: int):
    rng = np.random.default_rng(0)
    for kind, n, program in (("jacobian", n_jac, "tanh(W @ v)"),
                             ("hessian", n_hess, "sum(tanh(W @ v)**2)")):
        W = rng.normal(size=(n, n)) / np.sqrt(n)
        v = rng.normal(size=n)
        yield kind, n, program, W, v


def torch_fn(kind, W, v):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    Wt, vt = torch.tensor(W), torch.tensor(v)
    if kind == "jacobian":
        return lambda: torch.func.jacrev(lambda u: torch.tanh(Wt @ u))(vt).numpy()
    return lambda: torch.func.hessian(lambda u: (torch.tanh(Wt @ u) ** 2).sum())(vt).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-jac", type=int, default=1000)
    parser.add_argument("--n-hess", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--cli", action="store_true")
    args = parser.parse_args()
    for kind, n, program, W, v in cases(args.n_jac, args.n_hess):
        ours = (lambda kind=kind, program=program, W=W, v=v:
                np.asarray(getattr(gradcli, kind)(program, {"W": W, "v": v}, wrt=["v"])))
        theirs = torch_fn(kind, W, v)
        if theirs is not None:
            np.testing.assert_allclose(ours(), theirs(), rtol=1e-12, atol=1e-12)
        ours_t, theirs_t = [], []
        for _ in range(args.repeat):            # interleaved: the same load for both
            ours_t += timed(ours, 1)
            if theirs is not None:
                theirs_t += timed(theirs, 1)
        line = f"{kind:8s} n={n:5d}  gradcli median {statistics.median(ours_t) * 1e3:7.1f} ms " \
               f"max {max(ours_t) * 1e3:7.1f} ms"
        if theirs_t:
            ratio = statistics.median(ours_t) / statistics.median(theirs_t)
            line += f"   torch.func median {statistics.median(theirs_t) * 1e3:7.1f} ms " \
                    f"max {max(theirs_t) * 1e3:7.1f} ms   ratio {ratio:.2f}"
        print(line, flush=True)
        if args.cli:
            with tempfile.TemporaryDirectory() as tmp:
                np.save(f"{tmp}/W.npy", W)
                np.save(f"{tmp}/v.npy", v)
                cmd = [sys.executable, "-m", "gradcli", kind, program, "--W", f"@{tmp}/W.npy",
                       "--v", f"@{tmp}/v.npy", "--wrt", "v", "--no-check", "--format", "json"]
                runs = timed(lambda: subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL),
                             max(3, args.repeat // 3))
                print(f"{'':8s} whole process (--format json, --no-check): median "
                      f"{statistics.median(runs) * 1e3:7.1f} ms max {max(runs) * 1e3:7.1f} ms",
                      flush=True)


if __name__ == "__main__":
    main()
