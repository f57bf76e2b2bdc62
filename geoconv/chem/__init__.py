"""RDKit featurisation (OGB and Duvenaud features), circular fingerprints and scaffold splits.

RDKit is imported lazily: ``import geoconv.chem`` works without it, and the
first function that needs it raises an ImportError naming the ``chem`` extra.
"""

from geoconv.chem.features import (
    ATOM_FEATURE_DIMS,
    ATOM_FEATURE_NAMES,
    BOND_FEATURE_DIMS,
    BOND_FEATURE_NAMES,
    DUVENAUD_ATOM_DIM,
    DUVENAUD_BOND_DIM,
)
from geoconv.chem.featurize import (
    InvalidSmilesError,
    from_mol,
    from_smiles,
    graphs_from_smiles,
    mol_from_smiles,
    parse_smiles,
    to_ogb_dict,
)
from geoconv.chem.fingerprints import MorganFingerprint, morgan_fingerprints, morgan_generator
from geoconv.chem.scaffold import murcko_scaffold, random_split, scaffold_split, scaffold_split_from_scaffolds

__all__ = [
    "ATOM_FEATURE_DIMS", "ATOM_FEATURE_NAMES", "BOND_FEATURE_DIMS", "BOND_FEATURE_NAMES",
    "DUVENAUD_ATOM_DIM", "DUVENAUD_BOND_DIM",
    "InvalidSmilesError", "from_mol", "from_smiles", "graphs_from_smiles", "mol_from_smiles", "parse_smiles", "to_ogb_dict",
    "MorganFingerprint", "morgan_fingerprints", "morgan_generator",
    "murcko_scaffold", "random_split", "scaffold_split", "scaffold_split_from_scaffolds",
]
