r"""eSCN: an SO(3)-equivariant network for molecules built from SO(2) convolutions."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.data import Graph
from geoconv.nn.escn_conv import ESCNConv
from geoconv.ops.radial import cosine_cutoff, gaussian_basis
from geoconv.ops.scatter import scatter
from geoconv.ops.so3 import degree_index, edge_frame, num_coefficients


class DegreeLinear(nn.Module):
    r"""Channel mixing per degree, :math:`y_{l,m} = W_l\, x_{l,m}` (+ bias on ``l = 0``): equivariant.

    Shapes: ``[N, L, C]`` -> ``[N, L, C']``.
    """

    def __init__(self, in_channels: int, out_channels: int, *, lmax: int) -> None:
        super().__init__()
        self.lmax = lmax
        self.weight = nn.Parameter(torch.empty(lmax + 1, in_channels, out_channels))
        self.bias = nn.Parameter(torch.empty(out_channels))
        self.register_buffer("degrees", degree_index(lmax), persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight, std=1.0 / math.sqrt(self.weight.shape[1]))
        nn.init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return f"{self.weight.shape[1]}, {self.weight.shape[2]}, lmax={self.lmax}"

    def forward(self, x: Tensor) -> Tensor:
        out = torch.einsum("nlc,lcd->nld", x, self.weight[self.degrees])
        return torch.cat([out[:, :1] + self.bias, out[:, 1:]], dim=1)


class DegreeNorm(nn.Module):
    r"""Equivariant RMS normalisation per degree: :math:`y_{l} = g_l \odot x_l / \sqrt{\langle x_l^2\rangle_{m,c} + \epsilon}`.

    Shapes: ``[N, L, C]`` -> same.
    """

    def __init__(self, channels: int, *, lmax: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.lmax, self.eps = lmax, eps
        self.weight = nn.Parameter(torch.ones(lmax + 1, channels))
        self.register_buffer("degrees", degree_index(lmax), persistent=False)

    def reset_parameters(self) -> None:
        nn.init.ones_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        squares = scatter(x.square().mean(dim=2).T, self.degrees, dim=0, dim_size=self.lmax + 1, reduce="mean")
        scale = torch.rsqrt(squares.T + self.eps)[:, self.degrees].unsqueeze(-1)
        return x * scale * self.weight[self.degrees]


class NodeFeedForward(nn.Module):
    r"""Node-wise equivariant feed-forward block: per-degree linear, SiLU on ``l = 0`` and
    sigmoid gates (from ``l = 0``) on ``l > 0``, per-degree linear.

    Shapes: ``[N, L, C]`` -> same.
    """

    def __init__(self, channels: int, hidden_channels: int, *, lmax: int) -> None:
        super().__init__()
        self.lmax = lmax
        self.up = DegreeLinear(channels, hidden_channels, lmax=lmax)
        self.gate = nn.Linear(hidden_channels, lmax * hidden_channels) if lmax > 0 else None
        self.down = DegreeLinear(hidden_channels, channels, lmax=lmax)
        self.register_buffer("degrees", degree_index(lmax)[1:] - 1, persistent=False)

    def reset_parameters(self) -> None:
        for module in (self.up, self.gate, self.down):
            if module is not None:
                module.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        h = self.up(x)
        scalars = h[:, 0]
        parts = [F.silu(scalars).unsqueeze(1)]
        if self.gate is not None:
            gates = torch.sigmoid(self.gate(scalars)).view(x.shape[0], self.lmax, -1)
            parts.append(h[:, 1:] * gates[:, self.degrees])
        return self.down(torch.cat(parts, dim=1))


class ESCN(nn.Module):
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
        channels: channels ``C`` of the node features.
        lmax: largest degree.
        mmax: largest order in the edge frames (default ``min(lmax, 2)``).
        num_layers: message-passing blocks.
        hidden_channels: width inside the blocks (default ``2 * channels``).
        num_elements: size of the atomic-number embedding (atomic numbers ``< num_elements``).
        num_radial: Gaussians in the distance basis.
        edge_channels: size of the edge embedding.
        cutoff: radius (Angstrom) of the envelope; edges longer than it send nothing.
        avg_num_neighbors: divides the aggregated messages.
        out_channels: number of predicted properties.

    Shapes:
        graph.z ``[N]`` int64 atomic numbers (or ``graph.x`` ``[N]`` / ``[N, 1]``), graph.pos
        ``[N, 3]``, graph.edge_index ``[2, E]``; output ``[G, out_channels]``.
    """

    def __init__(
        self,
        *,
        channels: int = 32,
        lmax: int = 2,
        mmax: int | None = None,
        num_layers: int = 3,
        hidden_channels: int | None = None,
        num_elements: int = 10,
        num_radial: int = 32,
        edge_channels: int = 32,
        cutoff: float = 5.0,
        avg_num_neighbors: float = 10.0,
        out_channels: int = 1,
    ) -> None:
        super().__init__()
        mmax = min(lmax, 2) if mmax is None else mmax
        hidden_channels = 2 * channels if hidden_channels is None else hidden_channels
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        self.channels, self.lmax, self.mmax, self.num_layers = channels, lmax, mmax, num_layers
        self.num_elements, self.num_radial, self.cutoff = num_elements, num_radial, cutoff
        self.avg_num_neighbors, self.out_channels = avg_num_neighbors, out_channels
        self.atom_embedding = nn.Embedding(num_elements, channels)
        self.edge_source = nn.Embedding(num_elements, edge_channels)
        self.edge_target = nn.Embedding(num_elements, edge_channels)
        self.edge_radial = nn.Linear(num_radial, edge_channels)
        self.edge_mlp = nn.Linear(edge_channels, edge_channels)
        self.convs = nn.ModuleList(
            ESCNConv(channels, lmax=lmax, mmax=mmax, edge_channels=edge_channels, hidden_channels=hidden_channels)
            for _ in range(num_layers)
        )
        self.conv_norms = nn.ModuleList(DegreeNorm(channels, lmax=lmax) for _ in range(num_layers))
        self.ffns = nn.ModuleList(NodeFeedForward(channels, hidden_channels, lmax=lmax) for _ in range(num_layers))
        self.ffn_norms = nn.ModuleList(DegreeNorm(channels, lmax=lmax) for _ in range(num_layers))
        self.final_norm = DegreeNorm(channels, lmax=lmax)
        self.head = nn.Sequential(nn.Linear(channels, channels), nn.SiLU(), nn.Linear(channels, out_channels))

    def reset_parameters(self) -> None:
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def extra_repr(self) -> str:
        return (
            f"channels={self.channels}, lmax={self.lmax}, mmax={self.mmax}, num_layers={self.num_layers}, "
            f"cutoff={self.cutoff}, out_channels={self.out_channels}"
        )

    @staticmethod
    def atomic_numbers(graph: Graph) -> Tensor:
        z = graph.z if "z" in graph else graph.x
        if z is None:
            raise ValueError("ESCN needs atomic numbers as graph.z (or graph.x) of shape [N]")
        return z.view(-1) if z.dim() == 2 and z.shape[1] == 1 else z

    def forward(self, graph: Graph) -> Tensor:
        z = self.atomic_numbers(graph)
        return self.forward_tensors(z, graph.pos, graph.edge_index, graph.batch, graph.num_graphs)

    def energy_and_forces(self, graph: Graph) -> tuple[Tensor, Tensor]:
        """``(energy [G], forces [N, 3])`` with forces the negative gradient of the first output."""
        if self.out_channels != 1:
            raise ValueError(f"forces need a single (energy) output, but out_channels={self.out_channels}")
        pos = graph.pos.detach().requires_grad_(True)
        z = self.atomic_numbers(graph)
        energy = self.forward_tensors(z, pos, graph.edge_index, graph.batch, graph.num_graphs)[:, 0]
        (gradient,) = torch.autograd.grad(energy.sum(), pos, create_graph=self.training)
        return energy, -gradient

    def forward_tensors(
        self, z: Tensor, pos: Tensor, edge_index: Tensor, batch: Tensor | None = None, num_graphs: int | None = None
    ) -> Tensor:
        """Graph outputs ``[G, out_channels]`` from tensors (``batch`` None: one graph)."""
        x = self.node_features(z, pos, edge_index)
        energies = self.head(self.final_norm(x)[:, 0])
        if batch is None:
            batch = torch.zeros(z.shape[0], dtype=torch.long, device=z.device)
            num_graphs = 1
        elif num_graphs is None:
            num_graphs = int(batch.max()) + 1 if batch.numel() else 0
        return scatter(energies, batch, dim=0, dim_size=num_graphs, reduce="sum")

    def node_features(self, z: Tensor, pos: Tensor, edge_index: Tensor) -> Tensor:
        """The equivariant node embeddings ``[N, L, C]`` after the last block."""
        if z.dim() != 1 or z.dtype != torch.long:
            raise ValueError(f"atomic numbers must be an int64 tensor of shape [N], got {z.dtype} {list(z.shape)}")
        if pos is None or pos.shape != (z.shape[0], 3):
            raise ValueError(f"pos must have shape [N={z.shape[0]}, 3], got {None if pos is None else list(pos.shape)}")
        # Host sync: eager mode only (skipped while torch.compile traces).
        if z.numel() and not torch.compiler.is_compiling() and (int(z.min()) < 0 or int(z.max()) >= self.num_elements):
            raise ValueError(f"atomic numbers must be in [0, {self.num_elements}), got range [{int(z.min())}, {int(z.max())}]")
        src, dst = edge_index
        edge_vec = pos[dst] - pos[src]
        frame = edge_frame(edge_vec, self.lmax, self.mmax)
        # Norm of a zero vector has no gradient: use the frame's validity mask to keep it finite.
        distance = torch.where(frame.valid.unsqueeze(1), edge_vec, torch.ones_like(edge_vec)).norm(dim=1)
        edge_embedding = F.silu(
            self.edge_radial(gaussian_basis(distance, stop=self.cutoff, num_basis=self.num_radial))
            + self.edge_source(z[src]) + self.edge_target(z[dst])
        )
        edge_embedding = F.silu(self.edge_mlp(edge_embedding))
        envelope = cosine_cutoff(distance, self.cutoff)

        x = pos.new_zeros(z.shape[0], num_coefficients(self.lmax), self.channels)
        x = torch.cat([self.atom_embedding(z).unsqueeze(1).to(pos.dtype), x[:, 1:]], dim=1)
        for conv, conv_norm, ffn, ffn_norm in zip(self.convs, self.conv_norms, self.ffns, self.ffn_norms):
            message = conv(conv_norm(x), edge_index, edge_vec, edge_embedding, envelope, frame=frame)
            x = x + message / self.avg_num_neighbors
            x = x + ffn(ffn_norm(x))
        return x
