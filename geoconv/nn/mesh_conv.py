"""MeshCNN's edge convolution, https://arxiv.org/abs/1809.05910."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class MeshConv(nn.Module):
    r"""Convolution over the edges of a triangle mesh (Hanocka et al., "MeshCNN: A
    Network with an Edge", SIGGRAPH 2019).

    For edge :math:`e` with one-ring neighbour edges :math:`(a, b, c, d)`
    (:func:`~geoconv.ops.mesh.mesh_topology`; a missing neighbour contributes 0):

    .. math::
        x'_e = \sum_{k=0}^{4} W_k\, f_k + b, \qquad
        (f_0, \dots, f_4) = (x_e,\; x_a + x_c,\; x_b + x_d,\; |x_a - x_c|,\; |x_b - x_d|)

    The symmetric functions make the output invariant to the relabelling
    :math:`(a, b, c, d) \to (c, d, a, b)` (swapping the two faces), the only
    ambiguity of the neighbour order.  ``weight`` has MeshCNN's layout
    (its ``nn.Conv2d`` kernel ``[C', C, 1, 5]`` without the 1), so reference
    weights copy over with ``weight.squeeze(2)``.

    Batched meshes (with any edge counts) are one disjoint mesh: the neighbour
    indices of a :class:`~geoconv.data.Batch` are already offset.

    Args:
        in_channels: ``C``.
        out_channels: ``C'``.
        bias: learn an additive bias.

    Shapes:
        x: ``[M, C]``; neighbors: ``[M, 4]`` int64 (-1 = missing); output: ``[M, C']``.
    """

    def __init__(self, in_channels: int, out_channels: int, *, bias: bool = True) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, 5))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # nn.Conv2d's default initialisation (fan_in = 5 C), as MeshCNN's layer gets without init_net.
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(5 * self.in_channels)
            nn.init.uniform_(self.bias, -bound, bound)

    @staticmethod
    def symmetric_features(x: Tensor, neighbors: Tensor) -> Tensor:
        """``[M, C, 5]``: ``(x_e, x_a + x_c, x_b + x_d, |x_a - x_c|, |x_b - x_d|)``."""
        num_edges = x.shape[0]
        padded = torch.cat([x, x.new_zeros(1, x.shape[1])], dim=0)
        index = torch.where(neighbors < 0, num_edges, neighbors)
        gathered = padded.index_select(0, index.reshape(-1)).view(num_edges, 4, -1)
        a, b, c, d = gathered.unbind(dim=1)
        return torch.stack([x, a + c, b + d, (a - c).abs(), (b - d).abs()], dim=2)

    def forward(self, x: Tensor, neighbors: Tensor) -> Tensor:
        if x.dim() != 2 or x.shape[1] != self.in_channels:
            raise ValueError(f"x must have shape [M, {self.in_channels}], got {list(x.shape)}")
        if neighbors.dim() != 2 or neighbors.shape != (x.shape[0], 4) or neighbors.dtype != torch.long:
            raise ValueError(
                f"neighbors must be an int64 tensor of shape [{x.shape[0]}, 4], got {neighbors.dtype} {list(neighbors.shape)}"
            )
        # Host sync: eager mode only (skipped while torch.compile traces).
        if neighbors.numel() and not torch.compiler.is_compiling() and (int(neighbors.max()) >= x.shape[0] or int(neighbors.min()) < -1):
            raise ValueError(f"neighbors must hold edge indices in -1..{x.shape[0] - 1}")
        features = self.symmetric_features(x, neighbors).flatten(1)
        out = features @ self.weight.reshape(self.out_channels, -1).t()
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, bias={self.bias is not None}"
