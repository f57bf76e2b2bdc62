"""Vectorised graph-sampling primitives on a CSR adjacency (no compiled extension).

The CSR form of ``edge_index [2, E]`` used here groups the edges by source:
``rowptr [N + 1]`` and ``col [E]`` such that the targets of node ``v`` are
``col[rowptr[v]:rowptr[v + 1]]``, and ``perm [E]`` maps a CSR position back to
the edge's column in ``edge_index`` (``None`` when ``edge_index`` is already
sorted by source, i.e. ``perm`` would be the identity).

Every function works on many walks / subgraphs at once with torch ops, so
that the cost of a step is a few kernel launches, not a Python loop over
nodes, and everything runs on the device of its inputs.
"""

from __future__ import annotations

import torch
from torch import Tensor


def csr_from_edge_index(edge_index: Tensor, num_nodes: int) -> tuple[Tensor, Tensor, Tensor | None]:
    """``(rowptr [N + 1], col [E], perm [E] or None)`` of ``edge_index`` grouped by source.

    Edges with the same source keep their relative order (stable sort), so
    ``perm`` is ``None`` exactly when the sources are already non-decreasing.
    """
    src, dst = edge_index[0], edge_index[1]
    counts = torch.bincount(src, minlength=num_nodes)
    rowptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=edge_index.device)
    torch.cumsum(counts, 0, out=rowptr[1:])
    if src.numel() < 2 or bool((src[1:] >= src[:-1]).all()):
        return rowptr, dst.contiguous(), None
    perm = torch.argsort(src, stable=True)
    return rowptr, dst.index_select(0, perm), perm


def sample_from_cdf(cdf: Tensor, num_samples: int, generator: torch.Generator | None = None) -> Tensor:
    r"""``num_samples`` independent draws (with replacement) of a categorical distribution.

    ``cdf [K]`` is the cumulative sum of non-negative weights ``w`` (float64
    recommended); index ``k`` is drawn with probability :math:`w_k / \sum w`
    by inverting the CDF with a binary search, which, unlike
    ``torch.multinomial``, has no limit on ``K``.  Zero-weight categories are
    never drawn.
    """
    total = cdf[-1]
    if not bool(total > 0):
        raise ValueError("cannot sample from a distribution whose weights sum to 0")
    uniform = torch.rand(num_samples, dtype=cdf.dtype, device=cdf.device, generator=generator) * total
    return torch.searchsorted(cdf, uniform, right=True).clamp_(max=cdf.numel() - 1)


def random_walk(
    rowptr: Tensor, col: Tensor, start: Tensor, walk_length: int, generator: torch.Generator | None = None
) -> Tensor:
    """Uniform random walks ``[S, walk_length + 1]`` from the nodes ``start [S]`` (column 0).

    Each step moves every walker at once to a neighbour drawn uniformly from
    its CSR row; a walker on a node without out-edges stays there.
    """
    steps = [start]
    current = start
    if col.numel() == 0:
        return start.view(-1, 1).repeat(1, walk_length + 1)
    for _ in range(walk_length):
        begin = rowptr.index_select(0, current)
        deg = rowptr.index_select(0, current + 1) - begin
        uniform = torch.rand(current.numel(), dtype=torch.float64, device=current.device, generator=generator)
        offset = torch.minimum((uniform * deg).long(), (deg - 1).clamp(min=0))
        neighbour = col.index_select(0, (begin + offset).clamp(max=col.numel() - 1))
        current = torch.where(deg > 0, neighbour, current)
        steps.append(current)
    return torch.stack(steps, dim=1)


def induced_edges(
    rowptr: Tensor, col: Tensor, node_index: Tensor, group: Tensor | None, num_nodes: int
) -> tuple[Tensor, Tensor, Tensor]:
    """The edges of the subgraphs induced by node sets, found through the CSR rows of their nodes.

    The node sets are given as ``node_index [M]`` with ``group [M]`` (the
    subgraph of each entry; ``None`` for a single subgraph), sorted by
    ``(group, node)`` without duplicates (the order of ``torch.unique`` on
    ``group * num_nodes + node``).  The cost is the sum of the degrees of the
    ``M`` nodes, independent of the size of the whole graph.

    Returns:
        ``(position [E'], src [E'], dst [E'])``: CSR positions of the kept
        edges, and the entries of ``node_index`` holding their source and
        target (both in the same group).  Edges come grouped by source, in
        CSR order within a source.
    """
    device = node_index.device
    keys = node_index if group is None else group * num_nodes + node_index
    begin = rowptr.index_select(0, node_index)
    deg = rowptr.index_select(0, node_index + 1) - begin
    total = int(deg.sum())
    owner = torch.repeat_interleave(torch.arange(node_index.numel(), device=device), deg, output_size=total)
    first = torch.cumsum(deg, 0) - deg
    position = (begin - first).index_select(0, owner) + torch.arange(total, device=device)
    target = col.index_select(0, position)
    target_keys = target if group is None else group.index_select(0, owner) * num_nodes + target
    found = torch.searchsorted(keys, target_keys).clamp_(max=max(keys.numel() - 1, 0))
    keep = keys.index_select(0, found) == target_keys if keys.numel() else torch.zeros_like(target_keys, dtype=torch.bool)
    return position[keep], owner[keep], found[keep]
