import pytest
import torch
from torch_geometric.nn import GCNConv as PyGGCNConv

from geoconv.data import Batch, Graph
from geoconv.nn import GCNConv
from geoconv.ops import SparseAdjacency, gcn_norm
from geoconv.testing import assert_permutation_equivariant, corner_case_batch, graph_cases


def messy_graph(seed: int, num_nodes: int = 30, num_edges: int = 90) -> tuple[torch.Tensor, torch.Tensor]:
    """Random edges over the first 25 nodes (nodes 25.. are isolated), with duplicate
    edges and at most one existing self-loop per node."""
    generator = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, 25, (2, num_edges), generator=generator)
    edge_index = edge_index[:, edge_index[0] != edge_index[1]]
    duplicates = edge_index[:, :10]
    loops = torch.arange(0, 25, 3).repeat(2, 1)
    edge_index = torch.cat([edge_index, duplicates, loops], dim=1)
    weight = torch.rand(edge_index.shape[1], generator=generator) + 0.1
    return edge_index, weight


def copy_to_pyg(ours: GCNConv, **kwargs) -> PyGGCNConv:
    theirs = PyGGCNConv(ours.in_channels, ours.out_channels, **kwargs)
    with torch.no_grad():
        theirs.lin.weight.copy_(ours.weight)
        if ours.bias is not None:
            theirs.bias.copy_(ours.bias)
    return theirs


@pytest.mark.parametrize("options", [
    dict(),
    dict(improved=True),
    dict(add_self_loops=False),
    dict(normalize=False),
    dict(bias=False),
])
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("x_requires_grad", [False, True])
def test_equals_pyg_outputs_and_gradients(options, use_weight, x_requires_grad):
    torch.manual_seed(0)
    edge_index, weight = messy_graph(seed=1)
    ours = GCNConv(8, 5, **options)
    theirs = copy_to_pyg(ours, **options)
    x = torch.randn(30, 8)
    x_ours = x.clone().requires_grad_(x_requires_grad)
    x_theirs = x.clone().requires_grad_(x_requires_grad)
    w = weight if use_weight else None
    out_ours = ours(x_ours, edge_index, w)
    # PyG ignores improved=True when no edge weights are given (its new loops then get
    # weight 1); ours follows the definition, which PyG computes given explicit ones.
    w_theirs = torch.ones(edge_index.shape[1]) if w is None and options.get("improved") else w
    out_theirs = theirs(x_theirs, edge_index, w_theirs)
    torch.testing.assert_close(out_ours, out_theirs, atol=1e-5, rtol=1e-5)
    target = torch.randn_like(out_ours)
    (out_ours * target).sum().backward()
    (out_theirs * target).sum().backward()
    torch.testing.assert_close(ours.weight.grad, theirs.lin.weight.grad, atol=1e-5, rtol=1e-5)
    if ours.bias is not None:
        torch.testing.assert_close(ours.bias.grad, theirs.bias.grad, atol=1e-5, rtol=1e-5)
    if x_requires_grad:
        torch.testing.assert_close(x_ours.grad, x_theirs.grad, atol=1e-5, rtol=1e-5)


def test_learnable_edge_weights_get_pyg_gradients():
    torch.manual_seed(0)
    edge_index, weight = messy_graph(seed=2)
    ours = GCNConv(6, 4)
    theirs = copy_to_pyg(ours)
    x = torch.randn(30, 6)
    w_ours = weight.clone().requires_grad_()
    w_theirs = weight.clone().requires_grad_()
    ours(x, edge_index, w_ours).square().sum().backward()
    theirs(x, edge_index, w_theirs).square().sum().backward()
    torch.testing.assert_close(w_ours.grad, w_theirs.grad, atol=1e-5, rtol=1e-5)


def test_dense_formula_in_float64():
    generator = torch.Generator().manual_seed(3)
    edge_index = torch.tensor([[0, 1, 1, 2, 3], [1, 0, 2, 1, 3]])
    x = torch.randn(5, 3, dtype=torch.float64, generator=generator)
    conv = GCNConv(3, 2).double()
    adjacency = torch.zeros(5, 5, dtype=torch.float64)
    adjacency[edge_index[1], edge_index[0]] = 1.0
    adjacency.fill_diagonal_(1.0)  # node 3's existing loop keeps weight 1, node 4 gets one
    d = adjacency.sum(1).rsqrt()
    expected = (d[:, None] * adjacency * d[None, :]) @ x @ conv.weight.t() + conv.bias
    torch.testing.assert_close(conv(x, edge_index), expected)


