"""EdgeConv and DynamicEdgeConv: PyG equality, dense reference, permutation, batching, errors."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from geoconv.data import Batch
from geoconv.nn import DynamicEdgeConv, EdgeConv, LinearEdgeBlock
from geoconv.testing import assert_permutation_equivariant, corner_case_batch, graph_cases, random_graph
from torch_geometric.nn import EdgeConv as PygEdgeConv


class _Generic(nn.Module):
    """An edge function that does not start with nn.Linear (exercises the generic path)."""

    def __init__(self, channels: int, out: int) -> None:
        super().__init__()
        self.linear = nn.Linear(2 * channels, out)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.linear(features)) * 2.0

    @staticmethod
    def wrap(module: nn.Module) -> nn.Module:
        """``module`` behind a plain Module (no Linear to split: every edge goes through it)."""

        class Wrapped(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inner = module

            def forward(self, features: torch.Tensor) -> torch.Tensor:
                return self.inner(features)

        return Wrapped()


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


# ---------------------------------------------------------------- LinearEdgeBlock (no per-edge tensors)


def _block_and_copy(channels: int, out: int, *, seed: int, **options) -> tuple[LinearEdgeBlock, nn.Sequential]:
    """A float64 LinearEdgeBlock with batch-norm weights of both signs and non-trivial running statistics,
    and a plain Sequential copy (what the per-edge path and PyG apply)."""
    torch.manual_seed(seed)
    block = LinearEdgeBlock(channels, out, **options).double()
    if block.batch_norm:
        with torch.no_grad():
            norm = block[1]
            norm.weight.uniform_(-1.5, 1.5)
            norm.bias.normal_()
            norm.running_mean.normal_()
            norm.running_var.uniform_(0.5, 2.0)
    return block, nn.Sequential(*(copy.deepcopy(layer) for layer in block))


def _assert_same_training(block: nn.Module, out, reference_module: nn.Module, expected, x, x_ref) -> None:
    """Outputs, input and parameter gradients and batch-norm buffers of the two modules agree."""
    torch.testing.assert_close(out, expected, atol=1e-10, rtol=1e-10)
    weights = torch.randn_like(out)
    (out * weights).sum().backward()
    (expected * weights).sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad, atol=1e-10, rtol=1e-10)
    for (name, p), (_, q) in zip(block.named_parameters(), reference_module.named_parameters()):
        torch.testing.assert_close(p.grad, q.grad, atol=1e-10, rtol=1e-10, msg=f"gradient of {name}")
    for (name, p), (_, q) in zip(block.named_buffers(), reference_module.named_buffers()):
        torch.testing.assert_close(p, q, atol=1e-12, rtol=1e-12, msg=f"buffer {name}")


BLOCK_OPTIONS = [
    {},  # DGCNN's: no bias, batch norm, LeakyReLU(0.2)
    {"bias": True, "negative_slope": 0.0},
    {"batch_norm": False},
    {"batch_norm": False, "negative_slope": None, "bias": True},
]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("options", BLOCK_OPTIONS)
def test_linear_block_edge_conv_equals_per_edge_and_pyg(options, training):
    graph = random_graph(30, 120, 5, seed=4, dtype=torch.float64)
    keep = graph.edge_index[1] % 7 != 3  # targets 3, 10, 17, 24 without edges: output 0
    edge_index = graph.edge_index[:, keep]
    block, plain = _block_and_copy(5, 6, seed=5, **options)
    generic = copy.deepcopy(plain)
    conv, per_edge, reference = EdgeConv(block), EdgeConv(_Generic.wrap(generic)), PygEdgeConv(plain)
    # the constructors re-initialise their modules: copy the block's state back
    plain.load_state_dict(block.state_dict())
    generic.load_state_dict(block.state_dict())
    for module in (block, plain, generic):
        module.train(training)
    x, x_ref, x_gen = (graph.x.clone().requires_grad_(True) for _ in range(3))
    out = conv(x, edge_index)
    assert torch.all(out[3] == 0) and out.abs().sum() > 0
    torch.testing.assert_close(out, per_edge(x_gen, edge_index), atol=1e-10, rtol=1e-10)
    _assert_same_training(block, out, plain, reference(x_ref, edge_index), x, x_ref)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("sizes", [[40, 25, 31], [40, 3, 31]], ids=["every cloud >= k", "a cloud < k"])
def test_linear_block_dynamic_edge_conv_equals_pyg(sizes, training):
    k = 6
    graphs = [random_graph(n, 0, 4, seed=20 + i, dtype=torch.float64) for i, n in enumerate(sizes)]
    batch = Batch.from_graphs(graphs)
    block, plain = _block_and_copy(4, 7, seed=6)
    conv, reference = DynamicEdgeConv(block, k), PygEdgeConv(plain)
    plain.load_state_dict(block.state_dict())
    block.train(training)
    plain.train(training)
    x, x_ref = batch.x.clone().requires_grad_(True), batch.x.clone().requires_grad_(True)
    out = conv(x, batch=batch.batch)
    expected = reference(x_ref, _brute_knn_graph(batch.x, k, batch.batch))
    _assert_same_training(block, out, plain, expected, x, x_ref)


@pytest.mark.parametrize("grouped", [False, True], ids=["edges unsorted", "edges grouped by target"])
def test_linear_block_edge_conv_without_gradients_equals_pyg(grouped):
    # Without gradients the bags of sources become a padded [N, max in-degree] table (uneven in-degrees and
    # targets without edges here); edges already grouped by target skip the sort.
    graph = random_graph(30, 0, 5, seed=11, dtype=torch.float64)
    generator = torch.Generator().manual_seed(11)
    # 3 to 5 sources per target (padding stays under 2x, so the table is used), none for 3, 10, 17, 24
    targets = torch.tensor([t for t in range(30) if t % 7 != 3 for _ in range(3 + t % 3)])
    edge_index = torch.stack([torch.randint(0, 30, (targets.numel(),), generator=generator), targets])
    if not grouped:
        edge_index = edge_index[:, torch.randperm(targets.numel(), generator=generator)]
    block, plain = _block_and_copy(5, 6, seed=12)
    conv, reference = EdgeConv(block).eval(), PygEdgeConv(plain).eval()
    plain.load_state_dict(block.state_dict())
    with torch.no_grad():
        out = conv(graph.x, edge_index)
        expected = reference(graph.x, edge_index)
    assert torch.all(out[3] == 0) and out.abs().sum() > 0
    torch.testing.assert_close(out, expected, atol=1e-12, rtol=1e-12)
    assert torch.equal(out, conv(graph.x, edge_index))  # the embedding_bag path (gradients on), bit for bit


def test_linear_block_dynamic_edge_conv_without_gradients_equals_pyg():
    # Without gradients the maximum over the [N, k] neighbour table takes k row gathers instead of embedding_bag.
    k = 6
    batch = Batch.from_graphs([random_graph(n, 0, 4, seed=40 + i, dtype=torch.float64) for i, n in enumerate([40, 25])])
    block, plain = _block_and_copy(4, 7, seed=8)
    conv, reference = DynamicEdgeConv(block, k).eval(), PygEdgeConv(plain).eval()
    plain.load_state_dict(block.state_dict())
    with torch.no_grad():
        out = conv(batch.x, batch=batch.batch)
        expected = reference(batch.x, _brute_knn_graph(batch.x, k, batch.batch))
    torch.testing.assert_close(out, expected, atol=1e-12, rtol=1e-12)
    assert torch.equal(out, conv(batch.x, batch=batch.batch))  # the embedding_bag path, bit for bit


@pytest.mark.parametrize("training", [True, False])
def test_linear_block_dynamic_edge_conv_compiled_equals_pyg(training):
    """The static path that torch.compile traces (k slots per point, masked) on a cloud smaller than k."""
    k = 6
    batch = Batch.from_graphs([random_graph(n, 0, 3, seed=30 + i, dtype=torch.float64) for i, n in enumerate([20, 4])])
    block, plain = _block_and_copy(3, 5, seed=7)
    conv, reference = DynamicEdgeConv(block, k), PygEdgeConv(plain)
    plain.load_state_dict(block.state_dict())
    block.train(training)
    plain.train(training)
    torch._dynamo.reset()
    compiled = torch.compile(conv, backend="eager", fullgraph=True, dynamic=True)
    x, x_ref = batch.x.clone().requires_grad_(True), batch.x.clone().requires_grad_(True)
    out = compiled(x, batch=batch.batch)
    expected = reference(x_ref, _brute_knn_graph(batch.x, k, batch.batch))
    _assert_same_training(block, out, plain, expected, x, x_ref)


def test_linear_block_other_aggregations_and_errors():
    graph = random_graph(20, 60, 3, seed=8, dtype=torch.float64)
    block, plain = _block_and_copy(3, 4, seed=9)
    conv, reference = EdgeConv(block, aggr="mean"), PygEdgeConv(plain, aggr="mean")
    plain.load_state_dict(block.state_dict())
    torch.testing.assert_close(conv(graph.x, graph.edge_index), reference(graph.x, graph.edge_index))
    assert [type(layer) for layer in LinearEdgeBlock(3, 4)] == [nn.Linear, nn.BatchNorm1d, nn.LeakyReLU]
    with pytest.raises(ValueError, match="negative_slope must be >= 0"):
        LinearEdgeBlock(3, 4, negative_slope=-0.1)
