"""The differential corpus: 3000 random programs (``tests/data/engine/corpus.py``) with
views of every kind, views of views, ``detach``/``.data`` aliases and in-place updates,
ending in ``backward()`` or ``grad()`` (a third with create_graph and a second
derivative).  PyTorch 2.13 described each once (``corpus.json.gz``, written by
``make_expected.py``; about a quarter end in PyTorch's errors).  gradcli must describe
each the same way: the same error at the same statement with the same message, and for
every tensor the same grad_fn name, flags, version, and values and gradients to 1e-12.
"""

from __future__ import annotations

import gzip
import json
import os

import pytest

from engine_programs import describe, differences

DATA = os.path.join(os.path.dirname(__file__), "data", "engine", "corpus.json.gz")
with gzip.open(DATA, "rt") as _f:
    CORPUS = json.load(_f)
IDS = sorted(CORPUS)
CHUNK = 100


def test_the_corpus_is_what_the_generator_makes():
    """corpus.json.gz holds the programs corpus.py generates (regenerate both together)."""
    import importlib.util
    path = os.path.join(os.path.dirname(DATA), "corpus.py")
    spec = importlib.util.spec_from_file_location("corpus_generator", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert {k: v["source"] for k, v in CORPUS.items()} == module.CASES
    errors = sum(1 for v in CORPUS.values() if v["expected"]["error"])
    assert len(CORPUS) == 3000 and 300 < errors < 1500


@pytest.mark.parametrize("start", range(0, len(IDS), CHUNK))
def test_programs_agree_with_pytorch(start):
    disagree = {}
    for case_id in IDS[start:start + CHUNK]:
        case = CORPUS[case_id]
        diff = differences(case["expected"], describe(case["source"], "gradcli"),
                           rtol=1e-12, atol=1e-12)
        if diff:
            disagree[case_id] = diff[:3]
    assert disagree == {}
