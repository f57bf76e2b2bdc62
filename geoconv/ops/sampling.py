"""Vectorised graph-sampling primitives on a CSR adjacency (no compiled extension).

The CSR form of ``edge_index [2, E]`` used here groups the edges by source:
``rowptr [N + 1]`` and ``col [E]`` such that the targets of node ``v`` are
``col[rowptr[v]:rowptr[v + 1]]``, and ``perm [E]`` maps a CSR position back to
the edge's column in ``edge_index`` (``None`` when ``edge_index`` is already
sorted by source, i.e. ``perm`` would be the identity).

:func:`edge_pairs` and :func:`induced_subgraph_edges` are what the GraphSAINT
samplers use: the edges grouped by node pair, each pair owned by one endpoint,
for any ``edge_index`` (directed, unsorted, duplicates, self-loops).

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
    On the CPU, few values in a large range (``8 * len(values) <= upper``) are
    sorted instead and the repeats masked out (a random-walk sample of 6,000
    draws among 82,000 nodes: 31 us against 79 us for the bitmap, 1 thread).
    """
    if upper > LOOKUP_LIMIT:
        return torch.unique(values)
    if _numpy_path(values) and 8 * values.numel() <= upper:
        ordered = np.sort(values.numpy())
        first = np.empty(ordered.size, dtype=bool)
        first[:1] = True
        np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
        return torch.from_numpy(ordered[first])
    if _numpy_path(values):
        mask = np.zeros(upper, dtype=bool)
        mask[values.numpy()] = True
        return torch.from_numpy(np.flatnonzero(mask))
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
    if col.numel() == 0:
        return start.view(-1, 1).repeat(1, walk_length + 1)
    if _numpy_path(start):
        # The same steps from the same random numbers, in NumPy (its kernels on a few thousand walkers cost
        # microseconds where torch's cost tens).
        rowptr_array, col_array = rowptr.numpy(), col.numpy()
        walks = np.empty((start.numel(), walk_length + 1), dtype=np.int64)
        current = walks[:, 0] = start.numpy()
        for step in range(1, walk_length + 1):
            uniform = torch.rand(current.size, dtype=torch.float64, generator=generator).numpy()
            begin = rowptr_array.take(current)
            deg = rowptr_array.take(current + 1) - begin
            offset = (uniform * deg).astype(np.int64)
            neighbour = col_array.take(np.minimum(begin + offset, col_array.size - 1))
            current = walks[:, step] = np.where(deg > 0, neighbour, current)
        return torch.from_numpy(walks)
    steps = [start]
    current = start
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
    if _numpy_path(begin):
        return torch.from_numpy(_concatenated_ranges_numpy(begin.numpy(), counts.numpy()))
    row_start = torch.cumsum(counts, 0) - counts
    offset = begin - row_start.to(begin.dtype)
    return repeat_values(offset, counts, total) + torch.arange(total, dtype=begin.dtype, device=begin.device)


