"""The GCN layer with bond embeddings of OGB's molecule baselines
(``ogb/examples/graphproppred/mol/conv.py``; Hu et al., "Open Graph Benchmark", NeurIPS 2020)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.nn.atom_bond_encoder import BondEncoder
from geoconv.ops import check_edge_index, degree, gather, scatter
from geoconv.ops.checks import check_dtype_device, check_rows


class BondGCNConv(nn.Module):
    r"""GCN convolution whose messages add an embedding of the bond.

    .. math::
        h_i = W x_i + b, \qquad
        x_i' = \sum_{j \to i} \frac{\mathrm{ReLU}(h_j + B(e_{ji}))}{\sqrt{\hat d_i \hat d_j}}
              + \frac{\mathrm{ReLU}(h_i + r)}{\hat d_i}

    with :math:`\hat d_i = 1 + (\text{number of edges leaving } i)` (OGB counts
    degrees on the source row), :math:`B` a :class:`~geoconv.nn.BondEncoder`
    (or a linear map of float bond features) and :math:`r` a learned root
    embedding standing in for the self-loop's bond.

    Args:
        channels: width ``C`` of input and output.
        edge_channels: None for OGB's categorical bond features, else the width
            ``D`` of float bond features (embedded by a linear map).

    Shapes:
        x: ``[N, C]``; edge_index: ``[2, E]``; edge_attr: ``[E, 3]`` int64 or ``[E, D]``; output: ``[N, C]``.
    """

    def __init__(self, channels: int, *, edge_channels: int | None = None) -> None:
        super().__init__()
        self.channels = channels
        self.linear = nn.Linear(channels, channels)
        self.root = nn.Parameter(torch.empty(1, channels))
        self.bond_encoder = BondEncoder(channels) if edge_channels is None else nn.Linear(edge_channels, channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.linear.reset_parameters()
        nn.init.normal_(self.root)  # nn.Embedding's default, as OGB's root_emb
        self.bond_encoder.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        num_nodes = x.shape[0]
        check_edge_index(edge_index, num_nodes)
        check_rows(edge_attr, edge_index.shape[1], "edge_attr", "edge of edge_index", "BondGCNConv")
        check_dtype_device("BondGCNConv", self.linear, x=x, edge_index=edge_index, edge_attr=edge_attr)
        h = self.linear(x)
        src, dst = edge_index
        deg = degree(src, num_nodes, dtype=h.dtype) + 1
        inv_sqrt = deg.pow(-0.5)
        norm = gather(inv_sqrt, src) * gather(inv_sqrt, dst)
        messages = F.relu(gather(h, src) + self.bond_encoder(edge_attr)) * norm.unsqueeze(-1)
        return scatter(messages, dst, 0, num_nodes, "sum") + F.relu(h + self.root) / deg.unsqueeze(-1)

    def extra_repr(self) -> str:
        return f"channels={self.channels}"
