"""MeshCNN's data augmentations, vectorised: anisotropic scaling, random edge flips, vertex sliding.

They act on ``(pos [V, 3], face [F, 3])`` and return a new pair; build the
mesh graph afterwards (:func:`~geoconv.data.mesh.mesh_graph`), since flips
change the edges.  Every function takes a ``torch.Generator`` so that
augmented copies are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from geoconv.ops.mesh import edge_keys, face_areas, mesh_edge_features, mesh_topology
from geoconv.ops.scatter import scatter

__all__ = ["random_rotation_matrix", "scale_vertices", "flip_edges", "slide_vertices", "MeshAugment"]


def random_rotation_matrix(generator: torch.Generator | None = None, *, dtype: torch.dtype = torch.float64) -> Tensor:
    """A uniformly random rotation ``[3, 3]`` (QR of a Gaussian matrix, determinant +1)."""
    q, r = torch.linalg.qr(torch.randn(3, 3, generator=generator, dtype=dtype))
    q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)
    if torch.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def scale_vertices(pos: Tensor, generator: torch.Generator | None = None, *, std: float = 0.1) -> Tensor:
    """Anisotropic scaling: each axis multiplied by a factor drawn from N(1, std²) (MeshCNN's ``scale_verts``)."""
    factor = 1.0 + std * torch.randn(3, generator=generator, dtype=pos.dtype).to(pos.device)
    return pos * factor


def flip_edges(pos: Tensor, face: Tensor, fraction: float = 0.2, generator: torch.Generator | None = None, *,
               min_dihedral: float = 2.7, passes: int = 3) -> Tensor:
    """Flip up to ``fraction * M`` random nearly flat interior edges (MeshCNN's ``flip_edges``).

    An edge ``(u, v)`` with faces ``(u, v, w)`` and ``(v, u, x)`` and dihedral
    angle above ``min_dihedral`` (flat = pi) is replaced by ``(w, x)``, with
    faces ``(u, x, w)`` and ``(v, w, x)`` (orientation kept).  Flips that
    would duplicate an existing edge or create a zero-area face are skipped.
    Each pass flips a set of edges that share no face, chosen in random order.

    Returns:
        the new ``face [F, 3]`` (same number of faces; ``pos`` is unchanged).
    """
    num_nodes = pos.shape[0]
    topology = mesh_topology(face, num_nodes, check=False)
    budget = int(fraction * topology.edge_index.shape[1])
    face = face.clone()
    for _ in range(passes):
        if budget <= 0:
            break
        topology = mesh_topology(face, num_nodes, check=False)
        u, v, w, x = topology.edge_points.unbind(1)
        interior = topology.edge_face[:, 1] >= 0
        # exact, as the angle MeshCNN's flip_edges thresholds
        dihedral = mesh_edge_features(pos, topology.edge_points, features="exact")[:, 0]
        keys = torch.sort(edge_keys(topology.edge_index[0], topology.edge_index[1], num_nodes)).values
        new_keys = edge_keys(w, x, num_nodes)
        found = torch.searchsorted(keys, new_keys).clamp(max=keys.numel() - 1)
        exists = keys[found] == new_keys
        first_new = torch.stack([u, x, w], 1)
        second_new = torch.stack([v, w, x], 1)
        area_ok = (face_areas(pos, first_new) > 0) & (face_areas(pos, second_new) > 0)
        candidate = interior & (dihedral > min_dihedral) & ~exists & (w != x) & area_ok
        index = candidate.nonzero().view(-1)
        if index.numel() == 0:
            break
        priority = torch.rand(index.numel(), generator=generator).to(pos.device)
        # an edge wins when it has the smallest priority on both of its faces
        faces_of = topology.edge_face[index]
        best = torch.full((face.shape[0],), 2.0, dtype=priority.dtype, device=pos.device)
        best.scatter_reduce_(0, faces_of.reshape(-1), priority.repeat_interleave(2), "amin")
        win = (best[faces_of[:, 0]] == priority) & (best[faces_of[:, 1]] == priority)
        chosen = index[win]
        chosen = chosen[torch.argsort(priority[win])]
        # two flips must not create the same new edge
        new_chosen = new_keys[chosen]
        _, first_of = torch.unique(new_chosen, return_inverse=True)
        keep = torch.zeros_like(chosen, dtype=torch.bool)
        first_index = torch.full((int(first_of.max()) + 1,), chosen.numel(), device=pos.device).scatter_reduce(
            0, first_of, torch.arange(chosen.numel(), device=pos.device), "amin")
        keep[first_index] = True
        chosen = chosen[keep][:budget]
        face[topology.edge_face[chosen, 0]] = first_new[chosen]
        face[topology.edge_face[chosen, 1]] = second_new[chosen]
        budget -= chosen.numel()
    return face


def slide_vertices(pos: Tensor, face: Tensor, fraction: float = 0.2, generator: torch.Generator | None = None, *,
                   min_dihedral: float = 2.65) -> Tensor:
    """Slide up to ``fraction * V`` random vertices of flat regions along one of their edges (MeshCNN's ``slide_verts``).

    A vertex whose incident edges all have dihedral angle above ``min_dihedral``
    moves towards a random neighbour by a random 20-50% of the edge; the surface
    barely changes but the tessellation does.  Vertices move simultaneously,
    from their original positions.

    Returns:
        the new ``pos [V, 3]``.
    """
    num_nodes = pos.shape[0]
    topology = mesh_topology(face, num_nodes, check=False)
    # The exact angle (MeshCNN's slide_verts thresholds its 0.1-shifted one, which no flat unit-scale region passes).
    dihedral = mesh_edge_features(pos, topology.edge_points, features="exact")[:, 0]
    src = torch.cat([topology.edge_index[0], topology.edge_index[1]])
    dst = torch.cat([topology.edge_index[1], topology.edge_index[0]])
    lowest = scatter(dihedral.repeat(2), src, 0, num_nodes, "min")
    has_edges = torch.bincount(src, minlength=num_nodes) > 0
    eligible = (lowest > min_dihedral) & has_edges
    order = torch.randperm(num_nodes, generator=generator).to(pos.device)
    chosen = order[eligible[order]][: int(fraction * num_nodes)]
    # a random neighbour per vertex: the incident edge with the smallest random key
    key = torch.rand(src.numel(), generator=generator, dtype=pos.dtype).to(pos.device)
    best = scatter(key, src, 0, num_nodes, "min")
    pick = torch.full((num_nodes,), -1, dtype=torch.long, device=pos.device)
    winner = (key == best[src]).nonzero().view(-1)
    pick[src[winner]] = dst[winner]
    step = 0.2 + 0.3 * torch.rand(chosen.numel(), generator=generator, dtype=pos.dtype).to(pos.device)
    new_pos = pos.clone()
    new_pos[chosen] = pos[chosen] + step.unsqueeze(1) * (pos[pick[chosen]] - pos[chosen])
    return new_pos


@dataclass
class MeshAugment:
    """MeshCNN's augmentation pipeline on ``(pos, face)``: scale, flip edges, slide vertices.

    Args:
        scale_std: std of the per-axis scale factors (MeshCNN: 0.1 when ``--num_aug > 1``); 0 disables.
        flip_fraction: fraction of edges to flip (``--flip_edges``, 0.2 for SHREC/Cubes); 0 disables.
        slide_fraction: fraction of vertices to slide (``--slide_verts``, 0.2); 0 disables.
    """

    scale_std: float = 0.1
    flip_fraction: float = 0.2
    slide_fraction: float = 0.2

    def __call__(self, pos: Tensor, face: Tensor, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        if self.scale_std:
            pos = scale_vertices(pos, generator, std=self.scale_std)
        if self.flip_fraction:
            face = flip_edges(pos, face, self.flip_fraction, generator)
        if self.slide_fraction:
            pos = slide_vertices(pos, face, self.slide_fraction, generator)
        return pos, face
