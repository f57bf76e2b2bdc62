"""Sheaf convolution with a given sheaf (Hansen & Gebhart, "Sheaf Neural Networks", 2020).

https://arxiv.org/abs/2012.06333
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from geoconv.ops.sheaf import (
    SheafLaplacian,
    normalize_sheaf_laplacian,
    sheaf_laplacian,
    sheaf_laplacian_matmul,
    symmetrize_sheaf,
)


class SheafConv(nn.Module):
    r"""A graph convolution whose propagation is a fixed, user-given sheaf.

    .. math::
        X' = (I_{Nd} - \Delta_F)\,(I_N \otimes W_1)\, X\, W_2 + b

    node-wise :math:`x'_u = y_u - \sum_{v} (\Delta_F)_{uv}\, y_v` with
    :math:`y = W_1 x W_2`, and :math:`\Delta_F` the normalised sheaf
    Laplacian :math:`D^{-1/2} L_F D^{-1/2}` (or :math:`L_F` when
    ``normalize=False``).  With ``d = 1`` and maps 1 this is
    :math:`D^{-1/2} A D^{-1/2} X W`, a GCN without self-loops.

    The sheaf is given by its restriction maps, either

    * in the two-direction form of :mod:`geoconv.ops.sheaf`: ``edge_index``
      symmetric and ``restriction_maps[k]`` the map of edge ``k``'s source; or
    * per undirected edge once: ``edge_index`` lists ``(u, v)`` once,
      ``restriction_maps[k]`` is :math:`F_{u \triangleleft e}` and
      ``target_maps[k]`` is :math:`F_{v \triangleleft e}`.  Signed relations
      (``target = -source``) and asymmetric ones (any two different maps) are
      both expressible.

    Maps may be diagonal ``[E, d]`` or full ``[E, d, d]``.  The layer applies
    no activation.

    Args:
        in_channels: ``C``.
        out_channels: ``C'``.
        stalk_dim: ``d``.
        left_weights: learn :math:`W_1 \in \mathbb{R}^{d \times d}` (default True; else identity).
        normalize: normalize the Laplacian (default True).
        augmented: normalise with ``D + I`` (default False).
        bias: learn ``b [C']`` (default True).
        cached: compute the Laplacian on the first call and reuse it (one fixed sheaf).

    Shapes:
        x: ``[N, d, C]``; edge_index: ``[2, E]``; restriction_maps, target_maps:
        ``[E, d]`` or ``[E, d, d]``; edge_weight: ``[E]``; output: ``[N, d, C']``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stalk_dim: int,
        *,
        left_weights: bool = True,
        normalize: bool = True,
        augmented: bool = False,
        bias: bool = True,
        cached: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.stalk_dim = in_channels, out_channels, stalk_dim
        self.normalize, self.augmented, self.cached = normalize, augmented, cached
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels))
        self.left_weight = nn.Parameter(torch.empty(stalk_dim, stalk_dim)) if left_weights else None
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self._cached_laplacian: SheafLaplacian | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.left_weight is not None:
            nn.init.eye_(self.left_weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        self._cached_laplacian = None

    def laplacian(
        self,
        edge_index: Tensor,
        restriction_maps: Tensor,
        num_nodes: int,
        target_maps: Tensor | None = None,
        edge_weight: Tensor | None = None,
    ) -> SheafLaplacian:
        """The propagation Laplacian :math:`\\Delta_F` of the given sheaf (cached if ``cached``)."""
        if self.cached and self._cached_laplacian is not None:
            return self._cached_laplacian
        if restriction_maps.shape[-1] != self.stalk_dim:
            raise ValueError(f"restriction maps have stalk dimension {restriction_maps.shape[-1]}, expected {self.stalk_dim}")
        reverse = None
        if target_maps is not None:
            edge_index, restriction_maps, reverse = symmetrize_sheaf(edge_index, restriction_maps, target_maps)
            if edge_weight is not None:
                edge_weight = torch.cat([edge_weight, edge_weight])
        laplacian = sheaf_laplacian(edge_index, restriction_maps, num_nodes, reverse=reverse, edge_weight=edge_weight)
        if self.normalize:
            laplacian = normalize_sheaf_laplacian(laplacian, augmented=self.augmented)
        if self.cached:
            self._cached_laplacian = laplacian
        return laplacian

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        restriction_maps: Tensor,
        target_maps: Tensor | None = None,
        edge_weight: Tensor | None = None,
    ) -> Tensor:
        if x.dim() != 3 or x.shape[1] != self.stalk_dim or x.shape[2] != self.in_channels:
            raise ValueError(f"x must be [N, d={self.stalk_dim}, C={self.in_channels}], got shape {list(x.shape)}")
        laplacian = self.laplacian(edge_index, restriction_maps, x.shape[0], target_maps, edge_weight)
        y = x @ self.weight.T
        if self.left_weight is not None:
            y = torch.einsum("ij,njc->nic", self.left_weight, y)
        out = y - sheaf_laplacian_matmul(laplacian, y)
        if self.bias is not None:
            out = out + self.bias
        return out

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, stalk_dim={self.stalk_dim}, normalize={self.normalize}, "
                f"augmented={self.augmented}, left_weights={self.left_weight is not None}")
