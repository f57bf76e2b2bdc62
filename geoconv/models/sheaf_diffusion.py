"""Neural Sheaf Diffusion models (Bodnar et al., NeurIPS 2022): one class per kind of restriction map."""

from __future__ import annotations

from torch import Tensor

from geoconv.data import Graph
from geoconv.nn.sheaf_diffusion import SheafDiffusion


class _SheafDiffusionModel(SheafDiffusion):
    """:class:`~geoconv.nn.SheafDiffusion` with a fixed ``restriction`` (the class's), called on a Graph.

    The constructor is :class:`~geoconv.nn.SheafDiffusion`'s; ``restriction`` may be omitted.
    """

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
