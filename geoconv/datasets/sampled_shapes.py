"""An offline point-cloud classification set: clouds sampled from real meshes and from
procedurally generated shapes.

This is *not* a published benchmark.  It exists so that point-cloud models can be
trained and checked end to end without downloading ModelNet: every class is one
surface, and every instance is that surface randomly stretched (per-axis scale),
rotated about the up axis, normalised to the unit sphere and sampled by area
(:func:`~geoconv.data.pointcloud_transforms.sample_points`).

Classes (label order):

* real meshes, read from the data root (``meshes/...``, see ``datasets/README.md``):
  ``bunny`` (Stanford bunny), ``fandisk`` (Hoppe), ``armadillo`` (SHREC'16 sample T54);
* procedural: ``sphere``, ``box``, ``cylinder``, ``cone``, ``torus`` (their
  proportions are also drawn at random per instance).
"""

from __future__ import annotations

import math
import os
from typing import Callable

import torch
from torch import Tensor

from geoconv.data import Graph
from geoconv.data.mesh_io import read_mesh
from geoconv.data.pointcloud_transforms import normalize_to_unit_sphere, random_rotation_matrix, sample_points
from geoconv.datasets.base import GraphDataset, RemoteFile, fetch

MESH_FILES = {
    "bunny": RemoteFile(
        "meshes/trimesh_models/bunny.ply",
        "https://raw.githubusercontent.com/mikedh/trimesh/a513c0e2cfa6/models/bunny.ply",
        "8faa052bb08cf1625eec97b6508baceee11eec9cf28f83f6a9d4547ab15d7761",
        ("813649acccec3e7676e6ee6ac1812ca6e02c378066ee39fbb5d83ab32c18d98f",),
    ),
    "fandisk": RemoteFile(
        "meshes/trimesh_models/fandisk.obj",
        "https://raw.githubusercontent.com/mikedh/trimesh/a513c0e2cfa6/models/fandisk.obj",
        "27e201141bf9c869b922ce4f03fdef7b5dfc62b7e721f77b44efae1e2aecdce9",
        ("a00a9352c670e92a479490dd50d37b839d43099fa2023e1710800388a09e6316",),
    ),
    "armadillo": RemoteFile(
        "meshes/shrec16_sample/T54.obj",
        "https://raw.githubusercontent.com/ranahanocka/MeshCNN/91f3c1ac89e8/datasets/armadillo_shrec/T54.obj",
        "d918a818cb07bfd95543d0ee65dd5ab03d61c4c4e2420cd3ccb976e54b001e84",
    ),
}
PROCEDURAL = ("sphere", "box", "cylinder", "cone", "torus")
CLASSES = (*MESH_FILES, *PROCEDURAL)


def parametric_mesh(surface: Callable[[Tensor, Tensor], Tensor], nu: int, nv: int) -> tuple[Tensor, Tensor]:
    """Triangulate ``surface(u, v) -> [.., 3]`` on the grid ``u, v`` in ``[0, 1]`` (``nu x nv`` cells).

    Seams are not merged (points are sampled by area, so duplicate vertices do not matter).
    """
    u = torch.linspace(0, 1, nu + 1, dtype=torch.float64)
    v = torch.linspace(0, 1, nv + 1, dtype=torch.float64)
    grid_u, grid_v = torch.meshgrid(u, v, indexing="ij")
    vertices = surface(grid_u, grid_v).reshape(-1, 3)
    index = torch.arange((nu + 1) * (nv + 1)).view(nu + 1, nv + 1)
    a, b = index[:-1, :-1].reshape(-1), index[1:, :-1].reshape(-1)
    c, d = index[1:, 1:].reshape(-1), index[:-1, 1:].reshape(-1)
    faces = torch.cat([torch.stack([a, b, c], 1), torch.stack([a, c, d], 1)])
    return vertices, faces


def _merge(parts: list[tuple[Tensor, Tensor]]) -> tuple[Tensor, Tensor]:
    vertices, faces, offset = [], [], 0
    for v, f in parts:
        vertices.append(v)
        faces.append(f + offset)
        offset += v.shape[0]
    return torch.cat(vertices), torch.cat(faces)


def _disc(radius: float, height: float) -> Callable[[Tensor, Tensor], Tensor]:
    def surface(u: Tensor, v: Tensor) -> Tensor:
        angle = 2 * math.pi * u
        return torch.stack([radius * v * torch.cos(angle), torch.full_like(u, height), radius * v * torch.sin(angle)], -1)
    return surface


