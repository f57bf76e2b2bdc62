"""Featurisation: equality with ogb.utils.smiles2graph (all of HIV.csv), fast path == per-atom path, options, errors."""

from __future__ import annotations

import csv
import gzip

import numpy as np
import pytest
import torch
from ogb.utils import smiles2graph
from ogb.utils.features import atom_to_feature_vector, bond_to_feature_vector
from rdkit import Chem, RDLogger

from geoconv.chem import (
    ATOM_FEATURE_DIMS,
    BOND_FEATURE_DIMS,
    DUVENAUD_ATOM_DIM,
    InvalidSmilesError,
    from_mol,
    from_smiles,
    graphs_from_smiles,
    to_ogb_dict,
)
from geoconv.chem.featurize import _needs_full_parse, mol_from_smiles
from geoconv.chem.features import (
    _BOND_RECORDS,
    _FALLBACK,
    DUVENAUD_SYMBOLS,
    _arrays_of,
    _decode,
    _ring_tags,
    _Unsupported,
    read_molecule,
    read_molecule_slow,
)

# Molecules that exercise every field of the decoder: charges, radicals, isotopes, chirality,
# E/Z bonds, aromatic heteroatoms, metals, dative bonds, atom maps / dummies (fallback path), >255 atoms.
TRICKY = [
    "C[C@H](N)C(=O)O", "C/C=C/C", r"F/C=C\F", "[NH4+].[Cl-]", "[CH3]", "[13CH4]", "c1ccncc1", "c1cc[nH]c1",
    "[O-][N+](=O)c1ccccc1", "C#N", "[Na+].[O-]C(=O)C", "O=S(=O)(O)O", "[2H]C([2H])([2H])Cl", "C1CC2CCC1CC2",
    "[Cu+2].[O-]C=O", "[CH2]C", "[C-]#[O+]", "N->[Pt](<-N)(Cl)Cl", "[CH3:1][OH:2]", "*c1ccccc1", "C=[C@]=CC",
    "[Fe]", "C" * 300, "C" * 260 + "C1CC[C@H](N)CC1/C=C/Cl", "c1ccc2c(c1)ccc1ccccc12", "O=C1NC(=O)C(=O)N1", "B(O)(O)c1ccccc1", "[SiH4]", "[Xe]",
]


def _assert_same_as_ogb(graph, smiles: str) -> None:
    reference = smiles2graph(smiles)
    ours = to_ogb_dict(graph)
    assert ours["num_nodes"] == reference["num_nodes"], smiles
    for key in ("node_feat", "edge_index", "edge_feat"):
        assert ours[key].dtype == reference[key].dtype, (smiles, key)
        assert np.array_equal(ours[key], reference[key]), (smiles, key)


def test_equal_to_ogb_on_every_parsable_hiv_molecule(shared_data):
    RDLogger.DisableLog("rdApp.*")
    with gzip.open(shared_data / "moleculenet" / "HIV.csv.gz", "rt") as handle:
        smiles = [row["smiles"] for row in csv.DictReader(handle)]
    assert len(smiles) == 41127
    graphs, kept, invalid = graphs_from_smiles(smiles)
    assert len(kept) + len(invalid) == len(smiles) and len(invalid) < 20
    for graph, i in zip(graphs, kept):
        _assert_same_as_ogb(graph, smiles[i])
    RDLogger.EnableLog("rdApp.*")


@pytest.mark.parametrize("smiles", TRICKY)
def test_tricky_molecules_equal_ogb_and_reference_path(smiles):
    _assert_same_as_ogb(from_smiles(smiles), smiles)
    mol = Chem.MolFromSmiles(smiles)
    assert read_molecule(mol) == read_molecule_slow(mol)


def test_fast_decoder_handles_the_common_molecules():
    # the fast path must not silently fall back for ordinary molecules (that is where the speed comes from)
    for smiles in ("C[C@H](N)C(=O)O", "C/C=C/C", "[NH4+].[Cl-]", "[13CH4]", "C" * 300, "[CH3]"):
        mol = Chem.MolFromSmiles(smiles)
        assert _arrays_of(_decode(mol.ToBinary(), _ring_tags())) == read_molecule_slow(mol), smiles


def test_truncated_pickle_is_rejected_not_misread():
    buf = Chem.MolFromSmiles("CC(=O)Oc1ccccc1").ToBinary()
    for end in (20, 40, 60, len(buf) - 30):
        with pytest.raises(_FALLBACK):
            _decode(buf[:end], _ring_tags())


def test_record_tables_hold_each_property_row_once():
    # bonds that differ only in their stereo atoms are distinct records but one row of properties
    for smiles in ("C/C=C/C", "CC/C=C/CC", "CCC/C=C\\CCC", "F/C=C/F"):
        from_smiles(smiles)
    table = _BOND_RECORDS.table
    assert len(np.unique(table, axis=0)) == len(table)


