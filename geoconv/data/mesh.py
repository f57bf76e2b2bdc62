"""Triangle meshes as graphs: vertices in ``pos``, triangles in ``face``, mesh edges in ``edge_index``.

:func:`mesh_graph` builds a :class:`~geoconv.data.Graph` that MeshCNN layers
consume; it batches like any graph with :meth:`Batch.from_graphs
<geoconv.data.Batch.from_graphs>`:

=================  =======  ===========  ==========================================
tensor             level    index_of     meaning
=================  =======  ===========  ==========================================
``pos``            node                  vertices ``[V, 3]``
``face``           face     node         triangles ``[F, 3]``
``edge_index``     edge     node         mesh edges ``[2, M]``, each undirected edge once
                                         (smaller vertex first, MeshCNN's edge order)
``edge_attr``      edge                  MeshCNN's 5 input features ``[M, 5]`` (``features``:
                                         as its released code, the default, or exact)
``edge_neighbors`` edge     edge         one-ring neighbour edges ``(a, b, c, d)`` ``[M, 4]``,
                                         -1 on the boundary (kept as -1 by batching)
``face_edges``     face     edge         the edge of each face side ``[F, 3]``
``edge_y``         edge                  optional per-edge labels (segmentation)
``y``              graph                 optional class label (classification)
=================  =======  ===========  ==========================================
"""

from __future__ import annotations

import os
import warnings

import torch
from torch import Tensor

from geoconv.data.graph import Graph
from geoconv.ops.mesh import (
    MeshRepairWarning, MeshTopologyError, check_finite_positions, check_mesh, mesh_edge_features, mesh_topology,
    repair_mesh,
)

NEIGHBORS = "edge_neighbors"
FACE_EDGES = "face_edges"
EDGE_LABELS = "edge_y"

__all__ = ["mesh_graph", "read_mesh_graph", "NEIGHBORS", "FACE_EDGES", "EDGE_LABELS"]


def mesh_graph(
    pos: Tensor,
    face: Tensor,
    *,
    y: Tensor | int | None = None,
    edge_y: Tensor | None = None,
    check: bool = True,
    repair: bool = False,
    features: str = "released",
) -> Graph:
    """A mesh :class:`Graph` (see the module table) with MeshCNN's edge features.

    Args:
        pos: ``[V, 3]`` vertices.
        face: ``[F, 3]`` int64 triangles.
        y: optional graph-level class label.
        edge_y: optional per-edge labels ``[M]`` or ``[M, K]`` in MeshCNN's edge order.
        check: reject degenerate and non-manifold meshes (:func:`~geoconv.ops.mesh.check_mesh`).
        repair: first run :func:`~geoconv.ops.mesh.repair_mesh` (drops degenerate,
            duplicate and excess faces, splits non-manifold vertices); a :class:`~geoconv.ops.mesh.MeshRepairWarning`
            says how many faces were dropped and vertices split when it changed anything.
        features: ``"released"`` (default: as MeshCNN's released code, which adds 0.1 to every norm it
            divides by; the features its published accuracies used) or ``"exact"`` (the scale-invariant
            geometric values); see :func:`~geoconv.ops.mesh.mesh_edge_features`.

    Raises:
        MeshTopologyError: naming the offending face, edge or vertex (when ``check``).
        MeshFormatError: non-finite vertex coordinates (the features would be NaN).
    """
    check_finite_positions(pos)
    if repair:
        pos, face = _repair_and_warn(pos, face)
    topology = check_mesh(pos, face) if check else mesh_topology(face, pos.shape[0], check=False)
    graph = Graph(
        pos=pos,
        face=face,
        edge_index=topology.edge_index,
        edge_attr=mesh_edge_features(pos, topology.edge_points, features=features),
    )
    graph.set(NEIGHBORS, topology.neighbor, "edge", index_of="edge")
    graph.set(FACE_EDGES, topology.face_edge, "face", index_of="edge")
    if y is not None:
        graph.set("y", torch.as_tensor(y, dtype=torch.long).view(1), "graph")
    if edge_y is not None:
        graph.set(EDGE_LABELS, edge_y, "edge")
    return graph


def _repair_and_warn(pos: Tensor, face: Tensor, where: str = "repair_mesh") -> tuple[Tensor, Tensor]:
    new_pos, new_face, kept = repair_mesh(pos, face)
    dropped, split = int((~kept).sum()), new_pos.shape[0] - pos.shape[0]
    if dropped or split:
        warnings.warn(
            f"{where}: dropped {dropped} of {face.shape[0]} faces (degenerate, duplicate or beyond two per edge) "
            f"and split {split} non-manifold vertices ({pos.shape[0]} -> {new_pos.shape[0]} vertices)",
            MeshRepairWarning, stacklevel=3,
        )
    return new_pos, new_face


def read_mesh_graph(path: str | os.PathLike, *, dtype: torch.dtype = torch.float32, repair: bool = False,
                    y: Tensor | int | None = None, features: str = "released") -> Graph:
    """:func:`~geoconv.data.mesh_io.read_mesh` followed by :func:`mesh_graph`.

    The mesh is not repaired unless asked: a degenerate or non-manifold mesh raises
    :class:`~geoconv.ops.mesh.MeshTopologyError` (a :class:`~geoconv.data.mesh_io.MeshFormatError`)
    naming the file and the face, edge or vertex.  With ``repair=True`` it is repaired and a
    :class:`~geoconv.ops.mesh.MeshRepairWarning` says how many faces were dropped and vertices split.
    """
    from geoconv.data.mesh_io import read_mesh

    pos, face = read_mesh(path, dtype=dtype)
    if repair:
        pos, face = _repair_and_warn(pos, face, where=str(path))
    try:
        return mesh_graph(pos, face, y=y, features=features)
    except MeshTopologyError as error:
        raise MeshTopologyError(
            f"{path}: {error} (the mesh is not a manifold triangle mesh; read_mesh_graph(..., repair=True) "
            "drops the faces at fault and splits non-manifold vertices, with a warning counting them)"
        ) from None