def test_precomputed_sparse_adjacency_and_torch_sparse_input():
    torch.manual_seed(0)
    edge_index, weight = messy_graph(seed=4)
    conv = GCNConv(4, 3)
    x = torch.randn(30, 4)
    reference = conv(x, edge_index, weight)
    index, norm = gcn_norm(edge_index, weight, 30)
    torch.testing.assert_close(conv(x, SparseAdjacency(index, norm, 30)), reference)
    adj = torch.sparse_coo_tensor(edge_index.flip(0), weight, (30, 30))  # adj[i, j]: edge j -> i
    torch.testing.assert_close(conv(x, adj), reference, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(conv(x, adj.to_sparse_csr()), reference, atol=1e-6, rtol=1e-5)


def test_cached_reuses_the_normalised_graph():
    edge_index, _ = messy_graph(seed=5)
    conv = GCNConv(4, 3, cached=True)
    x = torch.randn(30, 4)
    first = conv(x, edge_index)
    # A different edge_index is ignored while cached, as documented.
    torch.testing.assert_close(conv(x, edge_index[:, :5]), first)
    conv.reset_parameters()
    assert conv._cache is None


def test_corner_case_batch_and_batch_consistency():
    conv = GCNConv(4, 3)
    batch = corner_case_batch(num_features=4)
    out = conv(batch.x, batch.edge_index)
    assert out.shape == (batch.num_nodes, 3)
    separately = torch.cat([conv(g.x, g.edge_index) for g in graph_cases(num_features=4)])
    torch.testing.assert_close(out, separately)
    empty = conv(torch.zeros(0, 4), torch.zeros(2, 0, dtype=torch.long))
    assert empty.shape == (0, 3)
    isolated = conv(torch.ones(2, 4), torch.zeros(2, 0, dtype=torch.long))
    torch.testing.assert_close(isolated, (torch.ones(2, 4) @ conv.weight.t()) + conv.bias)


def test_permutation_equivariance():
    conv = GCNConv(4, 3).double()
    edge_index, weight = messy_graph(seed=6)
    graph = Graph(x=torch.randn(30, 4, dtype=torch.float64), edge_index=edge_index)
    assert_permutation_equivariant(lambda g: conv(g.x, g.edge_index), graph, atol=1e-10)


def test_bad_input_errors():
    conv = GCNConv(4, 3)
    with pytest.raises(ValueError, match=r"x must have shape \[N, 4\], got \[5, 3\]"):
        conv(torch.ones(5, 3), torch.tensor([[0], [1]]))
    with pytest.raises(ValueError, match=r"edge_index contains index 9 but num_nodes is 5"):
        conv(torch.ones(5, 4), torch.tensor([[0], [9]]))
    with pytest.raises(TypeError, match="edge_index must have dtype torch.int64"):
        conv(torch.ones(5, 4), torch.tensor([[0], [1]], dtype=torch.int32))
    with pytest.raises(ValueError, match=r"edge_weight must have shape \[E\] = \[1\]"):
        conv(torch.ones(5, 4), torch.tensor([[0], [1]]), torch.ones(2))
    with pytest.raises(ValueError, match="the adjacency has 3 nodes but x has 5 rows"):
        conv(torch.ones(5, 4), SparseAdjacency(torch.tensor([[0], [1]]), None, 3))


def test_extra_repr_lists_options():
    assert "improved=False" in repr(GCNConv(2, 3)) and "GCNConv(2, 3" in repr(GCNConv(2, 3))


def test_batch_graph_model_call():
    from geoconv.models import GCN

    model = GCN(4, 8, 3).eval()
    batch = Batch.from_graphs(graph_cases(num_features=4))
    assert model(batch).shape == (batch.num_nodes, 3)


def test_sparse_input_features_equal_dense():
    torch.manual_seed(0)
    edge_index, weight = messy_graph(seed=7)
    x = torch.randn(30, 6) * (torch.rand(30, 6) < 0.2)
    conv = GCNConv(6, 4)
    dense = conv(x, edge_index, weight)
    dense.square().sum().backward()
    grad_dense = conv.weight.grad.clone()
    conv.weight.grad = None
    sparse = conv(x.to_sparse(), edge_index, weight)
    sparse.square().sum().backward()
    torch.testing.assert_close(sparse, dense, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(conv.weight.grad, grad_dense, atol=1e-5, rtol=1e-5)
