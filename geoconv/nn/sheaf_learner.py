"""Sheaf learners: restriction maps from node features (Bodnar et al., NeurIPS 2022)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from geoconv.ops import gather
from geoconv.ops.sheaf import cayley_orthogonal, householder_orthogonal

RESTRICTIONS = ("diag", "orthogonal", "general")
ORTHOGONAL_MAPS = ("householder", "cayley")
ACTIVATIONS = {"tanh": torch.tanh, "id": lambda x: x, "elu": nn.functional.elu}


class SheafLearner(nn.Module):
    r"""The local concatenation learner of Neural Sheaf Diffusion.

    For edge ``k = (u -> v)`` it produces :math:`F_{u \triangleleft e}`, the
    map of the edge's source (the convention of :mod:`geoconv.ops.sheaf`):

    .. math::
        F_{u \triangleleft e} = \Phi\big(\sigma(W [x_u \,\|\, x_v])\big)

    with :math:`\Phi` the identity (``"diag"``: ``d`` numbers, a diagonal
    map; ``"general"``: ``d x d`` numbers) or an exactly orthogonal
    parametrisation (``"orthogonal"``: ``d(d-1)/2`` numbers through
    Householder reflections or the Cayley map, :math:`F^\top F = I`).
    Because ``x_u || x_v`` is ordered, the two ends of an edge get different
    maps.

    With ``edge_weights=True`` (the paper's orthogonal model) the learner
    also returns a symmetric scalar weight per edge,
    :math:`w_e = s(a^\top [x_u \| x_v])\, s(a^\top [x_v \| x_u])` with the
    logistic sigmoid ``s``; it needs the reverse pairing of the edges.

    Args:
        in_channels: node feature size ``C`` (the flattened ``d * C`` of sheaf features).
        stalk_dim: ``d``.
        restriction: kind of map, ``"diag"`` (default), ``"orthogonal"`` or ``"general"``.
        orthogonal_map: ``"householder"`` or ``"cayley"`` (``restriction="orthogonal"`` only).
        activation: ``"tanh"`` (paper), ``"elu"`` or ``"id"``, applied before :math:`\Phi`.
        edge_weights: also learn the scalar edge weights.

    Shapes:
        x: ``[N, C]``; edge_index: ``[2, E]``; reverse: ``[E]``; output: maps
        ``[E, d]`` (diag) or ``[E, d, d]``, and weights ``[E]`` or None.
    """

    def __init__(
        self,
        in_channels: int,
        stalk_dim: int,
        *,
        restriction: str = "diag",
        orthogonal_map: str = "householder",
        activation: str = "tanh",
        edge_weights: bool = False,
    ) -> None:
        super().__init__()
        if restriction not in RESTRICTIONS:
            raise ValueError(f"restriction must be one of {RESTRICTIONS}, got {restriction!r}")
        if orthogonal_map not in ORTHOGONAL_MAPS:
            raise ValueError(f"orthogonal_map must be one of {ORTHOGONAL_MAPS}, got {orthogonal_map!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if stalk_dim < 1 or (restriction == "orthogonal" and stalk_dim < 2):
            raise ValueError(f"stalk_dim must be >= {2 if restriction == 'orthogonal' else 1} for restriction {restriction!r}, got {stalk_dim}")
        self.in_channels, self.stalk_dim, self.restriction = in_channels, stalk_dim, restriction
        self.orthogonal_map, self.activation = orthogonal_map, activation
        num_params = {"diag": stalk_dim, "general": stalk_dim * stalk_dim,
                      "orthogonal": stalk_dim * (stalk_dim - 1) // 2}[restriction]
        self.linear = nn.Linear(2 * in_channels, num_params, bias=False)
        self.weight_linear = nn.Linear(2 * in_channels, 1, bias=False) if edge_weights else None

    def reset_parameters(self) -> None:
        self.linear.reset_parameters()
        if self.weight_linear is not None:
            self.weight_linear.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, reverse: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        if x.dim() != 2 or x.shape[1] != self.in_channels:
            raise ValueError(f"x must be [N, {self.in_channels}], got shape {list(x.shape)}")
        src, dst = edge_index
        # W [x_u || x_v] = W_u x_u + W_v x_v: apply both halves on the nodes and gather the few outputs,
        # never forming the [E, 2C] pair tensor (the cost on large graphs such as film).
        params = ACTIVATIONS[self.activation](self._pair_linear(self.linear, x, src, dst))
        d = self.stalk_dim
        if self.restriction == "diag":
            maps = params
        elif self.restriction == "general":
            maps = params.view(-1, d, d)
        elif self.orthogonal_map == "householder":
            maps = householder_orthogonal(params, d)
        else:
            maps = cayley_orthogonal(params, d)
        weights = None
        if self.weight_linear is not None:
            if reverse is None:
                raise ValueError("edge_weights=True needs the reverse edge pairing (reverse=...)")
            half = torch.sigmoid(self._pair_linear(self.weight_linear, x, src, dst)).squeeze(-1)
            weights = half * gather(half, reverse)
        return maps, weights

    @staticmethod
    def _pair_linear(linear: nn.Linear, x: Tensor, src: Tensor, dst: Tensor) -> Tensor:
        """``linear(cat([x[src], x[dst]], -1))`` for a bias-free ``linear``, computed node-wise then gathered."""
        both = x @ torch.cat(linear.weight.chunk(2, dim=1), dim=0).T  # [N, 2 P]: [x W_u^T, x W_v^T]
        first, second = both.chunk(2, dim=1)
        return gather(first, src) + gather(second, dst)

    def extra_repr(self) -> str:
        extra = f", orthogonal_map={self.orthogonal_map!r}" if self.restriction == "orthogonal" else ""
        return (f"{self.in_channels}, stalk_dim={self.stalk_dim}, restriction={self.restriction!r}{extra}, "
                f"activation={self.activation!r}, edge_weights={self.weight_linear is not None}")
