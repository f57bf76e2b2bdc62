"""MeshCNN's edge-collapse pooling, https://arxiv.org/abs/1809.05910."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from geoconv.ops.mesh_collapse import MeshPoolResult, mesh_pool


class MeshPool(nn.Module):
    r"""Task-driven pooling by edge collapse (Hanocka et al., SIGGRAPH 2019).

    Edges are collapsed in order of increasing :math:`\lVert x_e \rVert^2`
    until every mesh has exactly ``target`` edges; a collapse deletes the edge's
    two faces and merges each face's two other edges into one, whose features
    are the mean of the merged edges:

    .. math::
        x'_{j} = \frac{1}{|S_j|} \sum_{i \in S_j} x_i

    with :math:`S_j` the input edges absorbed by output edge :math:`j` (a
    collapsed edge counts in both of its merged edges).  Collapses that would
    break manifoldness are skipped; the Euler characteristic is preserved.  The
    collapses run in vectorised rounds of independent edges
    (:func:`~geoconv.ops.mesh_collapse.mesh_pool`), not a sequential heap.

    The layer has no parameters: the ranking is not differentiable, the means
    are (gradients reach ``x``).

    The collapses are data-dependent by nature (which edges go, how many rounds): under
    ``torch.compile`` the pooling runs eagerly (``torch.compiler.disable``), one graph break per
    pooling layer; the convolutions and norms around it compile (a model with pooling cannot use
    ``fullgraph=True``).

    Args:
        target: edges per mesh after pooling.  A closed mesh always has a
            multiple of 3 edges, so ``M - target`` must be a multiple of 3 there.
        window_factor: see :func:`~geoconv.ops.mesh_collapse.mesh_pool`.

    Shapes:
        x: ``[M, C]``; edge_index: ``[2, M]``; face: ``[F, 3]``; pos: ``[V, 3]``;
        node_ptr: ``[G + 1]`` vertex offsets of a batch; face_edge: ``[F, 3]`` optional.
        Returns a :class:`~geoconv.ops.mesh_collapse.MeshPoolResult` (``x`` is ``[G * target, C]``).
    """

    def __init__(self, target: int, *, window_factor: int = 8) -> None:
        super().__init__()
        if target < 0:
            raise ValueError(f"target must be >= 0, got {target}")
        self.target = int(target)
        self.window_factor = int(window_factor)

    def forward(self, x: Tensor, edge_index: Tensor, face: Tensor, pos: Tensor, *,
                node_ptr: Tensor | None = None, face_edge: Tensor | None = None) -> MeshPoolResult:
        return _mesh_pool_eager(x, edge_index, face, pos, self.target, node_ptr=node_ptr, face_edge=face_edge,
                         window_factor=self.window_factor)

    def extra_repr(self) -> str:
        return f"target={self.target}"


# torch.compile runs the collapse rounds eagerly (see MeshPool).
_mesh_pool_eager = torch._disable_dynamo(mesh_pool)  # imports dynamo only when first called
