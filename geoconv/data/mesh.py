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

import torch
from torch import Tensor

from geoconv.data.graph import Graph
from geoconv.ops.mesh import check_mesh, mesh_edge_features, mesh_topology, repair_mesh

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
            duplicate and excess faces, splits non-manifold vertices).
        features: ``"released"`` (default: as MeshCNN's released code, which adds 0.1 to every norm it
            divides by; the features its published accuracies used) or ``"exact"`` (the scale-invariant
            geometric values); see :func:`~geoconv.ops.mesh.mesh_edge_features`.

    Raises:
        MeshTopologyError: naming the offending face, edge or vertex (when ``check``).
    """
    if repair:
        pos, face, _ = repair_mesh(pos, face)
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


def read_mesh_graph(path: str | os.PathLike, *, dtype: torch.dtype = torch.float32, repair: bool = True,
                    y: Tensor | int | None = None, features: str = "released") -> Graph:
    """:func:`~geoconv.data.mesh_io.read_mesh` followed by :func:`mesh_graph` (repairing by default)."""
    from geoconv.data.mesh_io import read_mesh

    pos, face = read_mesh(path, dtype=dtype)
    return mesh_graph(pos, face, y=y, repair=repair, features=features)
