"""Edge-collapse pooling: exact targets, manifoldness, Euler characteristic, means, unpooling, batching, errors."""

from __future__ import annotations

import pytest
import torch

from geoconv.data.mesh_io import read_mesh
from geoconv.datasets.mesh_shapes import grid, icosphere, torus
from geoconv.ops.mesh import check_mesh, euler_characteristic, is_manifold, mesh_edge_features, mesh_topology, repair_mesh
from geoconv.ops.mesh_collapse import MeshPoolError, mesh_pool, mesh_unpool

# many small tensor ops: one thread is much faster on a shared CPU
pytestmark = pytest.mark.usefixtures("single_thread")


def _features(pos, face, channels=7, seed=0):
    topology = mesh_topology(face, pos.shape[0])
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(topology.edge_index.shape[1], channels, generator=generator, dtype=torch.float64)
    return topology, x


def _assert_pool_properties(pos, face, x, topology, target):
    result = mesh_pool(x, topology.edge_index, face, pos, target)
    # exact target count, manifold, same Euler characteristic
    assert result.topology.edge_index.shape[1] == target
    check_mesh(result.pos, result.face)
    assert is_manifold(result.face, result.pos.shape[0])
    assert euler_characteristic(result.face, result.pos.shape[0]) == euler_characteristic(face, pos.shape[0])
    # merged features are the means of the merged input edges (with multiplicity)
    out, inp = result.assignment
    # membership matrix S [target, M] (duplicates summed): pooled = S x / row sums
    members = torch.sparse_coo_tensor(result.assignment, torch.ones_like(out, dtype=x.dtype),
                                      (target, x.shape[0]), check_invariants=True).coalesce()
    sizes = torch.sparse.sum(members, 1).to_dense()
    torch.testing.assert_close(result.x, torch.sparse.mm(members, x) / sizes.unsqueeze(1))
    # every input edge is accounted for, every output edge has members
    assert torch.equal(torch.unique(inp), torch.arange(x.shape[0]))
    assert int(sizes.min()) >= 1
    # unpooling restores the resolution, and is the identity on edges that were never merged
    restored = mesh_unpool(result.x, result.assignment, x.shape[0])
    assert restored.shape == x.shape
    alone = torch.zeros(x.shape[0], dtype=torch.bool)
    alone[inp[sizes[out] == 1]] = True
    alone &= torch.bincount(inp, minlength=x.shape[0]) == 1
    assert int(alone.sum()) > 0
    torch.testing.assert_close(restored[alone], x[alone])
    return result


def test_pool_closed_sphere_and_torus():
    for pos, face, target in ((*icosphere(2), 240), (*torus(12, 8), 144), (*icosphere(2), 480 - 3)):
        topology, x = _features(pos, face)
        _assert_pool_properties(pos, face, x, topology, target)


