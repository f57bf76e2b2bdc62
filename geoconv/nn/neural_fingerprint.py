"""Neural graph fingerprints, https://arxiv.org/abs/1509.09292 (Duvenaud et al., NeurIPS 2015)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.ops import check_edge_index, degree, gather, global_pool, scatter


class NeuralFingerprint(nn.Module):
    r"""The differentiable circular fingerprint of Duvenaud et al.

    Layer :math:`l = 1..L` updates every atom with a weight matrix chosen by
    its degree :math:`d_i` (number of incoming edges, capped at ``max_degree``):

    .. math::
        v_i = \Big[\, r_i \;\Big\|\; \sum_{j \in N(i)} (r_j \,\|\, e_{ji}) \Big], \qquad
        r_i \leftarrow \sigma\big(H^{(l)}_{d_i} v_i + b^{(l)}\big)

    (the self part and the neighbour sum each get their own block of
    :math:`H_d`, which is the paper's :math:`(r_i + \sum_j r_j) H_d` once
    bond features are appended to the neighbours, and HIPS's self filter
    plus per-degree neighbour filter when the self block is shared).  The
    fingerprint sums a softmax over its ``F`` entries of every atom's
    representation at every depth :math:`l = 0..L`:

    .. math::
        f_g = \sum_{l=0}^{L} \sum_{i \in g} \operatorname{softmax}\big(W^{(l)} r^{(l)}_i + c^{(l)}\big)

    so each atom at each radius "writes" one unit of mass into the
    fingerprint, like setting a bit in ECFP.  The result is invariant to atom
    renumbering.  ``normalize=True`` adds HIPS's batch normalisation before
    the nonlinearity.

    Args:
        in_channels: atom features ``C``.
        edge_channels: bond features ``D`` (0 for none).
        hidden_channels: width of the atom representations (int, or a list per layer).
        fingerprint_length: ``F``.
        num_layers: ``L`` (ignored when ``hidden_channels`` is a list).
        max_degree: degrees above it share the last weight matrix (5 in the paper).
        normalize: batch normalisation of the pre-activations.

    Shapes:
        x: ``[N, C]``; edge_index: ``[2, E]``; edge_attr: ``[E, D]``; batch: ``[N]`` (keyword, with ``num_graphs``; None: one graph);
        output: ``[G, F]`` (``G = num_graphs``).
    """

    def __init__(
        self,
        in_channels: int,
        edge_channels: int,
        hidden_channels: int | list[int],
        fingerprint_length: int,
        *,
        num_layers: int = 4,
        max_degree: int = 5,
        normalize: bool = False,
    ) -> None:
        super().__init__()
        widths = list(hidden_channels) if isinstance(hidden_channels, (list, tuple)) else [hidden_channels] * num_layers
        if fingerprint_length < 1 or max_degree < 0 or any(w < 1 for w in widths):
            raise ValueError("fingerprint_length and the hidden widths must be >= 1 and max_degree >= 0")
        self.in_channels, self.edge_channels = in_channels, edge_channels
        self.widths, self.fingerprint_length, self.max_degree = widths, fingerprint_length, max_degree
        sizes = [in_channels] + widths
        # H^{(l)}: the (max_degree + 1) blocks [2 C_l + D, C_{l+1}] side by side.
        self.degree_weights = nn.ParameterList(
            nn.Parameter(torch.empty(2 * a + edge_channels, (max_degree + 1) * b)) for a, b in zip(sizes[:-1], sizes[1:])
        )
        self.biases = nn.ParameterList(nn.Parameter(torch.empty(b)) for b in widths)
        self.norms = nn.ModuleList(nn.BatchNorm1d(b) for b in widths) if normalize else None
        self.readouts = nn.ModuleList(nn.Linear(size, fingerprint_length) for size in sizes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for weight in self.degree_weights:
            bound = 1.0 / math.sqrt(weight.shape[0])
            nn.init.uniform_(weight, -bound, bound)
        for bias in self.biases:
            nn.init.zeros_(bias)
        for readout in self.readouts:
            readout.reset_parameters()
        if self.norms is not None:
            for norm in self.norms:
                norm.reset_parameters()

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_attr: Tensor | None = None,
        *,
        batch: Tensor | None = None,
        num_graphs: int | None = None,
    ) -> Tensor:
        num_nodes = x.shape[0]
        check_edge_index(edge_index, num_nodes)
        if self.edge_channels > 0:
            if edge_attr is None or edge_attr.shape != (edge_index.shape[1], self.edge_channels):
                got = None if edge_attr is None else list(edge_attr.shape)
                raise ValueError(f"edge_attr must have shape [E, {self.edge_channels}] = [{edge_index.shape[1]}, "
                                 f"{self.edge_channels}], got {got}")
        if batch is not None and num_graphs is None:
            raise ValueError("NeuralFingerprint needs num_graphs together with batch")
        src, dst = edge_index
        node_degree = degree(dst, num_nodes, dtype=torch.long).clamp(max=self.max_degree)
        # atoms grouped by degree once; each group is multiplied by its own block of H
        # (torch.compile: the group sizes are data-dependent, so compiled code multiplies every atom by
        # every block and picks its own, the same numbers at max_degree + 1 times the matmul work)
        compiling = torch.compiler.is_compiling()
        groups = [] if compiling else [(d, (node_degree == d).nonzero().view(-1)) for d in range(self.max_degree + 1)]
        groups = [(d, index) for d, index in groups if index.numel() > 0]
        fingerprint = self._write(x, 0, batch, num_graphs)
        for layer, weight in enumerate(self.degree_weights):
            neighbours = gather(x, src)
            if self.edge_channels > 0:
                neighbours = torch.cat([neighbours, edge_attr.to(x.dtype)], dim=-1)
            summed = scatter(neighbours, dst, 0, num_nodes, "sum")
            v = torch.cat([x, summed], dim=-1)
            width = self.widths[layer]
            if compiling:
                every_block = (v @ weight).view(num_nodes, self.max_degree + 1, width)
                h = every_block.gather(1, node_degree.view(-1, 1, 1).expand(-1, 1, width)).squeeze(1)
            else:
                h = v.new_zeros(num_nodes, width)
            for d, index in groups:
                h = h.index_copy(0, index, v.index_select(0, index) @ weight[:, d * width:(d + 1) * width])
            h = h + self.biases[layer]
            if self.norms is not None:
                h = self.norms[layer](h)
            x = F.relu(h)
            fingerprint = fingerprint + self._write(x, layer + 1, batch, num_graphs)
        return fingerprint

    def _write(self, x: Tensor, layer: int, batch: Tensor | None, num_graphs: int | None) -> Tensor:
        return global_pool(torch.softmax(self.readouts[layer](x), dim=-1), batch, num_graphs, "sum")

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, edge_channels={self.edge_channels}, widths={self.widths}, "
                f"fingerprint_length={self.fingerprint_length}, max_degree={self.max_degree}")
