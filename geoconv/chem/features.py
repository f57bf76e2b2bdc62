"""Atom and bond features of RDKit molecules, read in bulk.

OGB's featuriser (``ogb.utils.features``) calls nine RDKit methods per atom
and five per bond, converting enums to strings and looking them up in lists;
each call crosses the Boost.Python boundary and allocates a wrapper object,
which costs more than parsing the SMILES.  Here a molecule is read in *one*
call, :meth:`rdkit.Chem.Mol.ToBinary`, whose byte layout (RDKit's
``MolPickler``: per atom the atomic number, aromatic flag and a bit mask of
the non-default properties; per bond its ends, flags, type and stereo; then
the ring atoms) is decoded in Python with lookup tables.  Every property used
is a stored field of RDKit's atom or bond (``getTotalNumHs`` is explicit +
implicit H count, ``getTotalDegree`` is the bond count + that), so the
result equals the per-atom calls.  Anything the decoder does not know (an
unknown pickle version, query atoms, atom-map numbers, dummy labels, PDB
residue info, more than one ring-finding tag) sends the molecule to the
reference per-atom path, :func:`read_molecule_slow`, which the tests compare
against the fast path.
"""

from __future__ import annotations

from dataclasses import dataclass
from struct import unpack_from

import numpy as np

from geoconv._optional import require

# ----------------------------------------------------------------- OGB vocabularies
# ogb.utils.features.allowable_features, as index tables over RDKit's enum values.
ATOM_FEATURE_NAMES = (
    "atomic_num", "chirality", "degree", "formal_charge", "num_hs",
    "num_radical_electrons", "hybridization", "is_aromatic", "is_in_ring",
)
BOND_FEATURE_NAMES = ("bond_type", "bond_stereo", "is_conjugated")
# Sizes of the vocabularies (last entry = 'misc'); ogb.utils.features.get_atom_feature_dims().
ATOM_FEATURE_DIMS = (119, 5, 12, 12, 10, 6, 6, 2, 2)
BOND_FEATURE_DIMS = (5, 6, 2)

# RDKit enum value -> OGB index.  ChiralType: UNSPECIFIED, CW, CCW, OTHER, then
# newer tags (TETRAHEDRAL, ALLENE, SQUAREPLANAR, ...) which OGB files under 'misc'.
_CHIRALITY = (0, 1, 2, 3) + (4,) * 252
# HybridizationType: UNSPECIFIED 0, S 1, SP 2, SP2 3, SP3 4, SP2D 5, SP3D 6, SP3D2 7, OTHER 8.
# OGB's list is SP, SP2, SP3, SP3D, SP3D2, misc.
_HYBRIDIZATION = (5, 5, 0, 1, 2, 5, 3, 4) + (5,) * 248
# BondType: SINGLE 1, DOUBLE 2, TRIPLE 3, AROMATIC 12; all others are 'misc' (4).
_BOND_TYPE = tuple({1: 0, 2: 1, 3: 2, 12: 3}.get(i, 4) for i in range(256))
# BondStereo: NONE 0, ANY 1, Z 2, E 3, CIS 4, TRANS 5; OGB's order is NONE, Z, E, CIS, TRANS, ANY.
# (OGB raises on the atropisomer values 6, 7; we file them under ANY.)
_BOND_STEREO = (0, 5, 1, 2, 3, 4) + (5,) * 250


# Integer-valued features: value -> index with 'misc' = last index.
_DEGREE_MISC, _CHARGE_MISC, _NUM_H_MISC, _RADICAL_MISC = 11, 11, 9, 5


@dataclass
class MoleculeArrays:
    """The RDKit properties of one molecule as plain integer lists.

    ``src``/``dst`` are the bond ends in bond order; the other bond lists
    follow the same order.  ``ring_atoms`` holds the atoms in at least one
    ring and ``ring_bonds`` the (sorted) atom pairs of ring bonds.
    """

    atomic_num: list[int]
    is_aromatic: list[int]
    formal_charge: list[int]
    chiral_tag: list[int]
    hybridization: list[int]
    num_hs: list[int]
    implicit_valence: list[int]
    num_radical_electrons: list[int]
    src: list[int]
    dst: list[int]
    bond_type: list[int]
    bond_stereo: list[int]
    bond_conjugated: list[int]
    bond_aromatic: list[int]
    ring_atoms: set[int]
    rings: list[tuple[int, ...]]

    @property
    def num_atoms(self) -> int:
        return len(self.atomic_num)

    def degree(self) -> list[int]:
        """Number of bonds of each atom (RDKit's ``GetDegree``)."""
        counts = [0] * self.num_atoms
        for i in self.src:
            counts[i] += 1
        for j in self.dst:
            counts[j] += 1
        return counts

    def ring_bond_pairs(self) -> set[tuple[int, int]]:
        pairs = set()
        for ring in self.rings:
            for a, b in zip(ring, ring[1:] + ring[:1]):
                pairs.add((a, b) if a < b else (b, a))
        return pairs


