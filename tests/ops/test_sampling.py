"""CSR sampling primitives: table checks and agreement with the edge-list definitions."""

from __future__ import annotations

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


@pytest.mark.parametrize("self_loops", [True, False])
def test_oriented_half_finds_every_induced_edge_of_a_symmetric_graph_once(self_loops):
    from geoconv.ops import to_undirected
    from geoconv.ops.sampling import induced_edges_symmetric, oriented_csr

    generator = torch.Generator().manual_seed(3)
    num_nodes = 30
    edge_index, _ = to_undirected(torch.randint(0, num_nodes, (2, 120), generator=generator), None, num_nodes)
    if not self_loops:
        edge_index = edge_index[:, edge_index[0] != edge_index[1]]
    assert bool((edge_index[0] == edge_index[1]).any()) == self_loops
    rowptr, col, perm = csr_from_edge_index(edge_index, num_nodes)
    assert perm is None  # coalesced
    degree = (rowptr[1:] - rowptr[:-1]).double()
    oriented = oriented_csr(rowptr, col, degree)
    # Each undirected edge once: the oriented entries and their reverses cover the CSR exactly once.
    key = edge_index[0] * num_nodes + edge_index[1]
    reverse = torch.searchsorted(key, edge_index[1] * num_nodes + edge_index[0])
    covered = torch.cat([oriented[2], reverse[oriented[2]]]).unique()
    assert covered.tolist() == list(range(edge_index.shape[1]))
    loops = int((edge_index[0] == edge_index[1]).sum())
    assert oriented[1].numel() == (edge_index.shape[1] - loops) // 2 + loops
    node_sets = [torch.randperm(num_nodes, generator=generator)[:k].sort().values for k in (1, 9, 20)]
    group = torch.cat([torch.full((s.numel(),), g) for g, s in enumerate(node_sets)])
    node = torch.cat(node_sets)
    expected = induced_edges(rowptr, col, node, group, num_nodes)
    result = induced_edges_symmetric(oriented, reverse[oriented[2]], node, group, num_nodes, self_loops=self_loops)
    assert sorted(zip(*(t.tolist() for t in result))) == sorted(zip(*(t.tolist() for t in expected)))
    structure = induced_edges_symmetric(oriented, reverse[oriented[2]], node, group, num_nodes, positions=False)
    assert structure[0] is None
    assert_close(structure[1], result[1]) and assert_close(structure[2], result[2])
