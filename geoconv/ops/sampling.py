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

from typing import Callable, NamedTuple

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
        node_index, group, num_nodes: as in :func:`induced_edges`.
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


def sort_with_index(keys: Tensor, max_key: int) -> tuple[Tensor, Tensor]:
    """``(sorted keys, order)`` of the int64 ``keys`` (values in ``0..max_key``), stable: equal keys keep
    their order, so ``keys[order]`` is the sorted tensor and ``order`` its stable argsort.

    On the CPU, when a key and its index fit in 62 bits together, the index is packed into the low bits
    and the values are sorted with NumPy's vectorised quicksort: ties are broken by the index (hence
    stable) and it is several times faster than an argsort (2.7M keys, 1 thread: 23 ms against 48 ms for
    NumPy's argsort and 120 ms for torch's stable sort).
    """
    count = keys.numel()
    index_bits = max(count - 1, 0).bit_length()
    if _numpy_path(keys) and max(max_key, 0).bit_length() + index_bits <= 62:
        packed = keys.numpy() << index_bits
        packed |= np.arange(count, dtype=np.int64)
        packed.sort()
        order = packed & ((1 << index_bits) - 1)
        packed >>= index_bits
        return torch.from_numpy(packed), torch.from_numpy(order)
    values, order = torch.sort(keys, stable=True)
    return values, order


def sort_values(values: Tensor) -> Tensor:
    """``values`` sorted ascending (1-D); NumPy's vectorised sort on the CPU."""
    if _numpy_path(values):
        return torch.from_numpy(np.sort(values.numpy()))
    return torch.sort(values).values


def non_decreasing(values: Tensor) -> bool:
    """Whether the 1-D ``values`` are sorted (non-decreasing)."""
    if values.numel() < 2:
        return True
    if _numpy_path(values):
        array = values.numpy()
        return bool((array[1:] >= array[:-1]).all())
    return bool((values[1:] >= values[:-1]).all())


class EdgePairs(NamedTuple):
    """What the GraphSAINT samplers precompute on a graph: see :func:`edge_pairs`.

    Index tensors use ``index_dtype`` (int32 when every index fits, else int64), except
    ``pair_src`` / ``pair_dst`` (int64) and ``degree`` (float64).
    """

    sym_rowptr: Tensor  # [N + 1] CSR of the symmetrised simple graph (walks and probabilities)
    sym_col: Tensor  # [S]
    degree: Tensor  # [N] degree in the symmetrised simple graph (a self-loop counts once)
    pair_src: Tensor  # [P] each unordered pair {u, v} joined by at least one edge, as u <= v, ascending (u, v)
    pair_dst: Tensor  # [P]
    pair_ptr: Tensor  # [P + 1] the edges of pair p are pair_edge[pair_ptr[p]:pair_ptr[p + 1]]
    pair_edge: Tensor | None  # [E] edge ids grouped by pair, in edge order within a pair (None: the identity)
    owner_rowptr: Tensor  # [N + 1] each pair once, in the row of its endpoint of lower (degree, id)
    owner_col: Tensor  # [P] the pair's other endpoint
    owner_pair: Tensor  # [P] the pair
    edge_src: Tensor  # [E] edge_index[0]
    edge_dst: Tensor  # [E] edge_index[1]


