"""Morgan fingerprints equal RDKit's generator output; the transform; scaffold and random splits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator
from rdkit.Chem.Scaffolds import MurckoScaffold

from geoconv.chem import (
    InvalidSmilesError,
    MorganFingerprint,
    from_smiles,
    morgan_fingerprints,
    murcko_scaffold,
    random_split,
    scaffold_split,
    scaffold_split_from_scaffolds,
)

SMILES = ["CCO", "c1ccccc1O", "C[C@H](N)C(=O)O", "C[C@@H](N)C(=O)O", "CC(=O)Oc1ccccc1C(=O)O", "[Na+].[Cl-]"]


@pytest.mark.parametrize("radius,size", [(2, 2048), (3, 1024), (1, 64)])
def test_bits_and_counts_equal_rdkit_generator(radius, size):
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=size)
    mols = [Chem.MolFromSmiles(s) for s in SMILES]
    bits = morgan_fingerprints(mols, radius=radius, size=size)
    counts = morgan_fingerprints(SMILES, radius=radius, size=size, counts=True)
    assert bits.shape == counts.shape == (len(SMILES), size)
    for i, mol in enumerate(mols):
        expected_bits = np.zeros(size)
        expected_bits[list(generator.GetFingerprint(mol).GetOnBits())] = 1
        assert np.array_equal(bits[i].numpy(), expected_bits)
        expected_counts = np.zeros(size)
        for bit, count in generator.GetCountFingerprint(mol).GetNonzeroElements().items():
            expected_counts[bit] = count
        assert np.array_equal(counts[i].numpy(), expected_counts)
    assert torch.equal(bits, (counts > 0).float())


def test_chirality_and_feature_invariants_change_the_fingerprint():
    plain = morgan_fingerprints(SMILES[2:4])
    assert torch.equal(plain[0], plain[1])  # enantiomers are identical without chirality
    chiral = morgan_fingerprints(SMILES[2:4], chirality=True)
    assert not torch.equal(chiral[0], chiral[1])
    generator = rdFingerprintGenerator.GetMorganGenerator(
        radius=2, fpSize=2048, atomInvariantsGenerator=rdFingerprintGenerator.GetMorganFeatureAtomInvGen())
    fcfp = morgan_fingerprints(SMILES[:1], features=True)
    assert fcfp[0].nonzero().view(-1).tolist() == sorted(generator.GetFingerprint(Chem.MolFromSmiles(SMILES[0])).GetOnBits())


def test_transform_attaches_graph_level_fingerprint():
    graph = from_smiles("CCO")
    object.__setattr__(graph, "smiles", "CCO")
    transform = MorganFingerprint(size=256, counts=True)
    out = transform(graph)
    assert out.level_of("fingerprint") == "graph" and out.fingerprint.shape == (1, 256)
    torch.testing.assert_close(out.fingerprint, morgan_fingerprints(["CCO"], size=256, counts=True))
    assert "fingerprint" not in graph.keys()  # the input graph is left alone
    with pytest.raises(ValueError, match="smiles"):
        transform(from_smiles("CCO"))


def test_fingerprint_errors():
    with pytest.raises(InvalidSmilesError, match="C1CC"):
        morgan_fingerprints(["CCO", "C1CC"])
    with pytest.raises(ValueError, match="radius"):
        morgan_fingerprints(["CCO"], radius=-1)


def test_scaffold_matches_rdkit_and_split_keeps_scaffolds_together():
    smiles = ["c1ccccc1C", "c1ccccc1CC", "c1ccccc1N", "c1ccccc1O", "CCO", "CCCC", "C1CCC1C", "OC1CCC1",
              "c1ccncc1", "c1ccncc1C", "C1CCCCC1", "O=C1CCCCC1"]
    assert murcko_scaffold("c1ccccc1CC(=O)O") == MurckoScaffold.MurckoScaffoldSmiles(smiles="c1ccccc1CC(=O)O")
    train, valid, test = scaffold_split(smiles)
    assert sorted(torch.cat([train, valid, test]).tolist()) == list(range(len(smiles)))
    scaffolds = [murcko_scaffold(s) for s in smiles]
    parts = [{scaffolds[i] for i in part.tolist()} for part in (train, valid, test)]
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    # largest group (the 4 benzenes) goes first into train
    assert {0, 1, 2, 3} <= set(train.tolist())


def test_scaffold_split_order_is_ogbs():
    # groups of size 3, 2, 2, 1, 1, 1 (ties: larger first index first); cutoffs 8 and 9 of 10 molecules
    scaffolds = ["a", "b", "a", "c", "b", "a", "c", "d", "e", "f"]
    train, valid, test = scaffold_split_from_scaffolds(scaffolds)
    # order: a(0,2,5) c(3,6) b(1,4) f(9) e(8) d(7) -> train a,c,b,f (8), valid e (9), test d
    assert train.tolist() == [0, 1, 2, 3, 4, 5, 6, 9] and valid.tolist() == [8] and test.tolist() == [7]


def test_random_split_is_seeded_partition():
    first = random_split(100, seed=1)
    again = random_split(100, seed=1)
    other = random_split(100, seed=2)
    assert [len(p) for p in first] == [80, 10, 10]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not torch.equal(first[0], other[0])
    assert sorted(torch.cat(first).tolist()) == list(range(100))
    with pytest.raises(ValueError, match="fractions"):
        random_split(10, (0.5, 0.5, 0.5))
