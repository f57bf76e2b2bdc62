r"""The SO(2) convolution of eSCN's published model: through a hidden bottleneck, modulated by the edge."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.nn.so2_convolution import check_order_blocks
from geoconv.ops.so3 import frame_layout


class SO2BottleneckConvolution(nn.Module):
    r"""A roll-equivariant map on edge-frame features, factored through ``hidden_channels`` per order.

    From `"Reducing SO(3) Convolutions to SO(2) for Efficient Equivariant GNNs"
    <https://arxiv.org/abs/2302.03655>`_, as in the authors' release: where
    :class:`~geoconv.nn.SO2Convolution` is one full-rank product per order, here each order goes down
    to ``H = hidden_channels`` values, is scaled there by a function of the edge embedding
    :math:`h_e`, and goes back up.  With :math:`x_0` the ``m = 0`` coefficients of degrees
    ``0..lmax`` (all channels, flattened) and :math:`z_m = x_{+m} + i\,x_{-m}` those of order
    :math:`m \ge 1` (degrees ``m..lmax``):

    .. math::
        y_0 = U_0\big(\mathrm{SiLU}(A_0 h_e) \odot D_0 x_0\big),\qquad
        y_{+m} + i\,y_{-m} = \big(U^{re}_m\, G^{re}_m D^{re}_m + i\,U^{im}_m\, G^{im}_m D^{im}_m\big)\, z_m

    with :math:`(G^{re}_m, G^{im}_m) = \mathrm{diag}\,\mathrm{SiLU}(A_m h_e)` (``2H`` values), real
    matrices :math:`D: n_m C \to H`, :math:`U: H \to n_m C` (no bias) and :math:`n_m = l_{max} - m + 1`.
    A real matrix applied to :math:`z_m` commutes with the roll :math:`z_m \mapsto e^{im\gamma} z_m`,
    so the map is equivariant under rotations about the edge.  Orders do not mix.

    Args:
        channels: channels ``C`` of the input and output.
        hidden_channels: bottleneck width ``H``.
        lmax: largest degree.
        mmax: largest order (default ``lmax``).
        edge_channels: size ``D`` of the edge embedding.

    Shapes:
        blocks: the frame features cut by order, ``[m = 0, +1, -1, ..., +mmax, -mmax]``
        (:meth:`~geoconv.ops.so3.EdgeFrame.to_frame_blocks`), ``[E, lmax+1, C]`` then ``[E, lmax-m+1, C]``;
        edge_embedding ``[E, D]``; output the same blocks.
    """

    def __init__(self, channels: int, hidden_channels: int, *, lmax: int, mmax: int | None = None,
                 edge_channels: int) -> None:
        super().__init__()
        mmax = lmax if mmax is None else mmax
        frame_layout(lmax, mmax)  # validates lmax / mmax
        if min(channels, hidden_channels, edge_channels) < 1:
            raise ValueError(f"channels must be positive, got channels={channels}, "
                             f"hidden_channels={hidden_channels}, edge_channels={edge_channels}")
        self.channels, self.hidden_channels, self.edge_channels = channels, hidden_channels, edge_channels
        self.lmax, self.mmax = lmax, mmax
        self.sizes = [lmax - m + 1 for m in range(mmax + 1)]
        # Index m of each list is order m; the imaginary parts start at m = 1 (index 0 is m = 1).
        self.radial = nn.ModuleList(nn.Linear(edge_channels, (1 if m == 0 else 2) * hidden_channels)
                                    for m in range(mmax + 1))
        self.down_real = nn.ModuleList(nn.Linear(n * channels, hidden_channels, bias=False) for n in self.sizes)
        self.up_real = nn.ModuleList(nn.Linear(hidden_channels, n * channels, bias=False) for n in self.sizes)
        self.down_imag = nn.ModuleList(nn.Linear(n * channels, hidden_channels, bias=False) for n in self.sizes[1:])
        self.up_imag = nn.ModuleList(nn.Linear(hidden_channels, n * channels, bias=False) for n in self.sizes[1:])

    def reset_parameters(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear):
                module.reset_parameters()

    def extra_repr(self) -> str:
        return (f"{self.channels}, hidden_channels={self.hidden_channels}, lmax={self.lmax}, mmax={self.mmax}, "
                f"edge_channels={self.edge_channels}")

    def forward(self, blocks: Sequence[Tensor], edge_embedding: Tensor) -> list[Tensor]:
        sizes = [self.sizes[0]] + [n for n in self.sizes[1:] for _ in range(2)]
        num_edges = check_order_blocks(blocks, sizes, self.channels, self.lmax, self.mmax)
        if edge_embedding.shape != (num_edges, self.edge_channels):
            raise ValueError(f"edge_embedding must have shape [E={num_edges}, D={self.edge_channels}], "
                             f"got {list(edge_embedding.shape)}")
        scale = F.silu(self.radial[0](edge_embedding))
        zero = self.up_real[0](self.down_real[0](blocks[0].flatten(1)) * scale)
        out = [zero.view(num_edges, self.sizes[0], self.channels)]
        for m in range(1, self.mmax + 1):
            # [E, 2, n C]: the +m and -m coefficients, each taken through both real maps.
            pair = torch.stack([blocks[2 * m - 1].flatten(1), blocks[2 * m].flatten(1)], dim=1)
            scale_real, scale_imag = F.silu(self.radial[m](edge_embedding)).unsqueeze(1).chunk(2, dim=2)
            real = self.up_real[m](self.down_real[m](pair) * scale_real)
            imag = self.up_imag[m - 1](self.down_imag[m - 1](pair) * scale_imag)
            shape = (num_edges, self.sizes[m], self.channels)
            out.append((real[:, 0] - imag[:, 1]).view(shape))
            out.append((real[:, 1] + imag[:, 0]).view(shape))
        return out
