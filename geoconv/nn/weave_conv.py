"""The Weave module of Kearnes et al., "Molecular Graph Convolutions: Moving Beyond Fingerprints",
J. Comput.-Aided Mol. Des. 2016, https://arxiv.org/abs/1603.00856."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.ops import check_edge_index, gather, scatter


class WeaveConv(nn.Module):
    r"""One Weave module: atom and pair representations updated from each other.

    For atoms :math:`a_i` and pairs :math:`p_{ij}` (one per column ``j -> i``
    of ``edge_index``; in the paper all atom pairs, or all pairs up to a
    graph distance, with distance / bond features):

    .. math::
        a_i' &= \mathrm{ReLU}\Big(W_A \Big[\underbrace{\mathrm{ReLU}(W_{AA} a_i)}_{A \to A}
                \,\Big\|\, \underbrace{\textstyle\sum_{j} \mathrm{ReLU}(W_{PA} p_{ij})}_{P \to A}\Big]\Big) \\
        p_{ij}' &= \mathrm{ReLU}\Big(W_P \Big[\underbrace{\mathrm{ReLU}(W_{AP} [a_i \| a_j])
                   + \mathrm{ReLU}(W_{AP} [a_j \| a_i])}_{A \to P}
                \,\Big\|\, \underbrace{\mathrm{ReLU}(W_{PP} p_{ij})}_{P \to P}\Big]\Big)

    (all with biases).  The A -> P term is summed over both atom orders, so
    it does not depend on which end is called ``i`` (the paper's order
    invariance); pairs are summed into their target atom ``i``.  Atom
    outputs are permutation equivariant, pair outputs follow their pairs.

    Args:
        in_channels: atom features ``C_a``.
        edge_channels: pair features ``C_p``.
        out_channels: atom output width.
        edge_out_channels: pair output width.
        hidden_channels: width of the four inner terms (default 50 as in the paper).
        update_edges: compute ``p'`` (default True; the last Weave module of a network can skip it).

    Shapes:
        x: ``[N, C_a]`` atoms; edge_index: ``[2, P]`` pairs; edge_attr: ``[P, C_p]`` pair features;
        output: ``([N, out_channels], [P, edge_out_channels])`` (pairs unchanged when ``update_edges=False``).
    """

    def __init__(self, in_channels: int, edge_channels: int, out_channels: int, edge_out_channels: int, *,
                 hidden_channels: int = 50, update_edges: bool = True) -> None:
        super().__init__()
        atom_channels, pair_channels, hidden = in_channels, edge_channels, hidden_channels
        self.in_channels, self.edge_channels = in_channels, edge_channels
        self.out_channels, self.edge_out_channels = out_channels, edge_out_channels
        self.hidden_channels, self.update_edges = hidden_channels, update_edges
        atom_out, pair_out = out_channels, edge_out_channels
        self.atom_to_atom = nn.Linear(atom_channels, hidden)
        self.pair_to_atom = nn.Linear(pair_channels, hidden)
        self.atom_update = nn.Linear(2 * hidden, atom_out)
        if update_edges:
            self.atom_to_pair = nn.Linear(2 * atom_channels, hidden)
            self.pair_to_pair = nn.Linear(pair_channels, hidden)
            self.pair_update = nn.Linear(2 * hidden, pair_out)

    def reset_parameters(self) -> None:
        for module in self.children():
            module.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> tuple[Tensor, Tensor]:
        atom_feats, pair_feats = x, edge_attr
        num_atoms = atom_feats.shape[0]
        check_edge_index(edge_index, num_atoms)
        if pair_feats.dim() != 2 or pair_feats.shape[0] != edge_index.shape[1]:
            raise ValueError(f"edge_attr must have shape [P, C_p] with P = {edge_index.shape[1]} pairs, "
                             f"got {list(pair_feats.shape)}")
        src, dst = edge_index
        pair_messages = F.relu(self.pair_to_atom(pair_feats))
        atom_terms = torch.cat([F.relu(self.atom_to_atom(atom_feats)),
                                scatter(pair_messages, dst, 0, num_atoms, "sum")], dim=-1)
        atom_new = F.relu(self.atom_update(atom_terms))
        if not self.update_edges:
            return atom_new, pair_feats
        a_i, a_j = gather(atom_feats, dst), gather(atom_feats, src)
        to_pair = F.relu(self.atom_to_pair(torch.cat([a_i, a_j], -1))) + F.relu(self.atom_to_pair(torch.cat([a_j, a_i], -1)))
        pair_new = F.relu(self.pair_update(torch.cat([to_pair, F.relu(self.pair_to_pair(pair_feats))], dim=-1)))
        return atom_new, pair_new

    def extra_repr(self) -> str:
        return (f"atoms {self.in_channels}->{self.out_channels}, pairs {self.edge_channels}->{self.edge_out_channels}, "
                f"hidden_channels={self.hidden_channels}, update_edges={self.update_edges}")
