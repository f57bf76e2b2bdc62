"""Graph-level readout as a module (the parameter-free :func:`geoconv.ops.global_pool`)."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from geoconv.ops.pool import POOL_REDUCTIONS, global_pool


class GlobalPool(nn.Module):
    r"""One vector per graph: the sum, mean or max of its rows, or several of them concatenated.

    .. math::
        \mathrm{out}_g = \big\Vert_{r \in \mathrm{reduce}} \bigoplus_{r,\ i \,:\, \mathrm{batch}_i = g} x_i

    Empty graphs give 0.  No parameters; see :func:`~geoconv.ops.global_pool`.

    Args:
        reduce: ``"sum"``, ``"mean"`` or ``"max"`` (default ``"mean"``), or a sequence of them whose
            results are concatenated along the channels in that order (DGCNN uses ``("max", "mean")``).

    Shapes:
        x: ``[N, C]``; batch: ``[N]`` or None (one graph); output: ``[G, R C]`` with ``R`` reductions.
    """

    def __init__(self, reduce: str | Sequence[str] = "mean") -> None:
        super().__init__()
        reductions = (reduce,) if isinstance(reduce, str) else tuple(reduce)
        if not reductions or any(r not in POOL_REDUCTIONS for r in reductions):
            raise ValueError(f"reduce must be one of {POOL_REDUCTIONS} or a non-empty sequence of them, got {reduce!r}")
        self.reductions = reductions

    def reset_parameters(self) -> None:
        """Nothing to reset (no parameters); present so every module has it."""

    def forward(self, x: Tensor, batch: Tensor | None, num_graphs: int | None = None) -> Tensor:
        if len(self.reductions) == 1:
            return global_pool(x, batch, num_graphs, self.reductions[0])
        return torch.cat([global_pool(x, batch, num_graphs, r) for r in self.reductions], dim=-1)

    def extra_repr(self) -> str:
        return f"reduce={self.reductions[0] if len(self.reductions) == 1 else self.reductions!r}"
