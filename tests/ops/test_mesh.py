"""Mesh topology: MeshCNN's edge order and (a, b, c, d) neighbours, the 5 edge features, checks and repair."""

from __future__ import annotations

import math

import pytest
import torch

from geoconv.data.mesh_io import read_mesh
from geoconv.datasets.mesh_shapes import grid, icosphere, torus
from geoconv.ops.mesh import (
    MeshTopologyError, check_mesh, euler_characteristic, is_manifold, mesh_edge_features, mesh_topology, repair_mesh,
)

# many small tensor ops: one thread is much faster on a shared CPU
pytestmark = pytest.mark.usefixtures("single_thread")


# two triangles sharing the diagonal (0, 2) of the unit square, folded along it by z at vertex 3
SQUARE_POS = torch.tensor([[0.0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], dtype=torch.float64)
SQUARE_FACE = torch.tensor([[0, 1, 2], [0, 2, 3]])


def test_square_edges_neighbours_and_boundary():
    topology = mesh_topology(SQUARE_FACE, 4)
    # first appearance: face 0 gives (0,1) (1,2) (0,2); face 1 adds (2,3) (0,3)
    assert topology.edge_index.t().tolist() == [[0, 1], [1, 2], [0, 2], [2, 3], [0, 3]]
    # diagonal e=(0,2) is traversed 2 -> 0 by face 0 (u=2, v=0, w=1): a=(0,1), b=(1,2); second face x=3: c=(2,3), d=(3,0)
    assert topology.neighbor[2].tolist() == [0, 1, 3, 4]
    assert topology.edge_points[2].tolist() == [2, 0, 1, 3]
    assert topology.neighbor[0].tolist() == [1, 2, -1, -1]
    assert topology.edge_face.tolist() == [[0, -1], [0, -1], [0, 1], [1, -1], [1, -1]]
    assert topology.face_edge.tolist() == [[0, 1, 2], [2, 3, 4]]


def _check_neighbour_geometry(face, num_nodes):
    """a, b share the first face with e; c, d the second; a and d touch v, b and c touch u."""
    topology = mesh_topology(face, num_nodes)
    edge = topology.edge_index.t()
    u, v, w, x = topology.edge_points.unbind(1)
    a, b, c, d = topology.neighbor.unbind(1)

    def has(edge_ids, p, q):
        pair = edge[edge_ids]
        return ((pair[:, 0] == torch.minimum(p, q)) & (pair[:, 1] == torch.maximum(p, q))).all()

    assert has(a, v, w) and has(b, w, u)
    interior = c >= 0
    assert has(c[interior], u[interior], x[interior]) and has(d[interior], x[interior], v[interior])
    return topology


def test_neighbour_order_on_closed_and_open_meshes():
    for pos, face in (icosphere(1), torus(8, 5), grid(3, 2)):
        _check_neighbour_geometry(face, pos.shape[0])


def test_neighbours_do_not_depend_on_face_orientation():
    pos, face = icosphere(1)
    flipped = face.clone()
    flipped[1::2] = flipped[1::2][:, [0, 2, 1]]
    reference = mesh_topology(face, pos.shape[0])
    topology = _check_neighbour_geometry(flipped, pos.shape[0])

    def key_sets(top):
        keys = [tuple(e) for e in top.edge_index.t().tolist()]
        return {keys[i]: (frozenset(keys[j] for j in n[:2]), frozenset(keys[j] for j in n[2:]))
                for i, n in enumerate(top.neighbor.tolist())}

    assert key_sets(topology) == key_sets(reference)


def test_meshcnn_edge_order_on_real_mesh(shared_data):
    pos, face = read_mesh(shared_data / "meshes/shrec16_sample/T54.obj", dtype=torch.float64)
    topology = check_mesh(pos, face)
    assert topology.edge_index.shape == (2, 750)
    # reference: walk the faces in order as MeshCNN's build_gemm does
    order, seen = [], set()
    for f in face.tolist():
        for i in range(3):
            key = tuple(sorted((f[i], f[(i + 1) % 3])))
            if key not in seen:
                seen.add(key)
                order.append(list(key))
    assert topology.edge_index.t().tolist() == order
    # swapping the two faces of every edge maps (a, b, c, d) to (c, d, a, b)
    reversed_faces = torch.flip(face, dims=[0])
    swapped = mesh_topology(reversed_faces, pos.shape[0])
    lookup = {tuple(e): i for i, e in enumerate(swapped.edge_index.t().tolist())}
    to_swapped = torch.tensor([lookup[tuple(e)] for e in topology.edge_index.t().tolist()])
    mapped = to_swapped[topology.neighbor]
    assert torch.equal(swapped.neighbor[to_swapped], mapped[:, [2, 3, 0, 1]])


def _reference_features(pos, edge_points):
    """MeshCNN's formulas written out per edge in float64 Python."""
    out = []
    for u, v, w, x in edge_points.tolist():
        pu, pv, pw, px = (pos[i] for i in (u, v, w, x))
        n1 = torch.linalg.cross(pw - pu, pv - pu)
        n2 = torch.linalg.cross(px - pv, pu - pv)
        cos = float((n1 / n1.norm()) @ (n2 / n2.norm()))
        dihedral = math.pi - math.acos(max(-1.0, min(1.0, cos)))

        def angle(o, p, q):
            a, b = p - o, q - o
            return math.acos(max(-1.0, min(1.0, float(a @ b / (a.norm() * b.norm())))))

        def ratio(p, q, o):
            line = q - p
            t = float((o - p) @ line / (line @ line))
            return float((o - (p + t * line)).norm() / line.norm())

        angles = sorted([angle(pw, pu, pv), angle(px, pv, pu)])
        ratios = sorted([ratio(pu, pv, pw), ratio(pv, pu, px)])
        out.append([dihedral, *angles, *ratios])
    return torch.tensor(out, dtype=torch.float64)


def test_edge_features_match_formulas_and_known_values():
    pos = SQUARE_POS.clone()
    topology = mesh_topology(SQUARE_FACE, 4)
    features = mesh_edge_features(pos, topology.edge_points, features="exact")
    # flat: dihedral pi; right angles opposite the diagonal; height / length of the diagonal = 1/2
    torch.testing.assert_close(features[2], torch.tensor([math.pi, math.pi / 2, math.pi / 2, 0.5, 0.5], dtype=torch.float64))
    # boundary edge (0,1): its one face twice (as in MeshCNN the two normals then oppose: dihedral 0),
    # opposite angle 45 degrees, ratio 1
    torch.testing.assert_close(features[0], torch.tensor([0.0, math.pi / 4, math.pi / 4, 1.0, 1.0], dtype=torch.float64))
    pos[3, 2] = 1.0  # fold: the dihedral angle drops below pi
    assert mesh_edge_features(pos, topology.edge_points, features="exact")[2, 0] < math.pi - 0.1
    generator = torch.Generator().manual_seed(0)
    sphere_pos, sphere_face = icosphere(1)
    sphere_pos = sphere_pos + 0.05 * torch.randn(sphere_pos.shape, generator=generator, dtype=torch.float64)
    topology = mesh_topology(sphere_face, sphere_pos.shape[0])
    torch.testing.assert_close(mesh_edge_features(sphere_pos, topology.edge_points, features="exact"),
                               _reference_features(sphere_pos, topology.edge_points))


def test_edge_features_are_rotation_invariant_and_differentiable():
    pos, face = torus(6, 4)
    topology = mesh_topology(face, pos.shape[0])
    rotation = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64))[0]
    for features in ("exact", "released"):
        rotated = mesh_edge_features(pos @ rotation.t(), topology.edge_points, features=features)
        torch.testing.assert_close(rotated, mesh_edge_features(pos, topology.edge_points, features=features),
                                   atol=1e-9, rtol=1e-9)
    # generic positions: the sorted pairs have no ties there (sorting is not differentiable at ties)
    noise = 0.05 * torch.randn(pos.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    small = (pos + noise).requires_grad_(True)
    points = topology.edge_points[:20]
    assert torch.autograd.gradcheck(lambda p: mesh_edge_features(p, points, features="exact"), (small,))


def test_euler_characteristic_of_generated_shapes():
    assert euler_characteristic(icosphere(2)[1], 162) == 2
    assert euler_characteristic(torus(10, 6)[1], 60) == 0
    assert euler_characteristic(grid(3, 3)[1], 16) == 1


BOWTIE_POS = torch.tensor([[0.0, 0, 0], [1, 0, 0], [1, 1, 0], [-1, 0, 0], [-1, -1, 0]], dtype=torch.float64)


@pytest.mark.parametrize(
    "face, message",
    [
        ([[0, 1, 1]], r"face 0 = \[0, 1, 1\] is degenerate"),
        ([[0, 1, 2], [0, 1, 3], [1, 0, 4]], r"non-manifold edge \(0, 1\) is shared by 3 faces \[0, 1, 2\]"),
        ([[0, 1, 2], [0, 3, 4]], r"non-manifold vertex 0: its faces form 2 separate fans"),
        ([[0, 1, 7]], r"face 0 = \[0, 1, 7\] has a vertex index outside 0..4"),
    ],
)
def test_topology_errors_name_the_element(face, message):
    with pytest.raises(MeshTopologyError, match=message):
        mesh_topology(torch.tensor(face), 5)


def test_zero_area_face_and_repair():
    pos = torch.tensor([[0.0, 0, 0], [1, 0, 0], [2, 0, 0], [0, 1, 0]], dtype=torch.float64)
    with pytest.raises(MeshTopologyError, match=r"face 0 = \[0, 1, 2\] has zero area"):
        check_mesh(pos, torch.tensor([[0, 1, 2], [0, 1, 3]]))
    # degenerate + duplicate + third face on an edge + bowtie vertex: all fixed
    pos = torch.cat([BOWTIE_POS, torch.tensor([[0.5, -1.0, 0.0], [2.0, 2.0, 1.0]], dtype=torch.float64)])
    face = torch.tensor([[0, 1, 2], [2, 1, 0], [0, 3, 4], [0, 0, 1], [1, 0, 5], [0, 1, 6]])
    new_pos, new_face, kept = repair_mesh(pos, face)
    assert kept.tolist() == [True, False, True, False, True, False]
    check_mesh(new_pos, new_face)
    assert new_pos.shape[0] == pos.shape[0] + 1  # vertex 0 split in two
    assert is_manifold(new_face, new_pos.shape[0])


def test_real_meshes_are_manifold_after_repair(shared_data):
    for name, edges in (("trimesh_models/fandisk.obj.gz", 8625), ("shrec16_sample/T54.obj", 750)):
        pos, face = read_mesh(shared_data / "meshes" / name, dtype=torch.float64)
        assert check_mesh(pos, face).edge_index.shape[1] == edges
        assert euler_characteristic(face, pos.shape[0]) == 2
    pos, face = read_mesh(shared_data / "meshes/trimesh_models/bunny.ply.gz", dtype=torch.float64)
    with pytest.raises(MeshTopologyError, match="non-manifold edge"):
        check_mesh(pos, face)
    pos, face, kept = repair_mesh(pos, face)
    topology = check_mesh(pos, face)
    assert 24000 < topology.edge_index.shape[1] < 24400 and kept.sum() == face.shape[0]


# Two triangles folded along the edge u v: u = (0,0,0), v = (2,0,0), w = (0.5,1,0) in z = 0, x = (1.5,-1,1); times s.
# w and x do not sit above the edge's midpoint, so a ratio measured from the wrong end would show.
FOLD_POS = torch.tensor([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.5, 1.0, 0.0], [1.5, -1.0, 1.0]], dtype=torch.float64)
FOLD_FACE = torch.tensor([[0, 1, 2], [1, 0, 3]])


