"""Test-wide settings: the derivative cache of batch checks lives in a temporary
directory for the session (never the user's ~/.cache), also for subprocesses; each test
leaves the default dtype as it found it."""

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_derivative_cache(tmp_path_factory):
    previous = os.environ.get("GRADCLI_CACHE_DIR")
    os.environ["GRADCLI_CACHE_DIR"] = str(tmp_path_factory.mktemp("gradcli-cache"))
    yield
    if previous is None:
        os.environ.pop("GRADCLI_CACHE_DIR", None)
    else:
        os.environ["GRADCLI_CACHE_DIR"] = previous


@pytest.fixture(autouse=True)
def _default_dtype_as_found():
    """Each test starts with the default dtype the previous one found (a test that sets
    one, as torch.set_default_dtype does, cannot change a later test's nn or rand)."""
    from gradcli.autograd.dtypes import default_if_set, restore_default
    previous = default_if_set()
    yield
    restore_default(previous)
