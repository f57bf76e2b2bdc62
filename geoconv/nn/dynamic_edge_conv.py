"""Dynamic edge convolution of DGCNN: EdgeConv on the kNN graph of the current features."""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from geoconv.nn.edge_conv import AGGREGATIONS, edge_messages, linear_block_max, reset_module, uses_linear_block
from geoconv.ops import scatter
from geoconv.ops.knn import knn_graph, knn_neighbours


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

    With a :class:`~geoconv.nn.edge_conv.LinearEdgeBlock` edge function (DGCNN's ``Linear -> BatchNorm ->
    LeakyReLU``) and ``aggr="max"`` no per-edge tensor is formed: the block is evaluated per point and the
    maximum taken over ``[N, C']`` rows (:func:`~geoconv.nn.edge_conv.linear_block_max`).

    Otherwise, when every point has ``k`` neighbours the messages form a dense ``[N, k, C']``
    block and are reduced over the neighbour axis without a scatter; clouds with
    fewer than ``k`` points use :func:`~geoconv.ops.scatter`.  For ``max`` the
    dense path uses ``Tensor.max(dim)``, measured fastest in both directions on
    CPU (16 x 1024 points, k = 20, 64 channels, one thread: forward+backward
    0.15 s against 0.26 s for ``amax`` and 0.56 s for the scatter).  Its only
    difference: on exactly tied maxima the gradient goes to one of them
    instead of being split evenly (the values are identical).

    ``torch.compile(conv, fullgraph=True, dynamic=True)`` works: compiled, the neighbour search
    is the opaque operator :func:`~geoconv.ops.knn.knn_neighbours` (a fixed ``[N, k]`` table) and
    the messages are reduced over a masked dense ``[N, k, C']`` block; the kNN search itself is
    not compiled.

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
        if torch.compiler.is_compiling():
            return self._forward_static(x, batch)
        edge_index = knn_graph(_search_features(x), self.k, batch, loop=True, cosine=self.cosine)
        src, dst = edge_index
        # Sorted by centre with at most k per centre: E = N k means exactly k each, a dense block.
        regular = edge_index.shape[1] == num_nodes * self.k
        if regular and uses_linear_block(self.nn, self.aggr, src.numel()):
            out_degree = torch.zeros(num_nodes, dtype=src.dtype, device=src.device).scatter_add_(0, src, torch.ones_like(src))
            return linear_block_max(
                self.nn, x, x, src.view(num_nodes, self.k), in_degree=torch.full_like(out_degree, self.k),
                out_degree=out_degree, num_edges=src.numel(),
            )
        messages = edge_messages(self.nn, x, x, dst, src, regular_k=self.k if regular else None)
        if regular:
            dense = messages.view(num_nodes, self.k, messages.shape[-1])  # explicit width: N may be 0
            if self.aggr == "max":
                return dense.max(dim=1).values
            return dense.mean(dim=1) if self.aggr == "mean" else dense.sum(dim=1)
        return scatter(messages, dst, 0, num_nodes, self.aggr)

    def _forward_static(self, x: Tensor, batch: Tensor | None) -> Tensor:
        """The same function with shapes that do not depend on the data (what torch.compile traces):
        every point gets ``k`` slots (:func:`~geoconv.ops.knn.knn_neighbours`); the slots past a small
        cloud's size hold the point itself and are masked out of the reduction."""
        num_nodes = x.shape[0]
        neighbours = knn_neighbours(_search_features(x), self.k, batch, cosine=self.cosine)
        valid = neighbours >= 0
        centre = torch.arange(num_nodes, device=x.device).view(-1, 1).expand(-1, self.k)
        table = torch.where(valid, neighbours, centre)
        if uses_linear_block(self.nn, self.aggr, 2):  # at least the N >= 1 self-loops: compiled, no check of E
            # the masked slots repeat the point itself, a real neighbour: the maximum is unchanged
            flat_valid = valid.reshape(-1).to(neighbours.dtype)
            in_degree = valid.sum(dim=1)
            out_degree = torch.zeros(num_nodes, dtype=neighbours.dtype, device=x.device).scatter_add_(
                0, table.reshape(-1), flat_valid)
            return linear_block_max(self.nn, x, x, table, valid=valid, in_degree=in_degree, out_degree=out_degree,
                                    num_edges=in_degree.sum())
        src = table.reshape(-1)
        messages = edge_messages(self.nn, x, x, centre.reshape(-1), src, regular_k=self.k)
        messages = messages.view(num_nodes, self.k, messages.shape[-1])
        mask = valid.unsqueeze(-1)
        if self.aggr == "max":
            # loop=True: the point itself is always a valid neighbour, no row is all -inf
            return messages.masked_fill(~mask, float("-inf")).max(dim=1).values
        total = (messages * mask.to(messages.dtype)).sum(dim=1)
        if self.aggr == "mean":
            return total / valid.sum(dim=1, keepdim=True).clamp(min=1).to(messages.dtype)
        return total

    def extra_repr(self) -> str:
        return f"k={self.k}, aggr={self.aggr!r}, cosine={self.cosine}"


def _search_features(x: Tensor) -> Tensor:
    """The features the neighbours are chosen on: detached, and float32 for float16/bfloat16 inputs
    (rounded distances would pick other neighbours than full precision does)."""
    x = x.detach()
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
