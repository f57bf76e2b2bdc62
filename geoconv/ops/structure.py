"""Edge-list utilities: degree, self-loops, coalescing, symmetrisation, subgraphs."""

from __future__ import annotations

import torch
from torch import Tensor

from geoconv.ops.scatter import scatter


def check_edge_index(edge_index: Tensor, num_nodes: int | None = None, name: str = "edge_index") -> None:
    """Raise a ValueError/TypeError naming the problem if ``edge_index`` is not a valid ``[2, E]`` int64 tensor
    with entries in ``0..num_nodes-1``.

    The range check reads values back to the host: it runs in eager mode and is skipped while
    ``torch.compile`` traces (a data-dependent branch would break the graph); type and shape are always checked.
    """
    if not isinstance(edge_index, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(edge_index).__name__}")
    if edge_index.dtype != torch.long:
        raise TypeError(f"{name} must have dtype torch.int64, got {edge_index.dtype}")
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"{name} must have shape [2, E], got {list(edge_index.shape)}")
    if edge_index.numel() == 0 or torch.compiler.is_compiling():
        return
    low = int(edge_index.min())
    if low < 0:
        raise ValueError(f"{name} contains negative index {low}")
    if num_nodes is not None:
        high = int(edge_index.max())
        if high >= num_nodes:
            raise ValueError(f"{name} contains index {high} but num_nodes is {num_nodes} (valid range 0..{num_nodes - 1})")


def degree(index: Tensor, num_nodes: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """Number of occurrences of each node in ``index`` (``[E]``), as a ``[num_nodes]`` tensor."""
    ones = torch.ones(index.numel(), dtype=dtype, device=index.device)
    return scatter(ones, index, 0, num_nodes, "sum")


def remove_self_loops(edge_index: Tensor, edge_attr: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """Drop edges ``i -> i`` (and their rows of ``edge_attr``)."""
    keep = edge_index[0] != edge_index[1]
    return edge_index[:, keep], (None if edge_attr is None else edge_attr[keep])


def add_self_loops(
    edge_index: Tensor,
    edge_attr: Tensor | None = None,
    fill_value: float = 1.0,
    num_nodes: int | None = None,
) -> tuple[Tensor, Tensor | None]:
    """Append one edge ``i -> i`` per node (existing loops are kept: use
    :func:`add_remaining_self_loops` to avoid doubling them).  New loops get
    ``fill_value`` in ``edge_attr``."""
    num_nodes = _num_nodes(edge_index, num_nodes)
    loop = torch.arange(num_nodes, device=edge_index.device).repeat(2, 1)
    edge_index = torch.cat([edge_index, loop], dim=1)
    if edge_attr is not None:
        fill = edge_attr.new_full((num_nodes,) + tuple(edge_attr.shape[1:]), fill_value)
        edge_attr = torch.cat([edge_attr, fill], dim=0)
    return edge_index, edge_attr


def add_remaining_self_loops(
    edge_index: Tensor,
    edge_weight: Tensor | None = None,
    fill_value: float = 1.0,
    num_nodes: int | None = None,
) -> tuple[Tensor, Tensor | None]:
    """Give every node exactly one self-loop.

    Existing loops are removed and replaced by one loop per node; a node that
    had a loop keeps its weight (with several loops on one node, one of their
    weights), the others get ``fill_value``.  Non-loop edges come first, in
    their original order, then the ``num_nodes`` loops in node order.
    """
    num_nodes = _num_nodes(edge_index, num_nodes)
    is_loop = edge_index[0] == edge_index[1]
    loop = torch.arange(num_nodes, device=edge_index.device)
    new_index = torch.cat([edge_index[:, ~is_loop], loop.repeat(2, 1)], dim=1)
    if edge_weight is None:
        return new_index, None
    loop_weight = edge_weight.new_full((num_nodes,) + tuple(edge_weight.shape[1:]), fill_value)
    loop_weight = loop_weight.index_copy(0, edge_index[0, is_loop], edge_weight[is_loop])
    return new_index, torch.cat([edge_weight[~is_loop], loop_weight], dim=0)


def coalesce(
    edge_index: Tensor,
    edge_attr: Tensor | None = None,
    num_nodes: int | None = None,
    reduce: str = "sum",
) -> tuple[Tensor, Tensor | None]:
    """Sort edges by (source, target) and merge duplicates, reducing their
    ``edge_attr`` with ``reduce`` (any :func:`~geoconv.ops.scatter` reduction)."""
    num_nodes = _num_nodes(edge_index, num_nodes)
    key = edge_index[0] * num_nodes + edge_index[1]
    unique_key, inverse = torch.unique(key, sorted=True, return_inverse=True)
    new_index = torch.stack([unique_key // max(num_nodes, 1), unique_key % max(num_nodes, 1)])
    if edge_attr is None:
        return new_index, None
    return new_index, scatter(edge_attr, inverse, 0, unique_key.numel(), reduce)


def to_undirected(
    edge_index: Tensor,
    edge_attr: Tensor | None = None,
    num_nodes: int | None = None,
    reduce: str = "sum",
) -> tuple[Tensor, Tensor | None]:
    """Add the reverse of every edge, then :func:`coalesce` (duplicates merged with ``reduce``)."""
    reverse = edge_index.flip(0)
    both = torch.cat([edge_index, reverse], dim=1)
    attr = None if edge_attr is None else torch.cat([edge_attr, edge_attr], dim=0)
    return coalesce(both, attr, num_nodes, reduce)


def is_undirected(edge_index: Tensor, num_nodes: int | None = None) -> bool:
    """True when every edge ``u -> v`` has its reverse ``v -> u``."""
    num_nodes = _num_nodes(edge_index, num_nodes)
    forward, _ = coalesce(edge_index, None, num_nodes)
    backward, _ = coalesce(edge_index.flip(0), None, num_nodes)
    return forward.shape == backward.shape and bool((forward == backward).all())


def induced_subgraph_mask(edge_index: Tensor, node_index: Tensor, num_nodes: int) -> tuple[Tensor, Tensor]:
    """For the subgraph induced by ``node_index`` (int64, unique): the mask of
    kept edges ``[E]`` and the relabelling ``[num_nodes]`` (old id -> new id, -1 if dropped)."""
    relabel = torch.full((num_nodes,), -1, dtype=torch.long, device=edge_index.device)
    relabel[node_index] = torch.arange(node_index.numel(), device=edge_index.device)
    edge_mask = (relabel[edge_index[0]] >= 0) & (relabel[edge_index[1]] >= 0)
    return edge_mask, relabel


def _num_nodes(edge_index: Tensor, num_nodes: int | None) -> int:
    if num_nodes is not None:
        return int(num_nodes)
    return int(edge_index.max()) + 1 if edge_index.numel() > 0 else 0
