"""Vectorised graph-sampling primitives on a CSR adjacency (no compiled extension).

The CSR form of ``edge_index [2, E]`` used here groups the edges by source:
``rowptr [N + 1]`` and ``col [E]`` such that the targets of node ``v`` are
``col[rowptr[v]:rowptr[v + 1]]``, and ``perm [E]`` maps a CSR position back to
the edge's column in ``edge_index`` (``None`` when ``edge_index`` is already
sorted by source, i.e. ``perm`` would be the identity).

Every function works on many walks / subgraphs at once with torch ops, so
that the cost of a step is a few kernel launches, not a Python loop over
nodes, and everything runs on the device of its inputs.  On CPU tensors a
few steps (repeat, ranges, comparison + nonzero, searchsorted) go through
NumPy on the same memory, whose single-threaded kernels are 2-5x faster than
torch's for these; the results are the same tensors.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

# Largest membership table (entries, int32) that induced_edges allocates instead of binary searching.
LOOKUP_LIMIT = 1 << 24


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


def sorted_unique(values: Tensor, upper: int) -> Tensor:
    """The distinct entries of ``values`` (int64, in ``0..upper-1``), ascending.

    Scans a bitmap of ``upper`` entries when ``upper <= LOOKUP_LIMIT`` (linear
    time, faster than sorting many draws), else falls back to ``torch.unique``.
    """
    if upper > LOOKUP_LIMIT:
        return torch.unique(values)
    seen = torch.zeros(upper, dtype=torch.bool, device=values.device)
    seen[values] = True
    return flat_nonzero(seen)


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
        # u < 1 in float64, so floor(u * deg) <= deg - 1 (exactly, for any deg < 2**52); 0 for sinks.
        offset = (uniform * deg).long()
        neighbour = col.index_select(0, (begin + offset).clamp_(max=col.numel() - 1))
        current = torch.where(deg > 0, neighbour, current)
        steps.append(current)
    return torch.stack(steps, dim=1)


# The NumPy fast paths below run on CPU tensors only; tests switch them off to check the torch path
# (the one every other device takes) on the CPU as well.
NUMPY_FAST_PATHS = True


def _numpy_path(tensor: Tensor) -> bool:
    return NUMPY_FAST_PATHS and tensor.device.type == "cpu"


def repeat_values(values: Tensor, repeats: Tensor, total: int) -> Tensor:
    """``values[i]`` repeated ``repeats[i]`` times, concatenated (``total = repeats.sum()`` entries).

    The same as ``torch.repeat_interleave(values, repeats)``; on the CPU it
    goes through NumPy's ``repeat``, about 4x faster than torch's kernel
    there (measured on 700k entries, 1 thread), which matters in the
    per-subgraph loop of the samplers.
    """
    if _numpy_path(values):
        return torch.from_numpy(np.repeat(values.numpy(), repeats.numpy()))
    return torch.repeat_interleave(values, repeats, output_size=total)


def concatenated_ranges(begin: Tensor, counts: Tensor, total: int) -> Tensor:
    """``cat([arange(begin[i], begin[i] + counts[i]) for i])`` (``total = counts.sum()`` entries, dtype of ``begin``).

    On the CPU through NumPy (its ``repeat`` and ``arange`` are 2-4x faster
    than torch's single-threaded, measured on 700k entries).
    """
    row_start = torch.cumsum(counts, 0) - counts
    offset = begin - row_start.to(begin.dtype)
    if _numpy_path(begin):
        array = np.repeat(offset.numpy(), counts.numpy())
        array += np.arange(total, dtype=array.dtype)
        return torch.from_numpy(array)
    return repeat_values(offset, counts, total) + torch.arange(total, dtype=begin.dtype, device=begin.device)


def searchsorted(sorted_values: Tensor, values: Tensor) -> Tensor:
    """``torch.searchsorted(sorted_values, values)`` (left side, int64); NumPy's on the CPU (about 1.5x faster there)."""
    if _numpy_path(sorted_values):
        return torch.from_numpy(np.searchsorted(sorted_values.numpy(), values.numpy()).astype(np.int64, copy=False))
    return torch.searchsorted(sorted_values, values)


def flat_nonzero(values: Tensor, min_value: int | None = None) -> Tensor:
    """Indices (int64, ascending) of the nonzero entries of the 1-D ``values``, or of
    those ``>= min_value`` when it is given.

    ``values.nonzero()`` (after the comparison) through NumPy on the CPU,
    where torch's kernels are several times slower single-threaded (measured
    on 700k int32 entries: comparison 5x, nonzero 4x).
    """
    if _numpy_path(values):
        array = values.numpy()
        return torch.from_numpy(np.flatnonzero(array if min_value is None else array >= min_value))
    mask = values if min_value is None else values >= min_value
    return mask.nonzero().view(-1)


def induced_edges(
    rowptr: Tensor, col: Tensor, node_index: Tensor, group: Tensor | None, num_nodes: int
) -> tuple[Tensor, Tensor, Tensor]:
    """The edges of the subgraphs induced by node sets, found through the CSR rows of their nodes.

    The node sets are given as ``node_index [M]`` with ``group [M]`` (the
    subgraph of each entry; ``None`` for a single subgraph), sorted by
    ``(group, node)`` without duplicates (the order of ``torch.unique`` on
    ``group * num_nodes + node``).  The cost is the sum of the degrees of the
    ``M`` nodes plus, for membership tests, a lookup table of
    ``num_groups * num_nodes`` int32 entries when that is at most
    :data:`LOOKUP_LIMIT` (a binary search in the sorted keys otherwise).

    ``rowptr`` / ``col`` may be int32 (when ``E < 2**31``) or int64.

    Returns:
        ``(position [E'], src [E'], dst [E'])`` (int64): CSR positions of the kept
        edges, and the entries of ``node_index`` holding their source and
        target (both in the same group).  Edges come grouped by source, in
        CSR order within a source.
    """
    device = node_index.device
    num_entries = node_index.numel()
    # Entries use the CSR's index dtype: int32 CSR arrays halve the memory traffic of this pass.
    dtype = col.dtype
    begin = rowptr.index_select(0, node_index)
    deg = rowptr.index_select(0, node_index + 1) - begin
    row_end = torch.cumsum(deg, 0, dtype=torch.long)
    total = int(row_end[-1]) if num_entries else 0
    position = concatenated_ranges(begin.to(dtype), deg, total)  # the CSR entries of the rows, row by row
    target = col.index_select(0, position)
    num_groups = int(group[-1]) + 1 if group is not None and num_entries else 1
    if num_groups * num_nodes <= LOOKUP_LIMIT:
        # A dense table (key -> entry, -1 if absent) is several times faster than a binary search.
        if group is None:
            keys, target_keys = node_index, target
        else:
            keys = group * num_nodes + node_index
            target_keys = repeat_values((group * num_nodes).to(dtype), deg, total) + target
        lookup = torch.full((num_groups * num_nodes,), -1, dtype=torch.int32, device=device)
        lookup[keys] = torch.arange(num_entries, dtype=torch.int32, device=device)
        found = lookup.index_select(0, target_keys)
        kept = flat_nonzero(found, min_value=0)
    else:
        keys = node_index if group is None else group * num_nodes + node_index
        target_keys = target.long() if group is None else repeat_values(group * num_nodes, deg, total) + target
        found = torch.searchsorted(keys, target_keys).clamp_(max=max(num_entries - 1, 0))
        if num_entries:
            kept = flat_nonzero(keys.index_select(0, found) == target_keys)
        else:
            kept = torch.zeros(0, dtype=torch.long, device=device)
    # The source entry of each kept edge: kept is ascending, so row i owns the kept entries before row_end[i].
    kept_per_row = torch.diff(searchsorted(kept, row_end), prepend=row_end.new_zeros(1))
    src = repeat_values(torch.arange(num_entries, device=device), kept_per_row, kept.numel())
    return position.index_select(0, kept).long(), src, found.index_select(0, kept).long()


def oriented_csr(rowptr: Tensor, col: Tensor, degree: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Each undirected edge of a symmetric CSR once, in the row of its endpoint of lower ``(degree, id)``.

    For a graph holding every edge with its reverse, ``induced_edges`` on this
    half finds each undirected edge of an induced subgraph once, from its
    endpoint of lower degree, so rows of high-degree nodes (which random
    walks visit most) are mostly skipped: on ego-Twitter the rows of a
    2,000-root random-walk sample hold 3.6x fewer entries.  Self-loops
    ``(v, v)`` are kept (once).

    Returns:
        ``(rowptr [N + 1], col [E'], position [E'])``: the oriented CSR (same
        index dtype) and, per entry, its position in the given CSR.
    """
    num_nodes = rowptr.numel() - 1
    source = repeat_values(torch.arange(num_nodes, dtype=col.dtype, device=col.device), rowptr[1:] - rowptr[:-1], col.numel())
    source_degree, target_degree = degree.index_select(0, source), degree.index_select(0, col)
    keep = (source_degree < target_degree) | ((source_degree == target_degree) & (source <= col))
    position = flat_nonzero(keep)
    counts = torch.bincount(source.index_select(0, position).long(), minlength=num_nodes)
    oriented_rowptr = torch.zeros(num_nodes + 1, dtype=rowptr.dtype, device=rowptr.device)
    oriented_rowptr[1:] = torch.cumsum(counts, 0)
    return oriented_rowptr, col.index_select(0, position), position.to(col.dtype)


def induced_edges_symmetric(
    oriented: tuple[Tensor, Tensor, Tensor],
    reverse: Tensor,
    node_index: Tensor,
    group: Tensor | None,
    num_nodes: int,
    *,
    self_loops: bool = True,
    positions: bool = True,
) -> tuple[Tensor | None, Tensor, Tensor]:
    """:func:`induced_edges` of a symmetric graph from its :func:`oriented_csr` half.

    Args:
        oriented: ``oriented_csr`` of the graph's CSR.
        reverse: ``[E']`` for each oriented entry, the position of its reverse in the full CSR
            (kept in the oriented order so that it is read row by row, like the oriented CSR).
        node_index: as in :func:`induced_edges`.
        group: as in :func:`induced_edges`.
        num_nodes: as in :func:`induced_edges`.
        self_loops: False when the graph has no self-loop (skips looking for them).
        positions: False to skip the CSR positions (returned as None) when only the structure is needed.

    Returns:
        ``(position [E'], src [E'], dst [E'])`` as :func:`induced_edges`, but in a
        different order: the edges found ``u -> v`` (grouped by ``u``) first,
        then their reverses ``v -> u`` (self-loops once).
    """
    rowptr, col, to_full = oriented
    half, src, dst = induced_edges(rowptr, col, node_index, group, num_nodes)
    src_other, dst_other = src, dst
    if self_loops:
        other = flat_nonzero(src != dst)
        src_other, dst_other, half_other = src.index_select(0, other), dst.index_select(0, other), half.index_select(0, other)
    else:
        half_other = half
    position = None
    if positions:
        position = torch.cat([to_full.index_select(0, half), reverse.index_select(0, half_other)]).long()
    return position, torch.cat([src, dst_other]), torch.cat([dst, src_other])
