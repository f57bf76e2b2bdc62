"""Graph-level molecular property models: OGB's GCN (with optional virtual node),
neural-fingerprint networks, and the MLP on circular fingerprints."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.data import Graph
from geoconv.models.common import as_fields, read_fields, reset_children
from geoconv.nn.atom_bond_encoder import OGB_ATOM_FEATURE_DIMS, AtomEncoder, BondEncoder
from geoconv.nn.bond_gcn_conv import BondGCNConv
from geoconv.nn.global_pool import GlobalPool
from geoconv.nn.neural_fingerprint import NeuralFingerprint
from geoconv.ops import dropout, global_pool



class OGBMolGNN(nn.Module):
    """OGB's molecule GCN baseline (``ogb/examples/graphproppred/mol``, ``gnn.py`` with ``gnn_type='gcn'``).

    AtomEncoder -> ``num_layers`` x [BondGCNConv -> BatchNorm -> ReLU (not after
    the last layer) -> dropout] -> pooling (:class:`~geoconv.nn.GlobalPool`) -> Linear.  With
    ``virtual_node=True`` a virtual node connected to every atom is added
    (OGB's ``gcn-virtual``): before each layer its state is added to every
    atom, and after each layer but the last it is updated by an MLP of its
    state plus the sum of the atom states.  The leaderboard recipe: 5 layers,
    300 channels, dropout 0.5, Adam lr 1e-3, batch 32, 100 epochs.

    Args:
        in_channels: categorical atom feature columns; must be 9 (OGB's features, which fix the
            embedding tables of :class:`~geoconv.nn.AtomEncoder`).
        hidden_channels: width of the atom states (leaderboard: 300).
        out_channels: tasks (one logit or value each).
        num_layers: BondGCNConv layers (default 5).
        dropout: dropout after every layer (default 0.5).
        virtual_node: add OGB's virtual node (default False).
        pooling: ``"mean"`` (default), ``"sum"`` or ``"max"`` readout.
        input_fields: the int64 node tensor(s) of atom features (default ``"x"``).
        edge_fields: the int64 edge tensor(s) of bond features, 3 columns (default ``"edge_attr"``).

    Shapes:
        graph.x: ``[N, 9]`` int64 (OGB atom features); graph.edge_attr: ``[E, 3]``; output: ``[G, out_channels]``.
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 5,
                 dropout: float = 0.5, *, virtual_node: bool = False, pooling: str = "mean",
                 input_fields: str | Sequence[str] = "x", edge_fields: str | Sequence[str] = "edge_attr") -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        if pooling not in ("mean", "sum", "max"):
            raise ValueError(f"pooling must be one of ('mean', 'sum', 'max'), got {pooling!r}")
        if in_channels != len(OGB_ATOM_FEATURE_DIMS):
            raise ValueError(f"in_channels must be {len(OGB_ATOM_FEATURE_DIMS)} (OGB's categorical atom features), "
                             f"got {in_channels}")
        channels = hidden_channels
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, hidden_channels, out_channels
        self.num_layers, self.dropout, self.pooling, self.virtual_node = num_layers, dropout, pooling, virtual_node
        self.input_fields = as_fields(input_fields, "input_fields")
        self.edge_fields = as_fields(edge_fields, "edge_fields")
        self.readout = GlobalPool(pooling)
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
        self.head = nn.Linear(channels, out_channels)

    def reset_parameters(self) -> None:
        reset_children(self)
        if self.virtual_node:
            nn.init.zeros_(self.virtual_embedding)  # OGB's initialisation of the virtual node

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.hidden_channels}, {self.out_channels}, num_layers={self.num_layers}, "
                f"dropout={self.dropout}, virtual_node={self.virtual_node}, pooling={self.pooling!r}")

    def forward(self, graph: Graph) -> Tensor:
        """Outputs ``[G, out_channels]`` from the atom and bond fields of a Graph/Batch."""
        x = read_fields(graph, self.input_fields, model="OGBMolGNN", option="input_fields")
        edge_attr = read_fields(graph, self.edge_fields, model="OGBMolGNN", option="edge_fields")
        return self.forward_tensors(x, graph.edge_index, edge_attr, graph.batch, graph.num_graphs)

    def forward_tensors(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor, batch: Tensor | None = None,
                        num_graphs: int | None = None) -> Tensor:
        """The model on tensors: ``x [N, 9]``, ``edge_index [2, E]``, ``edge_attr [E, 3]`` (int64), ``batch [N]``
        with ``num_graphs`` (``batch`` None: one graph)."""
        if batch is None:
            batch = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
            num_graphs = 1 if num_graphs is None else num_graphs
        h = self.atom_encoder(x)
        virtual = self.virtual_embedding.expand(num_graphs, -1) if self.virtual_node else None
        for layer in range(self.num_layers):
            if virtual is not None:
                h = h + virtual[batch]
            h_in = h
            h = self.norms[layer](self.convs[layer](h, edge_index, edge_attr))
            if layer < self.num_layers - 1:
                h = F.relu(h)
            h = dropout(h, self.dropout, self.training)
            if virtual is not None and layer < self.num_layers - 1:
                pooled = global_pool(h_in, batch, num_graphs, "sum") + virtual
                virtual = dropout(self.virtual_mlps[layer](pooled), self.dropout, self.training)
        return self.head(self.readout(h, batch, num_graphs))


