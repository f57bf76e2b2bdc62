"""Shared fixtures.  Real datasets are read in place from $GEOCONV_DATA (CI: ../shared/data).

``pytest --device cuda`` (default ``cpu``) runs every test with that torch default device, so that
tensors built without an explicit device land there; the ``device`` fixture names it for explicit use.

Two rules make the same tests run on every device:

* Tests draw their random inputs from CPU generators (``torch.Generator().manual_seed(s)``), so that a seed
  gives the same numbers on every device.  Under a non-CPU ``--device`` a ``torch.rand``/``randn``/
  ``randint``/``randperm`` given a CPU generator draws on the CPU and moves the result to the device
  (:class:`_DrawOnGeneratorDevice`); torch would otherwise refuse a CPU generator for a CUDA tensor.
* Host-side code (file readers and dataset loaders, RDKit featurisation, the CLI, tasks and examples, which
  take their own ``--device`` flag, torchrun with gloo, packaging) is tested with torch's CPU default whatever ``--device``:
  the tests under :data:`HOST_TESTS`, and any test marked ``@pytest.mark.host``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from torch.overrides import TorchFunctionMode

REPO = Path(__file__).resolve().parent.parent


def shared_data_root() -> Path:
    """Where the tests find real datasets: ``$GEOCONV_DATA`` when set (CI: ``../shared/data``, never
    downloading); else ``../shared/data`` beside the repository when it exists; else the library's own
    data root (``~/.cache/geoconv``), into which the loaders download what a test needs, checked
    against its sha256, exactly as for a user."""
    env = os.environ.get("GEOCONV_DATA")
    if env:
        # absolute: tests that change the working directory (the snippet runs) must still find it
        return Path(env).resolve()
    beside = REPO.parent / "shared" / "data"
    if beside.is_dir():
        return beside
    from geoconv.datasets.base import data_root

    return Path(data_root(None))


# Paths (relative to tests/) of the host-side tests: they keep torch's CPU default under any --device.
HOST_TESTS = (
    "datasets/", "chem/", "test_cli.py", "test_task_", "test_example", "test_mesh_example.py", "test_tutorials.py",
    "test_report.py", "test_records.py", "test_catalogue.py", "test_packaging.py", "test_optional.py",
    "test_import_direction.py", "sampling/test_distributed.py",
)


def pytest_addoption(parser):
    parser.addoption("--device", default="cpu",
                     help="torch device the tests build their tensors on (cpu, cuda, cuda:1, ...; default cpu)")


def pytest_configure(config):
    config.addinivalue_line("markers", "host: host-side code, run with torch's CPU default device whatever --device")


def pytest_collection_modifyitems(config, items):
    tests = Path(__file__).resolve().parent
    for item in items:
        relative = Path(str(item.fspath)).resolve().relative_to(tests).as_posix()
        if relative.startswith(HOST_TESTS):
            item.add_marker(pytest.mark.host)


@pytest.fixture(scope="session")
def device(pytestconfig):
    """The ``--device`` of this run as a ``torch.device``."""
    device = torch.device(pytestconfig.getoption("--device"))
    if device.type == "cuda" and not torch.cuda.is_available():
        pytest.exit(f"--device {device} asked for, but torch sees no CUDA device", returncode=4)
    return device


@pytest.fixture(autouse=True)
def _default_device(device, request):
    # cpu is torch's default already: setting it would only add a dispatch mode to every torch call.
    if device.type == "cpu" or request.node.get_closest_marker("host") is not None:
        yield
        return
    previous = torch.get_default_device()
    torch.set_default_device(device)
    with _DrawOnGeneratorDevice(device):
        yield
    torch.set_default_device(previous)


class _DrawOnGeneratorDevice(TorchFunctionMode):
    """``torch.rand``/``randn``/``randint``/``randperm`` given a generator of another device than ``device``
    (and no explicit ``device``) draw on the generator's device, then move the result to ``device``."""

    FACTORIES = frozenset({torch.rand, torch.randn, torch.randint, torch.randperm})

    def __init__(self, device: torch.device | str) -> None:
        super().__init__()
        self.device = torch.device(device)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        generator = kwargs.get("generator")
        if (func in self.FACTORIES and generator is not None and kwargs.get("device") is None
                and kwargs.get("out") is None and generator.device.type != self.device.type):
            return func(*args, **{**kwargs, "device": generator.device}).to(self.device)
        return func(*args, **kwargs)


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
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