def test_pool_open_grid_fixes_the_count_with_boundary_collapses():
    pos, face = grid(8, 8)
    topology, x = _features(pos, face)
    edges = topology.edge_index.shape[1]
    for target in (edges - 2, edges - 4, edges - 5, edges // 2, edges // 2 - 1):
        _assert_pool_properties(pos, face, x, topology, target)


def test_collapse_order_follows_feature_magnitude():
    pos, face = icosphere(2)
    topology, x = _features(pos, face, channels=1)
    result = mesh_pool(x, topology.edge_index, face, pos, 480 - 3)  # exactly one collapse
    out, inp = result.assignment
    counts = torch.bincount(inp, minlength=480)
    collapsed = int((counts == 2).nonzero()[0, 0])  # the collapsed edge is absorbed twice
    assert collapsed == int(x.pow(2).sum(1).argmin())


def test_batch_equals_meshes_pooled_one_by_one():
    from geoconv.data import Batch
    from geoconv.data.mesh import mesh_graph

    meshes = [mesh_graph(*icosphere(2)), mesh_graph(*torus(12, 8)), mesh_graph(*icosphere(1))]
    targets = 105
    batch = Batch.from_graphs(meshes)
    result = mesh_pool(batch.edge_attr, batch.edge_index, batch.face, batch.pos, targets, node_ptr=batch.ptr,
                       face_edge=batch.face_edges)
    assert result.edge_ptr.tolist() == [0, 105, 210, 315]
    offset_nodes = 0
    for g, mesh in enumerate(meshes):
        single = mesh_pool(mesh.edge_attr, mesh.edge_index, mesh.face, mesh.pos, targets)
        lo, hi = int(result.edge_ptr[g]), int(result.edge_ptr[g + 1])
        torch.testing.assert_close(result.x[lo:hi], single.x)
        node_lo, node_hi = int(result.node_ptr[g]), int(result.node_ptr[g + 1])
        torch.testing.assert_close(result.pos[node_lo:node_hi], single.pos)
        assert torch.equal(result.topology.edge_index[:, lo:hi] - node_lo, single.topology.edge_index)
        offset_nodes += mesh.num_nodes


def test_gradients_are_the_mean_weights():
    pos, face = torus(8, 6)
    topology, x = _features(pos, face, channels=3)
    x = x.requires_grad_(True)
    result = mesh_pool(x, topology.edge_index, face, pos, 144 - 30)
    result.x.sum().backward()
    out, inp = result.assignment
    sizes = torch.bincount(out, minlength=result.x.shape[0]).to(x.dtype)
    expected = torch.zeros(x.shape[0], dtype=x.dtype).index_add_(0, inp, 1.0 / sizes[out])
    torch.testing.assert_close(x.grad, expected.unsqueeze(1).expand_as(x))
    # fixed priority: the collapse pattern cannot change under the finite differences
    priority = x.detach().pow(2).sum(1)
    assert torch.autograd.gradcheck(lambda y: mesh_pool(y, topology.edge_index, face, pos, 144 - 30, priority=priority).x,
                                    (x.detach()[:, :1].clone().requires_grad_(True),), fast_mode=True)


@pytest.mark.parametrize(
    "mesh, target, message",
    [
        (lambda: icosphere(1), 100, r"closed with 120 edges: .* the target 100 is unreachable; use 99 or 102"),
        (lambda: icosphere(1), 130, r"has 120 edges, fewer than the target 130"),
        (lambda: grid(2, 2), 15, r"removing exactly one edge is impossible"),
        (lambda: (torch.eye(4, 3, dtype=torch.float64) + 0.1, torch.tensor([[0, 1, 2], [0, 3, 1], [1, 3, 2], [0, 2, 3]])),
         3, r"no collapsible interior edge is left"),
    ],
)
def test_unreachable_targets_raise(mesh, target, message):
    pos, face = mesh()
    topology, x = _features(pos, face)
    with pytest.raises(MeshPoolError, match=message):
        mesh_pool(x, topology.edge_index, face, pos, target)


def test_edge_list_must_match_the_faces():
    pos, face = icosphere(1)
    topology, x = _features(pos, face)
    with pytest.raises(MeshPoolError, match="missing from edge"):
        mesh_pool(x[1:], topology.edge_index[:, 1:], face, pos, 60)
    with pytest.raises(MeshPoolError, match="x has 119 rows but there are 120 edges"):
        mesh_pool(x[1:], topology.edge_index, face, pos, 60)


@pytest.mark.parametrize("name", ["trimesh_models/bunny.ply.gz", "trimesh_models/fandisk.obj.gz", "shrec16_sample/T54.obj"])
def test_real_meshes_pool_to_half(shared_data, name):
    pos, face = read_mesh(shared_data / "meshes" / name, dtype=torch.float64)
    pos, face, _ = repair_mesh(pos, face)
    topology = check_mesh(pos, face)
    x = mesh_edge_features(pos, topology.edge_points)
    edges = topology.edge_index.shape[1]
    target = edges // 2
    if not bool((topology.neighbor[:, 2] < 0).any()):
        target += (edges - target) % 3  # a closed mesh keeps a multiple of 3 edges
    _assert_pool_properties(pos, face, x, topology, target)
