"""Circular (Morgan / ECFP) fingerprints through RDKit's fingerprint-generator API.

``rdFingerprintGenerator.GetMorganGenerator`` replaces the deprecated
``AllChem.GetMorganFingerprintAsBitVect``; ECFP4 is radius 2.  Bit vectors
set a bit for every hashed atom environment of radius <= ``radius``; count
vectors count how often each (folded) environment occurs.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from geoconv._optional import require
from geoconv.data import Graph


def morgan_generator(radius: int = 2, size: int = 2048, *, chirality: bool = False, features: bool = False):
    """An RDKit Morgan fingerprint generator (``features=True``: FCFP pharmacophore invariants)."""
    if radius < 0 or size < 1:
        raise ValueError(f"radius must be >= 0 and size >= 1, got radius={radius}, size={size}")
    generator_module = require("rdkit.Chem.rdFingerprintGenerator", "Morgan fingerprints")
    kwargs = {"radius": radius, "fpSize": size, "includeChirality": chirality}
    if features:
        kwargs["atomInvariantsGenerator"] = generator_module.GetMorganFeatureAtomInvGen()
    return generator_module.GetMorganGenerator(**kwargs)


def _as_mol(molecule):
    if isinstance(molecule, str):
        from geoconv.chem.featurize import parse_smiles

        return parse_smiles(molecule)
    return molecule


def morgan_fingerprints(
    molecules: Sequence,
    *,
    radius: int = 2,
    size: int = 2048,
    counts: bool = False,
    chirality: bool = False,
    features: bool = False,
) -> Tensor:
    """Morgan fingerprints of ``molecules`` (RDKit ``Mol`` objects or SMILES).

    Args:
        radius: environment radius (2 = ECFP4).
        size: number of bits (folded).
        counts: count vectors instead of bit vectors.
        chirality: include chirality in the atom invariants.
        features: FCFP (feature) invariants instead of ECFP (connectivity) ones.

    Shapes:
        output: ``[len(molecules), size]`` float32 (0/1 bits or counts).

    An unparsable SMILES raises :class:`~geoconv.chem.InvalidSmilesError` naming it.
    """
    generator = morgan_generator(radius, size, chirality=chirality, features=features)
    out = np.zeros((len(molecules), size), dtype=np.float32)
    get = generator.GetCountFingerprintAsNumPy if counts else generator.GetFingerprintAsNumPy
    for i, molecule in enumerate(molecules):
        out[i] = get(_as_mol(molecule))
    return torch.from_numpy(out)


class MorganFingerprint:
    """Dataset transform: attach the Morgan fingerprint of a graph's molecule as graph tensor ``name``.

    The molecule is taken from the graph's ``smiles`` attribute (set by the
    molecule datasets), so ``transform(graph)`` returns a copy with
    ``graph.<name>`` of shape ``[1, size]``.  Fingerprints are computed once
    per SMILES and cached.
    """

    def __init__(self, *, radius: int = 2, size: int = 2048, counts: bool = False,
                 chirality: bool = False, name: str = "fingerprint") -> None:
        self.radius, self.size, self.counts, self.chirality, self.name = radius, size, counts, chirality, name
        self._cache: dict[str, Tensor] = {}

    def __call__(self, graph: Graph) -> Graph:
        smiles = getattr(graph, "smiles", None)
        if not isinstance(smiles, str):
            raise ValueError("MorganFingerprint needs graphs with a `smiles` attribute (as the molecule datasets create)")
        fingerprint = self._cache.get(smiles)
        if fingerprint is None:
            fingerprint = morgan_fingerprints([smiles], radius=self.radius, size=self.size,
                                              counts=self.counts, chirality=self.chirality)
            self._cache[smiles] = fingerprint
        new = graph._shallow_copy()
        new.set(self.name, fingerprint, "graph")
        return new

    def __repr__(self) -> str:
        kind = "counts" if self.counts else "bits"
        return f"MorganFingerprint(radius={self.radius}, size={self.size}, {kind}, name={self.name!r})"
