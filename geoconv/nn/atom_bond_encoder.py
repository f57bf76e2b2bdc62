"""Embeddings of OGB's categorical atom and bond features (``ogb.graphproppred.mol_encoder``)."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from geoconv.ops.checks import check_categories, check_dtype_device

# ogb.utils.features.get_atom_feature_dims() / get_bond_feature_dims() (also geoconv.chem.ATOM_FEATURE_DIMS);
# repeated here because layers do not import the RDKit-facing chem package.
OGB_ATOM_FEATURE_DIMS = (119, 5, 12, 12, 10, 6, 6, 2, 2)
OGB_BOND_FEATURE_DIMS = (5, 6, 2)


class CategoricalEncoder(nn.Module):
    r"""Sum of one embedding table per categorical column.

    .. math:: h = \sum_{k} E_k[x_{:, k}], \qquad E_k \in \mathbb{R}^{V_k \times C}

    with Xavier-uniform initialisation, as OGB's ``AtomEncoder``/``BondEncoder``.

    Args:
        vocabulary_sizes: ``V_k`` per column.
        out_channels: ``C``.

    Shapes:
        x: ``[M, K]`` int64 with ``0 <= x[:, k] < V_k``; output: ``[M, C]``.
    """

    def __init__(self, vocabulary_sizes: Sequence[int], out_channels: int) -> None:
        super().__init__()
        self.vocabulary_sizes = tuple(int(v) for v in vocabulary_sizes)
        self.out_channels = out_channels
        self.embeddings = nn.ModuleList(nn.Embedding(v, out_channels) for v in self.vocabulary_sizes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for embedding in self.embeddings:
            nn.init.xavier_uniform_(embedding.weight)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 2 or x.shape[1] != len(self.embeddings):
            raise ValueError(f"expected [M, {len(self.embeddings)}] categorical features, got {list(x.shape)}")
        if x.dtype != torch.long:
            raise TypeError(f"categorical features must be int64, got {x.dtype}")
        check_dtype_device(type(self).__name__, self, x=x)
        check_categories(x, self.vocabulary_sizes, type(self).__name__)
        out = self.embeddings[0](x[:, 0])
        for k in range(1, len(self.embeddings)):
            out = out + self.embeddings[k](x[:, k])
        return out

    def extra_repr(self) -> str:
        return f"vocabulary_sizes={self.vocabulary_sizes}, out_channels={self.out_channels}"


class AtomEncoder(CategoricalEncoder):
    """:class:`CategoricalEncoder` over OGB's 9 atom features."""

    def __init__(self, out_channels: int) -> None:
        super().__init__(OGB_ATOM_FEATURE_DIMS, out_channels)


class BondEncoder(CategoricalEncoder):
    """:class:`CategoricalEncoder` over OGB's 3 bond features."""

    def __init__(self, out_channels: int) -> None:
        super().__init__(OGB_BOND_FEATURE_DIMS, out_channels)
