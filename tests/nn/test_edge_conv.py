"""EdgeConv and DynamicEdgeConv: PyG equality, dense reference, permutation, batching, errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from geoconv.data import Batch
from geoconv.nn import DynamicEdgeConv, EdgeConv
from geoconv.testing import assert_permutation_equivariant, corner_case_batch, graph_cases, random_graph
from torch_geometric.nn import EdgeConv as PygEdgeConv


class _Generic(nn.Module):
    """An edge function that does not start with nn.Linear (exercises the generic path)."""

    def __init__(self, channels: int, out: int) -> None:
        super().__init__()
        self.linear = nn.Linear(2 * channels, out)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.linear(features)) * 2.0


def _mlp(channels: int, out: int, seed: int = 0, dtype=torch.float32) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2 * channels, 16), nn.ReLU(), nn.Linear(16, out)).to(dtype)


def _brute_knn_graph(x: torch.Tensor, k: int, batch: torch.Tensor) -> torch.Tensor:
    """Self-inclusive kNN graph (row 0 neighbour, row 1 centre) from the full float64 distance matrix."""
    xd = x.detach().double()
    dist = ((xd[:, None] - xd[None]) ** 2).sum(-1)
    dist[batch[:, None] != batch[None]] = float("inf")
    sources, targets = [], []
    for i in range(x.shape[0]):
        count = int(torch.isfinite(dist[i]).sum())
        neighbours = torch.argsort(dist[i])[: min(k, count)]
        sources.append(neighbours)
        targets.append(torch.full_like(neighbours, i))
    return torch.stack([torch.cat(sources), torch.cat(targets)])


@pytest.mark.parametrize("aggr", ["max", "sum", "mean"])
@pytest.mark.parametrize("generic", [False, True])
def test_edge_conv_equals_pyg(aggr, generic):
    graph = random_graph(40, 160, 5, seed=1)
    mlp = _Generic(5, 7) if generic else _mlp(5, 7)
    x = graph.x.clone().requires_grad_(True)
    x_ref = graph.x.clone().requires_grad_(True)
    # Both wrappers share ``mlp`` (each constructor resets it; the last reset wins for both).
    conv, reference = EdgeConv(mlp, aggr=aggr), PygEdgeConv(mlp, aggr={"sum": "add"}.get(aggr, aggr))
    out = conv(x, graph.edge_index)
    expected = reference(x_ref, graph.edge_index)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    weights = torch.randn_like(out)
    (out * weights).sum().backward()
    (expected * weights).sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad, atol=1e-5, rtol=1e-5)


def test_edge_conv_dense_reference_float64():
    graph = random_graph(12, 40, 3, seed=2, dtype=torch.float64)
    mlp = _mlp(3, 4, dtype=torch.float64)
    out = EdgeConv(mlp)(graph.x, graph.edge_index)
    x, (src, dst) = graph.x, graph.edge_index
    for i in range(12):
        incoming = src[dst == i]
        if incoming.numel() == 0:
            torch.testing.assert_close(out[i], torch.zeros(4, dtype=torch.float64))
            continue
        messages = mlp(torch.cat([x[i].expand(incoming.numel(), 3), x[incoming] - x[i]], dim=1))
        torch.testing.assert_close(out[i], messages.max(dim=0).values, atol=1e-12, rtol=0)


def test_edge_conv_corner_cases_permutation_and_batching():
    conv = EdgeConv(_mlp(4, 6, dtype=torch.float64))
    batch = corner_case_batch(dtype=torch.float64)
    out = conv(batch.x, batch.edge_index)
    assert out.shape == (batch.num_nodes, 6)
    parts = [conv(g.x, g.edge_index) for g in graph_cases(dtype=torch.float64)]
    torch.testing.assert_close(out, torch.cat(parts))
    graph = random_graph(15, 50, 4, seed=3, dtype=torch.float64)
    assert_permutation_equivariant(lambda g: conv(g.x, g.edge_index), graph, atol=1e-12)


def test_edge_conv_bipartite_equals_pyg():
    mlp = _mlp(3, 5)
    x_src, x_dst = torch.randn(9, 3), torch.randn(4, 3)
    edge_index = torch.tensor([[0, 8, 3, 3, 5], [0, 0, 1, 3, 3]])
    conv, reference = EdgeConv(mlp), PygEdgeConv(mlp)
    out = conv((x_src, x_dst), edge_index)
    torch.testing.assert_close(out, reference((x_src, x_dst), edge_index), atol=1e-5, rtol=1e-5)


def test_dynamic_edge_conv_equals_pyg_on_self_inclusive_knn():
    sizes, k = [64, 3, 50], 8  # the 3-point cloud has fewer than k points
    graphs = [random_graph(n, 0, 16, seed=10 + i) for i, n in enumerate(sizes)]
    batch = Batch.from_graphs(graphs)
    mlp = _mlp(16, 12)
    x = batch.x.clone().requires_grad_(True)
    x_ref = batch.x.clone().requires_grad_(True)
    conv, reference = DynamicEdgeConv(mlp, k), PygEdgeConv(mlp)
    out = conv(x, batch=batch.batch)
    edge_index = _brute_knn_graph(batch.x, k, batch.batch)
    expected = reference(x_ref, edge_index)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    out.pow(2).sum().backward()
    expected.pow(2).sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad, atol=1e-5, rtol=1e-5)
    # Dense path (every cloud has >= k points) and one cloud without batch.
    single = batch.x[:64]
    conv, reference = DynamicEdgeConv(mlp, k, aggr="mean"), PygEdgeConv(mlp, aggr="mean")
    torch.testing.assert_close(
        conv(single), reference(single, _brute_knn_graph(single, k, torch.zeros(64, dtype=torch.long))),
        atol=1e-5, rtol=1e-5,
    )


def test_edge_conv_errors():
    with pytest.raises(ValueError, match="aggr must be one of"):
        EdgeConv(_mlp(2, 2), aggr="median")
    with pytest.raises(ValueError, match="k must be a positive integer"):
        DynamicEdgeConv(_mlp(2, 2), 0)
    conv = EdgeConv(_mlp(2, 2))
    with pytest.raises(ValueError, match="edge_index points past the nodes"):
        conv(torch.randn(3, 2), torch.tensor([[0, 3], [1, 1]]))
    with pytest.raises(ValueError, match=r"x must have shape \[N, C\]"):
        conv(torch.randn(3), torch.tensor([[0], [1]]))
    with pytest.raises(ValueError, match="same width"):
        conv((torch.randn(3, 2), torch.randn(3, 4)), torch.tensor([[0], [1]]))