def test_atom_map_numbers_use_the_reference_path():
    mol = Chem.MolFromSmiles("[CH3:1][OH:2]")
    with pytest.raises(_Unsupported, match="map number"):
        _decode(mol.ToBinary(), _ring_tags())
    assert read_molecule(mol) == read_molecule_slow(mol)


def test_feature_ranges_and_shapes():
    graph = from_smiles("CC(=O)Oc1ccccc1C(=O)O")  # aspirin
    assert graph.x.shape == (13, 9) and graph.edge_index.shape == (2, 26) and graph.edge_attr.shape == (26, 3)
    assert (graph.x < torch.tensor(ATOM_FEATURE_DIMS)).all() and (graph.edge_attr < torch.tensor(BOND_FEATURE_DIMS)).all()
    # bond k is edge 2k (begin -> end) and 2k + 1 (end -> begin)
    torch.testing.assert_close(graph.edge_index[:, 0::2], graph.edge_index[:, 1::2].flip(0))
    assert graph.y is None


def test_single_atom_and_graph_level_target():
    graph = from_mol(Chem.MolFromSmiles("[Xe]"), y=torch.tensor([1.5]))
    assert graph.edge_index.shape == (2, 0) and graph.edge_attr.shape == (0, 3)
    assert graph.level_of("y") == "graph" and graph.y.tolist() == [1.5]


def test_explicit_hydrogens_match_ogb_features_of_the_hydrogenated_molecule():
    mol = Chem.AddHs(Chem.MolFromSmiles("C[C@H](O)C=C"))
    graph = from_smiles("C[C@H](O)C=C", explicit_hydrogens=True)
    assert graph.num_nodes == mol.GetNumAtoms() == 13
    expected_x = np.array([atom_to_feature_vector(a) for a in mol.GetAtoms()])
    expected_e = np.array([bond_to_feature_vector(b) for b in mol.GetBonds()]).repeat(2, axis=0)
    assert np.array_equal(graph.x.numpy(), expected_x)
    assert np.array_equal(graph.edge_attr.numpy(), expected_e)


def test_embedded_conformer_is_seeded_and_chemically_plausible():
    first = from_smiles("CCOc1ccccc1", coordinates="embed", seed=3)
    again = from_smiles("CCOc1ccccc1", coordinates="embed", seed=3)
    assert first.pos.shape == (9, 3)
    torch.testing.assert_close(first.pos, again.pos)
    src, dst = first.edge_index
    lengths = (first.pos[src] - first.pos[dst]).norm(dim=1)
    assert ((lengths > 1.2) & (lengths < 1.6)).all()  # C-C, C-O, aromatic bonds in Angstrom
    with_h = from_smiles("CCO", coordinates="embed", explicit_hydrogens=True)
    assert with_h.pos.shape == (9, 3)


def test_existing_conformer_is_copied():
    mol = Chem.AddHs(Chem.MolFromSmiles("CO"))
    from rdkit.Chem import AllChem

    AllChem.EmbedMolecule(mol, randomSeed=1)
    graph = from_mol(mol, coordinates="conformer")
    torch.testing.assert_close(graph.pos, torch.tensor(mol.GetConformer().GetPositions(), dtype=torch.float32))


def test_duvenaud_features_follow_hips_definition():
    smiles = "OC(=O)c1ccccc1[Se]C#N"
    mol = Chem.MolFromSmiles(smiles)
    graph = from_smiles(smiles, features="duvenaud")
    assert graph.x.shape == (mol.GetNumAtoms(), DUVENAUD_ATOM_DIM) and graph.x.dtype == torch.float32
    for atom, row in zip(mol.GetAtoms(), graph.x):
        expected = torch.zeros(DUVENAUD_ATOM_DIM)
        symbols = list(DUVENAUD_SYMBOLS)
        expected[symbols.index(atom.GetSymbol()) if atom.GetSymbol() in symbols else len(symbols) - 1] = 1
        expected[44 + min(atom.GetDegree(), 5)] = 1
        expected[50 + min(atom.GetTotalNumHs(), 4)] = 1
        expected[55 + min(atom.GetNumImplicitHs(), 5)] = 1
        expected[61] = float(atom.GetIsAromatic())
        torch.testing.assert_close(row, expected)
    for k, bond in enumerate(mol.GetBonds()):
        bt = bond.GetBondType()
        expected = torch.tensor([bt == Chem.BondType.SINGLE, bt == Chem.BondType.DOUBLE, bt == Chem.BondType.TRIPLE,
                                 bt == Chem.BondType.AROMATIC, bond.GetIsConjugated(), bond.IsInRing()],
                                dtype=torch.float32)
        torch.testing.assert_close(graph.edge_attr[2 * k], expected)
        torch.testing.assert_close(graph.edge_attr[2 * k + 1], expected)