# Pickle tags (RDKit MolPickler::Tags) checked by the decoder.
_VERSION_TAG, _BEGIN_ATOM, _BEGIN_BOND = 0, 1, 11
_SUPPORTED_MAJOR = range(13, 17)  # pickle formats 13.x..16.x share the atom/bond layout decoded here


class _Unsupported(Exception):
    """The pickle holds something the fast decoder does not handle."""


def _decode(buf: bytes, ring_tags: frozenset[int]) -> MoleculeArrays:
    """Decode RDKit's binary molecule format (see the module docstring)."""
    if len(buf) < 30 or unpack_from("<i", buf, 4)[0] != _VERSION_TAG:
        raise _Unsupported("no version tag")
    major = unpack_from("<i", buf, 8)[0]
    if major not in _SUPPORTED_MAJOR:
        raise _Unsupported(f"pickle version {major}")
    num_atoms, num_bonds = unpack_from("<ii", buf, 20)
    if buf[29] != _BEGIN_ATOM:
        raise _Unsupported("no atom tag")
    wide = num_atoms > 255  # atom indices are int32 above 255 atoms, else one byte
    pos = 30
    atoms = []
    for _ in range(num_atoms):
        z = buf[pos]
        flags = buf[pos + 1]
        props = buf[pos + 2] | (buf[pos + 3] << 8)
        if flags & 0x1E or props & 0xFE01 or buf[pos + 4] or buf[pos + 5]:
            raise _Unsupported("query atom, map number, dummy label, monomer info or mass")
        pos += 6
        q = 0
        if props & 0x02:
            q = buf[pos]
            q = q - 256 if q > 127 else q
            pos += 1
        c = 0
        if props & 0x04:
            c = buf[pos]
            pos += 1
        h = 4  # SP3 is the default
        if props & 0x08:
            h = buf[pos]
            pos += 1
        explicit_h = 0
        if props & 0x10:
            explicit_h = buf[pos]
            pos += 1
        if props & 0x20:  # explicit valence: not needed
            pos += 1
        iv = 0
        if props & 0x40:
            iv = buf[pos]
            pos += 1
        r = 0
        if props & 0x80:
            r = buf[pos]
            pos += 1
        if props & 0x100:  # isotope (uint32): not needed
            pos += 4
        # getTotalNumHs(): explicit + implicit (no implicit Hs when noImplicit is set)
        atoms.append((z, (flags >> 6) & 1, q, c, h, explicit_h + (0 if flags & 0x20 else iv), iv, r))
    if buf[pos] != _BEGIN_BOND:
        raise _Unsupported("no bond tag")
    pos += 1
    bonds = []
    for _ in range(num_bonds):
        if wide:
            i, j = unpack_from("<ii", buf, pos)
            pos += 8
        else:
            i = buf[pos]
            j = buf[pos + 1]
            pos += 2
        flags = buf[pos]
        pos += 1
        if flags & 0x11:
            raise _Unsupported("query bond or mol-file end points")
        t = 1
        if flags & 0x08:
            t = buf[pos]
            pos += 1
        if flags & 0x04:  # bond direction: not needed
            pos += 1
        s = 0
        if flags & 0x02:
            s = buf[pos]
            count = buf[pos + 1]
            pos += 2 + count * (4 if wide else 1)
        bonds.append((i, j, t, s, (flags >> 5) & 1, (flags >> 6) & 1))
    rings: list[tuple[int, ...]] = []
    if buf[pos] not in ring_tags:
        raise _Unsupported("no ring information")
    num_rings = unpack_from("<I", buf, pos + 1)[0]
    pos += 5
    for _ in range(num_rings):
        if wide:
            size = unpack_from("<i", buf, pos)[0]
            rings.append(unpack_from(f"<{size}i", buf, pos + 4))
            pos += 4 + 4 * size
        else:
            size = buf[pos]
            rings.append(tuple(buf[pos + 1 : pos + 1 + size]))
            pos += 1 + size
    ring_atoms = set()
    for ring in rings:
        ring_atoms.update(ring)
    atom_columns = [list(column) for column in zip(*atoms)] if atoms else [[] for _ in range(8)]
    bond_columns = [list(column) for column in zip(*bonds)] if bonds else [[] for _ in range(6)]
    return MoleculeArrays(*atom_columns, *bond_columns, ring_atoms, rings)


