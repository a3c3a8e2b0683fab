"""The derivative cache of batch checks (SPEC 5, last point): keyed by everything that can
change a formula, safe to keep where other users can reach, never trusted blindly.

Each test points GRADCLI_CACHE_DIR at a fresh directory of its own.
"""

from __future__ import annotations

import json
import os
import stat
import threading
import time

import numpy as np
import pytest

import gradcli
from gradcli.check import cache
from gradcli.check.compiled import CompiledCheck, cache_key

POINT = {"x": 0.5, "y": 2.0}
PROGRAM = "sin(x)*y + exp(x*y)"


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("GRADCLI_CACHE_DIR", str(root))
    return root / "derivatives"


def result():
    return gradcli.evaluate(PROGRAM, POINT)


def files(folder) -> list:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def true_grads():
    x, y = POINT["x"], POINT["y"]      # y cos x + y e^{xy}, sin x + x e^{xy}
    return {"x": y * np.cos(x) + y * np.exp(x * y), "y": np.sin(x) + x * np.exp(x * y)}


def test_a_built_check_is_saved_private_and_read_back(cache_dir):
    first = CompiledCheck.for_result(result())
    [name] = files(cache_dir)
    assert name == cache_key(result()) + ".json"
    info = (cache_dir / name).stat()
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    again = CompiledCheck.for_result(result())
    assert again.trees == first.trees and again.formulas == first.formulas


def test_the_key_changes_with_gradcli_code_and_the_op_table(cache_dir, monkeypatch):
    before = cache_key(result())
    monkeypatch.setattr(cache, "_fingerprint", "another build of gradcli")
    assert cache_key(result()) != before
    monkeypatch.setattr(cache, "_fingerprint", None)
    assert cache_key(result()) == before                 # recomputed from the same code
    from gradcli.autograd.ops import REGISTRY
    monkeypatch.setattr(REGISTRY["sin"], "derivative", ("-cos(x)",))
    monkeypatch.setattr(cache, "_fingerprint", None)
    assert cache_key(result()) != before                 # the op table's entry changed


def test_a_changed_formula_does_not_keep_passing_from_the_cache(cache_dir, monkeypatch):
    """A cache file written by another build (here: a wrong d/dx) is under another key."""
    r = result()
    compiled = CompiledCheck.for_result(r)
    path = cache_dir / (cache_key(r) + ".json")
    data = json.loads(path.read_text())
    data["trees"][0] = ["num", 0, 1]                     # "d/dx = 0": a stale formula
    monkeypatch.setattr(cache, "_fingerprint", "old build")
    cache.save(cache_key(r), data)
    monkeypatch.setattr(cache, "_fingerprint", None)
    compiled = CompiledCheck.for_result(r)
    assert compiled.trees[0] != ["num", 0, 1]


def plant(cache_dir, data, mode=0o600, uid=None):
    cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = cache_dir / (cache_key(result()) + ".json")
    path.write_text(json.dumps(data))
    os.chmod(path, mode)
    if uid is not None:
        os.chown(path, uid, -1)
    return path


def stale(cache_dir) -> dict:
    """A well-formed cache entry whose every formula says 0 (wrong)."""
    CompiledCheck.for_result(result())
    [name] = files(cache_dir)
    data = json.loads((cache_dir / name).read_text())
    data["trees"] = [["num", 0, 1] for _ in data["trees"]]
    return data


def uses_planted(cache_dir) -> bool:
    """Is the planted (all-zero) formula what the check now uses?"""
    compiled = CompiledCheck.for_result(result())
    return compiled.trees[0] == ["num", 0, 1]


def test_a_file_others_can_write_is_not_trusted(cache_dir):
    data = stale(cache_dir)
    plant(cache_dir, data, mode=0o666)
    assert not uses_planted(cache_dir)
    plant(cache_dir, data, mode=0o600)                  # the same file, private: used
    assert uses_planted(cache_dir)


@pytest.mark.skipif(os.getuid() != 0, reason="making a file owned by another user needs root")
def test_a_file_another_user_owns_is_not_trusted(cache_dir):
    data = stale(cache_dir)
    plant(cache_dir, data, uid=os.getuid() + 4242)
    assert not uses_planted(cache_dir)


