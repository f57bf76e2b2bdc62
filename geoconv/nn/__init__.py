"""Layers (one per file).  Layers take tensors; models in :mod:`geoconv.models` take a Graph/Batch."""

from geoconv.nn.gcn_conv import GCNConv

__all__ = ["GCNConv"]
