"""Write the PyTorch-made expected files of the engine tests (run once, with PyTorch):

    /tmp/torchenv/bin/python tests/data/engine/make_expected.py [NAME...]

NAME is one of the case modules below (default: all).  Each ``<name>.json`` maps a case
id to its program and the description PyTorch gives of it (``tests/engine_programs.py``).
The tests read these files; they never import torch.
"""

from __future__ import annotations

import gzip
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(os.path.dirname(HERE))]

import engine_programs  # noqa: E402

MODULES = ["view_cases", "dtype_cases", "names_cases", "corpus"]


def write(module_name: str) -> None:
    module = __import__(module_name)
    out = {}
    for case_id, source in module.CASES.items():
        out[case_id] = {"source": source,
                        "expected": engine_programs.describe(source, "torch")}
    path = os.path.join(HERE, module_name.replace("_cases", "") + ".json")
    if module_name == "corpus":          # big: kept compressed
        path += ".gz"
        with gzip.open(path, "wt") as f:
            json.dump(out, f, separators=(",", ":"), sort_keys=True)
        return print(f"{path}: {len(out)} cases")
    with open(path, "w") as f:
        json.dump(out, f, indent=0, sort_keys=True)
        f.write("\n")
    print(f"{path}: {len(out)} cases")


if __name__ == "__main__":
    import torch
    torch.set_num_threads(1)
    for name in sys.argv[1:] or MODULES:
        write(name)
