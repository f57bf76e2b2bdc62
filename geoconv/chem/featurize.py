"""Molecules as :class:`~geoconv.data.Graph` objects.

Atoms are nodes, each bond gives two directed edges ``(i, j), (j, i)`` in
RDKit's bond order (the edge order of ``ogb.utils.smiles2graph``).  Two
featurisations:

* ``"ogb"`` (default): ``x [N, 9]`` and ``edge_attr [2B, 3]`` int64 category
  indices, identical to ``ogb.utils.smiles2graph`` (vocabularies in
  :data:`~geoconv.chem.features.ATOM_FEATURE_DIMS` / ``BOND_FEATURE_DIMS``);
  embed them with :class:`geoconv.nn.AtomEncoder` / :class:`geoconv.nn.BondEncoder`.
* ``"duvenaud"``: ``x [N, 62]`` and ``edge_attr [2B, 6]`` float32 one-hot
  features of Duvenaud et al. (2015), as in HIPS/neural-fingerprint.
"""

from __future__ import annotations

import contextlib
import os
import re
from typing import Iterable

import numpy as np
import torch
from torch import Tensor

from geoconv._optional import require
from geoconv.chem.features import (
    directed_edges,
    duvenaud_atom_features,
    duvenaud_bond_features,
    ogb_graph_arrays,
    read_molecule,
)
from geoconv.data import Graph

FEATURISATIONS = ("ogb", "duvenaud")
COORDINATES = (None, "conformer", "embed")


class InvalidSmilesError(ValueError):
    """RDKit could not parse (or sanitise) a SMILES string."""


_CHEM = None


def _chem():
    global _CHEM
    if _CHEM is None:  # looked up once: from_smiles is called per molecule
        _CHEM = require("rdkit.Chem", "molecule featurisation")
    return _CHEM


# A bracket hydrogen atom ([H], [2H], [H+]; not [Hg] or the H count of [NH4+]).
_BRACKET_HYDROGEN = re.compile(r"\[[0-9]*H(?![a-z])")


def _needs_full_parse(smiles: str) -> bool:
    """SMILES that take RDKit's own MolFromSmiles (see :func:`mol_from_smiles`): a space or tab
    (a CXSMILES extension or a name follows), '*' (dummy atoms are query atoms), or hydrogen
    atoms (MolFromSmiles removes them)."""
    return (" " in smiles or "\t" in smiles or "*" in smiles
            or ("H" in smiles and _BRACKET_HYDROGEN.search(smiles) is not None))


def mol_from_smiles(smiles: str):
    """The molecule ``Chem.MolFromSmiles(smiles)`` returns (None if it is invalid), parsed with less work.

    ``MolFromSmiles`` parses, sanitises and then calls
    ``assignStereochemistry(cleanIt=True, force=True, flagPossibleStereoCenters=True)``.
    The last flag only tags atoms that *could* be stereocentres (a private
    property that no feature reads and that is not pickled), but it makes RDKit
    rank the atoms (CIP) of every molecule, which is about a sixth of the parse
    time.  So we parse unsanitised, sanitise, and assign stereochemistry
    without that flag: the same atoms, bonds, flags, chiral tags and bond stereo
    (the tests compare ``ToBinary()`` of both).  An empty (or blank) SMILES, which RDKit
    reads as a molecule with no atoms, is None here: a data row without a molecule is
    reported, not featurised into an empty graph.  SMILES where the two routes
    could differ take ``MolFromSmiles`` itself: those with explicit hydrogen
    atoms (which it removes), dummy atoms, a CXSMILES extension, or when RDKit's
    new stereo perception is switched on.
    """
    Chem = _chem()
    if not smiles.strip():
        # RDKit parses "" as a molecule with no atoms; as data it is a lost row, not a molecule.
        return None
    with _rdkit_log_blocked():
        if _needs_full_parse(smiles) or not Chem.GetUseLegacyStereoPerception():
            return Chem.MolFromSmiles(smiles)
        mol = Chem.MolFromSmiles(smiles, sanitize=False)
        if mol is None or Chem.SanitizeMol(mol, catchErrors=True) != Chem.SanitizeFlags.SANITIZE_NONE:
            return None
        Chem.AssignStereochemistry(mol, cleanIt=True, force=True)
        return mol


def _rdkit_log_blocked():
    """A context in which RDKit's parse and sanitisation messages are not printed.

    An invalid SMILES already raises :class:`InvalidSmilesError` naming it, and a data set
    with a few unparsable rows would otherwise fill the terminal. ``GEOCONV_RDKIT_LOG=1``
    lets RDKit print them (to see why a molecule was rejected).
    """
    if os.environ.get("GEOCONV_RDKIT_LOG", "").strip().lower() in ("1", "true", "yes", "on"):
        return contextlib.nullcontext()
    return require("rdkit.rdBase", "molecule featurisation").BlockLogs()


def parse_smiles(smiles: str):
    """``Chem.MolFromSmiles(smiles)`` (through :func:`mol_from_smiles`), raising :class:`InvalidSmilesError` naming the SMILES on failure."""
    if not isinstance(smiles, str):
        raise TypeError(f"a SMILES must be a str, got {type(smiles).__name__}")
    mol = mol_from_smiles(smiles)
    if mol is None:
        if not smiles.strip():
            raise InvalidSmilesError(f"the SMILES {smiles!r} is empty: it names no molecule")
        raise InvalidSmilesError(f"RDKit cannot parse the SMILES {smiles!r}")
    return mol


