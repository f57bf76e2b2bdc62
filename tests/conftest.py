"""Shared fixtures.  Real datasets are read in place from $GEOCONV_DATA (CI: ../shared/data).

``pytest --device cuda`` (default ``cpu``) runs every test with that torch default device, so that
tensors built without an explicit device land there; the ``device`` fixture names it for explicit use.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def shared_data_root() -> Path:
    """Where the tests find real datasets: ``$GEOCONV_DATA`` when set (CI: ``../shared/data``, never
    downloading); else ``../shared/data`` beside the repository when it exists; else the library's own
    data root (``~/.cache/geoconv``), into which the loaders download what a test needs, checked
    against its sha256, exactly as for a user."""
    env = os.environ.get("GEOCONV_DATA")
    if env:
        return Path(env)
    beside = REPO.parent / "shared" / "data"
    if beside.is_dir():
        return beside
    from geoconv.datasets.base import data_root

    return Path(data_root(None))


def pytest_addoption(parser):
    parser.addoption("--device", default="cpu",
                     help="torch device the tests build their tensors on (cpu, cuda, cuda:1, ...; default cpu)")


@pytest.fixture(scope="session")
def device(pytestconfig):
    """The ``--device`` of this run as a ``torch.device``."""
    import torch

    device = torch.device(pytestconfig.getoption("--device"))
    if device.type == "cuda" and not torch.cuda.is_available():
        pytest.exit(f"--device {device} asked for, but torch sees no CUDA device", returncode=4)
    return device


@pytest.fixture(autouse=True)
def _default_device(device):
    # cpu is torch's default already: setting it would only add a dispatch mode to every torch call.
    if device.type == "cpu":
        yield
        return
    import torch

    previous = torch.get_default_device()
    torch.set_default_device(device)
    yield
    torch.set_default_device(previous)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = shared_data_root()
    if os.environ.get("GEOCONV_DATA"):
        assert root.is_dir(), f"GEOCONV_DATA={root} is not a folder: point it at a data root or unset it to download"
    root.mkdir(parents=True, exist_ok=True)
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
