r"""The eSCN message-passing layer (Passaro & Zitnick, ICML 2023)."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.nn.so2_convolution import SO2Convolution
from geoconv.ops.scatter import scatter
from geoconv.ops.so3 import EdgeFrame, edge_frame, frame_layout, num_coefficients, precompute_fixed_wigner


class FrameGate(nn.Module):
    r"""A pointwise nonlinearity on edge-frame features that commutes with rolls about the edge.

    In the frame the ``m = 0`` coefficients are invariant under the roll, so any function of them
    is allowed: they go through SiLU.  The ``(+m, -m)`` pairs are scaled by gates computed from
    the ``m = 0`` coefficients (one gate per order and channel), which keeps their rotation.

    .. math::
        y_{l,0} = \mathrm{SiLU}(x_{l,0}),\qquad
        y_{l,\pm m,c} = \sigma\big(\mathrm{Lin}(x_{\cdot,0,\cdot})\big)_{m,c}\; x_{l,\pm m,c}

    Shapes:
        x: ``[E, Lm, C]`` (frame layout); output the same.
    """

    def __init__(self, channels: int, *, lmax: int, mmax: int) -> None:
        super().__init__()
        frame_layout(lmax, mmax)
        self.channels, self.lmax, self.mmax = channels, lmax, mmax
        self.gate = nn.Linear((lmax + 1) * channels, mmax * channels) if mmax > 0 else None

    def reset_parameters(self) -> None:
        if self.gate is not None:
            self.gate.reset_parameters()

    def extra_repr(self) -> str:
        return f"{self.channels}, lmax={self.lmax}, mmax={self.mmax}"

    def forward(self, x: Tensor) -> Tensor:
        sizes = [self.lmax + 1] + [self.lmax - m + 1 for m in range(1, self.mmax + 1) for _ in range(2)]
        return torch.cat(self.forward_blocks(x.split(sizes, dim=1)), dim=1)

    def forward_blocks(self, blocks: Sequence[Tensor]) -> list[Tensor]:
        """:meth:`forward` on the blocks of one order ``[m = 0, +1, -1, ...]`` (see
        :meth:`SO2Convolution.forward_blocks <geoconv.nn.SO2Convolution.forward_blocks>`), giving the output's blocks."""
        if len(blocks) != 2 * self.mmax + 1:
            raise ValueError(f"expected {2 * self.mmax + 1} blocks (orders m = 0, +1, -1, ...), got {len(blocks)}")
        out = [F.silu(blocks[0])]
        if self.gate is not None:
            gates = torch.sigmoid(self.gate(blocks[0].flatten(1))).view(blocks[0].shape[0], self.mmax, 1, self.channels)
            out += [block * gates[:, (i - 1) // 2] for i, block in enumerate(blocks) if i > 0]
        return out


class ESCNConv(nn.Module):
    r"""eSCN message passing: SO(2) convolutions in the frame of each edge.

    From `"Reducing SO(3) Convolutions to SO(2) for Efficient Equivariant GNNs"
    <https://arxiv.org/abs/2302.03655>`_.  For an edge :math:`j \to i` with vector
    :math:`\vec r_{ji} = p_i - p_j`, embedding :math:`h_{ji}` and frame rotation :math:`R_{ji}`
    (:func:`~geoconv.ops.so3.edge_frame`):

    .. math::
        m_{ji} = D(R_{ji})^\top\, \mathrm{SO2}_2\Big(\mathrm{Gate}\big(\mathrm{SO2}_1\big(
                 D(R_{ji})\,[x_j \,\|\, x_i],\ h_{ji}\big)\big),\ h_{ji}\Big),
        \qquad x'_i = \sum_{j \to i} w_{ji}\, m_{ji}

    keeping orders :math:`|m| \le m_{max}` in the frame.  Every step is equivariant, so
    :math:`x' (R\,\cdot) = D(R)\, x'`.  ``edge_weight`` (e.g. a cutoff envelope) scales the
    messages.  Zero-length edges (self-loops, coincident points) have no direction and send no
    message.  The layer returns the aggregated messages only; residuals and node-wise updates
    belong to the model (:class:`~geoconv.models.ESCN`).  Features that are zero above degree 0
    (eSCN's first block) can be given as ``[N, 1, C]``: the same output without the products by
    zeros (only the ``m = 0`` coefficients in the frame are then nonzero).

    Args:
        channels: channels ``C`` of the node features (input and output).
        lmax: largest degree; node features have ``L = (lmax+1)^2`` coefficients.
        mmax: largest order kept in the frame (default ``min(lmax, 2)``, the paper's choice).
        edge_channels: size ``D`` of the edge embedding (radial modulation).
        hidden_channels: channels between the two SO(2) convolutions (default ``2 * channels``).

    Shapes:
        x: ``[N, L, C]`` (or ``[N, 1, C]``: degree 0 only); edge_index ``[2, E]``; edge_vec ``[E, 3]``; edge_embedding ``[E, D]``;
        edge_weight ``[E]``; output ``[N, L, C]``.
    """

    def __init__(
        self,
        channels: int,
        *,
        lmax: int,
        mmax: int | None = None,
        edge_channels: int,
        hidden_channels: int | None = None,
    ) -> None:
        super().__init__()
        mmax = min(lmax, 2) if mmax is None else mmax
        frame_layout(lmax, mmax)
        hidden_channels = 2 * channels if hidden_channels is None else hidden_channels
        self.channels, self.lmax, self.mmax = channels, lmax, mmax
        self.edge_channels, self.hidden_channels = edge_channels, hidden_channels
        precompute_fixed_wigner(lmax)  # constants for torch.compile (see edge_frame)
        self.conv1 = SO2Convolution(2 * channels, hidden_channels, lmax=lmax, mmax=mmax, edge_channels=edge_channels)
        self.gate = FrameGate(hidden_channels, lmax=lmax, mmax=mmax)
        self.conv2 = SO2Convolution(hidden_channels, channels, lmax=lmax, mmax=mmax, edge_channels=edge_channels)

    def reset_parameters(self) -> None:
        for module in (self.conv1, self.gate, self.conv2):
            module.reset_parameters()

    def extra_repr(self) -> str:
        return (
            f"{self.channels}, lmax={self.lmax}, mmax={self.mmax}, edge_channels={self.edge_channels}, "
            f"hidden_channels={self.hidden_channels}"
        )

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_vec: Tensor,
        edge_embedding: Tensor,
        edge_weight: Tensor | None = None,
        *,
        frame: EdgeFrame | None = None,
    ) -> Tensor:
        size = num_coefficients(self.lmax)
        if x.dim() != 3 or x.shape[1] not in (1, size) or x.shape[2] != self.channels:
            raise ValueError(
                f"x must have shape [N, L={size}, C={self.channels}] (or [N, 1, C={self.channels}] for features "
                f"that are zero above degree 0), got {list(x.shape)}"
            )
        if edge_index.dim() != 2 or edge_index.shape[0] != 2 or edge_index.dtype != torch.long:
            raise ValueError(f"edge_index must be an int64 tensor of shape [2, E], got {edge_index.dtype} {list(edge_index.shape)}")
        num_edges = edge_index.shape[1]
        if edge_vec.shape != (num_edges, 3):
            raise ValueError(f"edge_vec must have shape [E={num_edges}, 3], got {list(edge_vec.shape)}")
        if frame is None:
            frame = edge_frame(edge_vec, self.lmax, self.mmax)
        elif frame.lmax != self.lmax or frame.mmax != self.mmax or frame.valid.shape[0] != num_edges:
            raise ValueError(
                f"frame is for lmax={frame.lmax}, mmax={frame.mmax}, E={frame.valid.shape[0]}; "
                f"the layer needs lmax={self.lmax}, mmax={self.mmax}, E={num_edges}"
            )
        src, dst = edge_index
        weight = frame.valid.to(x.dtype)
        if edge_weight is not None:
            weight = weight * edge_weight
        weight = weight.view(-1, 1, 1)
        # The rotation back is linear per edge: weighting the frame coefficients (fewer than L) is the same.
        if x.shape[1] < size:
            message = self._order_zero_message(torch.cat([x[src, 0], x[dst, 0]], dim=-1), edge_embedding)
            message = frame.from_frame_order_zero(message * weight)
        else:
            # [x_j || x_i] gathered by one index: row (e, l, side) of the node rows (n, l), no concatenation.
            pairs = edge_index.t().unsqueeze(1) * size + torch.arange(size, device=x.device).view(1, size, 1)
            features = x.reshape(-1, self.channels).index_select(0, pairs.flatten()).view(num_edges, size, 2 * self.channels)
            # The layers pass the blocks of one order along (each splits its input by order anyway).
            blocks = self.conv1.forward_blocks(frame.to_frame_blocks(features), edge_embedding)
            blocks = self.conv2.forward_blocks(self.gate.forward_blocks(blocks), edge_embedding)
            message = frame.from_frame([block * weight for block in blocks])
        return scatter(message, dst, dim=0, dim_size=x.shape[0], reduce="sum")

    def _order_zero_message(self, features: Tensor, edge_embedding: Tensor) -> Tensor:
        r"""The frame message ``[E, lmax+1, C]`` (its ``m = 0`` coefficients) of degree-0 inputs ``[E, 2C]``.

        ``D^0 = 1``, so in the frame the input is ``[x_j || x_i]`` at ``(l, m) = (0, 0)`` and zero
        elsewhere.  The SO(2) convolutions do not mix orders and the gate scales the ``|m| >= 1``
        coefficients, so those stay zero through the layer, and the ``m = 0`` ones are
        :meth:`SO2Convolution.order_zero` -> SiLU -> :meth:`SO2Convolution.order_zero`: the full
        computation without its products by zeros.
        """
        hidden = F.silu(self.conv1.order_zero(features.unsqueeze(1), edge_embedding))
        message = self.conv2.order_zero(hidden, edge_embedding)
        # The weights of the orders |m| >= 1 (and the gate) only meet zeros here, so the full
        # computation gives them zero gradients.  Keep them in the graph with that zero gradient
        # (not None): DistributedDataParallel and optimisers with weight decay then see the same
        # gradients as with the zero-padded input.
        unused = [*self.conv1.weights, *self.conv2.weights]
        if self.gate.gate is not None:
            unused += [self.gate.gate.weight, self.gate.gate.bias]
        if unused:
            message = message + 0.0 * sum(weight.sum() for weight in unused)
        return message