def read_molecule_slow(mol) -> MoleculeArrays:
    """The reference path: one RDKit call per atom and bond property."""
    ring_info = mol.GetRingInfo()
    atoms = list(mol.GetAtoms())
    bonds = list(mol.GetBonds())
    rings = [tuple(r) for r in ring_info.AtomRings()]
    return MoleculeArrays(
        atomic_num=[a.GetAtomicNum() for a in atoms],
        is_aromatic=[int(a.GetIsAromatic()) for a in atoms],
        formal_charge=[a.GetFormalCharge() for a in atoms],
        chiral_tag=[int(a.GetChiralTag()) for a in atoms],
        hybridization=[int(a.GetHybridization()) for a in atoms],
        num_hs=[a.GetTotalNumHs() for a in atoms],
        implicit_valence=[a.GetNumImplicitHs() for a in atoms],
        num_radical_electrons=[a.GetNumRadicalElectrons() for a in atoms],
        src=[b.GetBeginAtomIdx() for b in bonds],
        dst=[b.GetEndAtomIdx() for b in bonds],
        bond_type=[int(b.GetBondType()) for b in bonds],
        bond_stereo=[int(b.GetStereo()) for b in bonds],
        bond_conjugated=[int(b.GetIsConjugated()) for b in bonds],
        bond_aromatic=[int(b.GetIsAromatic()) for b in bonds],
        ring_atoms={i for i, a in enumerate(atoms) if a.IsInRing()},
        rings=rings,
    )


_RING_TAGS: frozenset[int] | None = None


def _ring_tags() -> frozenset[int]:
    """The pickle tags that open the ring section, learned once from this RDKit build."""
    global _RING_TAGS
    if _RING_TAGS is None:
        Chem = require("rdkit.Chem", "molecule featurisation")
        fast = Chem.MolFromSmiles("C1CC1", sanitize=False)
        Chem.FastFindRings(fast)
        tags = set()
        for mol in (Chem.MolFromSmiles("C1CC1"), fast):
            # C1CC1: 3 atoms, then 3 bonds of 3 bytes (ends + flags); the ring tag follows.
            buf = mol.ToBinary()
            tags.add(buf[_atom_block_end(buf) + 1 + 3 * 3])
        _RING_TAGS = frozenset(tags)
    return _RING_TAGS


def _atom_block_end(buf: bytes) -> int:
    num_atoms = unpack_from("<i", buf, 20)[0]
    pos = 30
    for _ in range(num_atoms):
        props = buf[pos + 2] | (buf[pos + 3] << 8)
        pos += 6 + bin(props & 0xFE).count("1") + (4 if props & 0x100 else 0)
    return pos


def read_molecule(mol) -> MoleculeArrays:
    """The atom and bond properties of a sanitised RDKit molecule (fast path, reference fallback)."""
    try:
        return _decode(mol.ToBinary(), _ring_tags())
    except (_Unsupported, IndexError):
        return read_molecule_slow(mol)


# ----------------------------------------------------------------- OGB features
_CHIRALITY_TABLE = np.array(_CHIRALITY, dtype=np.int64)
_HYBRIDIZATION_TABLE = np.array(_HYBRIDIZATION, dtype=np.int64)
_BOND_TYPE_TABLE = np.array(_BOND_TYPE, dtype=np.int64)
_BOND_STEREO_TABLE = np.array(_BOND_STEREO, dtype=np.int64)


def ogb_atom_features(arrays: MoleculeArrays) -> np.ndarray:
    """``[N, 9]`` int64: OGB's atom features (``ogb.utils.features.atom_to_feature_vector``)."""
    n = arrays.num_atoms
    if n == 0:
        return np.zeros((0, 9), dtype=np.int64)
    z, chiral, charge, num_hs, radical, hybridization, aromatic = np.array(
        [arrays.atomic_num, arrays.chiral_tag, arrays.formal_charge, arrays.num_hs,
         arrays.num_radical_electrons, arrays.hybridization, arrays.is_aromatic], dtype=np.int64)
    degree = np.bincount(np.array(arrays.src + arrays.dst, dtype=np.int64), minlength=n)
    x = np.empty((n, 9), dtype=np.int64)
    x[:, 0] = np.where((z > 0) & (z < 119), z - 1, 118)
    x[:, 1] = _CHIRALITY_TABLE[chiral]
    x[:, 2] = np.minimum(degree + num_hs, _DEGREE_MISC)
    x[:, 3] = np.where(np.abs(charge) <= 5, charge + 5, _CHARGE_MISC)
    x[:, 4] = np.minimum(num_hs, _NUM_H_MISC)
    x[:, 5] = np.minimum(radical, _RADICAL_MISC)
    x[:, 6] = _HYBRIDIZATION_TABLE[hybridization]
    x[:, 7] = aromatic
    x[:, 8] = 0
    if arrays.ring_atoms:
        x[list(arrays.ring_atoms), 8] = 1
    return x