def edge_pairs(edge_index: Tensor, num_nodes: int) -> EdgePairs:
    """Group the edges of any ``edge_index [2, E]`` (directed or not, unsorted, with duplicates or self-loops)
    by the unordered pair of nodes they join, for :func:`induced_subgraph_edges` and random walks.

    An edge ``u -> v`` belongs to pair ``{u, v}``; each pair is stored once, in the
    row of its endpoint of lower ``(degree, id)`` (the *owner*): the edges of the
    subgraph induced by a node set are then found by scanning only the owned
    pairs of its nodes and expanding the pairs whose other endpoint is in the
    set to their edges.  Rows of high-degree nodes, which random walks visit
    most, hold few owned pairs (on ego-Twitter a 2,000-root walk sample scans
    3.6x fewer entries than its full CSR rows), and duplicates or both
    directions of an edge cost one entry.

    Cost: one stable sort of the ``E`` pair keys (skipped when the keys are
    already sorted) and, unless ``edge_index`` is coalesced and symmetric (then
    it is its own symmetrised graph), one sort of the symmetrised graph's
    entries.
    """
    if _numpy_path(edge_index):
        return _edge_pairs_numpy(edge_index, num_nodes)
    device = edge_index.device
    src, dst = edge_index[0], edge_index[1]
    num_edges = src.numel()
    big = max(num_edges, num_nodes + 1) >= 2**31 - 1
    index_dtype = torch.long if big else torch.int32
    lo, hi = torch.minimum(src, dst), torch.maximum(src, dst)
    pair_key = lo * num_nodes + hi
    del lo, hi
    if non_decreasing(pair_key):
        sorted_key, order = pair_key, None
    else:
        sorted_key, order = sort_with_index(pair_key, num_nodes * num_nodes - 1)
    del pair_key
    first = torch.ones(num_edges, dtype=torch.bool, device=device)
    if num_edges > 1:
        torch.ne(sorted_key[1:], sorted_key[:-1], out=first[1:])
    pair_start = flat_nonzero(first)
    num_pairs = pair_start.numel()
    keys = sorted_key.index_select(0, pair_start)
    pair_src, pair_dst = keys // num_nodes, keys % num_nodes
    pair_ptr = torch.cat([pair_start, pair_start.new_full((1,), num_edges)]).to(index_dtype)
    loop = pair_src == pair_dst
    not_loop = flat_nonzero(~loop)
    degree = (torch.bincount(pair_src, minlength=num_nodes)
              + torch.bincount(pair_dst.index_select(0, not_loop), minlength=num_nodes)).to(torch.float64)

    edge_key = src * num_nodes + dst
    coalesced = num_edges < 2 or bool((edge_key[1:] > edge_key[:-1]).all())
    del edge_key
    if coalesced and num_edges == 2 * num_pairs - (num_pairs - not_loop.numel()):
        # Coalesced and holding 2 edges per pair (1 per self-loop): edge_index is its own symmetrised graph.
        sym_row, sym_col = src, dst
        pair_of_sorted = torch.cumsum(first, 0) - 1
        if order is None:
            sym_pair = pair_of_sorted
        else:
            sym_pair = torch.empty_like(pair_of_sorted)
            sym_pair[order] = pair_of_sorted
    else:
        entry_key = torch.cat([keys, pair_dst.index_select(0, not_loop) * num_nodes + pair_src.index_select(0, not_loop)])
        entry_key, entry_order = sort_with_index(entry_key, num_nodes * num_nodes - 1)
        sym_row, sym_col = entry_key // num_nodes, entry_key % num_nodes
        del entry_key
        pair_index = torch.arange(num_pairs, device=device)
        sym_pair = torch.cat([pair_index, not_loop]).index_select(0, entry_order)
    del first, keys
    sym_rowptr = torch.zeros(num_nodes + 1, dtype=index_dtype, device=device)
    torch.cumsum(torch.bincount(sym_row, minlength=num_nodes), 0, out=sym_rowptr[1:])
    # The owner of a pair: its endpoint of lower (degree, id).
    row_degree, col_degree = degree.index_select(0, sym_row), degree.index_select(0, sym_col)
    owned = flat_nonzero((row_degree < col_degree) | ((row_degree == col_degree) & (sym_row <= sym_col)))
    del row_degree, col_degree
    owner_rowptr = torch.zeros(num_nodes + 1, dtype=index_dtype, device=device)
    torch.cumsum(torch.bincount(sym_row.index_select(0, owned), minlength=num_nodes), 0, out=owner_rowptr[1:])
    return EdgePairs(
        sym_rowptr=sym_rowptr, sym_col=sym_col.to(index_dtype), degree=degree,
        pair_src=pair_src, pair_dst=pair_dst, pair_ptr=pair_ptr,
        pair_edge=None if order is None else order.to(index_dtype),
        owner_rowptr=owner_rowptr, owner_col=sym_col.index_select(0, owned).to(index_dtype),
        owner_pair=sym_pair.index_select(0, owned).to(index_dtype),
        edge_src=src.to(index_dtype), edge_dst=dst.to(index_dtype),
    )


