"""Lazy imports of optional dependencies.

Every optional package (rdkit, e3nn, trimesh, ogb, torch_geometric, tqdm,
matplotlib, h5py, ...) is imported through :func:`require`, so that
``import geoconv`` works with only torch and numpy installed, and a missing
package raises an ImportError that names the pip extra to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# module name -> (pip extra of geoconv, pip package name)
EXTRAS: dict[str, tuple[str, str]] = {
    "rdkit": ("chem", "rdkit"),
    "e3nn": ("equivariant", "e3nn"),
    "trimesh": ("mesh", "trimesh"),
    "ogb": ("ogb", "ogb"),
    "torch_geometric": ("pyg", "torch_geometric"),
    "torch_scatter": ("scatter", "torch_scatter"),
    "networkx": ("graph", "networkx"),
    "scipy": ("graph", "scipy"),
    "tqdm": ("examples", "tqdm"),
    "matplotlib": ("examples", "matplotlib"),
    "h5py": ("pointcloud", "h5py"),
    "pandas": ("chem", "pandas"),
}


def require(module: str, purpose: str | None = None) -> ModuleType:
    """Import ``module`` or raise an ImportError naming the geoconv extra.

    ``module`` may be a dotted path (``"torch_geometric.nn"``); the extra is
    looked up from its top-level package.
    """
    top = module.split(".")[0]
    try:
        return importlib.import_module(module)
    except ImportError as error:
        extra, package = EXTRAS.get(top, ("all", top))
        what = f" for {purpose}" if purpose else ""
        raise ImportError(
            f"geoconv needs the optional package '{package}'{what}, which is not installed. "
            f"Install it with: pip install 'geoconv[{extra}]' (or: pip install {package})"
        ) from error


def available(module: str) -> bool:
    """True when ``module`` can be imported (without raising)."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True
