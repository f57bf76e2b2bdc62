"""Dynamic edge convolution of DGCNN: EdgeConv on the kNN graph of the current features."""

from __future__ import annotations

from typing import Callable

from torch import Tensor, nn

from geoconv.nn.edge_conv import AGGREGATIONS, edge_messages, reset_module
from geoconv.ops import scatter
from geoconv.ops.knn import knn_graph


class DynamicEdgeConv(nn.Module):
    r"""EdgeConv on a kNN graph rebuilt from the input features at every call
    (Wang et al., "Dynamic Graph CNN for Learning on Point Clouds", ACM TOG 2019).

    .. math::
        x'_i = \max_{j \in \mathrm{kNN}(x_i)} h_\Theta(x_i \,\Vert\, x_j - x_i),
        \qquad \mathrm{kNN}(x_i) = \text{the } k \text{ points of } i\text{'s cloud nearest to } x_i \text{ in feature space}

    The neighbourhood includes ``i`` itself (distance 0), as in the paper's code and
    in torch_geometric's ``DynamicEdgeConv``.  The graph is computed on detached
    features (the neighbour selection is piecewise constant, it has no gradient)
    with :func:`~geoconv.ops.knn.knn_graph`, exact and chunked.

    When every point has ``k`` neighbours the messages form a dense ``[N, k, C']``
    block and are reduced over the neighbour axis without a scatter; clouds with
    fewer than ``k`` points use :func:`~geoconv.ops.scatter`.  For ``max`` the
    dense path uses ``Tensor.max(dim)``, measured fastest in both directions on
    CPU (16 x 1024 points, k = 20, 64 channels, one thread: forward+backward
    0.15 s against 0.26 s for ``amax`` and 0.56 s for the scatter).  Its only
    difference: on exactly tied maxima the gradient goes to one of them
    instead of being split evenly (the values are identical).

    Args:
        nn: edge function :math:`h_\Theta` mapping ``[E, 2C]`` to ``[E, C']``.
        k: neighbours per point (self included).
        aggr: ``"max"`` (default), ``"sum"`` (alias ``"add"``) or ``"mean"``.
        cosine: select neighbours by cosine instead of Euclidean distance.

    Shapes:
        x: ``[N, C]``; batch: ``[N]`` sorted graph index (``Batch.batch``) or None
        for one cloud; output: ``[N, C']``.
    """

    def __init__(self, nn: Callable[[Tensor], Tensor], k: int, *, aggr: str = "max", cosine: bool = False) -> None:
        super().__init__()
        if aggr not in AGGREGATIONS:
            raise ValueError(f"aggr must be one of {AGGREGATIONS}, got {aggr!r}")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        self.nn = nn
        self.k = k
        self.aggr = aggr
        self.cosine = cosine
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_module(self.nn)

    def forward(self, x: Tensor, *, batch: Tensor | None = None) -> Tensor:
        if x.dim() != 2:
            raise ValueError(f"x must have shape [N, C], got {list(x.shape)}")
        num_nodes = x.shape[0]
        edge_index = knn_graph(x.detach(), self.k, batch, loop=True, cosine=self.cosine)
        src, dst = edge_index
        # Sorted by centre with at most k per centre: E = N k means exactly k each, a dense block.
        regular = edge_index.shape[1] == num_nodes * self.k
        messages = edge_messages(self.nn, x, x, dst, src, regular_k=self.k if regular else None)
        if regular:
            dense = messages.view(num_nodes, self.k, -1)
            if self.aggr == "max":
                return dense.max(dim=1).values
            return dense.mean(dim=1) if self.aggr == "mean" else dense.sum(dim=1)
        return scatter(messages, dst, 0, num_nodes, self.aggr)

    def extra_repr(self) -> str:
        return f"k={self.k}, aggr={self.aggr!r}, cosine={self.cosine}"