def ogb_bond_features(arrays: MoleculeArrays) -> np.ndarray:
    """``[B, 3]`` int64 per bond (one row per bond, not per direction)."""
    if not arrays.bond_type:
        return np.zeros((0, 3), dtype=np.int64)
    bond_type, stereo, conjugated = np.array(
        [arrays.bond_type, arrays.bond_stereo, arrays.bond_conjugated], dtype=np.int64)
    return np.stack([_BOND_TYPE_TABLE[bond_type], _BOND_STEREO_TABLE[stereo], conjugated], axis=1)


# ----------------------------------------------------------------- Duvenaud et al. features
# HIPS/neural-fingerprint features.py: one-hot symbol (43 + unknown), degree 0..5,
# total Hs 0..4, implicit valence 0..5, aromatic  -> 62; bonds: single, double,
# triple, aromatic, conjugated, in ring -> 6.  Out-of-list values go to the last
# slot of their block (the original raised for degree > 5).
DUVENAUD_SYMBOLS = (
    "C", "N", "O", "S", "F", "Si", "P", "Cl", "Br", "Mg", "Na", "Ca", "Fe", "As", "Al", "I", "B", "V", "K",
    "Tl", "Yb", "Sb", "Sn", "Ag", "Pd", "Co", "Se", "Ti", "Zn", "H", "Li", "Ge", "Cu", "Au", "Ni", "Cd",
    "In", "Mn", "Zr", "Cr", "Pt", "Hg", "Pb", "Unknown",
)
DUVENAUD_ATOM_DIM = len(DUVENAUD_SYMBOLS) + 6 + 5 + 6 + 1
DUVENAUD_BOND_DIM = 6
_DUVENAUD_SYMBOL_INDEX: dict[int, int] | None = None


def _duvenaud_symbol_index() -> dict[int, int]:
    global _DUVENAUD_SYMBOL_INDEX
    if _DUVENAUD_SYMBOL_INDEX is None:
        Chem = require("rdkit.Chem", "Duvenaud featurisation")
        table = Chem.GetPeriodicTable()
        _DUVENAUD_SYMBOL_INDEX = {
            table.GetAtomicNumber(symbol): k for k, symbol in enumerate(DUVENAUD_SYMBOLS[:-1])
        }
    return _DUVENAUD_SYMBOL_INDEX


def duvenaud_atom_features(arrays: MoleculeArrays) -> np.ndarray:
    """``[N, 62]`` float32 one-hot blocks of Duvenaud et al. (2015)."""
    n = arrays.num_atoms
    out = np.zeros((n, DUVENAUD_ATOM_DIM), dtype=np.float32)
    if n == 0:
        return out
    index = _duvenaud_symbol_index()
    unknown = len(DUVENAUD_SYMBOLS) - 1
    rows = np.arange(n)
    symbol = np.array([index.get(z, unknown) for z in arrays.atomic_num])
    offset = len(DUVENAUD_SYMBOLS)
    out[rows, symbol] = 1
    out[rows, offset + np.minimum(arrays.degree(), 5)] = 1
    out[rows, offset + 6 + np.minimum(arrays.num_hs, 4)] = 1
    out[rows, offset + 11 + np.minimum(arrays.implicit_valence, 5)] = 1
    out[rows, offset + 17] = np.asarray(arrays.is_aromatic, dtype=np.float32)
    return out


def duvenaud_bond_features(arrays: MoleculeArrays) -> np.ndarray:
    """``[B, 6]`` float32: single, double, triple, aromatic, conjugated, in ring."""
    ring_pairs = arrays.ring_bond_pairs()
    rows = []
    for i, j, t, c in zip(arrays.src, arrays.dst, arrays.bond_type, arrays.bond_conjugated):
        rows.append((t == 1, t == 2, t == 3, t == 12, c, ((i, j) if i < j else (j, i)) in ring_pairs))
    return np.array(rows, dtype=np.float32).reshape(len(rows), DUVENAUD_BOND_DIM)
