"""Neural Sheaf Diffusion models (Bodnar, Di Giovanni, Chamberlain, Lio, Bronstein, NeurIPS 2022).

https://arxiv.org/abs/2202.04579.  :class:`SheafDiffusion` takes the kind of restriction map as an option;
:class:`DiagSheafDiffusion`, :class:`BundleSheafDiffusion` and :class:`GeneralSheafDiffusion` fix it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from typing import Sequence

from torch import Tensor, nn

from geoconv.data import Graph
from geoconv.models.common import as_fields, read_fields
from geoconv.nn.sheaf_learner import RESTRICTIONS, SheafLearner
from geoconv.ops.dropout import dropout
from geoconv.ops.sheaf import (
    SheafLaplacian,
    append_fixed_stalk_dims,
    normalize_sheaf_laplacian,
    reverse_edge_pairing,
    sheaf_laplacian,
    sheaf_laplacian_matmul,
)

def _input_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """:func:`~geoconv.ops.dropout` of ``x``, drawing the mask only for the non-zeros when ``x`` is mostly zeros.

    Dropout leaves zeros at zero, so masking just the non-zero entries has the same distribution;
    on bag-of-words inputs (film: 7,600 x 932, ~0.1% non-zero) it avoids a dense random draw per epoch.
    """
    if not training or p == 0.0 or x.requires_grad:
        return dropout(x, p, training)
    index = x.nonzero(as_tuple=True)
    if index[0].numel() * 4 > x.numel():
        return dropout(x, p, training)
    return torch.zeros_like(x).index_put_(index, dropout(x[index], p, True))


class SheafDiffusion(nn.Module):
    r"""Discrete Neural Sheaf Diffusion: node logits from ``graph.x`` on ``graph.edge_index``.

    An MLP lifts ``x`` to sheaf features :math:`X \in \mathbb{R}^{N \times d \times C'}`
    (``C' = hidden_channels``): :math:`X = \operatorname{dropout}(\sigma(x W_{in} + b_{in}))`, followed, with
    ``second_linear``, by one more affine map :math:`X \leftarrow X W_{2nd} + b_{2nd}` on the flattened
    ``[N, d C']`` features (no activation or dropout after it, as the paper's discrete models); each layer
    learns restriction maps from the current features (:class:`~geoconv.nn.SheafLearner`), builds the
    normalised sheaf Laplacian :math:`\Delta_F` and applies

    .. math::
        X \leftarrow (1 + \tanh\varepsilon) \odot X
        - \sigma\big(\Delta_F\, (I_N \otimes W_1)\, X\, W_2\big)

    with :math:`W_1 \in \mathbb{R}^{d \times d}` (left weights, mixing the
    stalk), :math:`W_2 \in \mathbb{R}^{C' \times C'}` (right weights),
    :math:`\varepsilon \in \mathbb{R}^d` learned, :math:`\sigma` = ELU; a
    linear layer maps the flattened ``[N, d C']`` to the outputs.  Node-wise,
    :math:`(\Delta_F Y)_u = \sum_{v \sim u} \tilde F_{u \triangleleft e}^\top
    (\tilde F_{u \triangleleft e} Y_u - \tilde F_{v \triangleleft e} Y_v)` with
    the maps rescaled by :math:`(D + I)^{-1/2}` (``augmented``).

    ``restriction`` picks the model: ``"diag"`` (Diag-NSD), ``"orthogonal"``
    (O(d)-NSD / bundle, exactly orthogonal maps times learned symmetric edge
    weights) or ``"general"`` (Gen-NSD, normalised through a batched ``eigh``
    with a random diagonal jitter of ``eigh_jitter`` during training, which
    keeps the eigenvalues distinct so ``eigh``'s gradient stays finite).

    ``edge_index`` must hold every undirected edge in both directions (see
    :mod:`geoconv.ops.sheaf`); self-loops are ignored.  What it does not do:
    the continuous-time (ODE) variants, the degree-normalised Laplacian and the
    "sparse" sheaf learner of the paper's code are not implemented, and the
    general normalised blocks are not clamped to ``[-1, 1]`` as that code does.

    Args:
        in_channels: input features ``C``.
        hidden_channels: channels per stalk dimension ``C'``.
        out_channels: outputs (classes).
        num_layers: diffusion layers (default 2).
        dropout: dropout on the features before every layer and in the input MLP (default 0).
        stalk_dim: learned stalk dimension ``d`` (``>= 2`` for orthogonal).
        restriction: ``"diag"`` (default), ``"orthogonal"`` or ``"general"``; fixed by the model classes.
        input_dropout: dropout on the raw input (default 0).
        second_linear: apply the extra ``d C' x d C'`` affine map :math:`W_{2nd}` once to the encoded
            features before diffusion (default False; the official code's ``second_linear``).
        left_weights: use :math:`W_1` (default True).
        right_weights: use :math:`W_2` (default True).
        use_act: ELU in the input MLP and on the diffusion term (default True).
        add_low_pass: append a stalk dimension with fixed low-pass maps
            (see :func:`~geoconv.ops.sheaf.append_fixed_stalk_dims`; default False).
        add_high_pass: the same with fixed high-pass maps (default False).
        normalize: use the normalized Laplacian (default True).
        augmented: normalise with ``D + I`` rather than ``D`` (default True, as the paper's code).
        learn_every_layer: learn new maps at every layer (default True) or once.
        orthogonal_map: ``"householder"`` or ``"cayley"``.
        edge_weights: learn edge weights for orthogonal maps (default True for ``"orthogonal"``).
        sheaf_activation: activation of the sheaf learner (default ``"tanh"``).
        eigh_jitter: half-width of the uniform diagonal perturbation for ``"general"`` (default 1e-3).
        cached: remember the reverse pairing of the first ``edge_index`` (one fixed graph).
        input_fields: the node tensor(s) :meth:`forward` reads as ``x`` (default ``"x"``).

    Shapes:
        graph.x: ``[N, C]``; graph.edge_index: ``[2, E]``; output: ``[N, out_channels]``.
    """

    # Subclasses that stand for one model fix this.
    RESTRICTION: str | None = None

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        num_layers: int = 2,
        dropout: float = 0.0,
        *,
        stalk_dim: int = 3,
        restriction: str | None = None,
        input_dropout: float = 0.0,
        second_linear: bool = False,
        left_weights: bool = True,
        right_weights: bool = True,
        use_act: bool = True,
        add_low_pass: bool = False,
        add_high_pass: bool = False,
        normalize: bool = True,
        augmented: bool = True,
        learn_every_layer: bool = True,
        orthogonal_map: str = "householder",
        edge_weights: bool | None = None,
        sheaf_activation: str = "tanh",
        eigh_jitter: float = 1e-3,
        cached: bool = False,
        input_fields: str | Sequence[str] = "x",
    ) -> None:
        super().__init__()
        fixed = type(self).RESTRICTION
        if fixed is not None and restriction not in (None, fixed):
            raise ValueError(f"{type(self).__name__} uses restriction {fixed!r}, got {restriction!r}")
        restriction = fixed or restriction or "diag"
        if restriction not in RESTRICTIONS:
            raise ValueError(f"restriction must be one of {RESTRICTIONS}, got {restriction!r}")
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, hidden_channels, out_channels
        self.stalk_dim, self.restriction, self.num_layers = stalk_dim, restriction, num_layers
        self.dropout, self.input_dropout, self.second_linear = dropout, input_dropout, second_linear
        self.use_act, self.normalize, self.augmented = use_act, normalize, augmented
        self.input_fields = as_fields(input_fields, "input_fields")
        self.add_low_pass, self.add_high_pass = add_low_pass, add_high_pass
        self.learn_every_layer, self.eigh_jitter, self.cached = learn_every_layer, eigh_jitter, cached
        self.total_dim = stalk_dim + int(add_low_pass) + int(add_high_pass)
        if edge_weights is None:
            edge_weights = restriction == "orthogonal"
        flat = self.total_dim * hidden_channels
        self.lin_in = nn.Linear(in_channels, flat)
        self.lin_second = nn.Linear(flat, flat) if second_linear else None
        self.lin_out = nn.Linear(flat, out_channels)
        self.sheaf_learners = nn.ModuleList(
            SheafLearner(flat, stalk_dim, restriction=restriction, orthogonal_map=orthogonal_map,
                         activation=sheaf_activation, edge_weights=edge_weights)
            for _ in range(num_layers if learn_every_layer else 1)
        )
        self.left_weights = (nn.ParameterList(nn.Parameter(torch.empty(self.total_dim, self.total_dim))
                                              for _ in range(num_layers)) if left_weights else None)
        self.right_weights = (nn.ParameterList(nn.Parameter(torch.empty(hidden_channels, hidden_channels))
                                               for _ in range(num_layers)) if right_weights else None)
        self.epsilons = nn.ParameterList(nn.Parameter(torch.zeros(self.total_dim)) for _ in range(num_layers))
        self._cache: tuple[Tensor, int, Tensor] | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin_in.reset_parameters()
        if self.lin_second is not None:
            self.lin_second.reset_parameters()
        self.lin_out.reset_parameters()
        for learner in self.sheaf_learners:
            learner.reset_parameters()
        # The paper's initialisation: W1 = I, W2 orthogonal, epsilon = 0.
        for weight in self.left_weights or []:
            nn.init.eye_(weight)
        for weight in self.right_weights or []:
            nn.init.orthogonal_(weight)
        for epsilon in self.epsilons:
            nn.init.zeros_(epsilon)
        self._cache = None

    def sheaf_parameters(self) -> list[nn.Parameter]:
        """Parameters of the restriction-map learners, which the paper gives their own weight decay.

        The edge-weight maps of the O(d) model (``edge_weights=True``) are not among them: the official
        code groups parameters by name and its weight learners take the ordinary weight decay.
        """
        return [p for learner in self.sheaf_learners for p in learner.linear.parameters()]

    def other_parameters(self) -> list[nn.Parameter]:
        """All parameters except :meth:`sheaf_parameters`."""
        sheaf = {id(p) for p in self.sheaf_parameters()}
        return [p for p in self.parameters() if id(p) not in sheaf]

    def _reverse(self, edge_index: Tensor, num_nodes: int) -> Tensor:
        if self.cached and self._cache is not None and self._cache[0] is edge_index and self._cache[1] == num_nodes:
            return self._cache[2]
        reverse = reverse_edge_pairing(edge_index, num_nodes)
        if self.cached:
            self._cache = (edge_index, num_nodes, reverse)
        return reverse

    def laplacian(self, features: Tensor, edge_index: Tensor, reverse: Tensor, layer: int) -> SheafLaplacian:
        """The (normalised) sheaf Laplacian learned from ``features [N, d, C']`` by layer ``layer``'s learner."""
        num_nodes = features.shape[0]
        maps, weights = self.sheaf_learners[layer](features.flatten(1), edge_index, reverse)
        if weights is not None:
            maps = maps * weights.view([-1] + [1] * (maps.dim() - 1))
        maps = append_fixed_stalk_dims(maps, edge_index, low_pass=self.add_low_pass, high_pass=self.add_high_pass)
        laplacian = sheaf_laplacian(edge_index, maps, num_nodes, reverse=reverse)
        if not self.normalize:
            return laplacian
        eps: float | Tensor = 0.0
        if self.restriction == "general" and self.training and self.eigh_jitter > 0:
            eps = (torch.rand(self.total_dim, dtype=maps.dtype, device=maps.device) * 2 - 1) * self.eigh_jitter
        return normalize_sheaf_laplacian(laplacian, augmented=self.augmented,
                                         diagonal_blocks=self.restriction == "orthogonal", eps=eps)

    def forward(self, graph: Graph) -> Tensor:
        """Logits ``[N, out_channels]`` for the input fields on ``graph.edge_index`` (both directions)."""
        x = read_fields(graph, self.input_fields, model=type(self).__name__, option="input_fields")
        return self.forward_tensors(x, graph.edge_index)

    def forward_tensors(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """The same model on raw tensors (``x [N, C]``, ``edge_index [2, E]``)."""
        if x.dim() != 2 or x.shape[1] != self.in_channels:
            raise ValueError(f"x must be [N, {self.in_channels}], got shape {list(x.shape)}")
        num_nodes = x.shape[0]
        reverse = self._reverse(edge_index, num_nodes)
        h = self.lin_in(_input_dropout(x, self.input_dropout, self.training))
        if self.use_act:
            h = F.elu(h)
        h = dropout(h, self.dropout, self.training)
        if self.lin_second is not None:
            h = self.lin_second(h)
        h = h.view(num_nodes, self.total_dim, self.hidden_channels)
        laplacian = None
        for layer in range(self.num_layers):
            if laplacian is None or self.learn_every_layer:
                features = dropout(h, self.dropout, self.training) if layer > 0 else h
                laplacian = self.laplacian(features, edge_index, reverse, layer if self.learn_every_layer else 0)
            z = dropout(h, self.dropout, self.training)
            if self.left_weights is not None:
                z = torch.einsum("ij,njc->nic", self.left_weights[layer], z)
            if self.right_weights is not None:
                z = z @ self.right_weights[layer].T
            z = sheaf_laplacian_matmul(laplacian, z)
            if self.use_act:
                z = F.elu(z)
            h = (1 + torch.tanh(self.epsilons[layer])).view(1, -1, 1) * h - z
        return self.lin_out(h.flatten(1))

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.hidden_channels}, {self.out_channels}, restriction={self.restriction!r}, "
            f"stalk_dim={self.stalk_dim}, num_layers={self.num_layers}, dropout={self.dropout}, "
            f"input_dropout={self.input_dropout}, second_linear={self.second_linear}, "
            f"add_low_pass={self.add_low_pass}, add_high_pass={self.add_high_pass}"
        )


class DiagSheafDiffusion(SheafDiffusion):
    """Diag-NSD: diagonal restriction maps ``[E, d]``; options as :class:`SheafDiffusion`."""

    RESTRICTION = "diag"


class BundleSheafDiffusion(SheafDiffusion):
    """O(d)-NSD: exactly orthogonal maps (Householder or Cayley) with learned edge weights; ``d >= 2``."""

    RESTRICTION = "orthogonal"


class GeneralSheafDiffusion(SheafDiffusion):
    """Gen-NSD: general ``d x d`` maps, normalized through a batched symmetric eigendecomposition."""

    RESTRICTION = "general"
