r"""A pointwise MLP on spherical node features, evaluated on a latitude-longitude grid (eSCN's node update)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.ops.so3 import num_coefficients
from geoconv.ops.sphere_grid import escn_grid_resolution, sphere_grid_matrices


class SphereGridMLP(nn.Module):
    r"""An MLP applied at every point of a sphere grid to the functions that spherical features describe.

    From `"Reducing SO(3) Convolutions to SO(2) for Efficient Equivariant GNNs"
    <https://arxiv.org/abs/2302.03655>`_ (the node update of the authors' eSCN).  Channel ``c`` of
    ``x [N, L, C]`` is the function :math:`f_c = \sum_i x_{i c} Y_i` on the sphere; with :math:`\mathcal{G}`
    the sampling on a ``2 (lmax+1) x (2 (lmax+1) + 1)`` latitude-longitude grid and :math:`\mathcal{G}^{-1}`
    the projection back (:func:`~geoconv.ops.sphere_grid.sphere_grid_matrices`):

    .. math::
        x' = \mathcal{G}^{-1}\Big(W_3\, \mathrm{SiLU}\big(W_2\, \mathrm{SiLU}(W_1\, \mathcal{G} x)\big)\Big)

    with channel maps :math:`W_1: C \to H`, :math:`W_2: H \to H`, :math:`W_3: H \to C'` (no bias: a
    bias would put a constant on the sphere, :math:`W_3`'s is still allowed by symmetry but the
    reference has none).  :math:`W_1` and :math:`W_3` act on channels and the grid maps on
    coefficients, so they commute: they are applied to the ``L`` coefficients, not the grid points.
    Equivariant up to the sampling error (the nonlinearity is exact only on the grid).

    Args:
        in_channels: channels ``C`` of the input (eSCN: ``[x || message]``, so twice the node channels).
        out_channels: channels ``C'`` of the output.
        lmax: largest degree.
        hidden_channels: width ``H`` on the grid (default ``out_channels``).

    Shapes:
        x: ``[N, L, C]``; output ``[N, L, C']``.
    """

    def __init__(self, in_channels: int, out_channels: int, *, lmax: int, hidden_channels: int | None = None) -> None:
        super().__init__()
        hidden_channels = out_channels if hidden_channels is None else hidden_channels
        self.in_channels, self.out_channels, self.hidden_channels, self.lmax = in_channels, out_channels, hidden_channels, lmax
        sphere_grid_matrices(lmax, *escn_grid_resolution(lmax, lmax))
        self.lin1 = nn.Linear(in_channels, hidden_channels, bias=False)
        self.lin2 = nn.Linear(hidden_channels, hidden_channels, bias=False)
        self.lin3 = nn.Linear(hidden_channels, out_channels, bias=False)

    def reset_parameters(self) -> None:
        for lin in (self.lin1, self.lin2, self.lin3):
            lin.reset_parameters()

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, lmax={self.lmax}, hidden_channels={self.hidden_channels}"

    def forward(self, x: Tensor) -> Tensor:
        size = num_coefficients(self.lmax)
        if x.dim() != 3 or x.shape[1] != size or x.shape[2] != self.in_channels:
            raise ValueError(f"x must have shape [N, L={size}, C={self.in_channels}], got {list(x.shape)}")
        to_grid, from_grid = sphere_grid_matrices(self.lmax, *escn_grid_resolution(self.lmax, self.lmax))
        to_grid = to_grid.to(device=x.device, dtype=x.dtype)
        from_grid = from_grid.to(device=x.device, dtype=x.dtype)
        values = F.silu(torch.matmul(to_grid, self.lin1(x)))  # [N, G, H]
        values = F.silu(self.lin2(values))
        return self.lin3(torch.matmul(from_grid.t(), values))
