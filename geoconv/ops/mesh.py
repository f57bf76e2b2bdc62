r"""Triangle-mesh topology for MeshCNN (Hanocka et al., "MeshCNN: A Network with an Edge", SIGGRAPH 2019).

A triangle mesh is vertices ``pos [V, 3]`` and faces ``face [F, 3]``.  Its
``M`` undirected edges are listed in order of first appearance when the faces
are walked in order (face ``f``'s edges are ``(f_0, f_1), (f_1, f_2), (f_2, f_0)``),
each stored with its smaller vertex first: exactly MeshCNN's edge order, so its
per-edge segmentation labels line up.

For an edge ``e = (u, v)`` as traversed by its first face ``(u, v, w)`` and with
second face holding the opposite vertex ``x``, the four one-ring neighbours
are, as in MeshCNN,

.. math::
    (a, b, c, d) = ((v, w), (w, u), (u, x), (x, v))

so that ``a`` and ``c`` (and ``b`` and ``d``) sit across ``e`` from each other
and swapping the two faces maps ``(a, b, c, d)`` to ``(c, d, a, b)``.  The
order of ``c, d`` is taken from the vertices (``c`` touches ``u``), so a face
with the opposite orientation still gives the same neighbours.  Boundary
edges have ``c = d = -1``.

Everything is vectorised torch (sort/unique/scatter), device-agnostic, with no
Python loop over faces or edges.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

__all__ = [
    "MeshFormatError", "MeshTopologyError", "MeshRepairWarning", "MeshTopology", "mesh_topology", "mesh_edge_features", "check_mesh",
    "repair_mesh", "check_finite_positions", "face_areas", "euler_characteristic", "is_manifold", "edge_keys", "MESH_FEATURES",
]

NUM_EDGE_FEATURES = 5
# How mesh_edge_features normalises: as MeshCNN's released code (norm + 0.1) or exactly.
MESH_FEATURES = ("released", "exact")
RELEASED_EPSILON = 0.1


class MeshFormatError(ValueError):
    """A mesh (or mesh file) is not a valid triangle mesh; the message names the file and line, or the
    face, edge or vertex at fault.  Re-exported by :mod:`geoconv.data.mesh_io`, whose readers raise it."""


class MeshTopologyError(MeshFormatError):
    """The mesh is not a manifold triangle mesh (or has degenerate faces); names the edge, face or vertex."""


class MeshRepairWarning(UserWarning):
    """:func:`repair_mesh` was asked for and changed the mesh; the message says how many faces were
    dropped and how many vertices were split."""


class MeshTopology(NamedTuple):
    """Edge structure of a triangle mesh (see the module docstring for the conventions).

    Fields:
        edge_index: ``[2, M]`` int64 each undirected edge once, smaller vertex first (row 0),
            in MeshCNN's first-appearance order.
        neighbor: ``[M, 4]`` int64 one-ring neighbour edges ``(a, b, c, d)``; -1 where missing (boundary).
        edge_face: ``[M, 2]`` int64 first and second face of each edge; -1 for a boundary edge.
        edge_points: ``[M, 4]`` int64 vertices ``(u, v, w, x)``: ``e`` traversed ``u -> v`` by its
            first face, ``w`` opposite in the first face, ``x`` in the second (``x = w`` on the boundary).
        face_edge: ``[F, 3]`` int64 the edge of each face side ``(f_0, f_1), (f_1, f_2), (f_2, f_0)``.
    """

    edge_index: Tensor
    neighbor: Tensor
    edge_face: Tensor
    edge_points: Tensor
    face_edge: Tensor


def edge_keys(src: Tensor, dst: Tensor, num_nodes: int) -> Tensor:
    """``min * num_nodes + max``: one int64 key per undirected edge."""
    return torch.minimum(src, dst) * num_nodes + torch.maximum(src, dst)


def _check_face(face: Tensor, num_nodes: int) -> None:
    if face.dtype != torch.long:
        raise MeshTopologyError(f"face must have dtype torch.int64, got {face.dtype}")
    if face.dim() != 2 or face.shape[1] != 3:
        raise MeshTopologyError(f"face must have shape [F, 3] (triangles), got {list(face.shape)}")
    if face.numel():
        low, high = int(face.min()), int(face.max())
        if low < 0 or high >= num_nodes:
            bad = int(((face < 0) | (face >= num_nodes)).any(1).nonzero()[0, 0])
            raise MeshTopologyError(
                f"face {bad} = {face[bad].tolist()} has a vertex index outside 0..{num_nodes - 1}"
            )


def mesh_topology(face: Tensor, num_nodes: int, *, check: bool = True) -> MeshTopology:
    """Edges, one-ring neighbour edges and incident faces of a triangle mesh.

    Args:
        face: ``[F, 3]`` int64 triangles.
        num_nodes: ``V``, the number of vertices.
        check: raise :class:`MeshTopologyError` for faces with a repeated vertex,
            edges shared by more than two faces and non-manifold vertices (two
            fans of faces meeting at one vertex), naming the offending element.
            :func:`repair_mesh` fixes all three.

    Shapes:
        see :class:`MeshTopology`; ``M`` edges.
    """
    _check_face(face, num_nodes)
    device = face.device
    num_faces = face.shape[0]
    if check and num_faces:
        repeated = (face[:, 0] == face[:, 1]) | (face[:, 1] == face[:, 2]) | (face[:, 2] == face[:, 0])
        if bool(repeated.any()):
            bad = int(repeated.nonzero()[0, 0])
            raise MeshTopologyError(f"face {bad} = {face[bad].tolist()} is degenerate (a repeated vertex); use repair_mesh")
    src = face.reshape(-1)
    dst = face[:, [1, 2, 0]].reshape(-1)
    half = torch.arange(3 * num_faces, device=device)
    keys = edge_keys(src, dst, num_nodes)
    unique_keys, inverse, counts = torch.unique(keys, return_inverse=True, return_counts=True)
    num_edges = unique_keys.numel()
    if check and num_edges and int(counts.max()) > 2:
        bad = int((counts > 2).nonzero()[0, 0])
        faces_of_bad = torch.unique(half[inverse == bad] // 3).tolist()
        u, v = divmod(int(unique_keys[bad]), num_nodes)
        raise MeshTopologyError(
            f"non-manifold edge ({u}, {v}) is shared by {int(counts[bad])} faces {faces_of_bad}; use repair_mesh"
        )
    topology = _topology_from_half_edges(face, inverse, num_edges)
    if check and num_faces:
        first, last = _first_last(inverse, num_edges)
        _check_vertex_fans(face, src, half, first, last, first != last, num_nodes)
    return topology


def _first_last(edge_of_half: Tensor, num_edges: int) -> tuple[Tensor, Tensor]:
    half = torch.arange(edge_of_half.numel(), device=edge_of_half.device)
    first = torch.full((num_edges,), edge_of_half.numel(), dtype=torch.long, device=half.device)
    first = first.scatter_reduce(0, edge_of_half, half, "amin", include_self=True)
    last = torch.full_like(first, -1).scatter_reduce(0, edge_of_half, half, "amax", include_self=True)
    return first, last


def _topology_from_half_edges(face: Tensor, edge_of_half: Tensor, num_edges: int) -> MeshTopology:
    """:class:`MeshTopology` from any labelling ``edge_of_half [3F]`` of the undirected edges (no checks)."""
    device = face.device
    num_faces = face.shape[0]
    src = face.reshape(-1)
    dst = face[:, [1, 2, 0]].reshape(-1)
    inverse = edge_of_half
    # First and last half-edge of every edge; first appearance fixes the edge order.
    first, last = _first_last(inverse, num_edges)
    order = torch.argsort(first)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(num_edges, device=device)
    edge_of_half = rank[inverse]
    h1, h2 = first[order], last[order]
    interior = h1 != h2

    next_of, prev_of = _next_prev(num_faces, device)

    def next_half(h: Tensor) -> Tensor:
        return next_of[h]

    def prev_half(h: Tensor) -> Tensor:
        return prev_of[h]

    u, v = src[h1], dst[h1]
    edge_index = torch.stack([torch.minimum(u, v), torch.maximum(u, v)], dim=0)
    a, b = edge_of_half[next_half(h1)], edge_of_half[prev_half(h1)]
    # c must touch u: for a consistently oriented second face (v -> u) that is next(h2).
    flipped = src[h2] == u
    c_half = torch.where(flipped, prev_half(h2), next_half(h2))
    d_half = torch.where(flipped, next_half(h2), prev_half(h2))
    minus = torch.full_like(a, -1)
    c = torch.where(interior, edge_of_half[c_half], minus)
    d = torch.where(interior, edge_of_half[d_half], minus)
    neighbor = torch.stack([a, b, c, d], dim=1)
    edge_face = torch.stack([h1 // 3, torch.where(interior, h2 // 3, minus)], dim=1)
    w = src[prev_half(h1)]
    x = torch.where(interior, src[prev_half(h2)], w)
    edge_points = torch.stack([u, v, w, x], dim=1)
    face_edge = edge_of_half.view(num_faces, 3)
    return MeshTopology(edge_index, neighbor, edge_face, edge_points, face_edge)


def _next_prev(num_faces: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """Half-edge ``3 f + i`` -> ``3 f + (i + 1) % 3`` and ``3 f + (i + 2) % 3`` (gathers beat integer modulo)."""
    base = torch.arange(num_faces, device=device).mul_(3).unsqueeze(1)
    return ((base + torch.tensor([1, 2, 0], device=device)).view(-1),
            (base + torch.tensor([2, 0, 1], device=device)).view(-1))


def _corner_components(src: Tensor, half: Tensor, h1: Tensor, h2: Tensor, interior: Tensor) -> Tensor:
    """Label of the fan of faces each corner belongs to (corner = half-edge, at its source vertex).

    Two corners of one vertex in the two faces of an interior edge are joined;
    the connected components (found by min-label propagation with pointer
    jumping) are the fans.
    """

    next_half = _next_prev(half.numel() // 3, half.device)[0].__getitem__
    g1, g2 = h1[interior], h2[interior]
    u = src[g1]
    same = src[g2] == u
    # corner of u in the second face, corner of v (= source of next(h1)) in both faces
    corner_u2 = torch.where(same, g2, next_half(g2))
    corner_v2 = torch.where(same, next_half(g2), g2)
    left = torch.cat([g1, next_half(g1)])
    right = torch.cat([corner_u2, corner_v2])
    label = half.clone()
    while True:
        low = torch.minimum(label[left], label[right])
        new = label.scatter_reduce(0, left, low, "amin").scatter_reduce(0, right, low, "amin")
        new = new[new]  # pointer jumping
        if torch.equal(new, label):
            return label
        label = new


def _check_vertex_fans(face, src, half, h1, h2, interior, num_nodes) -> None:
    label = _corner_components(src, half, h1, h2, interior)
    pairs = torch.unique(src * (3 * face.shape[0]) + label)
    vertex = pairs // (3 * face.shape[0])
    fans = torch.bincount(vertex, minlength=num_nodes)
    if int(fans.max()) > 1:
        bad = int((fans > 1).nonzero()[0, 0])
        raise MeshTopologyError(
            f"non-manifold vertex {bad}: its faces form {int(fans[bad])} separate fans; use repair_mesh"
        )


def face_areas(pos: Tensor, face: Tensor) -> Tensor:
    """Triangle areas ``[F]``: half the norm of ``(p_1 - p_0) x (p_2 - p_0)``."""
    p0, p1, p2 = pos[face[:, 0]], pos[face[:, 1]], pos[face[:, 2]]
    return 0.5 * torch.linalg.norm(torch.cross(p1 - p0, p2 - p0, dim=1), dim=1)


def _degenerate_faces(pos: Tensor, face: Tensor, rtol: float) -> Tensor:
    repeated = (face[:, 0] == face[:, 1]) | (face[:, 1] == face[:, 2]) | (face[:, 2] == face[:, 0])
    if face.shape[0] == 0:
        return repeated
    scale = (pos.max(0).values - pos.min(0).values).norm() if pos.shape[0] else pos.new_tensor(0.0)
    return repeated | (face_areas(pos, face) <= rtol * scale * scale)


def check_finite_positions(pos: Tensor, where: str = "mesh") -> None:
    """Raise :class:`MeshFormatError` naming the first vertex with a NaN or infinite coordinate
    (its edge features and areas would be NaN; nothing downstream can give a meaningful result)."""
    if not pos.is_floating_point() or pos.numel() == 0:
        return
    bad = ~torch.isfinite(pos).reshape(pos.shape[0], -1).all(dim=1)
    if bool(bad.any()):
        first = int(bad.nonzero()[0, 0])
        raise MeshFormatError(
            f"{where}: vertex {first} has non-finite coordinates {pos[first].tolist()} "
            f"({int(bad.sum())} of {pos.shape[0]} vertices are not finite)"
        )


def check_mesh(pos: Tensor, face: Tensor, *, area_rtol: float = 1e-12) -> MeshTopology:
    """:func:`mesh_topology` with checks, plus zero-area faces (area <= ``area_rtol`` x bounding-box diagonal²).

    Raises:
        MeshTopologyError: naming the degenerate face, non-manifold edge or vertex.
        MeshFormatError: a vertex with a non-finite coordinate.
    """
    if pos.dim() != 2 or pos.shape[1] != 3 or not pos.is_floating_point():
        raise MeshTopologyError(f"pos must be a floating [V, 3] tensor, got {pos.dtype} {list(pos.shape)}")
    check_finite_positions(pos, "check_mesh")
    _check_face(face, pos.shape[0])
    topology = mesh_topology(face, pos.shape[0], check=True)
    degenerate = _degenerate_faces(pos, face, area_rtol)
    if bool(degenerate.any()):
        bad = int(degenerate.nonzero()[0, 0])
        raise MeshTopologyError(f"face {bad} = {face[bad].tolist()} has zero area; use repair_mesh")
    return topology


def repair_mesh(pos: Tensor, face: Tensor, *, area_rtol: float = 1e-12) -> tuple[Tensor, Tensor, Tensor]:
    """Make a mesh acceptable to :func:`check_mesh`.

    1. drops degenerate faces (a repeated vertex or zero area) and exact duplicates;
    2. for an edge shared by more than two faces, keeps its first two faces (in
       face order) and drops the others (MeshCNN's ``remove_non_manifolds`` drops
       the later faces too);
    3. splits every non-manifold vertex: each extra fan of faces gets its own
       copy of the vertex (appended after the existing vertices).

    Returns:
        ``(pos [V', 3], face [F', 3], kept [F] bool)``: ``kept`` marks the input faces
        that survive (their order is kept).
    """
    _check_face(face, pos.shape[0])
    num_nodes = pos.shape[0]
    device = face.device
    kept = ~_degenerate_faces(pos, face, area_rtol)
    # duplicates: same vertex set
    sorted_face = face.sort(dim=1).values
    face_key = (sorted_face[:, 0] * num_nodes + sorted_face[:, 1]) * num_nodes + sorted_face[:, 2]
    index = torch.arange(face.shape[0], device=device)
    candidates = index[kept]
    _, inverse = torch.unique(face_key[candidates], return_inverse=True)
    first = torch.full((int(inverse.max()) + 1 if inverse.numel() else 0,), face.shape[0], device=device)
    first = first.scatter_reduce(0, inverse, candidates, "amin")
    kept[candidates[first[inverse] != candidates]] = False
    # edges with more than two faces: keep the first two
    candidates = index[kept]
    sub = face[candidates]
    keys = edge_keys(sub.reshape(-1), sub[:, [1, 2, 0]].reshape(-1), num_nodes)
    sorted_keys, order = torch.sort(keys, stable=True)
    start = torch.ones_like(sorted_keys, dtype=torch.bool)
    start[1:] = sorted_keys[1:] != sorted_keys[:-1]
    group_start = torch.cummax(torch.where(start, torch.arange(keys.numel(), device=device), 0), 0).values
    position = torch.arange(keys.numel(), device=device) - group_start
    too_many = torch.zeros(keys.numel(), dtype=torch.bool, device=device)
    too_many[order] = position >= 2
    kept[candidates[too_many.view(-1, 3).any(1)]] = False
    new_face = face[kept]
    # split non-manifold vertices, one copy per extra fan
    num_faces = new_face.shape[0]
    src = new_face.reshape(-1)
    half = torch.arange(3 * num_faces, device=device)
    h1, h2, interior = _edge_half_edges(new_face, num_nodes)
    label = _corner_components(src, half, h1, h2, interior)
    fan_keys, fan_of_corner = torch.unique(src * (3 * num_faces) + label, return_inverse=True)
    fan_vertex = fan_keys // (3 * num_faces)
    is_first = torch.ones_like(fan_vertex, dtype=torch.bool)
    is_first[1:] = fan_vertex[1:] != fan_vertex[:-1]
    new_id = fan_vertex.clone()
    extra = (~is_first).nonzero().view(-1)
    new_id[extra] = num_nodes + torch.arange(extra.numel(), device=device)
    new_pos = torch.cat([pos, pos[fan_vertex[extra]]], dim=0)
    new_face = new_id[fan_of_corner].view(-1, 3) if num_faces else new_face
    return new_pos, new_face, kept


def _edge_half_edges(face: Tensor, num_nodes: int) -> tuple[Tensor, Tensor, Tensor]:
    """First and last half-edge of every edge (sorted-key order) and the interior mask."""
    half = torch.arange(face.numel(), device=face.device)
    keys = edge_keys(face.reshape(-1), face[:, [1, 2, 0]].reshape(-1), num_nodes)
    _, inverse = torch.unique(keys, return_inverse=True)
    size = int(inverse.max()) + 1 if inverse.numel() else 0
    first = torch.full((size,), face.numel(), dtype=torch.long, device=face.device)
    first = first.scatter_reduce(0, inverse, half, "amin")
    last = torch.full((size,), -1, dtype=torch.long, device=face.device).scatter_reduce(0, inverse, half, "amax")
    return first, last, first != last


def mesh_edge_features(pos: Tensor, edge_points: Tensor, *, features: str = "released") -> Tensor:
    r"""MeshCNN's five input features per edge, ``[M, 5]``, as its released code or exactly.

    With ``(u, v, w, x)`` = ``edge_points`` (see :class:`MeshTopology`), the faces
    ``(u, v, w)`` and ``(v, u, x)`` of the edge ``(u, v)``:

    * dihedral angle :math:`\pi - \arccos(n_1 \cdot n_2)` with the face normals
      :math:`n_1 \propto (w - u) \times (v - u)`, :math:`n_2 \propto (x - v) \times (u - v)`
      (:math:`\pi` for a flat pair of faces);
    * the two inner angles opposite the edge (at ``w`` and at ``x``), sorted ascending;
    * the two ratios height / edge length of the two faces, sorted ascending.

    ``features`` chooses how vectors are normalised:

    * ``"released"`` (default): as MeshCNN's released code (``fixed_division`` in
      ``models/layers/mesh_prepare.py``), which divides by :math:`\lVert a \rVert + \epsilon`,
      :math:`\epsilon = 0.1`, wherever it normalises: the normals
      :math:`n_i = c_i / (\lVert c_i \rVert + \epsilon)`; the two sides :math:`a, b` of the
      opposite angle, :math:`\arccos\big(\tfrac{a}{\lVert a\rVert + \epsilon} \cdot
      \tfrac{b}{\lVert b\rVert + \epsilon}\big)`; and the projection onto the edge in the
      ratio: with :math:`\ell = q - p`, :math:`L = \lVert \ell \rVert`,
      :math:`t = \ell \cdot (o - p) / (L + \epsilon)`, the "foot"
      :math:`f = p + (t / L)\, \ell` and the ratio :math:`\lVert o - f \rVert / L`, measured from
      ``p = v`` for the face ``(u, v, w)`` (``q = u``, ``o = w``) and from ``p = u`` for the other
      (``q = v``, ``o = x``): MeshCNN's edge points are ``(v, u, w, x)`` in this order, and with the
      0.1 the foot depends on the end it is measured from.
      Cosines are clipped to ``[-1, 1]`` before ``arccos``.  These are the features the
      published MeshCNN accuracies were obtained with.  They depend on the mesh's scale:
      at unit scale they differ from the exact values by a large amount (a flat pair of
      unit faces gets a dihedral angle of :math:`\pi - \arccos(1/1.21) \approx 2.54`, not
      :math:`\pi`); for meshes much larger than 0.1 they approach the exact ones.
    * ``"exact"``: the geometric quantities, scale-invariant (angles through ``atan2``,
      accurate and differentiable near 0 and :math:`\pi`; the height is the distance
      from ``o`` to the line through the edge).

    A boundary edge uses its one face twice (``x = w``), as MeshCNN does; the two
    normals then point in opposite directions, so its exact dihedral angle is 0.
    Sorting makes every feature invariant to swapping the two faces.

    Shapes:
        pos: ``[V, 3]``; edge_points: ``[M, 4]``; output: ``[M, 5]``.
    """
    if features not in MESH_FEATURES:
        raise ValueError(f"features must be one of {MESH_FEATURES}, got {features!r}")
    u, v, w, x = (pos[edge_points[:, i]] for i in range(4))
    if features == "released":
        return _released_edge_features(u, v, w, x)

    def angle_between(first: Tensor, second: Tensor) -> Tensor:
        # atan2(|a x b|, a . b): the same angle as arccos of the cosine, but accurate (and
        # differentiable) near 0 and pi, where arccos loses half the digits.
        return torch.atan2(torch.cross(first, second, dim=1).norm(dim=1), (first * second).sum(1))

    dihedral = math.pi - angle_between(torch.cross(w - u, v - u, dim=1), torch.cross(x - v, u - v, dim=1))

    def opposite_angle(o: Tensor, p: Tensor, q: Tensor) -> Tensor:
        return angle_between(p - o, q - o)

    def height_ratio(p: Tensor, q: Tensor, o: Tensor) -> Tensor:
        line = q - p
        length = line.norm(dim=1)
        # distance from o to the line through p and q
        height = torch.cross(line, o - p, dim=1).norm(dim=1) / length
        return height / length

    angles = torch.stack([opposite_angle(w, u, v), opposite_angle(x, v, u)], dim=1).sort(dim=1).values
    ratios = torch.stack([height_ratio(u, v, w), height_ratio(v, u, x)], dim=1).sort(dim=1).values
    return torch.cat([dihedral.unsqueeze(1), angles, ratios], dim=1)


def _released_edge_features(u: Tensor, v: Tensor, w: Tensor, x: Tensor) -> Tensor:
    """The ``"released"`` variant of :func:`mesh_edge_features` (formulas in its docstring)."""

    def shrink(vector: Tensor) -> Tensor:  # vector / (|vector| + 0.1), MeshCNN's fixed_division
        return vector / (vector.norm(dim=1, keepdim=True) + RELEASED_EPSILON)

    def arccos(first: Tensor, second: Tensor) -> Tensor:
        return torch.arccos((first * second).sum(1).clamp(-1.0, 1.0))

    dihedral = math.pi - arccos(shrink(torch.cross(w - u, v - u, dim=1)), shrink(torch.cross(x - v, u - v, dim=1)))

    def opposite_angle(o: Tensor, p: Tensor, q: Tensor) -> Tensor:
        return arccos(shrink(p - o), shrink(q - o))

    def height_ratio(p: Tensor, q: Tensor, o: Tensor) -> Tensor:
        line = q - p
        length = line.norm(dim=1)
        projection = (line * (o - p)).sum(1) / (length + RELEASED_EPSILON)
        foot = p + (projection / length).unsqueeze(1) * line
        return (o - foot).norm(dim=1) / length

    angles = torch.stack([opposite_angle(w, u, v), opposite_angle(x, v, u)], dim=1).sort(dim=1).values
    # measured from the other end than the exact variant: MeshCNN's edge points are (v, u, w, x)
    ratios = torch.stack([height_ratio(v, u, w), height_ratio(u, v, x)], dim=1).sort(dim=1).values
    return torch.cat([dihedral.unsqueeze(1), angles, ratios], dim=1)


def euler_characteristic(face: Tensor, num_nodes: int | None = None) -> int:
    """``V - E + F`` counting the vertices used by faces (or ``num_nodes`` when given)."""
    if face.numel() == 0:
        return int(num_nodes or 0)
    vertices = int(num_nodes) if num_nodes is not None else int(torch.unique(face).numel())
    keys = edge_keys(face.reshape(-1), face[:, [1, 2, 0]].reshape(-1), int(face.max()) + 1)
    return vertices - int(torch.unique(keys).numel()) + face.shape[0]


def is_manifold(face: Tensor, num_nodes: int) -> bool:
    """True when ``face`` passes :func:`mesh_topology`'s checks and has no duplicate face."""
    try:
        mesh_topology(face, num_nodes, check=True)
    except MeshTopologyError:
        return False
    sorted_face = face.sort(dim=1).values
    return torch.unique(sorted_face, dim=0).shape[0] == face.shape[0]
