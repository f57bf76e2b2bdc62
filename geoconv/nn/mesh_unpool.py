"""MeshCNN's unpooling, https://arxiv.org/abs/1809.05910."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from geoconv.ops.mesh_collapse import mesh_unpool


class MeshUnpool(nn.Module):
    r"""Restore the edge resolution from before a :class:`~geoconv.nn.MeshPool` (for segmentation).

    .. math::
        y_i = \frac{1}{|\{j : i \in S_j\}|} \sum_{j : i \in S_j} x_j

    every pre-pooling edge ``i`` receives the mean of the pooled edges that
    absorbed it (MeshCNN's ``MeshUnpool``).  ``unpool(pool(x))`` therefore has
    ``x``'s shape, and is ``x`` itself where no collapse happened.

    Shapes:
        x: ``[M', C]``; assignment: ``[2, P]`` from the pooling result;
        output: ``[num_edges, C]``.
    """

    def forward(self, x: Tensor, assignment: Tensor, num_edges: int) -> Tensor:
        if assignment.dim() != 2 or assignment.shape[0] != 2:
            raise ValueError(f"assignment must have shape [2, P], got {list(assignment.shape)}")
        # Host sync: eager mode only (skipped while torch.compile traces).
        if assignment.numel() and not torch.compiler.is_compiling() and int(assignment[0].max()) >= x.shape[0]:
            raise ValueError(f"assignment refers to pooled edge {int(assignment[0].max())} but x has {x.shape[0]} rows")
        return mesh_unpool(x, assignment, num_edges)
