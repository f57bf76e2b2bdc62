"""Node-wise equivariant feed-forward block for spherical features ``[N, L, C]``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.nn.degree_linear import DegreeLinear
from geoconv.ops.so3 import degree_index


class NodeFeedForward(nn.Module):
    r"""Node-wise equivariant feed-forward block: per-degree linear, SiLU on ``l = 0`` and
    sigmoid gates (from ``l = 0``) on ``l > 0``, per-degree linear.

    Shapes: ``[N, L, C]`` -> same.
    """

    def __init__(self, channels: int, hidden_channels: int, *, lmax: int) -> None:
        super().__init__()
        self.lmax = lmax
        self.up = DegreeLinear(channels, hidden_channels, lmax=lmax)
        self.gate = nn.Linear(hidden_channels, lmax * hidden_channels) if lmax > 0 else None
        self.down = DegreeLinear(hidden_channels, channels, lmax=lmax)
        self.register_buffer("degrees", degree_index(lmax)[1:] - 1, persistent=False)

    def reset_parameters(self) -> None:
        for module in (self.up, self.gate, self.down):
            if module is not None:
                module.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        h = self.up(x)
        scalars = h[:, 0]
        parts = [F.silu(scalars).unsqueeze(1)]
        if self.gate is not None:
            gates = torch.sigmoid(self.gate(scalars))
            gates = gates.view(x.shape[0], self.lmax, gates.shape[-1] // self.lmax)  # explicit: N may be 0
            parts.append(h[:, 1:] * gates[:, self.degrees])
        return self.down(torch.cat(parts, dim=1))
