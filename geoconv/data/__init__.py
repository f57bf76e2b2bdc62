"""The data layer: :class:`Graph`, :class:`Batch`, :class:`DataLoader` and conversions."""

from geoconv.data.graph import BUILTIN_FIELDS, LEVELS, Graph, GraphValidationError
from geoconv.data.batch import Batch, collate
from geoconv.data.loader import DataLoader
from geoconv.data.convert import from_networkx, from_pyg, to_networkx, to_pyg

__all__ = [
    "Graph", "Batch", "DataLoader", "GraphValidationError", "collate", "LEVELS", "BUILTIN_FIELDS",
    "from_pyg", "to_pyg", "from_networkx", "to_networkx",
]