def _edge_pairs_numpy(edge_index: Tensor, num_nodes: int) -> EdgePairs:
    """:func:`edge_pairs` on the CPU through NumPy (the same arrays; its single-threaded elementwise
    kernels, gathers and counts are 2-4x faster than torch's on millions of entries)."""
    src, dst = edge_index[0].numpy(), edge_index[1].numpy()
    num_edges = src.size
    index_dtype = np.int64 if max(num_edges, num_nodes + 1) >= 2**31 - 1 else np.int32
    edge_key = src * num_nodes
    edge_key += dst
    pair_key = dst * num_nodes
    pair_key += src
    np.minimum(pair_key, edge_key, out=pair_key)  # lo * N + hi
    coalesced = num_edges < 2 or bool((edge_key[1:] > edge_key[:-1]).all())
    del edge_key
    order = None
    if num_edges > 1 and not bool((pair_key[1:] >= pair_key[:-1]).all()):
        sorted_key, order_tensor = sort_with_index(torch.from_numpy(pair_key), num_nodes * num_nodes - 1)
        pair_key, order = sorted_key.numpy(), order_tensor.numpy()
    first = np.ones(num_edges, dtype=bool)
    np.not_equal(pair_key[1:], pair_key[:-1], out=first[1:])
    pair_start = np.flatnonzero(first)
    num_pairs = pair_start.size
    keys = pair_key[pair_start]
    del pair_key
    pair_src = keys // num_nodes
    pair_dst = keys - pair_src * num_nodes
    not_loop = np.flatnonzero(pair_src != pair_dst)
    degree = np.bincount(pair_src, minlength=num_nodes)
    degree += np.bincount(pair_dst[not_loop], minlength=num_nodes)
    if coalesced and num_edges == num_pairs + not_loop.size:
        # Coalesced, 2 edges per pair (1 per self-loop): edge_index is its own symmetrised graph.
        sym_row, sym_col = src, dst
        pair_of_sorted = np.cumsum(first) - 1
        if order is None:
            sym_pair = pair_of_sorted
        else:
            sym_pair = np.empty_like(pair_of_sorted)
            sym_pair[order] = pair_of_sorted
    else:
        reverse_key = pair_dst[not_loop] * num_nodes
        reverse_key += pair_src[not_loop]
        entry_key, entry_order = sort_with_index(torch.from_numpy(np.concatenate([keys, reverse_key])),
                                                 num_nodes * num_nodes - 1)
        entry_key, entry_order = entry_key.numpy(), entry_order.numpy()
        sym_row = entry_key // num_nodes
        sym_col = entry_key - sym_row * num_nodes
        del entry_key, reverse_key
        sym_pair = np.concatenate([np.arange(num_pairs), not_loop])[entry_order]
    del first, keys
    sym_rowptr = np.zeros(num_nodes + 1, dtype=index_dtype)
    np.cumsum(np.bincount(sym_row, minlength=num_nodes), out=sym_rowptr[1:])
    # The owner of a pair: its endpoint of lower (degree, id); rows are contiguous, so counts come from one cumsum.
    rank = degree * num_nodes + np.arange(num_nodes)
    owned_mask = rank[sym_row] <= rank[sym_col]
    owned = np.flatnonzero(owned_mask)
    owned_before = np.zeros(sym_row.size + 1, dtype=index_dtype)
    np.cumsum(owned_mask, out=owned_before[1:])
    owner_rowptr = owned_before[sym_rowptr]
    pair_ptr = np.empty(num_pairs + 1, dtype=index_dtype)
    pair_ptr[:-1], pair_ptr[-1] = pair_start, num_edges

    def index(array: np.ndarray) -> Tensor:
        return torch.from_numpy(np.ascontiguousarray(array, dtype=index_dtype))

    return EdgePairs(
        sym_rowptr=torch.from_numpy(sym_rowptr), sym_col=index(sym_col), degree=torch.from_numpy(degree.astype(np.float64)),
        pair_src=torch.from_numpy(pair_src), pair_dst=torch.from_numpy(pair_dst), pair_ptr=torch.from_numpy(pair_ptr),
        pair_edge=None if order is None else index(order),
        owner_rowptr=torch.from_numpy(owner_rowptr), owner_col=index(sym_col[owned]), owner_pair=index(sym_pair[owned]),
        edge_src=index(src), edge_dst=index(dst),
    )


