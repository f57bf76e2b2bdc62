"""Bemis-Murcko scaffolds and the scaffold / random splits of MoleculeNet and OGB.

:func:`scaffold_split` is the deterministic split that OGB used to make the
``ogbg-mol*`` splits (from Hu et al.'s ``pretrain-gnns`` ``scaffold_split``):
molecules are grouped by their Bemis-Murcko scaffold SMILES (with
chirality), the groups are ordered largest first (ties: larger first index
first), and whole groups fill train until it would exceed 80 %, then valid
until train + valid would exceed 90 %, the rest go to test.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from geoconv._optional import require


def murcko_scaffold(smiles: str, *, chirality: bool = True) -> str:
    """The Bemis-Murcko scaffold SMILES of a molecule ('' for acyclic molecules)."""
    scaffolds = require("rdkit.Chem.Scaffolds.MurckoScaffold", "scaffold splits")
    from geoconv.chem.featurize import parse_smiles

    return scaffolds.MurckoScaffoldSmiles(mol=parse_smiles(smiles), includeChirality=chirality)


def scaffold_split(
    smiles: Sequence[str], fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
) -> tuple[Tensor, Tensor, Tensor]:
    """Deterministic scaffold split of ``smiles``: ``(train, valid, test)`` index tensors (int64)."""
    return scaffold_split_from_scaffolds([murcko_scaffold(text) for text in smiles], fractions)


def scaffold_split_from_scaffolds(
    scaffolds: Sequence[str], fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
) -> tuple[Tensor, Tensor, Tensor]:
    """:func:`scaffold_split` given each molecule's scaffold string (see the module docstring)."""
    if abs(sum(fractions) - 1.0) > 1e-6 or min(fractions) < 0:
        raise ValueError(f"fractions must be non-negative and sum to 1, got {fractions}")
    groups: dict[str, list[int]] = {}
    for i, scaffold in enumerate(scaffolds):
        groups.setdefault(scaffold, []).append(i)
    ordered = sorted(groups.values(), key=lambda members: (len(members), members[0]), reverse=True)
    train_cutoff = fractions[0] * len(scaffolds)
    valid_cutoff = (fractions[0] + fractions[1]) * len(scaffolds)
    train: list[int] = []
    valid: list[int] = []
    test: list[int] = []
    for members in ordered:
        if len(train) + len(members) > train_cutoff:
            if len(train) + len(valid) + len(members) > valid_cutoff:
                test.extend(members)
            else:
                valid.extend(members)
        else:
            train.extend(members)
    return tuple(torch.tensor(sorted(part), dtype=torch.long) for part in (train, valid, test))


def random_split(
    num_items: int, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1), *, seed: int = 0
) -> tuple[Tensor, Tensor, Tensor]:
    """A seeded random split ``(train, valid, test)`` of ``range(num_items)`` (sizes floor(f * n), rest to test)."""
    if abs(sum(fractions) - 1.0) > 1e-6 or min(fractions) < 0:
        raise ValueError(f"fractions must be non-negative and sum to 1, got {fractions}")
    permutation = torch.randperm(num_items, generator=torch.Generator().manual_seed(seed))
    num_train = int(fractions[0] * num_items)
    num_valid = int(fractions[1] * num_items)
    return (
        permutation[:num_train].sort().values,
        permutation[num_train:num_train + num_valid].sort().values,
        permutation[num_train + num_valid:].sort().values,
    )
