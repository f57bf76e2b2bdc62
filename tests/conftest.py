"""Shared fixtures.  Real datasets are read in place from $GEOCONV_DATA (CI: ../shared/data)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def shared_data_root() -> Path:
    """$GEOCONV_DATA, else ../shared/data beside the repository."""
    env = os.environ.get("GEOCONV_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = shared_data_root()
    assert root.is_dir(), f"real datasets expected under {root}: set GEOCONV_DATA to the shared data folder"
    return root


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    # Processed-tensor caches of the tests go to a temporary folder, never to ~/.cache.
    monkeypatch.setenv("GEOCONV_CACHE", str(tmp_path_factory.getbasetemp() / "geoconv_cache"))


@pytest.fixture
def single_thread():
    """Run a test with one torch thread (code made of many small tensor ops is much faster so on a shared CPU)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
