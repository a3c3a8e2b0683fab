"""Test-wide settings: the derivative cache of batch checks lives in a temporary
directory for the session (never the user's ~/.cache), also for subprocesses."""

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
