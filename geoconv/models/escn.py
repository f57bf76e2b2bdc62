r"""eSCN: an SO(3)-equivariant network for molecules built from SO(2) convolutions."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.models.common import AtomModel, frame_and_distance
from geoconv.nn.degree_norm import DegreeNorm
from geoconv.nn.escn_conv import ESCNConv
from geoconv.nn.global_pool import GlobalPool
from geoconv.nn.node_feed_forward import NodeFeedForward
from geoconv.ops.dropout import dropout
from geoconv.ops.radial import cosine_cutoff, gaussian_basis
from geoconv.ops.so3 import num_coefficients


class ESCN(AtomModel):
    r"""An eSCN network predicting graph-level properties (energies) of molecules.

    From `"Reducing SO(3) Convolutions to SO(2) for Efficient Equivariant GNNs"
    <https://arxiv.org/abs/2302.03655>`_ (Passaro & Zitnick, ICML 2023).  Atoms carry spherical
    features :math:`x_i \in \mathbb{R}^{L \times C}` (``L = (lmax+1)^2``), initialised with an
    embedding of the atomic number in ``l = 0``.  Each of the ``num_layers`` blocks is

    .. math::
        x \leftarrow x + \tfrac{1}{\nu}\,\mathrm{ESCNConv}(\mathrm{Norm}(x)),\qquad
        x \leftarrow x + \mathrm{FFN}(\mathrm{Norm}(x))

    with :class:`~geoconv.nn.ESCNConv` messages modulated by an edge embedding (Gaussian basis of
    the distance and embeddings of both atoms' numbers) and weighted by a cosine cutoff envelope,
    :math:`\nu` = ``avg_num_neighbors``.  The invariant head reads the ``l = 0`` features:
    :math:`E = \sum_i \mathrm{MLP}(x_{i,l=0})`, so energies are invariant under rotations,
    translations and permutations of the atoms, and forces :math:`F = -\partial E/\partial p`
    (:meth:`energy_and_forces`) are equivariant.  ``lmax = 0`` gives an invariant (SchNet-like)
    network: a useful baseline.

    Args:
        in_channels: size of the atomic-number embedding (atomic numbers must be ``< in_channels``).
        hidden_channels: channels ``C`` of the node features.
        out_channels: number of predicted properties (default 1).
        num_layers: message-passing blocks (default 3).
        dropout: dropout on the invariant ``l = 0`` features before the head (default 0).
        lmax: largest degree (default 2).
        mmax: largest order in the edge frames (default ``min(lmax, 2)``).
        inner_channels: width inside the blocks (default ``2 * hidden_channels``).
        num_radial: Gaussians in the distance basis (default 32).
        edge_channels: size of the edge embedding (default 32).
        cutoff: radius (Angstrom) of the envelope; edges longer than it send nothing (default 5).
        avg_num_neighbors: divides the aggregated messages (default 10).
        atomic_number_field: the int64 node tensor ``[N]`` (or ``[N, 1]``) of atomic numbers
            :meth:`forward` reads (default ``"z"``).
        pos_field: the node tensor of positions ``[N, 3]`` (default ``"pos"``).

    Shapes:
        graph.<atomic_number_field> ``[N]`` int64, graph.<pos_field> ``[N, 3]``,
        graph.edge_index ``[2, E]``; output ``[G, out_channels]``.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int = 1,
        num_layers: int = 3,
        dropout: float = 0.0,
        *,
        lmax: int = 2,
        mmax: int | None = None,
        inner_channels: int | None = None,
        num_radial: int = 32,
        edge_channels: int = 32,
        cutoff: float = 5.0,
        avg_num_neighbors: float = 10.0,
        atomic_number_field: str = "z",
        pos_field: str = "pos",
    ) -> None:
        super().__init__()
        mmax = min(lmax, 2) if mmax is None else mmax
        inner_channels = 2 * hidden_channels if inner_channels is None else inner_channels
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, hidden_channels, out_channels
        self.lmax, self.mmax, self.num_layers, self.dropout = lmax, mmax, num_layers, dropout
        self.num_radial, self.cutoff, self.avg_num_neighbors = num_radial, cutoff, avg_num_neighbors
        self.atomic_number_field, self.pos_field = atomic_number_field, pos_field
        channels = hidden_channels
        self.atom_embedding = nn.Embedding(in_channels, channels)
        self.edge_source = nn.Embedding(in_channels, edge_channels)
        self.edge_target = nn.Embedding(in_channels, edge_channels)
        self.edge_radial = nn.Linear(num_radial, edge_channels)
        self.edge_mlp = nn.Linear(edge_channels, edge_channels)
        self.convs = nn.ModuleList(
            ESCNConv(channels, lmax=lmax, mmax=mmax, edge_channels=edge_channels, hidden_channels=inner_channels)
            for _ in range(num_layers)
        )
        self.conv_norms = nn.ModuleList(DegreeNorm(channels, lmax=lmax) for _ in range(num_layers))
        self.ffns = nn.ModuleList(NodeFeedForward(channels, inner_channels, lmax=lmax) for _ in range(num_layers))
        self.ffn_norms = nn.ModuleList(DegreeNorm(channels, lmax=lmax) for _ in range(num_layers))
        self.final_norm = DegreeNorm(channels, lmax=lmax)
        self.head = nn.Sequential(nn.Linear(channels, channels), nn.SiLU(), nn.Linear(channels, out_channels))
        self.pool = GlobalPool("sum")

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.hidden_channels}, {self.out_channels}, num_layers={self.num_layers}, "
            f"lmax={self.lmax}, mmax={self.mmax}, cutoff={self.cutoff}, "
            f"atomic_number_field={self.atomic_number_field!r}, pos_field={self.pos_field!r}"
        )

    def forward_tensors(
        self, z: Tensor, pos: Tensor, edge_index: Tensor, batch: Tensor | None = None, num_graphs: int | None = None
    ) -> Tensor:
        """The model on tensors: ``z [N]`` int64, ``pos [N, 3]``, ``edge_index [2, E]``, ``batch [N]`` with
        ``num_graphs`` (``batch`` None: one graph); output ``[G, out_channels]``."""
        x = self.node_features(z, pos, edge_index)
        scalars = dropout(self.final_norm(x)[:, 0], self.dropout, self.training)
        return self.pool(self.head(scalars), batch, num_graphs)

    def node_features(self, z: Tensor, pos: Tensor, edge_index: Tensor) -> Tensor:
        """The equivariant node embeddings ``[N, L, C]`` after the last block."""
        self._check_atoms(z, pos)
        src, dst = edge_index
        edge_vec = pos[dst] - pos[src]
        frame, distance = frame_and_distance(edge_vec, self.lmax, self.mmax)
        edge_embedding = F.silu(
            self.edge_radial(gaussian_basis(distance, stop=self.cutoff, num_basis=self.num_radial))
            + self.edge_source(z[src]) + self.edge_target(z[dst])
        )
        edge_embedding = F.silu(self.edge_mlp(edge_embedding))
        envelope = cosine_cutoff(distance, self.cutoff)

        x = pos.new_zeros(z.shape[0], num_coefficients(self.lmax), self.hidden_channels)
        x = torch.cat([self.atom_embedding(z).unsqueeze(1).to(pos.dtype), x[:, 1:]], dim=1)
        for block, (conv, conv_norm, ffn, ffn_norm) in enumerate(zip(self.convs, self.conv_norms, self.ffns, self.ffn_norms)):
            features = conv_norm(x)
            if block == 0:
                # Only degree 0 is nonzero before the first block (and the norm keeps zeros zero):
                # the convolution then skips its products by zeros (see ESCNConv).
                features = features[:, :1]
            message = conv(features, edge_index, edge_vec, edge_embedding, envelope, frame=frame)
            x = x + message / self.avg_num_neighbors
            x = x + ffn(ffn_norm(x))
        return x
