"""MeshCNN classifier and segmentation U-Net."""

from __future__ import annotations

import pytest
import torch

from geoconv.data import Batch
from geoconv.data.mesh import mesh_graph
from geoconv.datasets.mesh_shapes import icosphere, torus
from geoconv.models import MeshCNNClassifier, MeshCNNSegmenter
from geoconv.models.meshcnn import MeshLevel

# many small tensor ops: one thread is much faster on a shared CPU
pytestmark = pytest.mark.usefixtures("single_thread")


def _meshes():
    # 480 and 384 edges: different sizes in one batch
    return [mesh_graph(*icosphere(2), y=0), mesh_graph(*torus(16, 8), y=1)]


def test_classifier_batch_equals_meshes_one_by_one_and_trains():
    torch.manual_seed(0)
    meshes = _meshes()
    model = MeshCNNClassifier(5, (16, 32), 3, pool_targets=(300, 240), head_channels=20, norm="group", groups=4)
    model = model.double().eval()
    batch = Batch.from_graphs(meshes)
    out = model(batch)
    assert out.shape == (2, 3)
    torch.testing.assert_close(out, torch.cat([model(Batch.from_graphs([m])) for m in meshes]))
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(15):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(batch), batch.y)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0]


def test_segmenter_gives_one_prediction_per_input_edge():
    torch.manual_seed(0)
    meshes = _meshes()
    batch = Batch.from_graphs(meshes)
    model = MeshCNNSegmenter(5, (8, 16, 16), 4, pool_targets=(300, 210), norm="group", groups=4).double()
    out = model(batch)
    assert out.shape == (batch.num_edges, 4)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()
    torch.testing.assert_close(model(batch)[:480], model(Batch.from_graphs(meshes[:1])))


def test_configuration_errors():
    with pytest.raises(ValueError, match="2 blocks need as many pool_targets, got 1"):
        MeshCNNClassifier(5, (16, 32), 3, pool_targets=(300,))
    with pytest.raises(ValueError, match=r"num_layers=3 but hidden_channels lists 2 widths"):
        MeshCNNClassifier(5, (16, 32), 3, 3, pool_targets=(300, 200, 100))
    with pytest.raises(ValueError, match="pool_targets needs 1 entries"):
        MeshCNNSegmenter(5, (8, 16), 3, pool_targets=(300, 200))
    with pytest.raises(ValueError, match="has no 'edge_neighbors'"):
        MeshCNNClassifier(5, (16,), 3, pool_targets=(300,))(Batch.from_graphs([torch_graph()]))


def torch_graph():
    from geoconv.data import Graph

    pos, face = icosphere(1)
    return Graph(pos=pos, face=face, edge_index=torch.zeros(2, 0, dtype=torch.long))


def _dense_mesh_conv(conv, x: torch.Tensor, neighbors: torch.Tensor) -> torch.Tensor:
    """MeshCNN's convolution edge by edge: sum_k W_k f_k + b with
    f = (x_e, x_a + x_c, x_b + x_d, |x_a - x_c|, |x_b - x_d|), a missing neighbour being 0."""
    rows = []
    for e in range(x.shape[0]):
        a, b, c, d = (x[n] if n >= 0 else torch.zeros_like(x[e]) for n in neighbors[e].tolist())
        features = [x[e], a + c, b + d, (a - c).abs(), (b - d).abs()]
        out = sum(conv.weight[:, :, k] @ f for k, f in enumerate(features))
        rows.append(out + conv.bias)
    return torch.stack(rows)


def _dense_batch_norm(norm, x: torch.Tensor) -> torch.Tensor:
    return (x - norm.running_mean) / torch.sqrt(norm.running_var + norm.eps) * norm.weight + norm.bias


def _dense_residual(block, x: torch.Tensor, neighbors: torch.Tensor) -> torch.Tensor:
    for conv, norm in zip(block.convs, block.norms):
        x = torch.relu(x + _dense_batch_norm(norm, _dense_mesh_conv(conv, x, neighbors)))
    return x


def _dense_unpool(x: torch.Tensor, assignment: torch.Tensor, num_edges: int) -> torch.Tensor:
    """Every input edge gets the mean of the pooled edges that absorbed it."""
    rows = []
    for i in range(num_edges):
        sources = assignment[0, assignment[1] == i]
        rows.append(x[sources].mean(0))
    return torch.stack(rows)


def _dense_segmenter(model: MeshCNNSegmenter, mesh) -> torch.Tensor:
    """The U-Net of MeshCNN's segmentation (norm 'none', eval mode) written out level by level.
    Pooling itself (tested in tests/ops/test_mesh_collapse.py) is taken from the library."""
    level = MeshLevel.from_graph(mesh)
    x, skips = mesh.edge_attr, []
    for i in range(len(model.down_convs)):
        x = torch.relu(_dense_mesh_conv(model.down_convs[i], x, level.neighbors))
        x = _dense_residual(model.down_blocks[i], x, level.neighbors)
        if i < len(model.pools):
            skips.append((x, level))
            x, level, result = level.pool(model.pools[i], x)
            skips[-1] += (result,)
    for i in range(len(model.up_convs)):
        before, before_level, result = skips.pop()
        x = _dense_mesh_conv(model.up_convs[i], x, level.neighbors)
        x = _dense_unpool(x, result.assignment, result.num_input_edges)
        level = before_level
        x = torch.relu(_dense_mesh_conv(model.merge_convs[i], torch.cat([x, before], dim=1), level.neighbors))
        x = _dense_residual(model.up_blocks[i], x, level.neighbors)
    return _dense_mesh_conv(model.final, x, level.neighbors)


def test_segmenter_matches_dense_reference():
    torch.manual_seed(0)
    pos, face = torus(12, 6)  # 216 edges
    # Jittered: on the symmetric torus many edges tie in norm, and rounding would decide what pools.
    pos = pos + 0.02 * torch.randn(pos.shape, generator=torch.Generator().manual_seed(1), dtype=pos.dtype)
    mesh = mesh_graph(pos, face)
    model = MeshCNNSegmenter(5, (6, 8, 8), 3, pool_targets=(180, 150), norm="none").double().eval()
    with torch.no_grad():  # non-trivial batch-norm statistics in the residual blocks
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    with torch.no_grad():
        expected = _dense_segmenter(model, Batch.from_graphs([mesh]))
        out = model(Batch.from_graphs([mesh]))
    assert expected.std(0).min().item() > 1e-3  # the reference varies over the edges
    torch.testing.assert_close(out, expected, atol=1e-10, rtol=1e-10)


def test_segmenter_learns_inner_and_outer_half_of_a_torus():
    # Edges on the inside of the tube (closer to the axis than the tube's centre circle) have
    # negative Gaussian curvature, those outside positive: a per-edge task the U-Net must learn.
    torch.manual_seed(0)
    mesh = mesh_graph(*torus(16, 8))
    midpoint = mesh.pos[mesh.edge_index].mean(0)
    label = (midpoint[:, :2].norm(dim=1) < 1.0).long()
    assert 0.3 < label.float().mean().item() < 0.7
    batch = Batch.from_graphs([mesh])
    model = MeshCNNSegmenter(5, (8, 16), 2, pool_targets=(300,), norm="group", groups=4).double()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(40):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(batch), label).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(batch).argmax(1) == label).double().mean().item()
    assert accuracy >= 0.95
