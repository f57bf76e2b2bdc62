"""geoconv: graph and geometric deep learning on one data layer.

``import geoconv`` needs only torch and numpy; optional packages are imported
where they are used (see :func:`geoconv._optional.require`).
"""

from importlib import metadata as _metadata

try:  # one source for the version: the installed distribution's metadata (pyproject.toml)
    __version__ = _metadata.version("geoconv")
except _metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

from geoconv import data, ops  # noqa: E402
from geoconv.data import Batch, DataLoader, Graph  # noqa: E402

__all__ = ["Graph", "Batch", "DataLoader", "data", "ops", "nn", "models", "datasets", "__version__"]


def __getattr__(name: str):
    # nn, models and datasets are imported on first access to keep `import geoconv` light.
    import importlib

    if name in ("nn", "models", "datasets", "sampling", "chem", "testing"):
        return importlib.import_module(f"geoconv.{name}")
    raise AttributeError(f"module 'geoconv' has no attribute {name!r}")