class NeuralFingerprintNet(nn.Module):
    """A :class:`~geoconv.nn.NeuralFingerprint` followed by an MLP (Duvenaud et al.'s regression network).

    ``categorical=True`` embeds OGB's integer atom / bond features with
    AtomEncoder / BondEncoder first (width ``embedding_channels``); otherwise
    float features (e.g. the 62 / 6 Duvenaud features) are used directly.

    Args:
        in_channels: atom features (ignored with ``categorical=True``: OGB's 9 columns are embedded).
        hidden_channels: width of the atom representations in the fingerprint layers (default 128).
        out_channels: outputs.
        num_layers: fingerprint layers (default 4).
        dropout: dropout in the MLP (default 0).
        edge_channels: bond features (0 for none; ignored with ``categorical=True``).
        fingerprint_length: size of the neural fingerprint (default 128).
        head_channels: hidden width of the MLP (default 100).
        categorical: embed OGB's categorical features first (default False).
        embedding_channels: embedding width with ``categorical=True`` (default 64).
        normalize: batch normalisation inside the fingerprint layers (default True).
        input_fields: node tensor(s) of atom features (default ``"x"``).
        edge_fields: edge tensor(s) of bond features (default ``"edge_attr"``; None for no bond features).

    Shapes:
        output: ``[G, out_channels]``.
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 4,
                 dropout: float = 0.0, *, edge_channels: int, fingerprint_length: int = 128,
                 head_channels: int = 100, categorical: bool = False, embedding_channels: int = 64,
                 normalize: bool = True, input_fields: str | Sequence[str] = "x",
                 edge_fields: str | Sequence[str] | None = "edge_attr") -> None:
        super().__init__()
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, hidden_channels, out_channels
        self.num_layers, self.dropout, self.categorical = num_layers, dropout, categorical
        self.input_fields = as_fields(input_fields, "input_fields")
        self.edge_fields = None if edge_fields is None else as_fields(edge_fields, "edge_fields")
        if categorical:
            self.atom_encoder = AtomEncoder(embedding_channels)
            self.bond_encoder = BondEncoder(embedding_channels)
            in_channels = edge_channels = embedding_channels
        self.fingerprint = NeuralFingerprint(in_channels, edge_channels, hidden_channels, fingerprint_length,
                                             num_layers=num_layers, normalize=normalize)
        self.mlp = nn.Sequential(nn.Linear(fingerprint_length, head_channels), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(head_channels, out_channels))

    def reset_parameters(self) -> None:
        reset_children(self)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.hidden_channels}, {self.out_channels}, num_layers={self.num_layers}, "
                f"dropout={self.dropout}, categorical={self.categorical}")

    def forward(self, graph: Graph) -> Tensor:
        """Outputs ``[G, out_channels]`` from the atom (and bond) fields of a Graph/Batch."""
        x = read_fields(graph, self.input_fields, model="NeuralFingerprintNet", option="input_fields")
        edge_attr = None
        if self.edge_fields is not None:
            edge_attr = read_fields(graph, self.edge_fields, model="NeuralFingerprintNet", option="edge_fields")
        return self.forward_tensors(x, graph.edge_index, edge_attr, graph.batch, graph.num_graphs)

    def forward_tensors(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None,
                        batch: Tensor | None = None, num_graphs: int | None = None) -> Tensor:
        """The model on tensors: ``x [N, C]``, ``edge_index [2, E]``, ``edge_attr [E, D]``, ``batch [N]`` with
        ``num_graphs`` (``batch`` None: one graph)."""
        if self.categorical:
            x = self.atom_encoder(x)
            edge_attr = None if edge_attr is None else self.bond_encoder(edge_attr)
        return self.mlp(self.fingerprint(x, edge_index, edge_attr, batch=batch, num_graphs=num_graphs))


class FingerprintMLP(nn.Module):
    """MLP on fixed fingerprints (e.g. Morgan bits): ``[G, F] -> [G, out_channels]``.

    :meth:`forward` reads the graph-level tensor named by ``input_fields`` (``"fingerprint"``, as
    :class:`geoconv.chem.MorganFingerprint` attaches it); :meth:`forward_tensors` takes the fingerprints.

    Args:
        in_channels: fingerprint length ``F``.
        hidden_channels: width of the hidden layers (default 512).
        out_channels: outputs.
        num_layers: linear layers (default 2).
        dropout: dropout after every hidden layer (default 0.2).
        input_fields: graph-level tensor(s) holding the fingerprints (default ``"fingerprint"``).
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 2,
                 dropout: float = 0.2, *, input_fields: str | Sequence[str] = "fingerprint") -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, hidden_channels, out_channels
        self.num_layers, self.dropout = num_layers, dropout
        self.input_fields = as_fields(input_fields, "input_fields")
        layers: list[nn.Module] = []
        width = in_channels
        for _ in range(num_layers - 1):
            layers += [nn.Linear(width, hidden_channels), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden_channels
        layers.append(nn.Linear(width, out_channels))
        self.net = nn.Sequential(*layers)

    def reset_parameters(self) -> None:
        reset_children(self)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.hidden_channels}, {self.out_channels}, num_layers={self.num_layers}, "
                f"dropout={self.dropout}, input_fields={self.input_fields}")

    def forward(self, graph: Graph) -> Tensor:
        """Outputs ``[G, out_channels]`` from the graph's fingerprint field."""
        fingerprint = read_fields(graph, self.input_fields, model="FingerprintMLP", option="input_fields")
        return self.forward_tensors(fingerprint.view(graph.num_graphs, -1))

    def forward_tensors(self, fingerprint: Tensor) -> Tensor:
        """The MLP on fingerprints ``[G, F]``."""
        return self.net(fingerprint)
