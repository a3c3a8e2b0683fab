"""Large tensors on the path users take, side by side with numpy written by hand.

    python benchmarks/large.py [--sizes 1000000 10000000] [--repeat 9] [--json-n 1000000]

``loss = sum(tanh(w*x + b)**2) + mean(sigmoid(x)*w)`` with three n-element float64
inputs, timed in turns (so every contender sees the same machine), median and max of
--repeat runs:

- numpy forward + backward written by hand (benchmarks/engine.py's ``by_hand``);
- ``gradcli.evaluate(program, bindings)`` (the Python API; the CLI's own path);
- ``gradcli grad --no-check --format json``: the command's own work, minus start-up
  and .npy loading as the issue asks: gradcli's command run inside this process (its
  output to /dev/null; the click command built once), minus loading the three .npy
  files with the same loader; and, for the record, as a whole process;
- the hand-written pass plus writing its three gradients as JSON with orjson: the floor
  for a command whose output is 3n numbers as text (formatting a float as its shortest
  round-trip text costs more than the arithmetic on it).

Then whole ``gradcli grad --format json`` processes on three --json-n inputs (3x10^6
elements by default), with and without the check, in turns: time and peak RSS (the
targets: under 2 s and 200 MB), and how many elements the check checked; and the peak RSS of ``grad --no-check --save-grads`` on three
--memory-n inputs against the bare engine's on the same files.  Targets for the first part: evaluate and the CLI within 1.3x the hand
numpy, by the median and by the max.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import by_hand  # noqa: E402

import gradcli  # noqa: E402
import typer.main  # noqa: E402
from gradcli.cli.app import make_app  # noqa: E402
from gradcli.cli.values import load_file  # noqa: E402

PROGRAM = "sum(tanh(w*x + b)**2) + mean(sigmoid(x)*w)"


def run_process(argv: list, ok=(0,)) -> tuple:
    """(seconds, peak RSS in MB) of a whole process, its output discarded.  The RSS is
    GNU time's (%M): a child forked from this big process would start its maximum at
    this process's size."""
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t
    lines = proc.stderr.strip().splitlines()
    if proc.returncode not in ok or not lines or not lines[-1].isdigit():
        raise SystemExit(f"{argv[:3]} failed: {proc.stderr[-500:]}")
    return elapsed, int(lines[-1]) / 1024


def gradcli_exe() -> str:
    return str(Path(sys.executable).with_name("gradcli"))


def cli_args(files: dict, *extra) -> list:
    args = [gradcli_exe(), "grad", PROGRAM]
    for name, path in files.items():
        args += [f"--{name}", f"@{path}"]
    return args + ["--format", "json", *extra]


def in_process(args: list) -> float:
    """Seconds of one ``gradcli ...`` run by gradcli's command inside this process, its
    output to /dev/null: the command as users run it, without the start-up (imports,
    and typer building the click command, done once)."""
    global _COMMAND
    if _COMMAND is None:
        _COMMAND = typer.main.get_command(make_app(args[0]))
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        t = time.perf_counter()
        code = _COMMAND.main(args, prog_name="gradcli", standalone_mode=False)
        elapsed = time.perf_counter() - t
    if code not in (0, None):
        raise SystemExit(f"gradcli {args[:2]} exited {code}")
    return elapsed


_COMMAND = None


def hand_json(x, w, b) -> None:
    """The hand-written pass, then its gradients written as JSON the fastest way there is
    from numpy (orjson, as gradcli writes them): the floor of any command that prints
    3n numbers as text."""
    import orjson
    loss, gx, gw, gb = by_hand(x, w, b)
    with open(os.devnull, "wb") as out:
        out.write(orjson.dumps({"value": loss, "grads": {"x": gx, "w": gw, "b": gb}},
                               option=orjson.OPT_SERIALIZE_NUMPY))


def spread(times: list) -> str:
    return f"{statistics.median(times) * 1e3:8.1f} ms (max {max(times) * 1e3:7.1f})"


