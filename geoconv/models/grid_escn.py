r"""eSCN as published: SO(2) bottleneck convolutions and nonlinearities on sphere grids."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.models.common import AtomModel, frame_and_distance
from geoconv.nn.global_pool import GlobalPool
from geoconv.nn.grid_escn_conv import GridESCNConv
from geoconv.nn.sphere_grid_mlp import SphereGridMLP
from geoconv.ops.dropout import dropout
from geoconv.ops.radial import gaussian_basis
from geoconv.ops.so3 import num_coefficients
from geoconv.ops.sphere_grid import spiral_sampling_matrix


class GridESCN(AtomModel):
    r"""The eSCN network of the paper's release: energies of molecules from sphere-grid nonlinearities.

    From `"Reducing SO(3) Convolutions to SO(2) for Efficient Equivariant GNNs"
    <https://arxiv.org/abs/2302.03655>`_ (Passaro & Zitnick, ICML 2023), the architecture of the
    authors' code (fairchem's ``eSCN`` with one resolution, energies only).  Atoms carry
    :math:`x_i \in \mathbb{R}^{L \times C}`, initialised with an embedding of the atomic number in
    ``l = 0``.  Layer :math:`t` computes messages with :class:`~geoconv.nn.GridESCNConv` (its own edge
    embedding of the Gaussian basis :math:`\phi` of the distance and both atomic numbers) and
    updates the nodes with :class:`~geoconv.nn.SphereGridMLP`:

    .. math::
        u_i = \mathrm{GridMLP}\big([x_i \,\|\, \textstyle\sum_{j \to i} m_{ji}]\big),\qquad
        x_i \leftarrow u_i \ (t = 0),\quad x_i \leftarrow x_i + u_i \ (t > 0)

    The readout evaluates the features at ``num_sphere_samples`` spiral points
    (:func:`~geoconv.ops.sphere_grid.spiral_sampling_matrix`: point :math:`w_k p_k`, :math:`w_k`
    evening out the density), applies an MLP to every sample and averages:

    .. math::
        E = s \sum_i \frac{1}{P} \sum_{k=1}^{P} \mathrm{MLP}\Big(\sum_l w_k^{\,l}\, Y^l(p_k)^\top x_i^{l}\Big)

    with :math:`s` = ``output_scale`` (the reference's 0.001).  Unlike :class:`~geoconv.models.ESCN`
    (full-rank SO(2) convolutions with a gate, normalisation, cutoff envelope, an ``l = 0`` head),
    the SO(2) convolutions go through ``inner_channels`` and every nonlinearity is SiLU on sampled
    functions, so the energy is invariant under rotations only up to the sampling error (the grids
    and the readout points are fixed), as in the reference; it is exactly invariant under
    translations and permutations of the atoms.  There is no cutoff envelope (edges are taken as
    given) and messages are summed without a neighbour-count scaling, as in the reference.

    Args:
        in_channels: size of the atomic-number embeddings (atomic numbers must be ``< in_channels``).
        hidden_channels: channels ``C`` of the node features (the reference's ``sphere_channels``).
        out_channels: number of predicted properties (default 1).
        num_layers: message-passing layers (default 8).
        dropout: dropout on the sampled values before the readout MLP (default 0, the reference has none).
        lmax: largest degree (default 6).
        mmax: largest order in the edge frames (default 2).
        inner_channels: bottleneck width of the SO(2) convolutions (default ``2 * hidden_channels``;
            the reference's ``hidden_channels``).
        edge_channels: size of the edge embeddings (default 128).
        num_radial: Gaussians in the distance basis, evenly spaced on ``[0, cutoff]`` with widths equal
            to their spacing (default 400).
        cutoff: range (Angstrom) of the distance basis (default 8).
        num_sphere_samples: points of the readout (default 128).
        output_scale: factor on the summed energies (default 0.001).
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
        num_layers: int = 8,
        dropout: float = 0.0,
        *,
        lmax: int = 6,
        mmax: int = 2,
        inner_channels: int | None = None,
        edge_channels: int = 128,
        num_radial: int = 400,
        cutoff: float = 8.0,
        num_sphere_samples: int = 128,
        output_scale: float = 1e-3,
        atomic_number_field: str = "z",
        pos_field: str = "pos",
    ) -> None:
        super().__init__()
        inner_channels = 2 * hidden_channels if inner_channels is None else inner_channels
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, hidden_channels, out_channels
        self.num_layers, self.dropout, self.lmax, self.mmax = num_layers, dropout, lmax, mmax
        self.inner_channels, self.num_radial, self.cutoff = inner_channels, num_radial, cutoff
        self.num_sphere_samples, self.output_scale = num_sphere_samples, output_scale
        self.atomic_number_field, self.pos_field = atomic_number_field, pos_field
        spiral_sampling_matrix(lmax, num_sphere_samples)
        self.atom_embedding = nn.Embedding(in_channels, hidden_channels)
        self.convs = nn.ModuleList(
            GridESCNConv(hidden_channels, inner_channels, lmax=lmax, mmax=mmax, edge_channels=edge_channels,
                         num_radial=num_radial, num_elements=in_channels)
            for _ in range(num_layers)
        )
        self.updates = nn.ModuleList(SphereGridMLP(2 * hidden_channels, hidden_channels, lmax=lmax)
                                     for _ in range(num_layers))
        self.head = nn.Sequential(nn.Linear(hidden_channels, hidden_channels), nn.SiLU(),
                                  nn.Linear(hidden_channels, hidden_channels), nn.SiLU(),
                                  nn.Linear(hidden_channels, out_channels, bias=False))
        self.pool = GlobalPool("sum")

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.hidden_channels}, {self.out_channels}, num_layers={self.num_layers}, "
            f"lmax={self.lmax}, mmax={self.mmax}, inner_channels={self.inner_channels}, cutoff={self.cutoff}, "
            f"atomic_number_field={self.atomic_number_field!r}, pos_field={self.pos_field!r}"
        )

    def forward_tensors(
        self, z: Tensor, pos: Tensor, edge_index: Tensor, batch: Tensor | None = None, num_graphs: int | None = None
    ) -> Tensor:
        """The model on tensors: ``z [N]`` int64, ``pos [N, 3]``, ``edge_index [2, E]``, ``batch [N]`` with
        ``num_graphs`` (``batch`` None: one graph); output ``[G, out_channels]``."""
        x = self.node_features(z, pos, edge_index)
        samples = spiral_sampling_matrix(self.lmax, self.num_sphere_samples).to(device=x.device, dtype=x.dtype)
        values = dropout(torch.matmul(samples, x), self.dropout, self.training)  # [N, P, C]
        node_outputs = self.head(values).mean(dim=1)
        return self.pool(node_outputs, batch, num_graphs) * self.output_scale

    def node_features(self, z: Tensor, pos: Tensor, edge_index: Tensor) -> Tensor:
        """The equivariant node features ``[N, L, C]`` after the last layer."""
        self._check_atoms(z, pos)
        src, dst = edge_index
        # From the target to the source: the reference's direction (the frame is not symmetric under a flip).
        edge_vec = pos[src] - pos[dst]
        frame, distance = frame_and_distance(edge_vec, self.lmax, self.mmax)
        radial = gaussian_basis(distance, stop=self.cutoff, num_basis=self.num_radial)
        x = pos.new_zeros(z.shape[0], num_coefficients(self.lmax), self.hidden_channels)
        x = torch.cat([self.atom_embedding(z).unsqueeze(1).to(pos.dtype), x[:, 1:]], dim=1)
        for layer, (conv, update) in enumerate(zip(self.convs, self.updates)):
            message = conv(x, edge_index, edge_vec, radial, z=z, frame=frame)
            out = update(torch.cat([x, message], dim=2))
            x = out if layer == 0 else x + out
        return x