def _fold_edge(topology, a, b):
    return int(((topology.edge_index[0] == a) & (topology.edge_index[1] == b)).nonzero())


def _released_fold_values(s):
    """MeshCNN's released features (norms + 0.1) of the fold's interior edge and one boundary dihedral, by hand.

    Interior edge (u, v): normals c1 = (w-u) x (v-u) = (0,0,-2) s^2, c2 = (x-v) x (u-v) = (0,-2,-2) s^2, c1.c2 = 4 s^4;
    opposite angle at w: sides u-w = (-0.5,-1,0) s, v-w = (1.5,-1,0) s, dot 0.25 s^2; at x: v-x = (0.5,1,-1) s,
    u-x = (-1.5,1,-1) s, dot 1.25 s^2.  Ratios as MeshCNN's code, from v for w's face: line u-v = (-2s,0,0),
    (w-v) = (-1.5,1,0) s, projection t = 3 s^2 / (2 s + 0.1), foot (2s - t, 0, 0), d^2 = (t - 1.5 s)^2 + s^2; from u
    for x's face: line (2s,0,0), x-u = (1.5,-1,1) s, t the same, foot (t, 0, 0), d^2 = (1.5 s - t)^2 + 2 s^2.
    Boundary edge (w, u): one face twice, opposite normals of norm 2 s^2 (twice the area s^2).
    """
    e = 0.1
    dihedral = math.pi - math.acos(4 * s**4 / ((2 * s**2 + e) * (2 * math.sqrt(2) * s**2 + e)))
    angle_w = math.acos(0.25 * s**2 / ((math.sqrt(1.25) * s + e) * (math.sqrt(3.25) * s + e)))
    angle_x = math.acos(1.25 * s**2 / ((1.5 * s + e) * (math.sqrt(4.25) * s + e)))
    t = 3 * s**2 / (2 * s + e)
    ratio_w = math.sqrt((t - 1.5 * s) ** 2 + s**2) / (2 * s)
    ratio_x = math.sqrt((1.5 * s - t) ** 2 + 2 * s**2) / (2 * s)
    boundary_dihedral = math.pi - math.acos(-((2 * s**2 / (2 * s**2 + e)) ** 2))
    return [dihedral, *sorted([angle_w, angle_x]), *sorted([ratio_w, ratio_x])], boundary_dihedral