def compare(n: int, repeat: int, tmp: Path) -> None:
    rng = np.random.default_rng(0)
    data = {name: rng.standard_normal(n) for name in "wxb"}
    files = {}
    for name, a in data.items():
        files[name] = tmp / f"{name}{n}.npy"
        np.save(files[name], a)
    hand = by_hand(data["x"], data["w"], data["b"])
    result = gradcli.evaluate(PROGRAM, data)
    for got, want in zip((result.grads["x"], result.grads["w"], result.grads["b"]), hand[1:]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    del result
    times = {"hand": [], "evaluate": [], "cli": [], "load": [], "hand_json": [],
             "process": []}
    cli = cli_args(files, "--no-check")
    in_process(cli[1:])                             # (imports, once)
    for _ in range(repeat):
        t = time.perf_counter()
        by_hand(data["x"], data["w"], data["b"])
        times["hand"].append(time.perf_counter() - t)
        t = time.perf_counter()
        gradcli.evaluate(PROGRAM, data)
        times["evaluate"].append(time.perf_counter() - t)
        t = time.perf_counter()
        hand_json(data["x"], data["w"], data["b"])
        times["hand_json"].append(time.perf_counter() - t)
        times["cli"].append(in_process(cli[1:]))
        t = time.perf_counter()
        for path in files.values():
            load_file(str(path), "bench")
        times["load"].append(time.perf_counter() - t)
        times["process"].append(run_process(cli)[0])
    net = [c - s for c, s in zip(times["cli"], times["load"])]
    hand_med, hand_max = statistics.median(times["hand"]), max(times["hand"])
    print(f"\nn = {n:,} float64 (x3), forward + backward, {repeat} runs in turns")
    print(f"  numpy by hand            {spread(times['hand'])}")
    print(f"  gradcli.evaluate         {spread(times['evaluate'])}   ratio "
          f"{statistics.median(times['evaluate']) / hand_med:.2f}x median, "
          f"{max(times['evaluate']) / hand_max:.2f}x max")
    print(f"  grad --no-check --format json, in process   {spread(times['cli'])}")
    print(f"  .npy loading only                           {spread(times['load'])}")
    print(f"  the difference (the command's own work) {spread(net)}   ratio "
          f"{statistics.median(net) / hand_med:.2f}x median, {max(net) / hand_max:.2f}x max")
    print(f"  (the command as a whole process, start-up included: {spread(times['process'])})")
    floor_med, floor_max = statistics.median(times["hand_json"]), max(times["hand_json"])
    print(f"  numpy by hand + its 3 gradients as JSON (orjson) {spread(times['hand_json'])}"
          f"   the command's own work against it: {statistics.median(net) / floor_med:.2f}x "
          f"median, {max(net) / floor_max:.2f}x max")


def json_output(n: int, repeat: int, tmp: Path) -> None:
    rng = np.random.default_rng(1)
    files = {}
    for name in "wxb":
        files[name] = tmp / f"j{name}{n}.npy"
        np.save(files[name], rng.standard_normal(n))
    print(f"\ngradcli grad --format json, three {n:,}-element inputs, whole process, "
          f"{repeat} runs in turns (target: under 2 s and 200 MB)")
    labels = {"--no-check": ("--no-check",), "with the check": ()}
    runs: dict = {label: [] for label in labels}
    for _ in range(repeat):
        for label, extra in labels.items():
            runs[label].append(run_process(cli_args(files, *extra), ok=(0, 1)))
    for label, found in runs.items():
        times, rss = [r[0] for r in found], [r[1] for r in found]
        print(f"  {label:16} {spread(times)}   peak RSS {statistics.median(rss):6.1f} MB "
              f"(max {max(rss):.1f})")
    check = json.loads(subprocess.run(cli_args(files), capture_output=True, text=True,
                                      check=False).stdout)["check"]
    checked = sum(v.get("checked", 0) for v in check["variables"].values())
    print(f"  the check: {check['status']}, {check['method']}, {checked:,} of {3 * n:,} "
          "elements checked")


BARE_ENGINE = """
import sys
from pathlib import Path
import numpy as np
sys.path.insert(0, {benchmarks!r})
from engine import by_engine
x, w, b = (np.load(p) for p in sys.argv[1:4])
_, gx, gw, gb = by_engine(x, w, b)
for name, g in zip("xwb", (gx, gw, gb)):
    np.save(Path(sys.argv[4]) / f"{{name}}.npy", g)
"""


def memory(n: int, repeat: int, tmp: Path) -> None:
    """Peak RSS of ``grad --no-check --save-grads DIR`` against a process that loads the
    same files, runs the bare engine and saves the same gradients (the issue: within 3x
    of what the inputs, the gradients and the engine's saved tensors take)."""
    rng = np.random.default_rng(2)
    files = {}
    for name in "wxb":
        files[name] = tmp / f"m{name}{n}.npy"
        np.save(files[name], rng.standard_normal(n))
    out = tmp / "grads"
    out.mkdir(exist_ok=True)
    bare = [sys.executable, "-c", BARE_ENGINE.format(benchmarks=str(Path(__file__).parent)),
            *(str(files[k]) for k in "xwb"), str(out)]
    cli = cli_args(files, "--no-check", "--save-grads", str(out))
    rss = {"cli": [], "bare": []}
    for _ in range(repeat):
        rss["cli"].append(run_process(cli)[1])
        rss["bare"].append(run_process(bare)[1])
    cli_med, bare_med = statistics.median(rss["cli"]), statistics.median(rss["bare"])
    print(f"\npeak RSS, three {n:,}-element inputs, {repeat} runs in turns (target: 3x)")
    print(f"  grad --no-check --save-grads   {cli_med:7.0f} MB (max {max(rss['cli']):.0f})")
    print(f"  bare engine, same files        {bare_med:7.0f} MB (max {max(rss['bare']):.0f})"
          f"   ratio {cli_med / bare_med:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--json-n", type=int, default=1_000_000)
    ap.add_argument("--json-repeat", type=int, default=3)
    ap.add_argument("--memory-n", type=int, default=10_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            compare(n, args.repeat, Path(tmp))
        json_output(args.json_n, args.json_repeat, Path(tmp))
        memory(args.memory_n, args.json_repeat, Path(tmp))


if __name__ == "__main__":
    main()
