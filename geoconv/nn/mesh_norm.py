"""Normalisation of mesh edge features per mesh (MeshCNN's group norm), https://arxiv.org/abs/1809.05910."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from geoconv.ops.scatter import scatter

NORMS = ("group", "batch", "none")


class MeshNorm(nn.Module):
    """Normalisation over the edges of each mesh separately.

    ``"group"``: group norm per mesh (MeshCNN's ``--norm group``: statistics over
    the edges of one mesh and the channels of one group); ``"batch"``: batch norm
    over all edges of the batch; ``"none"``.

    Args:
        channels: ``C``.
        norm: ``"group"`` (default), ``"batch"`` or ``"none"``.
        groups: groups of the group norm (``C`` must be divisible by it).
        eps: added to the variance.

    Shapes:
        x: ``[M, C]``; batch: ``[M]`` mesh of every edge; output: ``[M, C]``.
    """

    def __init__(self, channels: int, norm: str = "group", *, groups: int = 16, eps: float = 1e-5) -> None:
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        self.norm = norm
        self.groups = groups if norm == "group" else 1
        if norm == "group" and channels % groups:
            raise ValueError(f"group norm needs channels ({channels}) divisible by groups ({groups})")
        self.eps = eps
        self.batch_norm = nn.BatchNorm1d(channels) if norm == "batch" else None
        self.weight = nn.Parameter(torch.ones(channels)) if norm == "group" else None
        self.bias = nn.Parameter(torch.zeros(channels)) if norm == "group" else None

    def reset_parameters(self) -> None:
        if self.batch_norm is not None:
            self.batch_norm.reset_parameters()
        if self.weight is not None:
            nn.init.ones_(self.weight)
            nn.init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return f"norm={self.norm!r}, groups={self.groups}"

    def forward(self, x: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
        if self.norm == "none":
            return x
        if self.norm == "batch":
            return self.batch_norm(x)
        num_edges, channels = x.shape
        grouped = x.view(num_edges, self.groups, channels // self.groups)
        count = scatter(torch.ones_like(batch, dtype=x.dtype), batch, 0, num_graphs, "sum")
        count = (count * (channels // self.groups)).clamp(min=1).view(-1, 1)
        mean = scatter(grouped.sum(2), batch, 0, num_graphs, "sum") / count
        centred = grouped - mean.index_select(0, batch).unsqueeze(2)
        var = scatter(centred.pow(2).sum(2), batch, 0, num_graphs, "sum") / count
        normed = centred / (var.index_select(0, batch).unsqueeze(2) + self.eps).sqrt()
        return normed.reshape(num_edges, channels) * self.weight + self.bias
