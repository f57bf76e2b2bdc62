"""Graph-level molecular property models: OGB's GCN (with optional virtual node),
neural-fingerprint networks, and the MLP on circular fingerprints."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.data import Graph
from geoconv.nn.atom_bond_encoder import AtomEncoder, BondEncoder
from geoconv.nn.bond_gcn_conv import BondGCNConv
from geoconv.nn.neural_fingerprint import NeuralFingerprint
from geoconv.ops import dropout, scatter

POOLINGS = ("mean", "sum", "max")


def _graph_index(graph: Graph) -> tuple[Tensor, int]:
    return graph.batch, graph.num_graphs


class OGBMolGNN(nn.Module):
    """OGB's molecule GCN baseline (``ogb/examples/graphproppred/mol``, ``gnn.py`` with ``gnn_type='gcn'``).

    AtomEncoder -> ``num_layers`` x [BondGCNConv -> BatchNorm -> ReLU (not after
    the last layer) -> dropout] -> mean pooling -> Linear.  With
    ``virtual_node=True`` a virtual node connected to every atom is added
    (OGB's ``gcn-virtual``): before each layer its state is added to every
    atom, and after each layer but the last it is updated by an MLP of its
    state plus the sum of the atom states.  The leaderboard recipe: 5 layers,
    300 channels, dropout 0.5, Adam lr 1e-3, batch 32, 100 epochs.

    Shapes:
        graph.x: ``[N, 9]`` int64 (OGB atom features); graph.edge_attr: ``[E, 3]``; output: ``[G, num_tasks]`` logits.
    """

    def __init__(self, num_tasks: int, *, num_layers: int = 5, channels: int = 300, dropout: float = 0.5,
                 virtual_node: bool = False, pooling: str = "mean") -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.num_layers, self.dropout, self.pooling, self.virtual_node = num_layers, dropout, pooling, virtual_node
        self.atom_encoder = AtomEncoder(channels)
        self.convs = nn.ModuleList(BondGCNConv(channels) for _ in range(num_layers))
        self.norms = nn.ModuleList(nn.BatchNorm1d(channels) for _ in range(num_layers))
        if virtual_node:
            self.virtual_embedding = nn.Parameter(torch.zeros(1, channels))
            self.virtual_mlps = nn.ModuleList(
                nn.Sequential(nn.Linear(channels, 2 * channels), nn.BatchNorm1d(2 * channels), nn.ReLU(),
                              nn.Linear(2 * channels, channels), nn.BatchNorm1d(channels), nn.ReLU())
                for _ in range(num_layers - 1)
            )
        self.head = nn.Linear(channels, num_tasks)

    def forward(self, graph: Graph) -> Tensor:
        batch, num_graphs = _graph_index(graph)
        h = self.atom_encoder(graph.x)
        virtual = self.virtual_embedding.expand(num_graphs, -1) if self.virtual_node else None
        for layer in range(self.num_layers):
            if virtual is not None:
                h = h + virtual[batch]
            h_in = h
            h = self.norms[layer](self.convs[layer](h, graph.edge_index, graph.edge_attr))
            if layer < self.num_layers - 1:
                h = F.relu(h)
            h = dropout(h, self.dropout, self.training)
            if virtual is not None and layer < self.num_layers - 1:
                pooled = scatter(h_in, batch, 0, num_graphs, "sum") + virtual
                virtual = dropout(self.virtual_mlps[layer](pooled), self.dropout, self.training)
        return self.head(scatter(h, batch, 0, num_graphs, self.pooling))


class NeuralFingerprintNet(nn.Module):
    """A :class:`~geoconv.nn.NeuralFingerprint` followed by an MLP (Duvenaud et al.'s regression network).

    ``categorical=True`` embeds OGB's integer atom / bond features with
    AtomEncoder / BondEncoder first (width ``embedding_channels``); otherwise
    float features (e.g. the 62 / 6 Duvenaud features) are used directly.

    Shapes:
        output: ``[G, out_channels]``.
    """

    def __init__(self, in_channels: int, edge_channels: int, out_channels: int, *, hidden_channels: int = 128,
                 fingerprint_length: int = 128, num_layers: int = 4, mlp_hidden: int = 100,
                 categorical: bool = False, embedding_channels: int = 64, normalize: bool = True,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.categorical = categorical
        if categorical:
            self.atom_encoder = AtomEncoder(embedding_channels)
            self.bond_encoder = BondEncoder(embedding_channels)
            in_channels = edge_channels = embedding_channels
        self.fingerprint = NeuralFingerprint(in_channels, edge_channels, hidden_channels, fingerprint_length,
                                             num_layers=num_layers, normalize=normalize)
        self.mlp = nn.Sequential(nn.Linear(fingerprint_length, mlp_hidden), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(mlp_hidden, out_channels))

    def forward(self, graph: Graph) -> Tensor:
        batch, num_graphs = _graph_index(graph)
        x, edge_attr = graph.x, graph.edge_attr
        if self.categorical:
            x, edge_attr = self.atom_encoder(x), self.bond_encoder(edge_attr)
        return self.mlp(self.fingerprint(x, graph.edge_index, edge_attr, batch, num_graphs))


class FingerprintMLP(nn.Module):
    """MLP on fixed fingerprints (e.g. Morgan bits): ``[G, F] -> [G, out_channels]``.

    Takes the fingerprint tensor, or a graph holding it as the graph tensor ``graph.<key>``
    (as :class:`geoconv.chem.MorganFingerprint` attaches it).
    """

    def __init__(self, in_channels: int, out_channels: int, *, hidden_channels: int = 512, num_layers: int = 2,
                 dropout: float = 0.2, key: str = "fingerprint") -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_channels
        for _ in range(num_layers - 1):
            layers += [nn.Linear(width, hidden_channels), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden_channels
        layers.append(nn.Linear(width, out_channels))
        self.net = nn.Sequential(*layers)
        self.key = key

    def forward(self, fingerprint: Tensor | Graph) -> Tensor:
        if isinstance(fingerprint, Graph):
            fingerprint = getattr(fingerprint, self.key)
        return self.net(fingerprint)
