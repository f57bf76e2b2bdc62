"""Meshes built on this machine: procedural shapes, decimation, hole closing, and an offline classification set.

Everything here is generated, not downloaded:

* procedural closed meshes: :func:`icosphere`, :func:`torus`, :func:`box`, :func:`capped_cylinder`, :func:`cone`,
  and an open :func:`grid` (for boundary cases);
* :func:`decimate`: shortest-edge-first collapse to a target edge count with
  :func:`~geoconv.ops.mesh_collapse.mesh_pool` (lengths recomputed between stages);
* :func:`close_holes`: caps every boundary loop with a fan around its centroid;
* :func:`offline_shape_classes`: a labelled set mixing procedural shape classes
  and the real meshes of ``../shared/data/meshes`` (Stanford bunny, fandisk,
  SHREC armadillo), all decimated to the same resolution and augmented.  It is
  a generated benchmark, labelled as such in every record; it does **not**
  stand in for SHREC'16.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable

import torch
from torch import Tensor

from geoconv.ops.mesh import edge_keys, mesh_topology, repair_mesh
from geoconv.ops.mesh_collapse import mesh_pool

__all__ = [
    "icosphere", "torus", "box", "capped_cylinder", "cone", "grid", "decimate", "close_holes",
    "offline_shape_classes", "REAL_MESHES", "SHAPE_CLASSES",
]


def _unique_vertices(pos: Tensor, face: Tensor, decimals: int = 6) -> tuple[Tensor, Tensor]:
    """Weld vertices with equal rounded coordinates."""
    key = torch.round(pos * 10 ** decimals)
    unique, inverse = torch.unique(key, dim=0, return_inverse=True)
    first = torch.full((unique.shape[0],), pos.shape[0], dtype=torch.long).scatter_reduce(
        0, inverse, torch.arange(pos.shape[0]), "amin")
    return pos[first], inverse[face]


def icosphere(subdivisions: int = 2, *, dtype: torch.dtype = torch.float64) -> tuple[Tensor, Tensor]:
    """Unit sphere by loop-free midpoint subdivision of an icosahedron (``30 * 4**s`` edges)."""
    t = (1.0 + math.sqrt(5.0)) / 2.0
    pos = torch.tensor([[-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t], [0, -1, -t],
                        [0, 1, -t], [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1]], dtype=dtype)
    face = torch.tensor([[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4],
                         [11, 10, 2], [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8],
                         [3, 8, 9], [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1]])
    pos = pos / pos.norm(dim=1, keepdim=True)
    for _ in range(subdivisions):
        a, b, c = face[:, 0], face[:, 1], face[:, 2]
        mids = torch.cat([(pos[a] + pos[b]) / 2, (pos[b] + pos[c]) / 2, (pos[c] + pos[a]) / 2])
        n, f = pos.shape[0], face.shape[0]
        ab, bc, ca = torch.arange(f) + n, torch.arange(f) + n + f, torch.arange(f) + n + 2 * f
        pos = torch.cat([pos, mids])
        face = torch.cat([torch.stack([a, ab, ca], 1), torch.stack([b, bc, ab], 1),
                          torch.stack([c, ca, bc], 1), torch.stack([ab, bc, ca], 1)])
        pos, face = _unique_vertices(pos, face)
        pos = pos / pos.norm(dim=1, keepdim=True)
    return pos, face


def _parametric(u_steps: int, v_steps: int, point: Callable[[Tensor, Tensor], Tensor],
                wrap_v: bool) -> tuple[Tensor, Tensor]:
    """A (u periodic) x (v periodic or open) quad grid split into triangles."""
    u = torch.arange(u_steps, dtype=torch.float64) / u_steps * 2 * math.pi
    v_count = v_steps if wrap_v else v_steps + 1
    v = torch.arange(v_count, dtype=torch.float64) / (v_steps if wrap_v else v_steps)
    uu, vv = torch.meshgrid(u, v, indexing="ij")
    pos = point(uu.reshape(-1), vv.reshape(-1))
    i = torch.arange(u_steps).view(-1, 1).expand(u_steps, v_steps)
    j = torch.arange(v_steps).view(1, -1).expand(u_steps, v_steps)
    i1, j1 = (i + 1) % u_steps, (j + 1) % v_count
    a, b, c, d = i * v_count + j, i1 * v_count + j, i1 * v_count + j1, i * v_count + j1
    face = torch.cat([torch.stack([a, b, c], -1).view(-1, 3), torch.stack([a, c, d], -1).view(-1, 3)])
    return pos, face


def torus(major: int = 16, minor: int = 8, radius: float = 1.0, tube: float = 0.4) -> tuple[Tensor, Tensor]:
    """A closed torus (genus 1, Euler characteristic 0) with ``3 * major * minor`` edges."""
    def point(u, v):
        phi = v * 2 * math.pi
        return torch.stack([(radius + tube * torch.cos(phi)) * torch.cos(u),
                            (radius + tube * torch.cos(phi)) * torch.sin(u), tube * torch.sin(phi)], 1)
    return _parametric(major, minor, point, wrap_v=True)


def grid(rows: int = 4, cols: int = 4) -> tuple[Tensor, Tensor]:
    """An open flat ``rows x cols`` grid of split squares (a disk: Euler characteristic 1)."""
    y, x = torch.meshgrid(torch.arange(rows + 1, dtype=torch.float64), torch.arange(cols + 1, dtype=torch.float64),
                          indexing="ij")
    pos = torch.stack([x.reshape(-1), y.reshape(-1), torch.zeros((rows + 1) * (cols + 1), dtype=torch.float64)], 1)
    i = torch.arange(rows).view(-1, 1).expand(rows, cols)
    j = torch.arange(cols).view(1, -1).expand(rows, cols)
    a, b = i * (cols + 1) + j, i * (cols + 1) + j + 1
    c, d = (i + 1) * (cols + 1) + j + 1, (i + 1) * (cols + 1) + j
    face = torch.cat([torch.stack([a, b, c], -1).view(-1, 3), torch.stack([a, c, d], -1).view(-1, 3)])
    return pos, face


def close_holes(pos: Tensor, face: Tensor) -> tuple[Tensor, Tensor]:
    """Cap each boundary loop with a fan of triangles around a new vertex at the loop's centroid.

    Each cap triangle runs along its boundary edge opposite to the existing
    face, so orientation is kept edge by edge.  Loops through a vertex with more
    than two boundary edges are left open.
    """
    src = face.reshape(-1)
    dst = face[:, [1, 2, 0]].reshape(-1)
    keys = edge_keys(src, dst, pos.shape[0])
    _, inverse, counts = torch.unique(keys, return_inverse=True, return_counts=True)
    boundary = counts[inverse] == 1
    directed = {(u, v) for u, v in zip(src[boundary].tolist(), dst[boundary].tolist())}
    neighbours: dict[int, list[int]] = {}
    for u, v in directed:
        neighbours.setdefault(u, []).append(v)
        neighbours.setdefault(v, []).append(u)
    new_pos, new_faces = [pos], [face]
    next_id = pos.shape[0]
    seen: set[int] = set()
    for start, around in neighbours.items():
        if start in seen or len(around) != 2:
            continue
        loop, previous, vertex = [start], None, start
        seen.add(start)
        while True:
            options = [n for n in neighbours[vertex] if n != previous]
            if len(neighbours[vertex]) != 2 or not options:
                loop = []
                break
            previous, vertex = vertex, options[0]
            if vertex == start:
                break
            if vertex in seen:
                loop = []
                break
            seen.add(vertex)
            loop.append(vertex)
        if len(loop) < 3:
            continue
        centre = next_id
        next_id += 1
        new_pos.append(pos[torch.tensor(loop)].mean(0, keepdim=True))
        cap = []
        for a, b in zip(loop, loop[1:] + loop[:1]):
            cap.append((b, a, centre) if (a, b) in directed else (a, b, centre))
        new_faces.append(torch.tensor(cap, dtype=face.dtype))
    return torch.cat(new_pos), torch.cat(new_faces)


def box(divisions: int = 4) -> tuple[Tensor, Tensor]:
    """A closed cube with each side split into ``divisions**2`` squares (two triangles each)."""
    pos_parts, face_parts = [], []
    base_pos, base_face = grid(divisions, divisions)
    base_pos = base_pos / divisions * 2 - torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64)
    rotations = [torch.eye(3, dtype=torch.float64)]
    for axis, angle in ((0, math.pi), (0, math.pi / 2), (0, -math.pi / 2), (1, math.pi / 2), (1, -math.pi / 2)):
        c, s = math.cos(angle), math.sin(angle)
        r = torch.eye(3, dtype=torch.float64)
        i, j = [(1, 2), (0, 2)][axis]
        r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
        rotations.append(r)
    offset = 0
    for r in rotations:
        side = base_pos.clone()
        side[:, 2] = 1.0
        pos_parts.append(side @ r.t())
        face_parts.append(base_face + offset)
        offset += side.shape[0]
    pos, face = _unique_vertices(torch.cat(pos_parts), torch.cat(face_parts))
    return _orient_outward(pos, face)


def _orient_outward(pos: Tensor, face: Tensor) -> Tensor:
    """Flip faces whose normal points towards the centroid (convex shapes only)."""
    centre = pos.mean(0)
    p0, p1, p2 = pos[face[:, 0]], pos[face[:, 1]], pos[face[:, 2]]
    normal = torch.cross(p1 - p0, p2 - p0, dim=1)
    inward = (normal * ((p0 + p1 + p2) / 3 - centre)).sum(1) < 0
    face = face.clone()
    face[inward] = face[inward][:, [0, 2, 1]]
    return pos, face


def capped_cylinder(segments: int = 16, rings: int = 6, height: float = 2.0) -> tuple[Tensor, Tensor]:
    """A closed cylinder: an open tube capped at both ends."""
    def point(u, v):
        return torch.stack([torch.cos(u), torch.sin(u), (v - 0.5) * height], 1)
    pos, face = _parametric(segments, rings, point, wrap_v=False)
    return close_holes(pos, face)


def cone(segments: int = 16, rings: int = 6) -> tuple[Tensor, Tensor]:
    """A closed cone (apex, shrinking rings, capped base)."""
    def point(u, v):
        r = 1.0 - 0.92 * v
        return torch.stack([r * torch.cos(u), r * torch.sin(u), 2.0 * v], 1)
    pos, face = _parametric(segments, rings, point, wrap_v=False)
    return close_holes(pos, face)


def decimate(pos: Tensor, face: Tensor, target_edges: int, *, stages: int = 4) -> tuple[Tensor, Tensor]:
    """Shortest-edge-first collapses down to ``target_edges`` (rounded to a reachable count).

    Runs :func:`~geoconv.ops.mesh_collapse.mesh_pool` with the edge lengths as
    priority, in ``stages`` geometric steps so that lengths are re-measured as the
    mesh coarsens.  On a closed mesh the target is rounded down to ``M - 3k``.
    """
    topology = mesh_topology(face, pos.shape[0], check=False)
    edges = topology.edge_index.shape[1]
    boundary = bool((topology.neighbor[:, 2] < 0).any())
    if target_edges >= edges:
        return pos, face
    for stage in range(1, stages + 1):
        goal = int(round(edges * (target_edges / edges) ** (stage / stages)))
        goal = max(goal, target_edges)
        if not boundary:
            goal -= (3 - (topology.edge_index.shape[1] - goal) % 3) % 3
        elif topology.edge_index.shape[1] - goal == 1:
            goal -= 1
        if goal >= topology.edge_index.shape[1]:
            continue
        length = (pos[topology.edge_index[0]] - pos[topology.edge_index[1]]).norm(dim=1)
        result = mesh_pool(length.unsqueeze(1), topology.edge_index, face, pos, goal, face_edge=topology.face_edge,
                           priority=length, window_factor=3)
        pos, face = result.pos, result.face
        topology = result.topology
    return pos, face


# ------------------------------------------------------------------ the offline classification set
REAL_MESHES = {
    "bunny": "meshes/trimesh_models/bunny.ply.gz",
    "fandisk": "meshes/trimesh_models/fandisk.obj.gz",
    "armadillo": "meshes/shrec16_sample/T54.obj",
}


def _normalise(pos: Tensor) -> Tensor:
    pos = pos - pos.mean(0)
    return pos / pos.norm(dim=1).max()


SHAPE_CLASSES: dict[str, Callable[[torch.Generator], tuple[Tensor, Tensor]]] = {
    "sphere": lambda g: icosphere(3),
    "torus": lambda g: torus(40, 16, 1.0, 0.25 + 0.2 * float(torch.rand(1, generator=g))),
    "box": lambda g: box(12),
    "cylinder": lambda g: capped_cylinder(40, 14, 1.5 + float(torch.rand(1, generator=g))),
    "cone": lambda g: cone(40, 14),
}


def _real_mesh(root: Path, name: str) -> tuple[Tensor, Tensor]:
    from geoconv.data.mesh_io import read_mesh

    pos, face = read_mesh(root / REAL_MESHES[name], dtype=torch.float64)
    pos, face, _ = repair_mesh(pos, face)
    if name == "bunny":
        pos, face = close_holes(pos, face)
    return pos, face


def offline_shape_classes(
    root: str | os.PathLike | None = None,
    *,
    per_class: int = 20,
    edges: int = 750,
    seed: int = 0,
    include_real: bool = True,
) -> tuple[list[tuple[Tensor, Tensor, int]], list[str]]:
    """A generated mesh classification set: ``(pos, face, label)`` triples and the class names.

    Each sample is its class's base mesh with a random rotation, anisotropic
    scaling (x 0.7..1.3 per axis), vertex noise (1% of the radius), decimated
    to about ``edges`` edges (shortest edges first, so the tessellation differs
    from sample to sample) and renormalised to the unit ball.  Real meshes
    (``include_real``) are read from ``root`` (default: the data root).
    """
    from geoconv.datasets.base import data_root
    from geoconv.data.mesh_transforms import random_rotation_matrix

    generator = torch.Generator().manual_seed(seed)
    builders: dict[str, Callable[[torch.Generator], tuple[Tensor, Tensor]]] = dict(SHAPE_CLASSES)
    if include_real:
        base = data_root(root)
        cache: dict[str, tuple[Tensor, Tensor]] = {}
        for name in REAL_MESHES:
            def build(g, name=name):
                if name not in cache:
                    pos, face = _real_mesh(base, name)
                    cache[name] = decimate(pos, face, max(4 * edges, 3000))
                return cache[name]
            builders[f"{name} (real)"] = build
    names = list(builders)
    samples = []
    for label, name in enumerate(names):
        for _ in range(per_class):
            pos, face = builders[name](generator)
            pos = _normalise(pos)
            rotation = random_rotation_matrix(generator, dtype=pos.dtype)
            scale = 0.7 + 0.6 * torch.rand(3, generator=generator, dtype=pos.dtype)
            pos = (pos @ rotation.t()) * scale
            pos = pos + 0.01 * torch.randn(pos.shape, generator=generator, dtype=pos.dtype)
            # jitter the collapse order so every sample gets its own tessellation
            pos, face = decimate(pos, face, edges, stages=2)
            samples.append((_normalise(pos).float(), face, label))
    return samples, names
