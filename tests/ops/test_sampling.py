"""CSR sampling primitives: table checks and agreement with the edge-list definitions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

import geoconv.ops.sampling
from geoconv.ops import induced_subgraph_mask
from geoconv.ops.sampling import (
    concatenated_ranges, csr_from_edge_index, flat_nonzero, induced_edges, random_walk, repeat_values,
    sample_from_cdf, searchsorted,
)


def test_csr_table():
    edge_index = torch.tensor([[2, 0, 2, 1], [0, 1, 1, 2]])
    rowptr, col, perm = csr_from_edge_index(edge_index, 4)
    assert rowptr.tolist() == [0, 1, 2, 4, 4]
    assert perm.tolist() == [1, 3, 0, 2]  # stable: the two edges of node 2 keep their order
    assert col.tolist() == [1, 2, 0, 1]
    sorted_index = torch.tensor([[0, 0, 1], [1, 2, 0]])
    rowptr, col, perm = csr_from_edge_index(sorted_index, 3)
    assert perm is None and rowptr.tolist() == [0, 2, 3, 3] and col.tolist() == [1, 2, 0]
    rowptr, col, perm = csr_from_edge_index(torch.zeros(2, 0, dtype=torch.long), 2)
    assert rowptr.tolist() == [0, 0, 0] and col.numel() == 0 and perm is None


def test_sample_from_cdf_frequencies_and_zero_weights():
    weight = torch.tensor([0.0, 1.0, 0.0, 3.0, 0.0], dtype=torch.float64)
    draws = sample_from_cdf(torch.cumsum(weight, 0), 40000, torch.Generator().manual_seed(0))
    frequency = torch.bincount(draws, minlength=5).double() / draws.numel()
    assert frequency[0] == 0 and frequency[2] == 0 and frequency[4] == 0
    assert_close(frequency, weight / weight.sum(), atol=0.01, rtol=0)
    with pytest.raises(ValueError, match="weights sum to 0"):
        sample_from_cdf(torch.zeros(3, dtype=torch.float64), 2)


def test_random_walk_follows_edges_uniformly_and_stays_on_sinks():
    # 0 -> {1, 2, 3}; 1 -> 0; 2 -> 0; 3 -> 0; 4 has no out-edge.
    edge_index = torch.tensor([[0, 0, 0, 1, 2, 3], [1, 2, 3, 0, 0, 0]])
    rowptr, col, _ = csr_from_edge_index(edge_index, 5)
    start = torch.tensor([0] * 30000 + [4])
    walks = random_walk(rowptr, col, start, 3, torch.Generator().manual_seed(0))
    assert walks.shape == (30001, 4)
    assert walks[-1].tolist() == [4, 4, 4, 4]
    edges = set(map(tuple, edge_index.t().tolist()))
    steps = torch.stack([walks[:-1, :-1].reshape(-1), walks[:-1, 1:].reshape(-1)], 1)
    assert set(map(tuple, steps.unique(dim=0).tolist())) <= edges
    first = torch.bincount(walks[:-1, 1], minlength=5).double() / 30000
    assert_close(first[1:4], torch.full((3,), 1 / 3, dtype=torch.float64), atol=0.015, rtol=0)
    assert (walks[:-1, 2] == 0).all()
    empty = random_walk(torch.zeros(3, dtype=torch.long), torch.zeros(0, dtype=torch.long), torch.tensor([1]), 2)
    assert empty.tolist() == [[1, 1, 1]]


@pytest.mark.parametrize("index_dtype", [torch.int64, torch.int32])  # the samplers store int32 CSR arrays
@pytest.mark.parametrize("lookup_limit", [1 << 24, 0])  # dense membership table / binary search
def test_induced_edges_equal_the_induced_subgraph_mask_for_several_groups(lookup_limit, index_dtype, monkeypatch):
    import geoconv.ops.sampling as sampling

    monkeypatch.setattr(sampling, "LOOKUP_LIMIT", lookup_limit)
    generator = torch.Generator().manual_seed(0)
    num_nodes = 40
    edge_index = torch.randint(0, num_nodes, (2, 300), generator=generator)
    rowptr, col, perm = csr_from_edge_index(edge_index, num_nodes)
    rowptr, col = rowptr.to(index_dtype), col.to(index_dtype)
    node_sets = [torch.randperm(num_nodes, generator=generator)[:k].sort().values for k in (0, 1, 7, 25)]
    group = torch.cat([torch.full((s.numel(),), g) for g, s in enumerate(node_sets)])
    node = torch.cat(node_sets)
    position, src, dst = induced_edges(rowptr, col, node, group, num_nodes)
    edge_id = perm[position]
    assert bool((group[src] == group[dst]).all())
    assert_close(node[src], edge_index[0, edge_id])
    assert_close(node[dst], edge_index[1, edge_id])
    for g, nodes in enumerate(node_sets):
        mask, _ = induced_subgraph_mask(edge_index, nodes, num_nodes)
        assert sorted(edge_id[group[src] == g].tolist()) == mask.nonzero().view(-1).tolist()
    # A single group (group=None) gives the same edges as group 0.
    single = induced_edges(rowptr, col, node_sets[3], None, num_nodes)
    assert sorted(perm[single[0]].tolist()) == sorted(edge_id[group[src] == 3].tolist())
    nothing = induced_edges(rowptr, col, torch.zeros(0, dtype=torch.long), None, num_nodes)
    assert all(t.numel() == 0 for t in nothing)


@pytest.mark.parametrize("numpy_paths", [True, False])
@pytest.mark.parametrize("dtype", [torch.int32, torch.int64])
def test_repeat_values_and_flat_nonzero_match_torch(dtype, numpy_paths, monkeypatch):
    monkeypatch.setattr(geoconv.ops.sampling, "NUMPY_FAST_PATHS", numpy_paths)
    generator = torch.Generator().manual_seed(1)
    values = torch.randint(-50, 50, (200,), generator=generator, dtype=dtype)
    repeats = torch.randint(0, 4, (200,), generator=generator, dtype=dtype)  # zeros included
    expected = torch.repeat_interleave(values, repeats.long())
    result = repeat_values(values, repeats, int(repeats.sum()))
    assert result.dtype == dtype and result.tolist() == expected.tolist()
    assert repeat_values(values[:0], repeats[:0], 0).numel() == 0
    mask = torch.rand(500, generator=generator) < 0.3
    assert flat_nonzero(mask).dtype == torch.int64
    assert flat_nonzero(mask).tolist() == mask.nonzero().view(-1).tolist()
    assert flat_nonzero(torch.zeros(0, dtype=torch.bool)).numel() == 0
    values = torch.randint(-3, 3, (500,), generator=generator, dtype=dtype)
    assert flat_nonzero(values, min_value=0).tolist() == (values >= 0).nonzero().view(-1).tolist()
    assert flat_nonzero(values).tolist() == values.nonzero().view(-1).tolist()
    begin, counts = torch.tensor([5, 0, 9], dtype=dtype), torch.tensor([2, 0, 3], dtype=dtype)
    assert concatenated_ranges(begin, counts, 5).tolist() == [5, 6, 9, 10, 11]
    ordered = torch.tensor([1, 3, 3, 7], dtype=dtype)
    assert searchsorted(ordered, torch.tensor([0, 3, 4, 8], dtype=dtype)).tolist() == [0, 1, 3, 4]


def _messy_edge_index(num_nodes: int = 25, seed: int = 0) -> torch.Tensor:
    """Unsorted, directed, with duplicates (up to 4 copies), reciprocal pairs and self-loops (some twice)."""
    generator = torch.Generator().manual_seed(seed)
    edges = torch.randint(0, num_nodes, (2, 90), generator=generator)
    loops = torch.tensor([[3, 3, 7, 11], [3, 3, 7, 11]])
    duplicates = edges[:, :10].repeat(1, 3)
    reverse = edges[:, 10:30].flip(0)
    edge_index = torch.cat([edges, loops, duplicates, reverse], dim=1)
    return edge_index[:, torch.randperm(edge_index.shape[1], generator=generator)]


@pytest.mark.parametrize("numpy_paths", [True, False])
@pytest.mark.parametrize("lookup_limit", [1 << 24, 0])  # dense membership table / binary search
@pytest.mark.parametrize("form", ["messy", "coalesced symmetric", "coalesced directed"])
def test_induced_subgraph_edges_equal_the_dense_induced_subgraph(form, lookup_limit, numpy_paths, monkeypatch):
    from geoconv.ops import coalesce, to_undirected
    from geoconv.ops.sampling import (
        edge_pairs, edge_values, induced_pairs, induced_subgraph_edges, pair_slot_values, slot_presence, slot_targets,
        slot_values,
    )

    monkeypatch.setattr(geoconv.ops.sampling, "NUMPY_FAST_PATHS", numpy_paths)
    monkeypatch.setattr(geoconv.ops.sampling, "LOOKUP_LIMIT", lookup_limit)
    num_nodes = 25
    edge_index = _messy_edge_index(num_nodes)
    if form == "coalesced symmetric":
        edge_index, _ = to_undirected(edge_index, None, num_nodes)
    elif form == "coalesced directed":
        edge_index, _ = coalesce(edge_index, None, num_nodes)
    pairs = edge_pairs(edge_index, num_nodes)
    # The symmetrised simple graph, densely.
    dense = torch.zeros(num_nodes, num_nodes, dtype=torch.bool)
    dense[edge_index[0], edge_index[1]] = True
    dense |= dense.t().clone()
    rowptr, col = pairs.sym_rowptr.long(), pairs.sym_col.long()
    rebuilt = torch.zeros_like(dense)
    rebuilt[torch.repeat_interleave(torch.arange(num_nodes), rowptr[1:] - rowptr[:-1]), col] = True
    assert torch.equal(rebuilt, dense) and col.numel() == int(dense.sum())
    assert_close(pairs.degree, dense.sum(1).double())
    assert (pairs.extra is not None) == (form == "messy")
    generator = torch.Generator().manual_seed(1)
    node_sets = [torch.randperm(num_nodes, generator=generator)[:k].sort().values for k in (0, 1, 6, 14, 25)]
    for nodes in node_sets:
        inside = torch.zeros(num_nodes, dtype=torch.bool)
        inside[nodes] = True
        expected = (inside[edge_index[0]] & inside[edge_index[1]]).nonzero().view(-1)
        edge_id, sub_edges, _ = induced_subgraph_edges(pairs, nodes, None, num_nodes)
        assert sorted(edge_id.tolist()) == expected.tolist()  # each edge once, duplicates included
        assert_close(nodes[sub_edges], edge_index[:, edge_id])
        structure = induced_subgraph_edges(pairs, nodes, None, num_nodes, edge_ids=False)
        assert structure[0] is None and torch.equal(structure[1], sub_edges)
        from_presence = induced_subgraph_edges(pairs, nodes, None, num_nodes, edge_ids=False, presence=slot_presence(pairs))
        assert from_presence[0] is None and torch.equal(from_presence[1], sub_edges)
        # Per-edge values in slot layout come out aligned with the edges.
        values = torch.randn(edge_index.shape[1], dtype=torch.float64, generator=generator)
        with_values = induced_subgraph_edges(pairs, nodes, None, num_nodes, values=slot_values(pairs, values))
        assert torch.equal(with_values[1], sub_edges) and torch.equal(with_values[2], values[edge_id])
        # Pairs found, spread over their edges: 1 exactly on the induced edges (what the norms count).
        entry, owner, other = induced_pairs(pairs, nodes, None, num_nodes)
        assert torch.equal(pairs.owner_row[entry].long(), nodes[owner]) and torch.equal(pairs.owner_col[entry].long(), nodes[other])
        counts = pair_slot_values(pairs, torch.bincount(entry, minlength=pairs.owner_col.numel()))
        found = edge_values(pairs, counts, edge_index.shape[1])
        assert found.tolist() == (inside[edge_index[0]] & inside[edge_index[1]]).long().tolist()
        # Slot layout and back is the identity; each slot knows its edge's target.
        assert torch.equal(edge_values(pairs, slot_values(pairs, values), edge_index.shape[1]), values)
        assert torch.equal(edge_values(pairs, slot_targets(pairs), edge_index.shape[1]), edge_index[1])
    # Several groups at once: the same edges, entries pointing into the group's own nodes.
    group = torch.cat([torch.full((s.numel(),), g) for g, s in enumerate(node_sets)])
    node = torch.cat(node_sets)
    edge_id, entries, grouped_values = induced_subgraph_edges(pairs, node, group, num_nodes, values=slot_values(pairs, values))
    assert torch.equal(grouped_values, values[edge_id])
    assert torch.equal(group[entries[0]], group[entries[1]])
    assert_close(node[entries], edge_index[:, edge_id])
    for g, nodes in enumerate(node_sets):
        single, _, _ = induced_subgraph_edges(pairs, nodes, None, num_nodes)
        assert sorted(edge_id[group[entries[0]] == g].tolist()) == sorted(single.tolist())


@pytest.mark.parametrize("numpy_paths", [True, False])
@pytest.mark.parametrize("form", ["messy", "coalesced symmetric", "coalesced, one reverse edge missing",
                                  "coalesced, one reverse edge moved", "symmetric, shuffled, with duplicates",
                                  "shuffled, with a directed cycle"])
def test_edge_pairs_owner_rows_hold_each_pair_once_and_the_numpy_path_matches_torch(form, numpy_paths, monkeypatch):
    # The coalesced symmetric form takes its own NumPy path (no sort of all the edges), and a shuffled symmetric
    # list with duplicates another (one sort, then that path); the same forms with one reverse edge removed
    # must leave them for the general one.
    from geoconv.ops import to_undirected
    from geoconv.ops.sampling import edge_pairs

    edge_index = _messy_edge_index(30, seed=4)
    if form != "messy":
        edge_index, _ = to_undirected(edge_index, None, 30)
        assert bool((edge_index[0] == edge_index[1]).any())  # self-loops included
    if "shuffled" in form:
        # A symmetric multiset (what the shuffled path is tried on): self-loops listed up to three times, some
        # edges two or three times in both directions, in any order.
        loops = edge_index[:, edge_index[0] == edge_index[1]]
        links = edge_index[:, edge_index[0] != edge_index[1]]
        extra_links = torch.cat([links[:, :7], links[:, 3:5]], dim=1)
        edge_index = torch.cat([edge_index, loops, loops[:, :1], extra_links, extra_links.flip(0)], dim=1)
        if form == "shuffled, with a directed cycle":
            # Sources and targets stay the same multiset, so only the reverse edges show the asymmetry.
            present = {tuple(e) for e in edge_index.t().tolist()}
            a, b, c = next((a, b, c) for a in range(30) for b in range(30) for c in range(30)
                           if len({a, b, c}) == 3 and not {(a, b), (b, a), (b, c), (c, b), (c, a), (a, c)} & present)
            edge_index = torch.cat([edge_index, torch.tensor([[a, b, c], [b, c, a]])], dim=1)
        assert int(edge_index[0].sum()) == int(edge_index[1].sum())
        generator = torch.Generator().manual_seed(5)
        edge_index = edge_index[:, torch.randperm(edge_index.shape[1], generator=generator)]
    if form == "coalesced, one reverse edge missing":
        link = int((edge_index[0] != edge_index[1]).nonzero()[5])
        edge_index = torch.cat([edge_index[:, :link], edge_index[:, link + 1:]], dim=1)
    if form == "coalesced, one reverse edge moved":
        # v -> u becomes v -> w (neither v -> w nor w -> v present): every row keeps its length and each
        # endpoint its side, so only the edges themselves show that the graph is no longer symmetric.
        degree = torch.bincount(edge_index[0], minlength=30)
        rank = degree * 30 + torch.arange(30)
        present = {tuple(e) for e in edge_index.t().tolist()}
        v, u, w = next((v, u, w) for v, u in edge_index.t().tolist() for w in range(30)
                       if v != u and rank[v] > rank[u] and w not in (u, v) and rank[w] < rank[v]
                       and (v, w) not in present and (w, v) not in present)
        moved = [(a, b) if (a, b) != (v, u) else (v, w) for a, b in edge_index.t().tolist()]
        edge_index = torch.tensor(sorted(moved)).t()
    monkeypatch.setattr(geoconv.ops.sampling, "NUMPY_FAST_PATHS", numpy_paths)
    pairs = edge_pairs(edge_index, 30)
    owner, other = pairs.owner_row.long(), pairs.owner_col.long()
    lo, hi = torch.minimum(owner, other), torch.maximum(owner, other)
    assert sorted(zip(lo.tolist(), hi.tolist())) == list(zip(pairs.pair_src.tolist(), pairs.pair_dst.tolist()))
    # The owner is the endpoint of lower (degree, id).
    rank = pairs.degree * 30 + torch.arange(30)
    assert bool((rank[owner] <= rank[other]).all())
    # Every edge sits in exactly one slot of its pair's entry, with its direction.
    slots = [(e, j, False) for j, e in enumerate(pairs.forward.tolist()) if e >= 0]
    slots += [(e, j, True) for j, e in enumerate(pairs.backward.tolist()) if e >= 0]
    for j in range(owner.numel() if pairs.extra is not None else 0):
        for code in pairs.extra[pairs.extra_ptr[j]:pairs.extra_ptr[j + 1]].tolist():
            slots.append((code >> 1, j, bool(code & 1)))
    assert sorted(e for e, _, _ in slots) == list(range(edge_index.shape[1]))
    for e, j, reverse in slots:
        a, b = (other[j], owner[j]) if reverse else (owner[j], other[j])
        assert (int(edge_index[0, e]), int(edge_index[1, e])) == (int(a), int(b))
    monkeypatch.setattr(geoconv.ops.sampling, "NUMPY_FAST_PATHS", not numpy_paths)
    other_path = edge_pairs(edge_index, 30)
    for name, value in pairs._asdict().items():
        if value is None:
            assert getattr(other_path, name) is None, name
        else:
            assert value.dtype == getattr(other_path, name).dtype and torch.equal(value, getattr(other_path, name)), name


def test_symmetric_path_rejects_a_directed_cycle_that_passes_its_cheap_tests(monkeypatch):
    # A symmetric graph plus the directed 4-cycle 30 -> 32 -> 31 -> 33 -> 30: the sources and targets are the
    # same multiset (equal sums, every row as long as its column) and, the cycle nodes all having degree 1,
    # two cycle edges go up in (degree, id) and two go down, so the owned and unowned links are as many as in a
    # symmetric graph.  Only the comparison of the reversed owned links with the unowned ones shows that 31 -> 33
    # has no reverse.
    from geoconv.ops import to_undirected
    from geoconv.ops.sampling import _symmetric_edge_pairs_numpy, edge_pairs

    symmetric, _ = to_undirected(_messy_edge_index(30, seed=4), None, 30)
    cycle = torch.tensor([[30, 32, 31, 33], [32, 31, 33, 30]])
    edge_index = torch.cat([symmetric, cycle], dim=1)
    edge_index = edge_index[:, torch.argsort(edge_index[0] * 34 + edge_index[1])]  # coalesced
    src, dst = edge_index.numpy()
    assert src.sum() == dst.sum() and torch.equal(torch.bincount(edge_index[0]), torch.bincount(edge_index[1]))
    sym_src, sym_dst = symmetric.numpy()
    assert _symmetric_edge_pairs_numpy(sym_src, sym_dst, sym_src * 30 + sym_dst, 30, np.int32) is not None
    assert _symmetric_edge_pairs_numpy(src, dst, src * 34 + dst, 34, np.int32) is None
    monkeypatch.setattr(geoconv.ops.sampling, "NUMPY_FAST_PATHS", True)
    fast = edge_pairs(edge_index, 34)
    monkeypatch.setattr(geoconv.ops.sampling, "NUMPY_FAST_PATHS", False)
    reference = edge_pairs(edge_index, 34)
    for name, value in fast._asdict().items():
        assert (value is None) == (getattr(reference, name) is None), name
        assert value is None or torch.equal(value, getattr(reference, name)), name


def test_edge_pairs_with_at_most_two_edges_per_pair_match_the_torch_path(monkeypatch):
    # Pairs of at most 2 edges take a shortcut for the ranks on the NumPy path: a symmetric list (each edge
    # with its reverse), self-loops listed twice, one edge duplicated in the same direction, one loop once.
    from geoconv.ops.sampling import edge_pairs

    generator = torch.Generator().manual_seed(7)
    edges = torch.tensor([[0, 1, 2, 3, 5], [1, 2, 4, 5, 6]])
    edge_index = torch.cat([edges, edges.flip(0), torch.tensor([[3, 3, 7], [3, 3, 7]]), torch.tensor([[8], [9]]).repeat(1, 2)], dim=1)
    edge_index = edge_index[:, torch.randperm(edge_index.shape[1], generator=generator)]
    monkeypatch.setattr(geoconv.ops.sampling, "NUMPY_FAST_PATHS", True)
    fast = edge_pairs(edge_index, 10)
    monkeypatch.setattr(geoconv.ops.sampling, "NUMPY_FAST_PATHS", False)
    reference = edge_pairs(edge_index, 10)
    assert fast.extra is not None and fast.extra.numel() == 1  # the second 8 -> 9
    for name, value in fast._asdict().items():
        assert torch.equal(value, getattr(reference, name)), name
