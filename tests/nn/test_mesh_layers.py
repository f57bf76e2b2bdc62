"""MeshConv, MeshPool and MeshUnpool layers."""

from __future__ import annotations

import pytest
import torch

from geoconv.data import Batch
from geoconv.data.mesh import NEIGHBORS, mesh_graph, read_mesh_graph
from geoconv.datasets.mesh_shapes import grid, icosphere, torus
from geoconv.nn import MeshConv, MeshPool, MeshUnpool

# many small tensor ops: one thread is much faster on a shared CPU
pytestmark = pytest.mark.usefixtures("single_thread")


def _meshes():
    return [mesh_graph(*icosphere(1)), mesh_graph(*torus(6, 4)), mesh_graph(*grid(3, 2))]


def _reference_meshcnn_conv(conv2d: torch.nn.Conv2d, x: torch.Tensor, neighbors: torch.Tensor) -> torch.Tensor:
    """MeshCNN's formulation: pad with a zero row, gather [e, a, b, c, d], symmetric functions, Conv2d (1, 5)."""
    num_edges = x.shape[0]
    gemm = torch.cat([torch.arange(num_edges).unsqueeze(1), neighbors], dim=1) + 1  # -1 -> padding row 0
    padded = torch.cat([torch.zeros(1, x.shape[1], dtype=x.dtype), x], dim=0)
    f = padded[gemm]  # [M, 5, C]
    stacked = torch.stack([f[:, 0], f[:, 1] + f[:, 3], f[:, 2] + f[:, 4], (f[:, 1] - f[:, 3]).abs(),
                           (f[:, 2] - f[:, 4]).abs()], dim=2)  # [M, C, 5]
    image = stacked.permute(1, 0, 2).unsqueeze(0)  # [1, C, M, 5]
    return conv2d(image).squeeze(0).squeeze(-1).t()


def test_mesh_conv_matches_meshcnn_formulation_with_copied_weights():
    torch.manual_seed(0)
    mesh = _meshes()[2]  # has boundary edges (-1 neighbours)
    x = torch.randn(mesh.num_edges, 5, dtype=torch.float64)
    conv2d = torch.nn.Conv2d(5, 7, kernel_size=(1, 5)).double()
    layer = MeshConv(5, 7).double()
    with torch.no_grad():
        layer.weight.copy_(conv2d.weight.squeeze(2))
        layer.bias.copy_(conv2d.bias)
    neighbors = getattr(mesh, NEIGHBORS)
    torch.testing.assert_close(layer(x, neighbors), _reference_meshcnn_conv(conv2d, x, neighbors))


def test_mesh_conv_invariant_to_face_swap_relabelling():
    torch.manual_seed(1)
    layer = MeshConv(4, 6).double()
    for mesh in _meshes():
        x = torch.randn(mesh.num_edges, 4, dtype=torch.float64)
        neighbors = getattr(mesh, NEIGHBORS)
        swapped = neighbors[:, [2, 3, 0, 1]]
        torch.testing.assert_close(layer(x, swapped), layer(x, neighbors), atol=1e-12, rtol=1e-12)
        # a different relabelling (a <-> b) is not a symmetry: the layer sees it
        assert not torch.allclose(layer(x, neighbors[:, [1, 0, 3, 2]]), layer(x, neighbors))


def test_mesh_conv_batch_with_different_edge_counts_equals_concatenation():
    torch.manual_seed(2)
    meshes = _meshes()
    batch = Batch.from_graphs(meshes)
    layer = MeshConv(5, 3).double()
    out = layer(batch.edge_attr, getattr(batch, NEIGHBORS))
    assert out.shape == (sum(m.num_edges for m in meshes), 3)
    expected = torch.cat([layer(m.edge_attr, getattr(m, NEIGHBORS)) for m in meshes])
    torch.testing.assert_close(out, expected)


def test_mesh_conv_gradcheck_and_errors():
    mesh = _meshes()[0]
    layer = MeshConv(2, 2).double()
    x = torch.randn(mesh.num_edges, 2, dtype=torch.float64, requires_grad=True)
    neighbors = getattr(mesh, NEIGHBORS)
    assert torch.autograd.gradcheck(lambda y: layer(y, neighbors), (x,), fast_mode=True)
    with pytest.raises(ValueError, match=r"x must have shape \[M, 2\]"):
        layer(x[:, :1], neighbors)
    with pytest.raises(ValueError, match=r"neighbors must be an int64 tensor of shape \[120, 4\]"):
        layer(x, neighbors[:, :3])
    with pytest.raises(ValueError, match=r"neighbors must hold edge indices in -1..119"):
        layer(x, neighbors + 200)


def test_pool_and_unpool_layers_on_a_batch():
    meshes = [mesh_graph(*icosphere(2)), mesh_graph(*torus(12, 8))]
    batch = Batch.from_graphs(meshes)
    pool, unpool = MeshPool(210), MeshUnpool()
    x = torch.randn(batch.num_edges, 8, dtype=torch.float64, requires_grad=True)
    result = pool(x, batch.edge_index, batch.face, batch.pos, node_ptr=batch.ptr, face_edge=batch.face_edges)
    assert result.x.shape == (2 * 210, 8) and result.edge_ptr.tolist() == [0, 210, 420]
    restored = unpool(result.x, result.assignment, result.num_input_edges)
    assert restored.shape == x.shape
    restored.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    with pytest.raises(ValueError, match=r"edge_index must have shape \[2, M\]"):
        pool(x, batch.edge_index.t(), batch.face, batch.pos)
    with pytest.raises(ValueError, match=r"assignment refers to pooled edge"):
        unpool(result.x[:10], result.assignment, result.num_input_edges)


@pytest.mark.parametrize("name", ["trimesh_models/bunny.ply.gz", "trimesh_models/fandisk.obj.gz", "shrec16_sample/T54.obj"])
def test_conv_invariance_and_pool_unpool_shapes_on_real_meshes(shared_data, name):
    mesh = read_mesh_graph(shared_data / "meshes" / name, dtype=torch.float64, repair=True)  # the bunny needs it
    neighbors = getattr(mesh, NEIGHBORS)
    layer = MeshConv(5, 4).double()
    torch.testing.assert_close(layer(mesh.edge_attr, neighbors[:, [2, 3, 0, 1]]), layer(mesh.edge_attr, neighbors))
    edges = mesh.num_edges
    target = edges // 2
    if not bool((neighbors[:, 2] < 0).any()):
        target += (edges - target) % 3
    result = MeshPool(target)(mesh.edge_attr, mesh.edge_index, mesh.face, mesh.pos, face_edge=mesh.face_edges)
    assert result.x.shape == (target, 5)
    assert MeshUnpool()(result.x, result.assignment, edges).shape == mesh.edge_attr.shape