def _positions(mol, coordinates: str, seed: int, num_atoms: int) -> Tensor:
    Chem = _chem()
    if coordinates == "conformer":
        if mol.GetNumConformers() == 0:
            raise ValueError("coordinates='conformer' needs a molecule with a conformer; use coordinates='embed'")
        return torch.from_numpy(np.asarray(mol.GetConformer().GetPositions(), dtype=np.float32))
    AllChem = require("rdkit.Chem.AllChem", "3D conformer embedding")
    with_h = Chem.AddHs(mol)  # hydrogens are appended after the existing atoms
    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    if AllChem.EmbedMolecule(with_h, params) != 0:
        raise ValueError(f"RDKit could not embed a 3D conformer for {Chem.MolToSmiles(mol)!r}")
    positions = np.asarray(with_h.GetConformer().GetPositions(), dtype=np.float32)[:num_atoms]
    return torch.from_numpy(positions)


def from_mol(
    mol,
    *,
    features: str = "ogb",
    explicit_hydrogens: bool = False,
    coordinates: str | None = None,
    seed: int = 0,
    y: Tensor | None = None,
) -> Graph:
    """A :class:`Graph` of a sanitised RDKit molecule.

    Args:
        mol: an ``rdkit.Chem.Mol`` (sanitised, as ``MolFromSmiles`` returns it).
        features: ``"ogb"`` (9 atom / 3 bond integer features equal to
            ``ogb.utils.smiles2graph``) or ``"duvenaud"`` (62 / 6 one-hot floats).
        explicit_hydrogens: add hydrogens as nodes (``Chem.AddHs``).
        coordinates: None; ``"conformer"`` (the molecule's conformer into ``pos``);
            ``"embed"`` (an ETKDG 3D conformer with seed ``seed``; hydrogens are
            used for embedding and dropped again unless ``explicit_hydrogens``).
        y: graph-level target stored as ``y`` with ``y_level="graph"``.

    Shapes:
        x: ``[N, 9]`` int64 or ``[N, 62]`` float32; edge_index: ``[2, 2B]``;
        edge_attr: ``[2B, 3]`` int64 or ``[2B, 6]`` float32; pos: ``[N, 3]``.
    """
    if features not in FEATURISATIONS:
        raise ValueError(f"features must be one of {FEATURISATIONS}, got {features!r}")
    if coordinates not in COORDINATES:
        raise ValueError(f"coordinates must be one of {COORDINATES}, got {coordinates!r}")
    Chem = _chem()
    if explicit_hydrogens:
        mol = Chem.AddHs(mol, addCoords=coordinates == "conformer")
    if features == "ogb":
        x, edge_index, edge_attr = ogb_graph_arrays(mol)
    else:
        arrays = read_molecule(mol)
        x = duvenaud_atom_features(arrays)
        edge_index = directed_edges(arrays.ends())
        edge_attr = np.repeat(duvenaud_bond_features(arrays), 2, axis=0)
    pos = None
    if coordinates is not None:
        pos = _positions(mol, coordinates, seed, len(x))
    return Graph(
        x=torch.from_numpy(x),
        edge_index=torch.from_numpy(edge_index),
        edge_attr=torch.from_numpy(edge_attr),
        pos=pos,
        y=y,
        y_level="graph",
        num_nodes=len(x),
        validate=False,  # built consistently above; validation costs more than featurising
    )


def from_smiles(smiles: str, **options) -> Graph:
    """:func:`from_mol` of ``Chem.MolFromSmiles(smiles)``; raises :class:`InvalidSmilesError` naming an unparsable SMILES.

    Takes the keyword options of :func:`from_mol`.
    """
    return from_mol(parse_smiles(smiles), **options)


def graphs_from_smiles(
    smiles: Iterable[str], *, skip_invalid: bool = True, **options
) -> tuple[list[Graph], list[int], list[int]]:
    """Featurise many SMILES: ``(graphs, kept_indices, invalid_indices)``.

    With ``skip_invalid`` (default) unparsable SMILES are skipped and their
    positions returned in ``invalid_indices``; otherwise the first one raises
    :class:`InvalidSmilesError`.
    """
    graphs, kept, invalid = [], [], []
    for i, text in enumerate(smiles):
        mol = mol_from_smiles(text) if isinstance(text, str) else None
        if mol is None:
            if not skip_invalid:
                raise InvalidSmilesError(f"RDKit cannot parse the SMILES {text!r} (entry {i})")
            invalid.append(i)
            continue
        graphs.append(from_mol(mol, **options))
        kept.append(i)
    return graphs, kept, invalid


def to_ogb_dict(graph: Graph) -> dict:
    """The graph as ``ogb.utils.smiles2graph``'s dict (numpy ``edge_index``, ``edge_feat``, ``node_feat``, ``num_nodes``)."""
    return {
        "edge_index": graph.edge_index.numpy(),
        "edge_feat": graph.edge_attr.numpy(),
        "node_feat": graph.x.numpy(),
        "num_nodes": graph.num_nodes,
    }
