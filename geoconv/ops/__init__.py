"""Functional ops: pure functions without parameters.

``ops`` imports nothing else from geoconv, so that every family can use it.
"""

from geoconv.ops.scatter import REDUCTIONS, scatter, segment, softmax, use_torch_scatter
from geoconv.ops.structure import (
    add_remaining_self_loops,
    add_self_loops,
    check_edge_index,
    coalesce,
    degree,
    induced_subgraph_mask,
    is_undirected,
    remove_self_loops,
    to_undirected,
)
from geoconv.ops.normalization import gcn_norm
from geoconv.ops.sparse import SparseAdjacency, spmm
from geoconv.ops.message_passing import gather, propagate

__all__ = [
    "REDUCTIONS", "scatter", "segment", "softmax", "use_torch_scatter",
    "add_remaining_self_loops", "add_self_loops", "check_edge_index", "coalesce", "degree",
    "induced_subgraph_mask", "is_undirected", "remove_self_loops", "to_undirected",
    "gcn_norm", "SparseAdjacency", "spmm", "gather", "propagate",
]
