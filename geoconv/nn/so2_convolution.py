r"""The SO(2) convolution of eSCN (Passaro & Zitnick, ICML 2023)."""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.ops.so3 import frame_layout


def check_order_blocks(blocks: Sequence[Tensor], sizes: Sequence[int], channels: int, lmax: int, mmax: int) -> int:
    """Check that ``blocks`` are the frame features cut by order (``[E, n, C]`` with ``n = sizes``); returns ``E``."""
    num_edges = blocks[0].shape[0] if len(blocks) else 0
    if len(blocks) != len(sizes) or any(
        block.dim() != 3 or block.shape != (num_edges, size, channels) for block, size in zip(blocks, sizes)
    ):
        raise ValueError(
            f"blocks must be {len(sizes)} tensors [E, n, C={channels}] with n = {list(sizes)} (the orders "
            f"m = 0, +1, -1, ... for lmax={lmax}, mmax={mmax}), got {[list(block.shape) for block in blocks]}"
        )
    return num_edges


class SO2Convolution(nn.Module):
    r"""A linear map on edge-frame features that commutes with rotations about the edge axis.

    From `"Reducing SO(3) Convolutions to SO(2) for Efficient Equivariant GNNs"
    <https://arxiv.org/abs/2302.03655>`_.  In the frame of an edge (edge along :math:`\hat e_y`),
    a tensor product with the edge's spherical harmonics only couples coefficients of the same
    order :math:`|m|`.  Writing :math:`z_{l,m} = x_{l,+m} + i\,x_{l,-m}`, a rotation by
    :math:`\gamma` about the edge multiplies :math:`z_{l,m}` by :math:`e^{im\gamma}`, so the most
    general equivariant linear map is, for every order :math:`m \le m_{max}`, a complex matrix
    mixing all degrees :math:`l \ge m` (and channels):

    .. math::
        y_{+m} = W^{(m)}_{1}\,x_{+m} - W^{(m)}_{2}\,x_{-m},\qquad
        y_{-m} = W^{(m)}_{2}\,x_{+m} + W^{(m)}_{1}\,x_{-m},\qquad
        y_{0} = W^{(0)} x_{0} + b

    where :math:`x_{\pm m}` stacks the coefficients :math:`(l, \pm m, c)` for
    :math:`l = m..l_{max}` and all channels.  With an edge embedding
    :math:`h_e`, the inputs of order :math:`m` are first scaled by :math:`\mathrm{Lin}_m(h_e)`
    (the same factor for :math:`\pm m`, so the map stays equivariant): eSCN's radial modulation.
    With ``mmax = lmax`` this equals a full tensor product with :math:`Y(\hat r)` up to degree
    ``2 * lmax`` followed by a linear layer, at :math:`O(L^3)` instead of :math:`O(L^6)` cost.
    The bias only touches ``m = 0`` (invariant under the roll).

    Args:
        in_channels: input channels ``C``.
        out_channels: output channels ``C'``.
        lmax: largest degree.
        mmax: largest order (default ``lmax``).
        edge_channels: size ``D`` of the edge embedding that modulates the weights;
            None (default) for no modulation.
        bias: add a learned bias to the ``m = 0`` outputs.

    Shapes:
        x: ``[E, Lm, C]`` in :func:`~geoconv.ops.so3.frame_layout` order (from
        :meth:`~geoconv.ops.so3.EdgeFrame.to_frame`); edge_embedding ``[E, D]``;
        output ``[E, Lm, C']``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        lmax: int,
        mmax: int | None = None,
        edge_channels: int | None = None,
        bias: bool = True,
    ) -> None:
        super().__init__()
        mmax = lmax if mmax is None else mmax
        frame_layout(lmax, mmax)  # validates lmax / mmax
        if in_channels < 1 or out_channels < 1:
            raise ValueError(f"channels must be positive, got in={in_channels}, out={out_channels}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.lmax, self.mmax, self.edge_channels = lmax, mmax, edge_channels
        # Number of degrees l >= m for each order m.
        self.sizes = [lmax - m + 1 for m in range(mmax + 1)]
        self.weight_0 = nn.Parameter(torch.empty(self.sizes[0] * in_channels, self.sizes[0] * out_channels))
        # For m >= 1 the real and imaginary parts [W1 | W2] side by side: one matmul per sign of m.
        self.weights = nn.ParameterList(
            nn.Parameter(torch.empty(n * in_channels, 2 * n * out_channels)) for n in self.sizes[1:]
        )
        self.bias = nn.Parameter(torch.empty(self.sizes[0] * out_channels)) if bias else None
        self.radial = (
            nn.Linear(edge_channels, sum(self.sizes) * in_channels) if edge_channels is not None else None
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight_0, std=1.0 / math.sqrt(self.weight_0.shape[0]))
        for weight in self.weights:
            # y_{+m} sums two products (W1 x_+ and W2 x_-): halve the variance of each.
            nn.init.normal_(weight, std=1.0 / math.sqrt(2 * weight.shape[0]))
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        if self.radial is not None:
            # Start the modulation near 1 (a FiLM-style scale): a product of two small random
            # scales per message otherwise drowns the geometric signal at initialisation.
            self.radial.reset_parameters()
            nn.init.ones_(self.radial.bias)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, lmax={self.lmax}, mmax={self.mmax}, "
            f"edge_channels={self.edge_channels}, bias={self.bias is not None}"
        )

    def forward(self, x: Tensor, edge_embedding: Tensor | None = None) -> Tensor:
        num_coefficients = len(frame_layout(self.lmax, self.mmax))
        if x.dim() != 3 or x.shape[1] != num_coefficients or x.shape[2] != self.in_channels:
            raise ValueError(
                f"x must have shape [E, Lm={num_coefficients}, C={self.in_channels}] (edge-frame features for "
                f"lmax={self.lmax}, mmax={self.mmax}), got {list(x.shape)}"
            )
        # split (not slicing) so that the backward pass concatenates instead of zero-filling per slice
        pieces = x.split(self._block_sizes(), dim=1)
        return torch.cat(self.forward_blocks(pieces, edge_embedding), dim=1)

    def forward_blocks(self, blocks: Sequence[Tensor], edge_embedding: Tensor | None = None) -> list[Tensor]:
        r""":meth:`forward` on the input cut into its blocks of one order, giving the output's blocks.

        The blocks are ``[m = 0, +1, -1, ..., +mmax, -mmax]``, ``[E, lmax+1, C]`` for ``m = 0`` and
        ``[E, lmax-m+1, C]`` for ``\pm m`` (as :meth:`~geoconv.ops.so3.EdgeFrame.to_frame_blocks`
        gives them); their concatenation along dimension 1 is :meth:`forward`'s input (output).
        Layers in a row exchange blocks without joining and splitting them in between.

        Shapes:
            blocks: ``2 mmax + 1`` tensors ``[E, n, C]``; edge_embedding ``[E, D]``;
            output: ``2 mmax + 1`` tensors ``[E, n, C']``.
        """
        num_edges = check_order_blocks(blocks, self._block_sizes(), self.in_channels, self.lmax, self.mmax)
        scales: list[Tensor | None] = [None] * (self.mmax + 1)
        if self.radial is not None:
            if edge_embedding is None or edge_embedding.shape != (num_edges, self.edge_channels):
                got = None if edge_embedding is None else list(edge_embedding.shape)
                raise ValueError(f"edge_embedding must have shape [E={num_edges}, D={self.edge_channels}], got {got}")
            scales = list(self.radial(edge_embedding).split([n * self.in_channels for n in self.sizes], dim=1))
        elif edge_embedding is not None:
            raise ValueError("edge_embedding was given but the layer was built with edge_channels=None")

        def block(piece: Tensor, scale: Tensor | None) -> Tensor:
            values = piece.flatten(1)
            return values if scale is None else values * scale

        def unflatten(values: Tensor, m: int) -> Tensor:
            return values.view(num_edges, self.sizes[m], self.out_channels)

        first = block(blocks[0], scales[0]) @ self.weight_0
        out = [unflatten(first if self.bias is None else first + self.bias, 0)]
        for m, weight in enumerate(self.weights, start=1):
            # The complex product (x_+ + i x_-)(W1 + i W2) with three real products instead of four
            # (Gauss): k1 = (x_+ + x_-) W1, k2 = x_+ (W2 - W1), k3 = x_- (W1 + W2);
            # y_+ = k1 - k3 = x_+ W1 - x_- W2 and y_- = k1 + k2 = x_+ W2 + x_- W1.
            real_weight, imag_weight = weight.split(self.sizes[m] * self.out_channels, dim=1)
            plus, minus = block(blocks[2 * m - 1], scales[m]), block(blocks[2 * m], scales[m])
            shared = (plus + minus) @ real_weight
            # addmm adds the shared product inside the matrix product (no separate pass over the output)
            out.append(unflatten(torch.addmm(shared, minus, real_weight + imag_weight, alpha=-1), m))
            out.append(unflatten(torch.addmm(shared, plus, imag_weight - real_weight), m))
        return out

    def _block_sizes(self) -> list[int]:
        """Coefficients in the blocks of one order, ``[m = 0, +1, -1, ...]``."""
        return [self.sizes[0]] + [n for n in self.sizes[1:] for _ in range(2)]

    def order_zero(self, x: Tensor, edge_embedding: Tensor | None = None) -> Tensor:
        r"""The ``m = 0`` outputs when every input of order :math:`|m| \ge 1` is zero.

        The orders do not mix, so the outputs of order :math:`|m| \ge 1` are then zero and those of
        ``m = 0`` only need the nonzero inputs: ``x [E, d, C]`` holds the ``m = 0`` coefficients of
        the lowest ``d <= lmax + 1`` degrees (the others are zero).  Equal to the first ``lmax + 1``
        rows of :meth:`forward` on the zero-padded input, at the cost of one ``[E, d C] x [d C, (lmax+1) C']``
        product (eSCN's first block, whose node features only have degree 0, runs this way).

        Shapes:
            x: ``[E, d, C]``; edge_embedding ``[E, D]``; output ``[E, lmax+1, C']``.
        """
        if x.dim() != 3 or not 1 <= x.shape[1] <= self.sizes[0] or x.shape[2] != self.in_channels:
            raise ValueError(
                f"x must have shape [E, d, C={self.in_channels}] with 1 <= d <= {self.sizes[0]} (m = 0 "
                f"coefficients of the lowest degrees), got {list(x.shape)}"
            )
        num_edges, width = x.shape[0], x.shape[1] * self.in_channels
        values = x.reshape(num_edges, width)
        if self.radial is not None:
            if edge_embedding is None or edge_embedding.shape != (num_edges, self.edge_channels):
                got = None if edge_embedding is None else list(edge_embedding.shape)
                raise ValueError(f"edge_embedding must have shape [E={num_edges}, D={self.edge_channels}], got {got}")
            # Only the modulation of the given coefficients: the first columns of the m = 0 block.
            values = values * F.linear(edge_embedding, self.radial.weight[:width], self.radial.bias[:width])
        elif edge_embedding is not None:
            raise ValueError("edge_embedding was given but the layer was built with edge_channels=None")
        out = values @ self.weight_0[:width]
        if self.bias is not None:
            out = out + self.bias
        return out.view(num_edges, self.sizes[0], self.out_channels)
