"""Start-up time: the headline command as a whole process, against bare imports.

    python benchmarks/startup.py [--runs 15] [--torch-python PATH]

Measured side by side in one run (interleaved, median of --runs):
  gradcli grad "(x1*x2+x3)**2" --x1 2 --x2 3 --x3 1             vs python -c "import numpy, typer, rich.table, sympy"
  gradcli grad ... --no-check                                     vs python -c "import numpy, typer, rich.table"
  gradcli --help                                                  (must not import sympy)
  gradcli run examples/torch/01_accumulate.py                     vs python -c "import numpy, typer"
and, when a python with torch is given or found, the same job as a PyTorch script.
Targets: within 1.25x, 1.3x and 1.3x of the bare imports.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

SEED_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples",
                           "torch", "01_accumulate.py")
HEADLINE = ["grad", "(x1*x2+x3)**2", "--x1", "2", "--x2", "3", "--x3", "1"]
TORCH_JOB = (
    "import torch\n"
    "x1, x2, x3 = (torch.tensor(v, dtype=torch.float64, requires_grad=True) "
    "for v in (2.0, 3.0, 1.0))\n"
    "y = (x1*x2 + x3)**2\n"
    "y.backward()\n"
    "print(y.item(), x1.grad.item(), x2.grad.item(), x3.grad.item())\n"
)


def run(cmd) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--torch-python", default=None)
    args = ap.parse_args()
    gradcli = shutil.which("gradcli") or sys.exit("gradcli is not installed")
    py = sys.executable
    cases = {
        "gradcli grad (headline, check on)": [gradcli, *HEADLINE],
        "python -c 'import numpy, typer, rich.table, sympy'":
            [py, "-c", "import numpy, typer, rich.table, sympy"],
        "gradcli grad --no-check": [gradcli, *HEADLINE, "--no-check"],
        "python -c 'import numpy, typer, rich.table'":
            [py, "-c", "import numpy, typer, rich.table"],
        "gradcli --help": [gradcli, "--help"],
        "gradcli run examples/torch/01_accumulate.py": [gradcli, "run", SEED_SCRIPT],
        "python -c 'import numpy, typer'": [py, "-c", "import numpy, typer"],
        "gradcli grad --no-check --format json": [gradcli, *HEADLINE, "--no-check",
                                                  "--format", "json"],
    }
    torch_py = args.torch_python or py
    if subprocess.run([torch_py, "-c", "import torch"], capture_output=True).returncode == 0:
        cases["the same job as a PyTorch script"] = [torch_py, "-c", TORCH_JOB]
    # An installed package has its bytecode compiled (pip does it); an editable checkout
    # under PYTHONDONTWRITEBYTECODE would recompile every module on every run instead.
    import gradcli as package
    subprocess.run([py, "-m", "compileall", "-q", os.path.dirname(package.__file__)],
                   check=False)
    times = {name: [] for name in cases}
    for name, cmd in cases.items():   # warm the file cache
        run(cmd)
    for _ in range(args.runs):
        for name, cmd in cases.items():
            times[name].append(run(cmd))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    width = max(map(len, med))
    print(f"median of {args.runs} runs, whole processes")
    for name, t in med.items():
        print(f"  {name:<{width}}  {t * 1e3:7.1f} ms")
    with_check = med["gradcli grad (headline, check on)"] / \
        med["python -c 'import numpy, typer, rich.table, sympy'"]
    no_check = med["gradcli grad --no-check"] / med["python -c 'import numpy, typer, rich.table'"]
    print(f"headline / bare imports with sympy:   {with_check:.2f}x  (target <= 1.25)")
    print(f"--no-check / bare imports:            {no_check:.2f}x  (target <= 1.3)")
    run_ratio = med["gradcli run examples/torch/01_accumulate.py"] / \
        med["python -c 'import numpy, typer'"]
    print(f"run (seed script) / bare imports:     {run_ratio:.2f}x  (target <= 1.3)")
    if "the same job as a PyTorch script" in med:
        print(f"PyTorch script / gradcli headline:    "
              f"{med['the same job as a PyTorch script'] / med['gradcli grad (headline, check on)']:.2f}x")
    probe = subprocess.run([py, "-X", "importtime", gradcli, "--help"], capture_output=True,
                           text=True)
    print("gradcli --help imports sympy:", "sympy" in probe.stderr.split("|")[-1] and
          any(line.rstrip().endswith(" sympy") for line in probe.stderr.splitlines()))


if __name__ == "__main__":
    main()