def procedural_mesh(name: str, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """A triangle mesh of the procedural class ``name`` with random proportions (y is up)."""
    def uniform(low: float, high: float) -> float:
        return low + (high - low) * float(torch.rand((), generator=generator, dtype=torch.float64))

    if name == "sphere":
        return parametric_mesh(lambda u, v: torch.stack([
            torch.sin(math.pi * v) * torch.cos(2 * math.pi * u), torch.cos(math.pi * v),
            torch.sin(math.pi * v) * torch.sin(2 * math.pi * u)], -1), 32, 16)
    if name == "box":
        corners = torch.tensor([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=torch.float64)
        quads = [[0, 1, 3, 2], [4, 6, 7, 5], [0, 4, 5, 1], [2, 3, 7, 6], [0, 2, 6, 4], [1, 5, 7, 3]]
        faces = torch.tensor([t for a, b, c, d in quads for t in ([a, b, c], [a, c, d])])
        return corners * torch.tensor([1.0, uniform(0.5, 1.5), 1.0], dtype=torch.float64), faces
    if name in ("cylinder", "cone"):
        height, top = uniform(1.0, 3.0), (1.0 if name == "cylinder" else 0.0)
        side = parametric_mesh(lambda u, v: torch.stack([
            (1 - v * (1 - top)) * torch.cos(2 * math.pi * u), height * (v - 0.5),
            (1 - v * (1 - top)) * torch.sin(2 * math.pi * u)], -1), 32, 8)
        caps = [parametric_mesh(_disc(1.0, -height / 2), 32, 4)]
        if name == "cylinder":
            caps.append(parametric_mesh(_disc(1.0, height / 2), 32, 4))
        return _merge([side, *caps])
    if name == "torus":
        ratio = uniform(0.2, 0.5)
        return parametric_mesh(lambda u, v: torch.stack([
            (1 + ratio * torch.cos(2 * math.pi * v)) * torch.cos(2 * math.pi * u), ratio * torch.sin(2 * math.pi * v),
            (1 + ratio * torch.cos(2 * math.pi * v)) * torch.sin(2 * math.pi * u)], -1), 48, 16)
    raise ValueError(f"unknown procedural shape {name!r}; choose from {PROCEDURAL}")


def sample_instance(
    vertices: Tensor, faces: Tensor, label: int, num_points: int, generator: torch.Generator,
    *, stretch: tuple[float, float] = (0.7, 1.3),
) -> Graph:
    """One instance: stretch per axis, rotate about y, normalise to the unit sphere, sample by area."""
    scale = stretch[0] + (stretch[1] - stretch[0]) * torch.rand(3, generator=generator, dtype=torch.float64)
    rotation = random_rotation_matrix(1, dtype=torch.float64, generator=generator)
    mesh = Graph(pos=(vertices.double() * scale) @ rotation.T, face=faces)
    cloud = sample_points(mesh, num_points, generator=generator)
    cloud = normalize_to_unit_sphere(cloud)
    return Graph(
        pos=cloud.pos.float(), node_data={"normal": cloud.normal.float()},
        y=torch.tensor([label]), y_level="graph",
    )


def _centred_up(vertices: Tensor, up_axis: int) -> Tensor:
    """Put the mesh's ``up_axis`` on y (the rotation axis of the instances)."""
    order = {0: [1, 0, 2], 1: [0, 1, 2], 2: [0, 2, 1]}[up_axis]
    return vertices[:, order]


# Up axis of each real mesh as stored (bunny and armadillo: y; fandisk: z).
MESH_UP_AXIS = {"bunny": 1, "fandisk": 2, "armadillo": 1}


class SampledShapes(GraphDataset):
    """Clouds sampled from 3 real meshes and 5 procedural shapes (8 classes; see the module docstring).

    Args:
        split: ``"train"``, ``"test"`` (disjoint random instances: different seeds) or ``"all"`` (both).
        root: data root holding ``meshes/...`` (default ``$GEOCONV_DATA``); missing files are downloaded.
        num_points: points per cloud.
        per_class: instances per class (default 40 for train, 20 for test).
        seed: base seed; the split's instances are a deterministic function of it.
        transform: optional per-item transform (e.g. augmentation).

    Each item: ``pos [num_points, 3]``, node tensor ``normal``, graph-level ``y``.
    """

    classes = CLASSES
    num_classes = len(CLASSES)

    def __init__(
        self,
        split: str = "train",
        *,
        root: str | os.PathLike | None = None,
        num_points: int = 1024,
        per_class: int | None = None,
        seed: int = 0,
        transform: Callable[[Graph], Graph] | None = None,
    ) -> None:
        if split not in ("train", "test", "all"):
            raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
        if split == "all":
            self._load_parts(lambda part: SampledShapes(part, root=root, num_points=num_points, per_class=per_class,
                                                        seed=seed, transform=transform))
            return
        per_class = per_class if per_class is not None else (40 if split == "train" else 20)
        generator = torch.Generator().manual_seed(2 * seed + (0 if split == "train" else 1))
        meshes = {}
        for name, file in MESH_FILES.items():
            vertices, faces = read_mesh(fetch(file, root), dtype=torch.float64)
            meshes[name] = (_centred_up(vertices, MESH_UP_AXIS[name]), faces)
        graphs = []
        for label, name in enumerate(CLASSES):
            for _ in range(per_class):
                vertices, faces = meshes[name] if name in meshes else procedural_mesh(name, generator)
                graphs.append(sample_instance(vertices, faces, label, num_points, generator))
        super().__init__(graphs, transform)
        self.split, self.parts = split, [split] * len(graphs)
        self.sources = {name: ("real mesh: " + MESH_FILES[name].path if name in MESH_FILES else "procedural")
                        for name in CLASSES}
