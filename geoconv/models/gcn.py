"""The two-layer GCN of Kipf & Welling for node classification."""

from __future__ import annotations

from typing import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.data import Graph
from geoconv.models.common import as_fields, read_fields
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
        num_layers: number of GCNConv layers (>= 1, default 2).
        dropout: dropout probability before every layer (default 0.5).
        cached: cache the normalized graph (transductive training).
        input_fields: the node tensor(s) :meth:`forward` reads as ``x`` (default ``"x"``; several are concatenated).
        edge_weight_field: the edge tensor ``[E]`` :meth:`forward` passes as edge weights (default None: all 1).

    Shapes:
        graph.x: ``[N, C]``; output: ``[N, K]`` logits.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        num_layers: int = 2,
        dropout: float = 0.5,
        *,
        cached: bool = False,
        input_fields: str | Sequence[str] = "x",
        edge_weight_field: str | None = None,
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, hidden_channels, out_channels
        self.num_layers, self.dropout = num_layers, dropout
        self.input_fields = as_fields(input_fields, "input_fields")
        self.edge_weight_field = edge_weight_field
        sizes = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        self.convs = nn.ModuleList(GCNConv(a, b, cached=cached) for a, b in zip(sizes[:-1], sizes[1:]))

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.hidden_channels}, {self.out_channels}, num_layers={self.num_layers}, "
                f"dropout={self.dropout}, input_fields={self.input_fields}, edge_weight_field={self.edge_weight_field!r}")

    def forward(self, graph: Graph) -> Tensor:
        """Logits ``[N, out_channels]`` from the fields named by the constructor."""
        x = read_fields(graph, self.input_fields, model="GCN", option="input_fields")
        edge_weight = None
        if self.edge_weight_field is not None:
            edge_weight = read_fields(graph, (self.edge_weight_field,), model="GCN", option="edge_weight_field")
        return self.forward_tensors(x, graph.edge_index, edge_weight)

    def forward_tensors(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        """The same model on raw tensors (``x [N, C]`` dense or sparse COO, ``edge_index [2, E]``)."""
        for i, conv in enumerate(self.convs):
            x = dropout(x, self.dropout, self.training)
            x = conv(x, edge_index, edge_weight)
            if i < len(self.convs) - 1:
                x = F.relu(x)
        return x
