import pytest
import torch
from torch_geometric.nn import SAGEConv as PyGSAGEConv

from geoconv.data import Batch
from geoconv.nn import SAGEConv
from geoconv.testing import assert_permutation_equivariant, corner_case_batch, graph_cases


def random_graph(seed: int, num_nodes: int = 20, num_edges: int = 70) -> tuple[torch.Tensor, torch.Tensor]:
    """Random edges among the first 15 nodes (nodes 15.. receive nothing), with duplicates."""
    generator = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, 15, (2, num_edges), generator=generator)
    edge_index = torch.cat([edge_index, edge_index[:, :8]], dim=1)
    return torch.randn(num_nodes, 5, generator=generator), edge_index


def dense_reference(conv: SAGEConv, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    count = torch.zeros(x.shape[0], x.shape[0], dtype=x.dtype)
    for src, dst in edge_index.t().tolist():
        count[dst, src] += 1.0
    mean = (count / count.sum(1, keepdim=True).clamp(min=1)) @ x
    out = x @ conv.root_weight.t() + mean @ conv.neighbour_weight.t()
    return out if conv.bias is None else out + conv.bias


@pytest.mark.parametrize("out_channels", [3, 8])  # both orders of projection and aggregation
@pytest.mark.parametrize("bias", [True, False])
def test_matches_dense_mean_reference(out_channels, bias):
    x, edge_index = random_graph(0)
    conv = SAGEConv(5, out_channels, bias=bias)
    torch.testing.assert_close(conv(x, edge_index), dense_reference(conv, x, edge_index))


def test_matches_torch_geometric_for_copied_weights():
    x, edge_index = random_graph(1)
    ours = SAGEConv(5, 7)
    theirs = PyGSAGEConv(5, 7)
    with torch.no_grad():
        theirs.lin_l.weight.copy_(ours.neighbour_weight)
        theirs.lin_l.bias.copy_(ours.bias)
        theirs.lin_r.weight.copy_(ours.root_weight)
    torch.testing.assert_close(ours(x, edge_index), theirs(x, edge_index))


def test_precomputed_mean_adjacency_and_gradients():
    x, edge_index = random_graph(2)
    conv = SAGEConv(5, 4)
    adjacency = SAGEConv.mean_adjacency(edge_index, x.shape[0])
    torch.testing.assert_close(conv(x, adjacency), conv(x, edge_index))
    x64 = x.double().requires_grad_()
    conv64 = SAGEConv(5, 4).double()
    assert torch.autograd.gradcheck(lambda h: conv64(h, edge_index), (x64,))


def test_corner_cases_batching_and_permutation():
    conv = SAGEConv(4, 6)
    batch = corner_case_batch(num_features=4)
    out = conv(batch.x, batch.edge_index)
    assert out.shape == (batch.num_nodes, 6)
    parts = [conv(g.x, g.edge_index) for g in graph_cases(4)]
    torch.testing.assert_close(out, torch.cat(parts))
    graph = Batch.from_graphs(graph_cases(4))
    assert_permutation_equivariant(lambda g: conv(g.x, g.edge_index), graph)


def test_bad_input_names_the_problem():
    conv = SAGEConv(4, 2)
    with pytest.raises(ValueError, match=r"x must have shape \[N, 4\]"):
        conv(torch.randn(3, 5), torch.zeros(2, 0, dtype=torch.long))
    with pytest.raises(ValueError, match="3 nodes but x has 4"):
        conv(torch.randn(4, 4), SAGEConv.mean_adjacency(torch.tensor([[0], [1]]), 3))
