"""geoconv: graph and geometric deep learning on one data layer.

``import geoconv`` needs only torch and numpy; optional packages are imported
where they are used (see :func:`geoconv._optional.require`).
"""

__version__ = "0.1.0"

from geoconv import data, ops  # noqa: E402
from geoconv.data import Batch, DataLoader, Graph  # noqa: E402

__all__ = ["Graph", "Batch", "DataLoader", "data", "ops", "nn", "models", "datasets", "__version__"]


def __getattr__(name: str):
    # nn, models and datasets are imported on first access to keep `import geoconv` light.
    import importlib

    if name in ("nn", "models", "datasets", "sampling", "chem", "testing"):
        return importlib.import_module(f"geoconv.{name}")
    raise AttributeError(f"module 'geoconv' has no attribute {name!r}")
