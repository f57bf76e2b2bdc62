"""Equivariant RMS normalisation per degree for spherical features ``[N, L, C]``."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from geoconv.ops.scatter import scatter
from geoconv.ops.so3 import degree_index


class DegreeNorm(nn.Module):
    r"""Equivariant RMS normalisation per degree: :math:`y_{l} = g_l \odot x_l / \sqrt{\langle x_l^2\rangle_{m,c} + \epsilon}`.

    Shapes: ``[N, L, C]`` -> same.
    """

    def __init__(self, channels: int, *, lmax: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.lmax, self.eps = lmax, eps
        self.weight = nn.Parameter(torch.ones(lmax + 1, channels))
        self.register_buffer("degrees", degree_index(lmax), persistent=False)

    def reset_parameters(self) -> None:
        nn.init.ones_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        squares = scatter(x.square().mean(dim=2).T, self.degrees, dim=0, dim_size=self.lmax + 1, reduce="mean")
        scale = torch.rsqrt(squares.T + self.eps)[:, self.degrees].unsqueeze(-1)
        return x * scale * self.weight[self.degrees]
