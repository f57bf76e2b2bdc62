import pytest
import torch
import torch_geometric.utils as pyg_utils

from geoconv.ops import (
    SparseAdjacency,
    add_remaining_self_loops,
    add_self_loops,
    check_edge_index,
    coalesce,
    degree,
    gcn_norm,
    is_undirected,
    propagate,
    remove_self_loops,
    spmm,
    to_undirected,
)

EDGES = torch.tensor([[0, 1, 1, 2, 2, 0], [1, 2, 2, 2, 0, 1]])  # duplicates 1->2 and 0->1, loop 2->2


def test_degree():
    torch.testing.assert_close(degree(EDGES[1], 4), torch.tensor([1.0, 2.0, 3.0, 0.0]))
    assert degree(EDGES[0], 4, dtype=torch.long).tolist() == [2, 2, 2, 0]


def test_self_loops():
    index, weight = remove_self_loops(EDGES, torch.arange(6.0))
    assert index.tolist() == [[0, 1, 1, 2, 0], [1, 2, 2, 0, 1]] and weight.tolist() == [0, 1, 2, 4, 5]
    index, weight = add_self_loops(EDGES, torch.ones(6), fill_value=3.0, num_nodes=4)
    assert index.shape == (2, 10) and weight[-4:].tolist() == [3.0, 3.0, 3.0, 3.0]
    index, weight = add_remaining_self_loops(EDGES, torch.arange(6.0), fill_value=9.0, num_nodes=4)
    # One loop per node; node 2 keeps its loop weight (3).
    assert index[:, -4:].tolist() == [[0, 1, 2, 3], [0, 1, 2, 3]]
    assert weight[-4:].tolist() == [9.0, 9.0, 3.0, 9.0]
    theirs_index, theirs_weight = pyg_utils.add_remaining_self_loops(EDGES, torch.arange(6.0), 9.0, 4)
    assert torch.equal(index, theirs_index) and torch.equal(weight, theirs_weight)


def test_coalesce_and_to_undirected_match_pyg():
    index, weight = coalesce(EDGES, torch.ones(6), 3)
    assert index.tolist() == [[0, 1, 2, 2], [1, 2, 0, 2]] and weight.tolist() == [2.0, 2.0, 1.0, 1.0]
    theirs = pyg_utils.coalesce(EDGES, torch.ones(6), 3)
    assert torch.equal(index, theirs[0]) and torch.equal(weight, theirs[1])
    undirected, _ = to_undirected(EDGES, None, 3)
    assert torch.equal(undirected, pyg_utils.to_undirected(EDGES, num_nodes=3))
    assert is_undirected(undirected) and not is_undirected(EDGES)
    assert coalesce(torch.zeros(2, 0, dtype=torch.long), None, 0)[0].shape == (2, 0)


def test_gcn_norm_matches_pyg():
    generator = torch.Generator().manual_seed(0)
    edge_index = torch.randint(0, 20, (2, 80), generator=generator)
    weight = torch.rand(80, generator=generator)
    from torch_geometric.nn.conv.gcn_conv import gcn_norm as pyg_gcn_norm

    for improved in (False, True):
        ours = gcn_norm(edge_index, weight, 25, improved=improved)
        theirs = pyg_gcn_norm(edge_index, weight, 25, improved=improved)
        assert torch.equal(ours[0], theirs[0])
        torch.testing.assert_close(ours[1], theirs[1])


def test_gcn_norm_formula_on_a_path():
    # Path 0 - 1 - 2, both directions; with self-loops degrees are 2, 3, 2.
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    index, weight = gcn_norm(edge_index, None, 3)
    dense = torch.zeros(3, 3)
    dense[index[1], index[0]] = weight
    d = torch.tensor([2.0, 3.0, 2.0]).rsqrt()
    adjacency = torch.tensor([[1.0, 1, 0], [1, 1, 1], [0, 1, 1]])
    torch.testing.assert_close(dense, d[:, None] * adjacency * d[None, :])


def test_sparse_adjacency_equals_gather_scatter_and_gradcheck():
    generator = torch.Generator().manual_seed(1)
    # Nodes 15-19 have no edges: empty rows in A and in its transpose (the backward pass).
    edge_index = torch.randint(0, 15, (2, 60), generator=generator)
    weight = torch.rand(60, dtype=torch.float64, generator=generator)
    x = torch.randn(20, 4, dtype=torch.float64, generator=generator, requires_grad=True)
    adjacency = SparseAdjacency(edge_index, weight, 20)
    torch.testing.assert_close(adjacency @ x, propagate(x, edge_index, weight, 20))
    torch.testing.assert_close(spmm(edge_index, weight, x), propagate(x, edge_index, weight))
    assert torch.autograd.gradcheck(lambda t: adjacency.matmul(t), (x,))
    vector = x[:, 0].detach()
    torch.testing.assert_close(adjacency @ vector, propagate(vector.unsqueeze(1), edge_index, weight, 20)[:, 0])
    empty = SparseAdjacency(torch.zeros(2, 0, dtype=torch.long), None, 3)
    torch.testing.assert_close(empty @ torch.ones(3, 2), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="x has 4 rows but the adjacency has 20 nodes"):
        adjacency @ torch.ones(4, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"edge_weight must have shape \[E\] = \[60\]"):
        SparseAdjacency(edge_index, torch.ones(3), 15)


def test_check_edge_index_errors():
    with pytest.raises(TypeError, match="edge_index must have dtype torch.int64, got torch.float32"):
        check_edge_index(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"edge_index must have shape \[2, E\], got \[2\]"):
        check_edge_index(torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"edge_index contains index 5 but num_nodes is 5 \(valid range 0..4\)"):
        check_edge_index(torch.tensor([[0, 5], [1, 1]]), 5)
    with pytest.raises(ValueError, match="edge_index contains negative index -2"):
        check_edge_index(torch.tensor([[0, -2], [1, 1]]), 5)