def _concatenated_ranges_numpy(begin: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """:func:`concatenated_ranges` on NumPy arrays (dtype of ``begin``)."""
    row_start = np.cumsum(counts) - counts
    array = np.repeat(begin - row_start.astype(begin.dtype, copy=False), counts)
    array += np.arange(array.size, dtype=array.dtype)
    return array


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


def sort_with_index(keys: Tensor, max_key: int) -> tuple[Tensor, Tensor]:
    """``(sorted keys, order)`` of the int64 ``keys`` (values in ``0..max_key``), stable: equal keys keep
    their order, so ``keys[order]`` is the sorted tensor and ``order`` its stable argsort.

    On the CPU, when a key and its index fit in 62 bits together, the index is packed into the low bits
    and the values are sorted with NumPy's vectorised quicksort: ties are broken by the index (hence
    stable) and it is several times faster than an argsort (2.7M keys, 1 thread: 23 ms against 48 ms for
    NumPy's argsort and 120 ms for torch's stable sort); keys made of a few sorted runs go through NumPy's
    timsort instead, which merges the runs in linear time.
    """
    count = keys.numpy().size if _numpy_path(keys) else keys.numel()
    index_bits = max(count - 1, 0).bit_length()
    if _numpy_path(keys) and max(max_key, 0).bit_length() + index_bits <= 62:
        array = keys.numpy()
        # Few sorted runs (e.g. an edge list followed by its reverse): NumPy's timsort merges them in linear time.
        runs = 1 + int(np.count_nonzero(array[1:] < array[:-1]))
        packed = array << index_bits
        packed |= np.arange(count, dtype=np.int64)
        packed.sort(kind="stable" if runs <= 64 else "quicksort")
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

    Index tensors use one index dtype (int32 when every index fits, else int64), except ``degree`` (float64).
    """

    sym_rowptr: Tensor  # [N + 1] CSR of the symmetrised simple graph (walks and probabilities)
    sym_col: Tensor  # [S]
    degree: Tensor  # [N] degree in the symmetrised simple graph (a self-loop counts once)
    owner_rowptr: Tensor  # [N + 1] each pair once, in the row of its endpoint of lower (degree, id): its owner
    owner_row: Tensor  # [P] the owner of each entry
    owner_col: Tensor  # [P] the other endpoint
    slots: Tensor  # [P, 2] (forward, backward): an edge owner -> other, or -1; an edge other -> owner (for a
    # self-loop: a second one), or -1 (interleaved: one gather reads both)
    extra_ptr: Tensor | None  # [P + 1] further edges of entry j (duplicates): extra[extra_ptr[j]:extra_ptr[j + 1]];
    extra: Tensor | None  # [X] as 2 * edge id + 1 if the edge goes other -> owner; None when there are none

    @property
    def pair_src(self) -> Tensor:
        """``[P]`` int64: each unordered pair ``{u, v}`` joined by at least one edge as ``u <= v``, ascending
        ``(u, v)`` (the upper entries of the symmetrised graph; computed on each access: only the edge sampler
        reads the pairs in this order)."""
        return self._upper_pairs()[0]

    @property
    def pair_dst(self) -> Tensor:
        """``[P]`` int64: the other end of each pair of :attr:`pair_src`."""
        return self._upper_pairs()[1]

    def _upper_pairs(self) -> tuple[Tensor, Tensor]:
        sym_row = torch.repeat_interleave(torch.arange(self.degree.numel(), device=self.sym_col.device),
                                          (self.sym_rowptr[1:] - self.sym_rowptr[:-1]).long())
        sym_col = self.sym_col.long()
        upper = flat_nonzero(sym_row <= sym_col)
        return sym_row.index_select(0, upper), sym_col.index_select(0, upper)

    @property
    def forward(self) -> Tensor:
        """``[P]`` an edge owner -> other of each entry, or -1."""
        return self.slots[:, 0]

    @property
    def backward(self) -> Tensor:
        """``[P]`` an edge other -> owner of each entry (for a self-loop: a second one), or -1."""
        return self.slots[:, 1]


class SlotValues(NamedTuple):
    """Per-edge values laid out as the edges of :class:`EdgePairs` (see :func:`slot_values`), so that
    :func:`induced_subgraph_edges` reads a subgraph's values with the rows of the pairs it finds instead of
    gathering them by edge id."""

    slots: Tensor  # [P, 2] the value of the edge in each slot (any value where the slot is empty)
    extra: Tensor | None  # [X] the value of each side-list edge, or None when there are none
    # [P, 4] the pair slots and the values' bits side by side, when both are 4-byte types (CPU only): a subgraph
    # then reads a pair's edges and values in one 16-byte row, one cache miss instead of two.
    joint: Tensor | None = None


def slot_values(pairs: EdgePairs, values: Tensor) -> SlotValues:
    """``values [E]`` (one per edge of the graph) in the layout of ``pairs``' slots and side list."""
    slots = pairs.slots.long()
    gathered = values.index_select(0, slots.clamp(min=0).view(-1)).view(slots.shape)
    extra = None if pairs.extra is None else values.index_select(0, (pairs.extra >> 1).long())
    return make_slot_values(pairs, gathered, extra)


def make_slot_values(pairs: EdgePairs, slots: Tensor, extra: Tensor | None) -> SlotValues:
    """:class:`SlotValues` from values given in the slot layout (``slots [P, 2]``, ``extra [X]``; the values of
    empty slots are never read)."""
    joint = None
    if _numpy_path(slots) and slots.element_size() == 4 and pairs.slots.dtype == torch.int32:
        # A row's two slots and its two values, each pair copied as one 8-byte item (5x faster than a cat of
        # 4-byte columns along dim 1: 4.5 against 25 ms for 1.3M rows).
        joint_array = np.empty((slots.shape[0], 2), dtype=np.int64)
        joint_array[:, 0] = np.ascontiguousarray(pairs.slots.numpy()).view(np.int64)[:, 0]
        joint_array[:, 1] = np.ascontiguousarray(slots.numpy()).view(np.int64)[:, 0]
        joint = torch.from_numpy(joint_array.view(np.int32))
    return SlotValues(slots, extra, joint)


def pair_slot_values(pairs: EdgePairs, values: Tensor) -> SlotValues:
    """``values [P]`` (one per owner entry, as indexed by ``owner_col``) given to every edge of the pair."""
    extra = None
    if pairs.extra is not None:
        count = pairs.extra_ptr[1:] - pairs.extra_ptr[:-1]
        extra = repeat_values(values, count, pairs.extra.numel())
    return SlotValues(values.unsqueeze(1).expand(-1, 2), extra)


def slot_targets(pairs: EdgePairs, node_values: Tensor | None = None) -> SlotValues:
    """The target node (int64) of the edge in each slot: the other endpoint for the forward slot, the owner for
    the backward one, and for a side-list edge the end it points to; with ``node_values [N]``, the value of that
    node instead (one gather, no ``[P, 2]`` index tensor)."""
    owner, other = pairs.owner_row.long(), pairs.owner_col.long()
    if node_values is None:
        slots = torch.stack([other, owner], dim=1)
    elif _numpy_path(node_values):
        values = node_values.numpy()
        slots_array = np.empty((other.numel(), 2), dtype=values.dtype)
        slots_array[:, 0] = values.take(pairs.owner_col.numpy())
        slots_array[:, 1] = values.take(pairs.owner_row.numpy())
        slots = torch.from_numpy(slots_array)
    else:
        slots = torch.stack([node_values.index_select(0, other), node_values.index_select(0, owner)], dim=1)
    extra = None
    if pairs.extra is not None:
        count = pairs.extra_ptr[1:] - pairs.extra_ptr[:-1]
        reverse = (pairs.extra & 1).bool()
        num_extra = pairs.extra.numel()
        extra = torch.where(reverse, repeat_values(owner, count, num_extra), repeat_values(other, count, num_extra))
        if node_values is not None:
            extra = node_values.index_select(0, extra)
    return SlotValues(slots, extra)


def slot_presence(pairs: EdgePairs) -> Tensor:
    """``[P]`` uint8: which slots of each entry hold an edge (bit 0: forward, bit 1: backward), for
    :func:`induced_subgraph_edges` when it needs neither edge ids nor values."""
    filled = (pairs.slots >= 0).to(torch.uint8)
    return filled[:, 0] | (filled[:, 1] << 1)


def edge_values(pairs: EdgePairs, values: SlotValues, num_edges: int) -> Tensor:
    """``[E]``: the values in slot layout back in the graph's edge order (the inverse of :func:`slot_values`)."""
    # One scatter of both slot columns: the empty slots (-1) all write to a spare last entry, cut off after.
    if _numpy_path(values.slots):
        out_array = np.zeros(num_edges + 1, dtype=values.slots.numpy().dtype)
        out_array[pairs.slots.numpy().reshape(-1)] = values.slots.numpy().reshape(-1)
        if pairs.extra is not None and values.extra is not None:
            out_array[pairs.extra.numpy() >> 1] = values.extra.numpy()
        return torch.from_numpy(out_array[:num_edges])
    out = values.slots.new_zeros(num_edges + 1)
    out[pairs.slots.reshape(-1).long()] = values.slots.reshape(-1)
    if pairs.extra is not None and values.extra is not None:
        out[(pairs.extra >> 1).long()] = values.extra
    return out[:num_edges]


def _take_rows(array: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``array.take(index, axis=0)`` for a C-contiguous 2-D array; rows of 8 or 16 bytes are taken as single
    items, which NumPy copies faster than short rows (a cold-cache gather of 38,000 random 8-byte rows: 191 us
    against 220 us)."""
    item = {8: np.int64, 16: np.complex128}.get(array.shape[1] * array.itemsize)
    if item is None or not array.flags.c_contiguous:
        return array.take(index, axis=0)
    return array.view(item).reshape(-1).take(index).view(array.dtype).reshape(-1, array.shape[1])


def edge_pairs(edge_index: Tensor, num_nodes: int) -> EdgePairs:
    """Group the edges of any ``edge_index [2, E]`` (directed or not, unsorted, with duplicates or self-loops)
    by the unordered pair of nodes they join, for :func:`induced_subgraph_edges` and random walks.

    An edge ``u -> v`` belongs to pair ``{u, v}``; each pair is stored once, in the
    row of its endpoint of lower ``(degree, id)`` (its *owner*), with its
    edges: one in each direction in two slots, further ones (duplicates) in a
    side list.  The edges of the subgraph induced by a node set are found by
    scanning only the owned pairs of its nodes: rows of high-degree nodes,
    which random walks visit most, hold few owned pairs (on ego-Twitter a
    2,000-root walk sample scans 4x fewer entries than its full CSR rows), and
    the two directions of an edge cost one entry.

    Cost: one stable sort of the ``E`` pair keys (skipped when they are
    already sorted) and, unless ``edge_index`` is coalesced and symmetric (then
    it is its own symmetrised graph), one sort of the symmetrised graph's
    entries; the rest is linear.  On the CPU a coalesced symmetric graph needs
    one sort of half its edges, and an unsorted list whose distinct edges are
    symmetric (such as a list followed by its flip) one sort of its edges and
    then that.
    """
    if _numpy_path(edge_index):
        return _edge_pairs_numpy(edge_index, num_nodes)
    device = edge_index.device
    src, dst = edge_index[0], edge_index[1]
    num_edges = src.numel()
    index_dtype = torch.long if max(2 * num_edges, num_nodes + 1) >= 2**31 - 1 else torch.int32
    pair_key = torch.minimum(src * num_nodes + dst, dst * num_nodes + src)  # lo * N + hi
    if non_decreasing(pair_key):
        sorted_key, order = pair_key, torch.arange(num_edges, device=device)
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
    not_loop = flat_nonzero(pair_src != pair_dst)
    degree = torch.bincount(pair_src, minlength=num_nodes) + torch.bincount(pair_dst.index_select(0, not_loop), minlength=num_nodes)
    edge_key = src * num_nodes + dst
    coalesced = num_edges < 2 or bool((edge_key[1:] > edge_key[:-1]).all())
    del edge_key
    pair_of_sorted = torch.cumsum(first, 0) - 1
    if coalesced and num_edges == num_pairs + not_loop.numel():
        # Coalesced, 2 edges per pair (1 per self-loop): edge_index is its own symmetrised graph.
        sym_row, sym_col = src, dst
        sym_pair = torch.empty_like(pair_of_sorted)
        sym_pair[order] = pair_of_sorted
    else:
        reverse_key = pair_dst.index_select(0, not_loop) * num_nodes + pair_src.index_select(0, not_loop)
        entry_key, entry_order = sort_with_index(torch.cat([keys, reverse_key]), num_nodes * num_nodes - 1)
        sym_row, sym_col = entry_key // num_nodes, entry_key % num_nodes
        sym_pair = torch.cat([torch.arange(num_pairs, device=device), not_loop]).index_select(0, entry_order)
        del entry_key, reverse_key
    sym_rowptr = torch.zeros(num_nodes + 1, dtype=index_dtype, device=device)
    torch.cumsum(torch.bincount(sym_row, minlength=num_nodes), 0, out=sym_rowptr[1:])
    # The owner of a pair: its endpoint of lower (degree, id).
    rank = degree * num_nodes + torch.arange(num_nodes, device=device)
    owned = flat_nonzero(rank.index_select(0, sym_row) <= rank.index_select(0, sym_col))
    owner_row = sym_row.index_select(0, owned)
    owner_rowptr = torch.zeros(num_nodes + 1, dtype=index_dtype, device=device)
    torch.cumsum(torch.bincount(owner_row, minlength=num_nodes), 0, out=owner_rowptr[1:])
    owner_pair = sym_pair.index_select(0, owned)
    # Slots of the edges (in pair order): the first edge owner -> other goes forward, the first other -> owner
    # backward (a self-loop's second copy too), the others to the side list.
    owner_of_pair = torch.empty(num_pairs, dtype=torch.long, device=device)
    owner_of_pair[owner_pair] = owner_row
    entry_of_pair = torch.empty(num_pairs, dtype=torch.long, device=device)
    entry_of_pair[owner_pair] = torch.arange(num_pairs, device=device)
    sorted_src = src.index_select(0, order)
    reverse = sorted_src != owner_of_pair.index_select(0, pair_of_sorted)
    rank_in_pair = _rank_within_pairs(reverse, pair_start, pair_of_sorted)
    loop = (pair_src == pair_dst).index_select(0, pair_of_sorted)
    slot = torch.where(loop, rank_in_pair, torch.where(rank_in_pair == 0, reverse.long(), torch.full_like(rank_in_pair, 2)))
    entry = entry_of_pair.index_select(0, pair_of_sorted)
    slots = torch.full((num_pairs, 2), -1, dtype=index_dtype, device=device)
    forward, backward = slots[:, 0], slots[:, 1]
    for value, target in ((0, forward), (1, backward)):
        chosen = flat_nonzero(slot == value)
        target[entry.index_select(0, chosen)] = order.index_select(0, chosen).to(index_dtype)
    extra_ptr = extra = None
    side = flat_nonzero(slot >= 2)
    if side.numel():
        side_entry, side_order = torch.sort(entry.index_select(0, side), stable=True)
        side = side.index_select(0, side_order)
        extra = (2 * order.index_select(0, side) + reverse.index_select(0, side).long()).to(index_dtype)
        extra_ptr = torch.zeros(num_pairs + 1, dtype=index_dtype, device=device)
        torch.cumsum(torch.bincount(side_entry, minlength=num_pairs), 0, out=extra_ptr[1:])
    return EdgePairs(
        sym_rowptr=sym_rowptr, sym_col=sym_col.to(index_dtype), degree=degree.to(torch.float64),
        owner_rowptr=owner_rowptr, owner_row=owner_row.to(index_dtype),
        owner_col=sym_col.index_select(0, owned).to(index_dtype), slots=slots,
        extra_ptr=extra_ptr, extra=extra,
    )


def _rank_within_pairs(reverse: Tensor, pair_start: Tensor, pair_of_sorted: Tensor) -> Tensor:
    """For edges sorted by pair, the number of earlier edges of the same pair and the same direction."""
    ranks = []
    for direction in (~reverse, reverse):
        running = torch.cumsum(direction, 0)
        before_pair = running.index_select(0, pair_start) - direction.index_select(0, pair_start).long()
        ranks.append(running - 1 - before_pair.index_select(0, pair_of_sorted))
    return torch.where(reverse, ranks[1], ranks[0])


def _edge_pairs_numpy(edge_index: Tensor, num_nodes: int) -> EdgePairs:
    """:func:`edge_pairs` on the CPU through NumPy (the same arrays; its single-threaded elementwise
    kernels, gathers and counts are 2-4x faster than torch's on millions of entries)."""
    src, dst = edge_index[0].numpy(), edge_index[1].numpy()
    num_edges = src.size
    index_dtype = np.int64 if max(2 * num_edges, num_nodes + 1) >= 2**31 - 1 else np.int32
    edge_key = src * num_nodes
    edge_key += dst
    coalesced = num_edges < 2 or bool((edge_key[1:] > edge_key[:-1]).all())
    if coalesced:
        pairs = _symmetric_edge_pairs_numpy(src, dst, edge_key, num_nodes, index_dtype)
        if pairs is not None:
            return pairs
    elif int(src.sum()) == int(dst.sum()):
        pairs = _unsorted_symmetric_edge_pairs_numpy(src, dst, edge_key, num_nodes, index_dtype)
        if pairs is not None:
            return pairs
    pair_key = dst * num_nodes
    pair_key += src
    np.minimum(pair_key, edge_key, out=pair_key)  # lo * N + hi
    del edge_key
    order = None
    if num_edges > 1 and not bool((pair_key[1:] >= pair_key[:-1]).all()):
        sorted_key, order_tensor = sort_with_index(torch.from_numpy(pair_key), num_nodes * num_nodes - 1)
        pair_key, order = sorted_key.numpy(), order_tensor.numpy().astype(index_dtype)
    first = np.ones(num_edges, dtype=bool)
    np.not_equal(pair_key[1:], pair_key[:-1], out=first[1:])
    pair_start = np.flatnonzero(first)
    num_pairs = pair_start.size
    keys = pair_key[pair_start]
    del pair_key
    pair_src = keys // num_nodes
    pair_dst = keys - pair_src * num_nodes
    is_loop = pair_src == pair_dst
    not_loop = np.flatnonzero(~is_loop)
    degree = np.bincount(pair_src, minlength=num_nodes)
    degree += np.bincount(pair_dst[not_loop], minlength=num_nodes)
    pair_of_sorted = np.cumsum(first, dtype=index_dtype)
    pair_of_sorted -= 1
    if coalesced and num_edges == num_pairs + not_loop.size:
        # Coalesced, 2 edges per pair (1 per self-loop): edge_index is its own symmetrised graph.
        sym_row, sym_col = src, dst
        if order is None:
            sym_pair = pair_of_sorted
        else:
            sym_pair = np.empty_like(pair_of_sorted)
            sym_pair[order] = pair_of_sorted
    else:
        reverse_key = pair_dst[not_loop] * num_nodes
        reverse_key += pair_src[not_loop]
        pair_bits = max(num_pairs - 1, 1).bit_length()
        if (num_nodes * num_nodes - 1).bit_length() + pair_bits <= 62:
            # The entries u -> v (u <= v) are already sorted, in pair order: sort the reversed ones alone, each
            # packed with its pair, then merge the two runs (timsort, linear).
            reverse_key <<= pair_bits
            reverse_key |= not_loop
            reverse_key.sort()
            entry_key = np.concatenate([keys << pair_bits, reverse_key])
            entry_key[:num_pairs] |= np.arange(num_pairs)
            del reverse_key
            entry_key.sort(kind="stable")
            sym_pair = (entry_key & ((1 << pair_bits) - 1)).astype(index_dtype)
            entry_key >>= pair_bits
        else:
            entry_key, entry_order = sort_with_index(torch.from_numpy(np.concatenate([keys, reverse_key])),
                                                     num_nodes * num_nodes - 1)
            entry_key, entry_order = entry_key.numpy(), entry_order.numpy()
            sym_pair = np.concatenate([np.arange(num_pairs, dtype=index_dtype), not_loop.astype(index_dtype)])[entry_order]
            del reverse_key, entry_order
        # Rows hold degree[v] entries each: subtract v * N row by row instead of dividing every key.
        sym_row = np.repeat(np.arange(num_nodes, dtype=np.int64), degree)
        entry_key -= sym_row * num_nodes
        sym_col = entry_key
    del keys
    sym_rowptr = np.zeros(num_nodes + 1, dtype=index_dtype)
    np.cumsum(degree, out=sym_rowptr[1:])
    # The owner of a pair: its endpoint of lower (degree, id); rows are contiguous, so counts come from one cumsum.
    rank = degree * num_nodes + np.arange(num_nodes)
    owned_mask = np.repeat(rank, degree) <= rank.take(sym_col)
    owned = np.flatnonzero(owned_mask)
    owned_before = np.zeros(sym_row.size + 1, dtype=index_dtype)
    np.cumsum(owned_mask, out=owned_before[1:])
    owner_rowptr = owned_before[sym_rowptr]
    del owned_mask, owned_before
    owner_row = sym_row.take(owned).astype(index_dtype)
    owner_pair = sym_pair.take(owned)
    # Slots of the edges (in pair order): the first edge owner -> other goes forward, the first other -> owner
    # backward (a self-loop's second copy too), the others to the side list.
    owner_of_pair = np.empty(num_pairs, dtype=index_dtype)
    owner_of_pair[owner_pair] = owner_row
    entry_of_pair = np.empty(num_pairs, dtype=index_dtype)
    entry_of_pair[owner_pair] = np.arange(num_pairs, dtype=index_dtype)
    # An edge goes other -> owner when it goes lo -> hi and the owner is hi, or the reverse (self-loops: never).
    owner_is_lo = owner_of_pair == pair_src
    lo_to_hi = src <= dst
    reverse = (lo_to_hi if order is None else lo_to_hi.take(order)) != owner_is_lo.take(pair_of_sorted)
    del lo_to_hi
    slots = np.full((num_pairs, 2), -1, dtype=index_dtype)
    edge_id = np.arange(num_edges, dtype=index_dtype) if order is None else order
    extra_ptr = extra = None
    if num_pairs == num_edges or coalesced:
        # At most one edge per pair and direction (one edge per pair, or coalesced: no duplicates, a self-loop
        # once), so each edge takes the slot of its direction: no ranks to compute.
        # slots is [P, 2] C-contiguous: the edge's slot is flat entry 2 * entry + direction, one scatter for both.
        flat_slot = entry_of_pair.take(pair_of_sorted)
        flat_slot <<= 1
        flat_slot += reverse
        slots.reshape(-1)[flat_slot] = edge_id
    else:
        if int(np.diff(pair_start, append=num_edges).max()) <= 2:
            # At most 2 edges per pair (e.g. a symmetric list with its self-loops listed twice): an edge's rank
            # is 1 exactly when the pair's other edge comes first and goes the same way.
            rank_in_pair = np.zeros(num_edges, dtype=index_dtype)
            rank_in_pair[1:] = ~first[1:] & (reverse[1:] == reverse[:-1])
        else:
            running = np.empty(num_edges + 1, dtype=index_dtype)
            running[0] = 0
            ranks = []
            for direction in (~reverse, reverse):
                np.cumsum(direction, out=running[1:])
                ranks.append(running[1:] - 1 - running.take(pair_start).take(pair_of_sorted))
            rank_in_pair = np.where(reverse, ranks[1], ranks[0])
            del ranks, running
        slot = np.where(rank_in_pair == 0, reverse.astype(index_dtype), 2)
        loop_pairs = np.flatnonzero(is_loop)
        if loop_pairs.size:
            # A self-loop's edges (all one way) go by rank: forward, backward, then the side list.  Loops are
            # usually few, so only their edges are visited.
            loop_start = pair_start.take(loop_pairs)
            next_pair = np.minimum(loop_pairs + 1, num_pairs - 1)
            loop_count = np.where(loop_pairs + 1 < num_pairs, pair_start.take(next_pair), num_edges) - loop_start
            loop_edge = _concatenated_ranges_numpy(loop_start, loop_count)
            slot[loop_edge] = rank_in_pair.take(loop_edge)
        entry = entry_of_pair.take(pair_of_sorted)
        in_slot = np.flatnonzero(slot < 2)
        flat_slot = entry.take(in_slot)
        flat_slot <<= 1
        flat_slot += slot.take(in_slot)
        slots.reshape(-1)[flat_slot] = edge_id.take(in_slot)
        side = np.flatnonzero(slot >= 2)
        if side.size:
            side_entry = entry.take(side)
            side_order = np.argsort(side_entry, kind="stable")
            side = side.take(side_order)
            extra = edge_id.take(side).astype(index_dtype) * 2 + reverse.take(side)
            extra_ptr = np.zeros(num_pairs + 1, dtype=index_dtype)
            np.cumsum(np.bincount(side_entry, minlength=num_pairs), out=extra_ptr[1:])

    def index(array: np.ndarray | None) -> Tensor | None:
        return None if array is None else torch.from_numpy(np.ascontiguousarray(array, dtype=index_dtype))

    return EdgePairs(
        sym_rowptr=torch.from_numpy(sym_rowptr), sym_col=index(sym_col), degree=torch.from_numpy(degree.astype(np.float64)),
        owner_rowptr=torch.from_numpy(owner_rowptr), owner_row=index(owner_row), owner_col=index(sym_col.take(owned)),
        slots=torch.from_numpy(slots), extra_ptr=index(extra_ptr), extra=index(extra),
    )


def _symmetric_edge_pairs_numpy(src: np.ndarray, dst: np.ndarray, edge_key: np.ndarray, num_nodes: int,
                                 index_dtype, edge_id: np.ndarray | None = None) -> EdgePairs | None:
    """:func:`edge_pairs` of a coalesced ``edge_index`` (sorted by ``(src, dst)``, no duplicates, ``edge_key =
    src * N + dst``) that is symmetric, or None when it is not symmetric; the slots hold ``edge_id`` (the id
    of each given edge, ``index_dtype``) when given, else the edges' positions.  The common form (what
    ``to_undirected`` gives) needs no sort of all the edges: the graph is its own symmetrised CSR, the owned
    entries come from one mask, and the reverse edges of the owned entries from one sort of the other half
    (which also tells whether the graph is symmetric).  The arrays are those of the general path."""
    num_edges = src.size
    if int(src.sum()) != int(dst.sum()):
        return None  # the sources are not the targets (as multisets): not symmetric, found in two passes
    edge_bits = max(num_edges - 1, 1).bit_length()
    if (num_nodes * num_nodes - 1).bit_length() + edge_bits > 62:
        return None
    # The sources are sorted: the row pointers by binary search, without reading every edge.
    rowptr = np.searchsorted(src, np.arange(num_nodes + 1)).astype(index_dtype)
    degree = np.diff(rowptr)
    # Nodes ranked by (degree, id); a pair is owned by its endpoint of lower rank.
    rank = np.empty(num_nodes, dtype=index_dtype)
    rank[np.argsort(degree.astype(np.int64) * num_nodes + np.arange(num_nodes))] = np.arange(num_nodes, dtype=index_dtype)
    col = dst.astype(index_dtype)
    owned_mask = np.repeat(rank, degree) <= rank.take(col)
    owned = np.flatnonzero(owned_mask)
    not_owned = np.flatnonzero(~owned_mask)
    del owned_mask
    owner_row, owner_col = src.take(owned).astype(index_dtype), col.take(owned)
    owned_link = np.flatnonzero(owner_row != owner_col)  # owned entries that are not self-loops
    # Symmetric exactly when the entries owned by the other endpoint, reversed, are the owned links.  Sorted by
    # their reversed keys (each packed with its edge id), they come in the owned links' order, so each owned
    # link's reverse edge is read off in place.
    if owned_link.size != not_owned.size:
        return None
    reverse_key = dst.take(not_owned)
    reverse_key *= num_nodes
    reverse_key += src.take(not_owned)
    reverse_key <<= edge_bits
    reverse_key |= not_owned
    del not_owned
    reverse_key.sort()
    reverse_edge = (reverse_key & ((1 << edge_bits) - 1)).astype(index_dtype)
    reverse_key >>= edge_bits
    if not np.array_equal(reverse_key, edge_key.take(owned.take(owned_link))):
        return None
    del reverse_key
    slots = np.full((owned.size, 2), -1, dtype=index_dtype)
    slots[:, 0] = owned if edge_id is None else edge_id.take(owned)
    slots[owned_link, 1] = reverse_edge if edge_id is None else edge_id.take(reverse_edge)
    owner_rowptr = np.zeros(num_nodes + 1, dtype=index_dtype)
    np.cumsum(np.bincount(owner_row, minlength=num_nodes), out=owner_rowptr[1:])
    return EdgePairs(
        sym_rowptr=torch.from_numpy(rowptr), sym_col=torch.from_numpy(col), degree=torch.from_numpy(degree.astype(np.float64)),
        owner_rowptr=torch.from_numpy(owner_rowptr), owner_row=torch.from_numpy(owner_row),
        owner_col=torch.from_numpy(owner_col), slots=torch.from_numpy(slots), extra_ptr=None, extra=None,
    )


def _unsorted_symmetric_edge_pairs_numpy(src: np.ndarray, dst: np.ndarray, edge_key: np.ndarray, num_nodes: int,
                                          index_dtype) -> EdgePairs | None:
    """:func:`edge_pairs` of an ``edge_index`` that is not coalesced (unsorted, with duplicates: e.g. an edge
    list concatenated with its flip) but whose distinct edges are symmetric, or None when they are not.  The
    caller tries it when the sources and targets have equal sums (a symmetric multiset has them), so a
    directed graph rarely pays its sort.  One sort of the edge keys (each packed with its edge id) gives the
    coalesced graph of the distinct edges, which goes through :func:`_symmetric_edge_pairs_numpy` with the
    lowest edge id of each; the duplicates then take the free slots and the side lists as in the general
    path (a self-loop's second copy goes to the backward slot, every further copy to the side list, by
    entry and then edge id), so the arrays are the general path's.  Raw ego-Twitter (its list and the
    flip): 314 -> 215 ms against the general path, 1 thread."""
    num_edges = src.size
    edge_bits = max(num_edges - 1, 1).bit_length()
    if (num_nodes * num_nodes - 1).bit_length() + edge_bits > 62:
        return None
    packed = edge_key << edge_bits
    packed |= np.arange(num_edges)
    packed.sort()
    order = (packed & ((1 << edge_bits) - 1)).astype(index_dtype)
    packed >>= edge_bits
    first = np.empty(num_edges, dtype=bool)
    first[0] = True
    np.not_equal(packed[1:], packed[:-1], out=first[1:])
    unique = np.flatnonzero(first)
    unique_key = packed.take(unique)
    del packed
    unique_src = unique_key // num_nodes
    unique_dst = unique_key - unique_src * num_nodes
    unique_id = order.take(unique)  # the first (lowest) edge id of each distinct edge
    pairs = _symmetric_edge_pairs_numpy(unique_src, unique_dst, unique_key, num_nodes, index_dtype, unique_id)
    if pairs is None or unique.size == num_edges:
        return pairs
    slots = pairs.slots.numpy()
    flat_slots = slots.reshape(-1)
    duplicate = np.flatnonzero(~first)
    duplicate_id = order.take(duplicate)
    distinct = np.searchsorted(unique, duplicate, side="right") - 1  # the distinct edge of each duplicate
    # The flat slot (2 * entry + direction, 1: the edge goes other -> owner) of every distinct edge with
    # duplicates: one pass over the slots through a mark table of the edge ids.
    marked = np.zeros(num_edges + 1, dtype=bool)  # + 1: the empty slots (-1) read the last entry
    marked[unique_id.take(distinct)] = True
    hit = np.flatnonzero(marked.take(flat_slots))
    hit_order = np.argsort(flat_slots.take(hit))
    hit_ids = flat_slots.take(hit).take(hit_order)
    flat = hit.take(hit_order).take(np.searchsorted(hit_ids, unique_id.take(distinct)))
    entry, backward = flat >> 1, flat & 1
    # A self-loop's copies all go one way: its second copy takes the empty backward slot.
    second = (unique_src.take(distinct) == unique_dst.take(distinct)) & first.take(duplicate - 1)
    slots[entry[second], 1] = duplicate_id[second]
    extra_ptr = extra = None
    side = np.flatnonzero(~second)
    if side.size:
        side_entry = entry.take(side)
        code = duplicate_id.take(side).astype(np.int64) * 2 + backward.take(side)
        side_order = np.lexsort((code, side_entry))  # by entry, then edge id: the general path's order
        extra = code.take(side_order).astype(index_dtype)
        extra_ptr = np.zeros(slots.shape[0] + 1, dtype=index_dtype)
        np.cumsum(np.bincount(side_entry, minlength=slots.shape[0]), out=extra_ptr[1:])
    return pairs._replace(
        slots=torch.from_numpy(slots),
        extra_ptr=None if extra_ptr is None else torch.from_numpy(extra_ptr),
        extra=None if extra is None else torch.from_numpy(extra),
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


def induced_pairs(
    pairs: EdgePairs, node_index: Tensor, group: Tensor | None, num_nodes: int
) -> tuple[Tensor, Tensor, Tensor]:
    """The pairs of :func:`edge_pairs` with both ends in the same node set (the node sets given as in
    :func:`induced_subgraph_edges`).

    Every edge of a pair found belongs to the induced subgraph, so counting pairs counts their edges
    (:func:`pair_slot_values` gives each edge the value of its pair).

    Returns:
        ``(entry [K], owner [K], other [K])`` (int64): the owner entries of the pairs found (positions in
        ``owner_col``), and the entries of ``node_index`` holding the pair's owner and other endpoint.
    """
    device = node_index.device
    dtype = pairs.owner_col.dtype
    num_entries = node_index.numel()
    num_groups = int(group[-1]) + 1 if group is not None and num_entries else 1
    key_dtype = dtype if num_groups * num_nodes < 2**31 - 1 else torch.long
    keys = node_index if group is None else group * num_nodes + node_index
    locate = _membership(keys, num_groups * num_nodes)
    begin = pairs.owner_rowptr.index_select(0, node_index)
    count = pairs.owner_rowptr.index_select(0, node_index + 1) - begin
    row_end = torch.cumsum(count, 0)
    total = int(row_end[-1]) if num_entries else 0
    position = concatenated_ranges(begin, count, total)  # the owned pairs of the nodes, row by row
    other = pairs.owner_col.index_select(0, position).to(key_dtype)
    if group is not None:
        other += repeat_values((group * num_nodes).to(key_dtype), count, total)
    found = locate(other)
    kept = flat_nonzero(found, min_value=0)
    # The owner's entry of each kept pair: kept is ascending, so row i owns the kept entries before row_end[i].
    kept_per_row = torch.diff(searchsorted(kept, row_end), prepend=row_end.new_zeros(1))
    owner = repeat_values(torch.arange(num_entries, device=device), kept_per_row, kept.numel())
    return position.index_select(0, kept).long(), owner, found.index_select(0, kept).long()


def induced_subgraph_edges(
    pairs: EdgePairs, node_index: Tensor, group: Tensor | None, num_nodes: int, *, edge_ids: bool = True,
    values: SlotValues | None = None, presence: Tensor | None = None,
) -> tuple[Tensor | None, Tensor, Tensor | None]:
    """The edges of the subgraphs induced by node sets, through :func:`edge_pairs`.

    The node sets are given as in :func:`induced_edges`: ``node_index [M]``
    with ``group [M]`` (``None`` for a single subgraph), sorted by ``(group,
    node)`` without duplicates.  The cost is the number of pairs owned by the
    ``M`` nodes plus the number of edges found, and a membership table of
    ``num_groups * num_nodes`` int32 entries (a binary search beyond
    :data:`LOOKUP_LIMIT`).

    Returns:
        ``(edge_id [E'], edge_index [2, E'], edge_values [E'])``: the ids (int64)
        of the edges of the graph with both ends in the same node set (None
        when ``edge_ids=False``), the entries of ``node_index`` holding their
        source and target (int64), and, when ``values`` (:func:`slot_values`)
        is given, the value of each edge (None otherwise).  The order is
        deterministic but not the graph's: the edges found from each owner in
        the direction owner -> other, then those in the other direction, then
        duplicates.

    ``presence`` (:func:`slot_presence`, optional) lets the CPU path read which slots of a pair are filled
    from one byte per pair instead of the slots themselves when neither edge ids nor values are asked for
    (the same result; 30% less time for the slot step of a Slashdot random-walk sample).
    """
    if group is None and _numpy_path(node_index) and num_nodes <= LOOKUP_LIMIT:
        return _induced_subgraph_edges_numpy(pairs, node_index, num_nodes, edge_ids, values, presence)
    entry, owner, other = induced_pairs(pairs, node_index, group, num_nodes)
    sources, targets, ids, found_values = [], [], [], []
    for column, (a, b) in ((0, (owner, other)), (1, (other, owner))):
        edge = pairs.slots[:, column].index_select(0, entry)
        chosen = flat_nonzero(edge, min_value=0)
        sources.append(a.index_select(0, chosen))
        targets.append(b.index_select(0, chosen))
        ids.append(edge.index_select(0, chosen))
        if values is not None:
            found_values.append(values.slots[:, column].index_select(0, entry).index_select(0, chosen))
    if pairs.extra is not None:
        start = pairs.extra_ptr.index_select(0, entry)
        extra_count = pairs.extra_ptr.index_select(0, entry + 1) - start
        num_extra = int(extra_count.sum()) if entry.numel() else 0
        extra_position = concatenated_ranges(start, extra_count, num_extra)
        code = pairs.extra.index_select(0, extra_position)
        a, b = repeat_values(owner, extra_count, num_extra), repeat_values(other, extra_count, num_extra)
        reverse = (code & 1).bool()
        sources.append(torch.where(reverse, b, a))
        targets.append(torch.where(reverse, a, b))
        ids.append(code >> 1)
        if values is not None and values.extra is not None:
            found_values.append(values.extra.index_select(0, extra_position))
    edge_index = torch.stack([torch.cat(sources), torch.cat(targets)])
    edge_values = torch.cat(found_values) if values is not None else None
    return (torch.cat(ids).long() if edge_ids else None), edge_index, edge_values


def _induced_subgraph_edges_numpy(
    pairs: EdgePairs, node_index: Tensor, num_nodes: int, edge_ids: bool, values: SlotValues | None = None,
    presence: Tensor | None = None,
) -> tuple[Tensor | None, Tensor, Tensor | None]:
    """:func:`induced_subgraph_edges` of one node set on the CPU, through NumPy: the same result with fewer
    passes (int32 tables, outputs written in place).  Choices measured on Slashdot and ego-Twitter random-walk
    samples (1 thread): the owners of the kept pairs from a repeat over the rows (70 us against 80 us for a
    gather through ``owner_row`` and 180 us through a binary search), both slots of a pair in one row gather of
    the interleaved ``slots`` (33 us against 110 us for two gathers)."""
    nodes = node_index.numpy()
    num_entries = nodes.size
    dtype = pairs.owner_col.numpy().dtype
    table = np.full(num_nodes, -1, dtype=dtype)
    table[nodes] = np.arange(num_entries, dtype=dtype)
    rowptr = pairs.owner_rowptr.numpy()
    begin = rowptr.take(nodes)
    count = rowptr.take(nodes + 1) - begin
    # The owned pairs of the nodes, row by row: one repeat gives each scanned entry its row (the owner), and
    # the positions follow from it (concatenated ranges without a second repeat; 5% faster on Slashdot).
    row_of_scanned = np.repeat(np.arange(num_entries, dtype=dtype), count)
    position = (begin - (np.cumsum(count, dtype=dtype) - count)).take(row_of_scanned)
    position += np.arange(position.size, dtype=dtype)
    found = table.take(pairs.owner_col.numpy().take(position))
    kept = np.flatnonzero(found >= 0)
    entry = position.take(kept)
    other = found.take(kept)
    owner = row_of_scanned.take(kept)
    parts = []
    if presence is not None and values is None and not edge_ids:
        # Only which slots are filled is needed: one byte per pair (bit 0 forward, bit 1 backward).
        code = presence.numpy().take(entry)
        for column, a, b in ((0, owner, other), (1, other, owner)):
            parts.append((None, a, b, None, np.flatnonzero(code & (column + 1))))
    # Values in slot layout come with the same rows: a gather of K rows instead of E' random reads by edge id.
    elif values is not None and values.joint is not None:
        rows = _take_rows(values.joint.numpy(), entry)
        both, both_values = rows[:, :2], rows[:, 2:].view(values.slots.numpy().dtype)
    else:
        both = _take_rows(pairs.slots.numpy(), entry)
        both_values = None if values is None else _take_rows(values.slots.numpy(), entry)
    if not parts:
        for column, a, b in ((0, owner, other), (1, other, owner)):
            edge = both[:, column]
            present = edge >= 0
            value = None if both_values is None else both_values[:, column]
            parts.append((edge, a, b, value, None if present.all() else np.flatnonzero(present)))
    extra_part = None
    if pairs.extra is not None:
        extra_ptr = pairs.extra_ptr.numpy()
        start = extra_ptr.take(entry)
        extra_count = extra_ptr.take(entry + 1) - start
        if extra_count.any():
            extra_position = _concatenated_ranges_numpy(start, extra_count)
            code = pairs.extra.numpy().take(extra_position)
            a, b = np.repeat(owner, extra_count), np.repeat(other, extra_count)
            reverse = (code & 1).astype(bool)
            value = None if values is None or values.extra is None else values.extra.numpy().take(extra_position)
            extra_part = (code >> 1, np.where(reverse, b, a), np.where(reverse, a, b), value, None)
    sizes = [edge.size if chosen is None else chosen.size for edge, _, _, _, chosen in parts]
    num_found = sum(sizes) + (0 if extra_part is None else extra_part[0].size)
    edge_index = np.empty((2, num_found), dtype=np.int64)
    edge_id = np.empty(num_found, dtype=np.int64) if edge_ids else None
    edge_values = None if values is None else np.empty(num_found, dtype=values.slots.numpy().dtype)
    offset = 0
    for edge, a, b, value, chosen in parts + ([] if extra_part is None else [extra_part]):
        end = offset + (edge.size if chosen is None else chosen.size)
        outputs = [(edge_index[0], a), (edge_index[1], b), (edge_id, edge), (edge_values, value)]
        for output, source in outputs:
            if output is not None:
                output[offset:end] = source if chosen is None else source.take(chosen)
        offset = end
    return ((None if edge_id is None else torch.from_numpy(edge_id)), torch.from_numpy(edge_index),
            None if edge_values is None else torch.from_numpy(edge_values))
