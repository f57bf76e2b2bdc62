"""Equivariant channel mixing per degree for spherical features ``[N, L, C]``."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from geoconv.ops.so3 import degree_index


class DegreeLinear(nn.Module):
    r"""Channel mixing per degree, :math:`y_{l,m} = W_l\, x_{l,m}` (+ bias on ``l = 0``): equivariant.

    Shapes: ``[N, L, C]`` -> ``[N, L, C']``.
    """

    def __init__(self, in_channels: int, out_channels: int, *, lmax: int) -> None:
        super().__init__()
        self.lmax = lmax
        self.weight = nn.Parameter(torch.empty(lmax + 1, in_channels, out_channels))
        self.bias = nn.Parameter(torch.empty(out_channels))
        self.register_buffer("degrees", degree_index(lmax), persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight, std=1.0 / math.sqrt(self.weight.shape[1]))
        nn.init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return f"{self.weight.shape[1]}, {self.weight.shape[2]}, lmax={self.lmax}"

    def forward(self, x: Tensor) -> Tensor:
        out = torch.einsum("nlc,lcd->nld", x, self.weight[self.degrees])
        return torch.cat([out[:, :1] + self.bias, out[:, 1:]], dim=1)