# The exact values (any scale): dihedral 3 pi / 4 (faces at 45 degrees), the opposite angles from the same dot
# products without the 0.1, heights 1 and sqrt(2) over the edge length 2.
FOLD_EXACT = [3 * math.pi / 4,
              *sorted([math.acos(0.25 / math.sqrt(1.25 * 3.25)), math.acos(1.25 / (1.5 * math.sqrt(4.25)))]),
              0.5, math.sqrt(2) / 2]


@pytest.mark.parametrize("scale", [1.0, 100.0])
def test_edge_features_released_and_exact_by_hand_at_two_scales(scale):
    pos = FOLD_POS * scale
    topology = mesh_topology(FOLD_FACE, 4)
    interior, boundary = _fold_edge(topology, 0, 1), _fold_edge(topology, 0, 2)
    assert topology.edge_points[interior].tolist() == [0, 1, 2, 3]
    released = mesh_edge_features(pos, topology.edge_points, features="released")
    exact = mesh_edge_features(pos, topology.edge_points, features="exact")
    expected, boundary_dihedral = _released_fold_values(scale)
    torch.testing.assert_close(released[interior], torch.tensor(expected, dtype=torch.float64), atol=1e-12, rtol=0)
    torch.testing.assert_close(released[boundary, 0], torch.tensor(boundary_dihedral, dtype=torch.float64),
                               atol=1e-12, rtol=0)
    torch.testing.assert_close(exact[interior], torch.tensor(FOLD_EXACT, dtype=torch.float64), atol=1e-12, rtol=0)
    torch.testing.assert_close(exact[boundary, 0], torch.tensor(0.0, dtype=torch.float64), atol=1e-7, rtol=0)
    # released is the default of the op
    assert torch.equal(mesh_edge_features(pos, topology.edge_points), released)


