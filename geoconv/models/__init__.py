"""Models built from :mod:`geoconv.nn` layers; they take a :class:`~geoconv.data.Graph` or Batch."""

from geoconv.models.gcn import GCN

__all__ = ["GCN"]
