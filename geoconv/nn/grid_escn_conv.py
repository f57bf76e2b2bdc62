r"""The message block of eSCN's published model: SO(2) bottleneck convolutions and a sphere-grid activation."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.nn.so2_bottleneck_convolution import SO2BottleneckConvolution
from geoconv.ops.scatter import scatter
from geoconv.ops.so3 import EdgeFrame, edge_frame, frame_layout, num_coefficients, precompute_fixed_wigner
from geoconv.ops.sphere_grid import escn_grid_resolution, sphere_grid_matrices


class GridESCNConv(nn.Module):
    r"""eSCN message passing as published: SO(2) convolutions of both ends, SiLU on a sphere grid in the frame.

    From `"Reducing SO(3) Convolutions to SO(2) for Efficient Equivariant GNNs"
    <https://arxiv.org/abs/2302.03655>`_ (the authors' eSCN message block).  For an edge
    :math:`j \to i` with vector :math:`\vec r_{ji} = p_j - p_i` (from the target to the source, the
    reference code's convention), frame rotation :math:`R_{ji}` (:func:`~geoconv.ops.so3.edge_frame`,
    orders :math:`|m| \le m_{max}` kept) and atomic numbers :math:`z_j, z_i`:

    .. math::
        h_{ji} &= \mathrm{SiLU}\big(W_h\, \mathrm{SiLU}(W_d\, \phi(\|\vec r_{ji}\|) + e^{src}_{z_j} + e^{dst}_{z_i})\big) \\
        m_{ji} &= D(R_{ji})^\top\, \mathcal{G}^{-1} \mathrm{SiLU}\, \mathcal{G}\Big(
            \mathrm{SO2}^{src}(D(R_{ji})\,x_j,\ h_{ji}) + \mathrm{SO2}^{dst}(D(R_{ji})\,x_i,\ h_{ji})\Big),
        \qquad x'_i = \sum_{j \to i} m_{ji}

    with :math:`\phi` the radial basis given as ``edge_radial``, :class:`~geoconv.nn.SO2BottleneckConvolution`
    for both ends and :math:`\mathcal{G}`, :math:`\mathcal{G}^{-1}` the sampling on a
    :func:`~geoconv.ops.sphere_grid.escn_grid_resolution` latitude-longitude grid about the edge axis and the projection back
    (:func:`~geoconv.ops.sphere_grid.sphere_grid_matrices`, orders :math:`|m| \le m_{max}`).  The
    convolutions are exactly equivariant; the grid activation commutes with rolls about the edge only
    up to the sampling error (its grid has ``2 mmax + 1`` longitudes), so the layer is equivariant up
    to that error, as the reference is.  Messages are summed, not averaged.  Zero-length edges
    (self-loops, coincident points) have no direction and send no message.

    Args:
        channels: channels ``C`` of the node features (input and output).
        hidden_channels: bottleneck width of the SO(2) convolutions.
        lmax: largest degree; node features have ``L = (lmax+1)^2`` coefficients.
        mmax: largest order kept in the frame (default ``min(lmax, 2)``).
        edge_channels: size ``D`` of the edge embedding :math:`h`.
        num_radial: size ``K`` of the radial basis ``edge_radial``.
        num_elements: atomic numbers must be ``< num_elements``.

    Shapes:
        x: ``[N, L, C]``; edge_index ``[2, E]``; edge_vec ``[E, 3]``; edge_radial ``[E, K]``;
        z ``[N]`` int64; output ``[N, L, C]``.
    """

    def __init__(self, channels: int, hidden_channels: int, *, lmax: int, mmax: int | None = None,
                 edge_channels: int, num_radial: int, num_elements: int) -> None:
        super().__init__()
        mmax = min(lmax, 2) if mmax is None else mmax
        frame_layout(lmax, mmax)
        self.channels, self.hidden_channels, self.lmax, self.mmax = channels, hidden_channels, lmax, mmax
        self.edge_channels, self.num_radial, self.num_elements = edge_channels, num_radial, num_elements
        precompute_fixed_wigner(lmax)  # constants for torch.compile (see edge_frame)
        sphere_grid_matrices(lmax, *escn_grid_resolution(lmax, mmax))
        self.distance = nn.Linear(num_radial, edge_channels)
        self.source_embedding = nn.Embedding(num_elements, edge_channels)
        self.target_embedding = nn.Embedding(num_elements, edge_channels)
        self.edge_mlp = nn.Linear(edge_channels, edge_channels)
        self.source_conv = SO2BottleneckConvolution(channels, hidden_channels, lmax=lmax, mmax=mmax,
                                                    edge_channels=edge_channels)
        self.target_conv = SO2BottleneckConvolution(channels, hidden_channels, lmax=lmax, mmax=mmax,
                                                    edge_channels=edge_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.distance.reset_parameters()
        self.edge_mlp.reset_parameters()
        # Small element embeddings (as the reference): the edge embedding starts as a function of the distance.
        nn.init.uniform_(self.source_embedding.weight, -0.001, 0.001)
        nn.init.uniform_(self.target_embedding.weight, -0.001, 0.001)
        self.source_conv.reset_parameters()
        self.target_conv.reset_parameters()

    def extra_repr(self) -> str:
        return (f"{self.channels}, hidden_channels={self.hidden_channels}, lmax={self.lmax}, mmax={self.mmax}, "
                f"edge_channels={self.edge_channels}, num_radial={self.num_radial}, num_elements={self.num_elements}")

    def forward(self, x: Tensor, edge_index: Tensor, edge_vec: Tensor, edge_radial: Tensor, *, z: Tensor,
                frame: EdgeFrame | None = None) -> Tensor:
        size = num_coefficients(self.lmax)
        if x.dim() != 3 or x.shape[1] != size or x.shape[2] != self.channels:
            raise ValueError(f"x must have shape [N, L={size}, C={self.channels}], got {list(x.shape)}")
        if edge_index.dim() != 2 or edge_index.shape[0] != 2 or edge_index.dtype != torch.long:
            raise ValueError(f"edge_index must be an int64 tensor of shape [2, E], got {edge_index.dtype} {list(edge_index.shape)}")
        num_edges = edge_index.shape[1]
        if edge_vec.shape != (num_edges, 3) or edge_radial.shape != (num_edges, self.num_radial):
            raise ValueError(f"edge_vec and edge_radial must have shapes [E={num_edges}, 3] and [E, K={self.num_radial}], "
                             f"got {list(edge_vec.shape)} and {list(edge_radial.shape)}")
        if z.shape != (x.shape[0],):
            raise ValueError(f"z must have shape [N={x.shape[0]}], got {list(z.shape)}")
        if frame is None:
            frame = edge_frame(edge_vec, self.lmax, self.mmax)
        elif frame.lmax != self.lmax or frame.mmax != self.mmax or frame.valid.shape[0] != num_edges:
            raise ValueError(f"frame is for lmax={frame.lmax}, mmax={frame.mmax}, E={frame.valid.shape[0]}; "
                             f"the layer needs lmax={self.lmax}, mmax={self.mmax}, E={num_edges}")
        src, dst = edge_index
        edge_embedding = F.silu(self.distance(edge_radial) + self.source_embedding(z[src]) + self.target_embedding(z[dst]))
        edge_embedding = F.silu(self.edge_mlp(edge_embedding)).to(x.dtype)
        source = self.source_conv(frame.to_frame_blocks(x.index_select(0, src)), edge_embedding)
        target = self.target_conv(frame.to_frame_blocks(x.index_select(0, dst)), edge_embedding)
        message = torch.cat([a + b for a, b in zip(source, target)], dim=1)  # [E, Lm, C], frame layout
        to_grid, from_grid = self._frame_grid(x)
        values = F.silu(torch.matmul(to_grid, message))  # [E, G, C]
        message = torch.matmul(from_grid.t(), values) * frame.valid.to(x.dtype).view(-1, 1, 1)
        return scatter(frame.from_frame(message), dst, dim=0, dim_size=x.shape[0], reduce="sum")

    def _frame_grid(self, like: Tensor) -> tuple[Tensor, Tensor]:
        """The grid matrices ``[G, Lm]`` with columns in :func:`~geoconv.ops.so3.frame_layout` order."""
        to_grid, from_grid = sphere_grid_matrices(self.lmax, *escn_grid_resolution(self.lmax, self.mmax))
        columns = [l * l + l + m for l, m in frame_layout(self.lmax, self.mmax)]
        return (to_grid[:, columns].to(device=like.device, dtype=like.dtype),
                from_grid[:, columns].to(device=like.device, dtype=like.dtype))