# Stereo that the parser sets and stereochemistry assignment keeps, changes or removes
# (ring cis/trans, pseudo-centres, non-centres, allenes, S/P/N centres, conjugated E/Z).
STEREO = [
    "C[C@@H]1CC[C@H](C)CC1", "C/C=C/C=C/C", "CC(C)=C(/C)C", "C[C@H]1CCCCC1", "C[C@]12CCC[C@H]1CCC2",
    "[C@H](F)(Cl)Br", "F/C=C/[C@H](Cl)/C=C/F", "C1=C/CCCCCCC/1", "O[C@H]1[C@@H](O)[C@H](O)[C@@H](O)[C@H](O)[C@@H]1O",
    "C[S@](=O)c1ccccc1", "C[N@+](CC)(CCC)CCCC", "CC=C=C(C)C", "C[C@H](Cl)C=C=C", "N1CC[C@@H]2CC[C@H]1C2",
    "C[P@](=O)(O)CC", "C/N=C/C", "C/N=N/C", "[Pt@SP1](F)(Cl)(Br)I", "F[C@H]1C[C@@H](F)C1", "[13C@H](F)(Cl)Br",
]


@pytest.mark.parametrize("smiles", TRICKY + STEREO + ["[H]C([H])([H])O", "[H][C@@](F)(Cl)Br", "CC |$R;;$|", "*CC"])
def test_mol_from_smiles_is_rdkits_molecule(smiles):
    # the same molecule as Chem.MolFromSmiles, byte for byte (atoms, bonds, flags, chiral tags, stereo, rings)
    assert mol_from_smiles(smiles).ToBinary() == Chem.MolFromSmiles(smiles).ToBinary()


def test_mol_from_smiles_rejects_what_rdkit_rejects():
    RDLogger.DisableLog("rdApp.*")
    for bad in ("C1CC", "c1cccc1", "C(C)(C)(C)(C)C", "[Xx]", "CC)"):
        assert (mol_from_smiles(bad) is None) == (Chem.MolFromSmiles(bad) is None), bad
    # The one documented departure: RDKit reads "" as a molecule without atoms; we reject it.
    assert Chem.MolFromSmiles("").GetNumAtoms() == 0 and mol_from_smiles("") is None
    assert mol_from_smiles("c1cccc1") is None and mol_from_smiles("C(C)(C)(C)(C)C") is None
    RDLogger.EnableLog("rdApp.*")


def test_smiles_that_need_rdkits_full_parse():
    # hydrogen atoms (MolFromSmiles removes them), CXSMILES / names, dummy atoms; H counts and Hg/He/Hf do not
    for smiles in ("[H]C", "[2H]OC", "[H+]", "CC |$R;;$|", "CC\tname", "*C"):
        assert _needs_full_parse(smiles), smiles
    for smiles in ("CC", "[NH4+]", "c1cc[nH]c1", "C[Hg]C", "[He]", "[Hf]"):
        assert not _needs_full_parse(smiles), smiles


def test_invalid_smiles_error_names_the_smiles():
    with pytest.raises(InvalidSmilesError, match="C1CC"):
        from_smiles("C1CC")
    graphs, kept, invalid = graphs_from_smiles(["CCO", "not a molecule", "c1ccccc1"])
    assert kept == [0, 2] and invalid == [1] and len(graphs) == 2
    with pytest.raises(InvalidSmilesError, match="not a molecule"):
        graphs_from_smiles(["CCO", "not a molecule"], skip_invalid=False)


def test_empty_smiles_is_invalid_not_an_empty_graph():
    # RDKit reads "" as a molecule with no atoms; as a data row it names no molecule.
    for text in ("", "  ", "\t"):
        with pytest.raises(InvalidSmilesError, match="is empty: it names no molecule"):
            from_smiles(text)
    graphs, kept, invalid = graphs_from_smiles(["CCO", "", "C"])
    assert kept == [0, 2] and invalid == [1] and [g.num_nodes for g in graphs] == [3, 1]


def test_bad_options_raise():
    with pytest.raises(ValueError, match="features"):
        from_smiles("CCO", features="ecfp")
    with pytest.raises(ValueError, match="coordinates"):
        from_smiles("CCO", coordinates="2d")
    with pytest.raises(ValueError, match="conformer"):
        from_smiles("CCO", coordinates="conformer")
    with pytest.raises(TypeError, match="str"):
        from_smiles(42)