def test_released_features_depend_on_scale_and_exact_ones_do_not():
    topology = mesh_topology(FOLD_FACE, 4)
    unit, large = (mesh_edge_features(FOLD_POS * s, topology.edge_points, features="released") for s in (1.0, 100.0))
    exact_unit, exact_large = (mesh_edge_features(FOLD_POS * s, topology.edge_points, features="exact")
                               for s in (1.0, 100.0))
    torch.testing.assert_close(exact_unit, exact_large, atol=1e-12, rtol=0)
    # At unit scale the 0.1 moves the fold's dihedral angle by ~0.077 rad (the boundary edges' by ~0.43); at 100x
    # by ~1e-5: the released features approach the geometry on large meshes but never equal it.
    interior = _fold_edge(topology, 0, 1)
    assert (unit - exact_unit).abs().max() > 0.4 and (unit[interior, 0] - exact_unit[interior, 0]).abs() > 0.05
    assert 1e-6 < (large[interior, 0] - exact_large[interior, 0]).abs() < 1e-4


def test_edge_features_option_is_checked():
    topology = mesh_topology(FOLD_FACE, 4)
    with pytest.raises(ValueError, match=r"features must be one of \('released', 'exact'\), got 'meshcnn'"):
        mesh_edge_features(FOLD_POS, topology.edge_points, features="meshcnn")
