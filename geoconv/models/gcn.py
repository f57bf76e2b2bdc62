"""The two-layer GCN of Kipf & Welling for node classification."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.data import Graph
from geoconv.nn.gcn_conv import GCNConv
from geoconv.ops.dropout import dropout


class GCN(nn.Module):
    """A stack of :class:`~geoconv.nn.GCNConv` layers with ReLU and dropout.

    ``GCN(C, 16, K)`` is the paper's model: GCNConv(C, 16) -> ReLU -> dropout -> GCNConv(16, K),
    dropout 0.5 also on the input features.

    Args:
        in_channels: input features ``C``.
        hidden_channels: width of the hidden layers.
        out_channels: classes ``K``.
        num_layers: number of GCNConv layers (>= 1).
        dropout: dropout probability before every layer.
        cached: cache the normalised graph (transductive training).

    Shapes:
        graph.x: ``[N, C]``; output: ``[N, K]`` logits.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        *,
        num_layers: int = 2,
        dropout: float = 0.5,
        cached: bool = False,
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        sizes = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        self.convs = nn.ModuleList(GCNConv(a, b, cached=cached) for a, b in zip(sizes[:-1], sizes[1:]))
        self.dropout = dropout

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()

    def forward(self, graph: Graph, edge_weight: Tensor | None = None) -> Tensor:
        return self.forward_tensors(graph.x, graph.edge_index, edge_weight)

    def forward_tensors(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        """The same model on raw tensors (``x [N, C]`` dense or sparse COO, ``edge_index [2, E]``)."""
        for i, conv in enumerate(self.convs):
            x = dropout(x, self.dropout, self.training)
            x = conv(x, edge_index, edge_weight)
            if i < len(self.convs) - 1:
                x = F.relu(x)
        return x