@pytest.mark.skipif(os.getuid() != 0, reason="making a directory another user owns needs root")
def test_a_directory_another_user_owns_is_not_used(cache_dir):
    data = stale(cache_dir)
    plant(cache_dir, data)
    os.chown(cache_dir, os.getuid() + 4242, -1)
    assert not uses_planted(cache_dir)
    before = files(cache_dir)
    CompiledCheck.for_result(result())
    assert files(cache_dir) == before                    # nothing written there either


@pytest.mark.parametrize("damage", [
    lambda d: d | {"bound": ["x"], "shapes": {"x": []}},             # a subset of variables
    lambda d: d | {"names": ["y", "x"]},
    lambda d: d | {"trees": [["sym", 7]] + d["trees"][1:]},          # no such argument
    lambda d: d | {"trees": [["pow", ["sym", 0]]] + d["trees"][1:]},  # a malformed node
    lambda d: d | {"trees": [["exec", "import os"]] + d["trees"][1:]},
    lambda d: d | {"trees": d["trees"][:1]},
    lambda d: d | {"formulas": {"x": ["not text"]}},
    lambda d: {"something": "else"},
], ids=["subset", "names", "argument", "arity", "unknown-op", "count", "formulas", "other"])
def test_a_cache_entry_that_does_not_describe_the_program_is_rebuilt(cache_dir, damage):
    plant(cache_dir, damage(stale(cache_dir)))
    compiled = CompiledCheck.for_result(result())
    expected = compiled.expected(POINT)
    for name, value in true_grads().items():
        assert float(expected[name][0]) == pytest.approx(value, rel=1e-15)


def test_a_symlink_in_the_cache_is_not_followed(cache_dir, tmp_path):
    data = stale(cache_dir)
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps(data))
    path = cache_dir / (cache_key(result()) + ".json")
    path.unlink()
    path.symlink_to(target)
    assert not uses_planted(cache_dir)
    assert json.loads(target.read_text()) == data       # and nothing written through it


def test_a_fifo_or_a_device_in_the_cache_neither_hangs_nor_is_read(cache_dir):
    CompiledCheck.for_result(result())
    path = cache_dir / (cache_key(result()) + ".json")
    path.unlink()
    os.mkfifo(path)
    done = []
    worker = threading.Thread(target=lambda: done.append(CompiledCheck.for_result(result())),
                              daemon=True)
    worker.start()
    worker.join(20)
    assert done, "reading a FIFO from the cache blocked"
    path.unlink()
    if os.getuid() == 0:                                 # a device node: /dev/zero's own
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 5))
        start = time.monotonic()
        assert CompiledCheck.for_result(result()).trees
        assert time.monotonic() - start < 10


def test_an_oversized_cache_file_is_not_read(cache_dir, monkeypatch):
    plant(cache_dir, stale(cache_dir))
    monkeypatch.setattr(cache, "MAX_BYTES", 16)
    assert not uses_planted(cache_dir)


def test_saving_never_writes_through_a_planted_symlink(cache_dir, tmp_path, monkeypatch):
    """Another user who can guess the temporary name and plant a symlink there cannot
    make the victim overwrite the symlink's target (O_EXCL|O_NOFOLLOW)."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    cache_dir.mkdir(parents=True, mode=0o700)
    monkeypatch.setattr(os, "urandom", lambda n: b"\0" * n)
    name = cache_key(result())
    tmp = cache_dir / f".{name}.{os.getpid()}.{'00' * 6}.tmp"
    tmp.symlink_to(victim)
    cache.save(name, {"hello": "world"})
    assert victim.read_text() == "precious"
    assert not (cache_dir / (name + ".json")).exists()


def test_a_loose_directory_of_our_own_is_tightened(cache_dir):
    cache_dir.mkdir(parents=True)
    os.chmod(cache_dir, 0o777)
    CompiledCheck.for_result(result())
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o755
    assert files(cache_dir)


def test_no_cache_when_turned_off(cache_dir, monkeypatch):
    monkeypatch.setenv("GRADCLI_NO_CACHE", "1")
    CompiledCheck.for_result(result())
    assert not cache_dir.exists()
