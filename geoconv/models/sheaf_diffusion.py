"""Neural Sheaf Diffusion models (Bodnar et al., NeurIPS 2022): one class per kind of restriction map."""

from __future__ import annotations

from torch import Tensor

from geoconv.data import Graph
from geoconv.nn.sheaf_diffusion import SheafDiffusion


class _SheafDiffusionModel(SheafDiffusion):
    """:class:`~geoconv.nn.SheafDiffusion` with a fixed ``restriction``, called on a Graph."""

    RESTRICTION = "diag"

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        *,
        stalk_dim: int = 3,
        num_layers: int = 2,
        dropout: float = 0.0,
        input_dropout: float = 0.0,
        left_weights: bool = True,
        right_weights: bool = True,
        use_act: bool = True,
        add_low_pass: bool = False,
        add_high_pass: bool = False,
        normalised: bool = True,
        augmented: bool = True,
        learn_every_layer: bool = True,
        orthogonal_map: str = "householder",
        edge_weights: bool | None = None,
        sheaf_activation: str = "tanh",
        eigh_jitter: float = 1e-3,
        cached: bool = False,
    ) -> None:
        super().__init__(
            in_channels, hidden_channels, out_channels, stalk_dim=stalk_dim, restriction=self.RESTRICTION,
            num_layers=num_layers, dropout=dropout, input_dropout=input_dropout, left_weights=left_weights,
            right_weights=right_weights, use_act=use_act, add_low_pass=add_low_pass, add_high_pass=add_high_pass,
            normalised=normalised, augmented=augmented, learn_every_layer=learn_every_layer,
            orthogonal_map=orthogonal_map, edge_weights=edge_weights, sheaf_activation=sheaf_activation,
            eigh_jitter=eigh_jitter, cached=cached,
        )

    def forward(self, graph: Graph) -> Tensor:  # type: ignore[override]
        """Logits ``[N, out_channels]`` for ``graph.x`` on ``graph.edge_index`` (both directions)."""
        return self.forward_tensors(graph.x, graph.edge_index)

    def forward_tensors(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """The same model on raw tensors (``x [N, C]``, ``edge_index [2, E]``)."""
        return SheafDiffusion.forward(self, x, edge_index)


class DiagSheafDiffusion(_SheafDiffusionModel):
    """Diag-NSD: diagonal restriction maps ``[E, d]``; options as :class:`~geoconv.nn.SheafDiffusion`."""

    RESTRICTION = "diag"


class BundleSheafDiffusion(_SheafDiffusionModel):
    """O(d)-NSD: exactly orthogonal maps (Householder or Cayley) with learned edge weights; ``d >= 2``."""

    RESTRICTION = "orthogonal"


class GeneralSheafDiffusion(_SheafDiffusionModel):
    """Gen-NSD: general ``d x d`` maps, normalised through a batched symmetric eigendecomposition."""

    RESTRICTION = "general"
