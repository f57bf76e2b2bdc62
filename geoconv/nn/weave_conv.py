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
        atom_channels, pair_channels: input widths ``C_a``, ``C_p``.
        atom_out, pair_out: output widths.
        hidden: width of the four inner terms (50 in the paper).
        update_pairs: compute ``p'`` (the last Weave module of a network can skip it).

    Shapes:
        atom_feats: ``[N, C_a]``; pair_feats: ``[P, C_p]``; edge_index: ``[2, P]``;
        output: ``([N, atom_out], [P, pair_out])`` (pairs unchanged when ``update_pairs=False``).
    """

    def __init__(self, atom_channels: int, pair_channels: int, atom_out: int, pair_out: int, *,
                 hidden: int = 50, update_pairs: bool = True) -> None:
        super().__init__()
        self.atom_channels, self.pair_channels = atom_channels, pair_channels
        self.atom_out, self.pair_out, self.hidden, self.update_pairs = atom_out, pair_out, hidden, update_pairs
        self.atom_to_atom = nn.Linear(atom_channels, hidden)
        self.pair_to_atom = nn.Linear(pair_channels, hidden)
        self.atom_update = nn.Linear(2 * hidden, atom_out)
        if update_pairs:
            self.atom_to_pair = nn.Linear(2 * atom_channels, hidden)
            self.pair_to_pair = nn.Linear(pair_channels, hidden)
            self.pair_update = nn.Linear(2 * hidden, pair_out)

    def reset_parameters(self) -> None:
        for module in self.children():
            module.reset_parameters()

    def forward(self, atom_feats: Tensor, pair_feats: Tensor, edge_index: Tensor) -> tuple[Tensor, Tensor]:
        num_atoms = atom_feats.shape[0]
        check_edge_index(edge_index, num_atoms)
        if pair_feats.dim() != 2 or pair_feats.shape[0] != edge_index.shape[1]:
            raise ValueError(f"pair_feats must have shape [P, C_p] with P = {edge_index.shape[1]} pairs, "
                             f"got {list(pair_feats.shape)}")
        src, dst = edge_index
        pair_messages = F.relu(self.pair_to_atom(pair_feats))
        atom_terms = torch.cat([F.relu(self.atom_to_atom(atom_feats)),
                                scatter(pair_messages, dst, 0, num_atoms, "sum")], dim=-1)
        atom_new = F.relu(self.atom_update(atom_terms))
        if not self.update_pairs:
            return atom_new, pair_feats
        a_i, a_j = gather(atom_feats, dst), gather(atom_feats, src)
        to_pair = F.relu(self.atom_to_pair(torch.cat([a_i, a_j], -1))) + F.relu(self.atom_to_pair(torch.cat([a_j, a_i], -1)))
        pair_new = F.relu(self.pair_update(torch.cat([to_pair, F.relu(self.pair_to_pair(pair_feats))], dim=-1)))
        return atom_new, pair_new

    def extra_repr(self) -> str:
        return (f"atoms {self.atom_channels}->{self.atom_out}, pairs {self.pair_channels}->{self.pair_out}, "
                f"hidden={self.hidden}, update_pairs={self.update_pairs}")