def _membership(keys: Tensor, table_size: int) -> Callable[[Tensor], Tensor]:
    """A function mapping query keys to the entry of ``keys`` (sorted, distinct int64) holding them, or -1:
    a dense table of ``table_size`` int32 entries when that is at most :data:`LOOKUP_LIMIT`, else a binary search."""
    count = keys.numel()
    if table_size <= LOOKUP_LIMIT:
        table = torch.full((table_size,), -1, dtype=torch.int32, device=keys.device)
        table[keys] = torch.arange(count, dtype=torch.int32, device=keys.device)
        return lambda query: table.index_select(0, query)

    def search(query: Tensor) -> Tensor:
        if count == 0:
            return torch.full_like(query, -1, dtype=torch.long)
        query = query.long()
        found = torch.searchsorted(keys, query).clamp_(max=count - 1)
        return torch.where(keys.index_select(0, found) == query, found, torch.full_like(found, -1))

    return search


def induced_subgraph_edges(
    pairs: EdgePairs, node_index: Tensor, group: Tensor | None, num_nodes: int, *, edge_order: bool = True
) -> tuple[Tensor, Tensor, Tensor]:
    """The edges of the subgraphs induced by node sets, through :func:`edge_pairs`.

    The node sets are given as in :func:`induced_edges`: ``node_index [M]``
    with ``group [M]`` (``None`` for a single subgraph), sorted by ``(group,
    node)`` without duplicates.  The cost is the number of pairs owned by the
    ``M`` nodes plus the number of edges found, and a membership table of
    ``num_groups * num_nodes`` int32 entries (a binary search beyond
    :data:`LOOKUP_LIMIT`).

    Returns:
        ``(edge_id [E'], src [E'], dst [E'])`` (int64): the ids of the edges of
        ``edge_index`` with both ends in the same node set, and the entries of
        ``node_index`` holding their source and target.  With a single group
        and ``edge_order=True`` the edges come in the graph's order (ascending
        ids); otherwise grouped by pair.
    """
    dtype = pairs.owner_col.dtype
    num_entries = node_index.numel()
    num_groups = int(group[-1]) + 1 if group is not None and num_entries else 1
    if group is None:
        keys = node_index
    else:
        offset = group * num_nodes
        keys = offset + node_index
    locate = _membership(keys, num_groups * num_nodes)
    begin = pairs.owner_rowptr.index_select(0, node_index)
    count = pairs.owner_rowptr.index_select(0, node_index + 1) - begin
    total = int(count.sum()) if num_entries else 0
    position = concatenated_ranges(begin, count, total)  # the owned pairs of the nodes, row by row
    other = pairs.owner_col.index_select(0, position)
    if group is not None:
        other = repeat_values(offset.to(dtype), count, total) + other
    found = locate(other)
    kept = flat_nonzero(found, min_value=0)
    pair = pairs.owner_pair.index_select(0, position.index_select(0, kept))
    start = pairs.pair_ptr.index_select(0, pair)
    edges_per_pair = pairs.pair_ptr.index_select(0, pair + 1) - start
    num_found = int(edges_per_pair.sum()) if kept.numel() else 0
    edge_position = concatenated_ranges(start, edges_per_pair, num_found)
    edge_id = edge_position if pairs.pair_edge is None else pairs.pair_edge.index_select(0, edge_position)
    if group is None:
        if edge_order:
            edge_id = sort_values(edge_id)
        src_key = pairs.edge_src.index_select(0, edge_id)
        dst_key = pairs.edge_dst.index_select(0, edge_id)
    else:
        # The group of each pair is the group of the entry found for its other endpoint.
        edge_offset = repeat_values(offset.index_select(0, found.index_select(0, kept).long()), edges_per_pair, num_found)
        src_key = edge_offset + pairs.edge_src.index_select(0, edge_id)
        dst_key = edge_offset + pairs.edge_dst.index_select(0, edge_id)
    return edge_id.long(), locate(src_key).long(), locate(dst_key).long()
