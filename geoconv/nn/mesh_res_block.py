"""MeshCNN's residual block of mesh convolutions, https://arxiv.org/abs/1809.05910."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.nn.mesh_conv import MeshConv


class MeshResBlock(nn.Module):
    """MeshCNN's ``MResConv``: ``y = conv0(x)``, then ``blocks`` times ``y = conv(bn(relu(y)))``, output ``relu(y + conv0(x))``.

    Args:
        in_channels: ``C``.
        out_channels: ``C'``.
        blocks: residual convolutions after ``conv0`` (default 1).

    Shapes:
        x: ``[M, C]``; neighbors: ``[M, 4]`` (see :class:`~geoconv.nn.MeshConv`); output: ``[M, C']``.
    """

    def __init__(self, in_channels: int, out_channels: int, *, blocks: int = 1) -> None:
        super().__init__()
        self.conv0 = MeshConv(in_channels, out_channels, bias=False)
        self.norms = nn.ModuleList(nn.BatchNorm1d(out_channels) for _ in range(blocks))
        self.convs = nn.ModuleList(MeshConv(out_channels, out_channels, bias=False) for _ in range(blocks))

    def reset_parameters(self) -> None:
        self.conv0.reset_parameters()
        for norm, conv in zip(self.norms, self.convs):
            norm.reset_parameters()
            conv.reset_parameters()

    def forward(self, x: Tensor, neighbors: Tensor) -> Tensor:
        x = self.conv0(x, neighbors)
        skip = x
        for norm, conv in zip(self.norms, self.convs):
            x = conv(norm(F.relu(x)), neighbors)
        return F.relu(x + skip)
