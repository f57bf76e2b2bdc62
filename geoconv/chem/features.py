"""Atom and bond features of RDKit molecules, read in bulk.

OGB's featuriser (``ogb.utils.features``) calls nine RDKit methods per atom
and five per bond, converting enums to strings and looking them up in lists;
each call crosses the Boost.Python boundary and allocates a wrapper object,
which costs more than parsing the SMILES.  Here a molecule is read in *one*
call, :meth:`rdkit.Chem.Mol.ToBinary`, whose byte layout is RDKit's
``MolPickler``: per atom a record of the atomic number, flags and a bit mask
of the non-default properties followed by those; per bond its ends, flags,
type and stereo; then the atom rings.  Regular expressions (run in C) check
the atom and bond blocks and split them into records; each *distinct* record
is decoded in Python once and kept in a table (a molecule repeats a handful
of record kinds), so a molecule costs a few C-level calls and numpy
operations, independent of Python code per atom.  Every property used is a
stored field of RDKit's atom or bond (``getTotalNumHs`` is explicit +
implicit H count, ``getTotalDegree`` is the bond count + that), so the
result equals the per-atom calls.  Anything the decoder does not know (an
unknown pickle version, query atoms, atom-map numbers, dummy labels, PDB
residue info, other ring-finding tags) sends the molecule to the reference
per-atom path, :func:`read_molecule_slow`, which the tests compare against
the fast path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from struct import error as StructError
from struct import unpack_from
from typing import Callable, Iterable, NamedTuple, Sequence

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


@dataclass(eq=False)
class MoleculeArrays:
    """The RDKit properties of one molecule as int64 numpy arrays.

    ``src``/``dst`` are the bond ends in bond order; the other bond arrays
    follow the same order.  ``in_ring`` marks the atoms in at least one ring
    (``Atom.IsInRing``) and ``rings`` lists the atom rings (``RingInfo.AtomRings``).
    """

    atomic_num: np.ndarray
    is_aromatic: np.ndarray
    formal_charge: np.ndarray
    chiral_tag: np.ndarray
    hybridization: np.ndarray
    num_hs: np.ndarray
    implicit_valence: np.ndarray
    num_radical_electrons: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    bond_type: np.ndarray
    bond_stereo: np.ndarray
    bond_conjugated: np.ndarray
    bond_aromatic: np.ndarray
    in_ring: np.ndarray
    rings: list[tuple[int, ...]]

    @property
    def num_atoms(self) -> int:
        return len(self.atomic_num)

    def ends(self) -> np.ndarray:
        """``[2B]``: the bond ends ``(src_0, dst_0, src_1, dst_1, ...)``."""
        return np.stack((self.src, self.dst), axis=1).reshape(-1)

    def degree(self) -> np.ndarray:
        """Number of bonds of each atom (RDKit's ``GetDegree``)."""
        return np.bincount(np.concatenate((self.src, self.dst)), minlength=self.num_atoms)

    def ring_bond_pairs(self) -> set[tuple[int, int]]:
        pairs = set()
        for ring in self.rings:
            for a, b in zip(ring, ring[1:] + ring[:1]):
                pairs.add((a, b) if a < b else (b, a))
        return pairs

    @classmethod
    def from_columns(cls, atoms: np.ndarray, ends: np.ndarray, bonds: np.ndarray, in_ring: np.ndarray,
                     rings: list[tuple[int, ...]]) -> "MoleculeArrays":
        """From ``atoms [N, 8]`` (the atom fields in order), ``ends [B, 2]``, ``bonds [B, 4]`` (the bond fields)."""
        return cls(*atoms.T, ends[:, 0], ends[:, 1], *bonds.T, in_ring, rings)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MoleculeArrays):
            return NotImplemented
        return self.rings == other.rings and all(
            np.array_equal(getattr(self, name), getattr(other, name))
            for name in self.__dataclass_fields__ if name != "rings"
        )


# ----------------------------------------------------------------- the fast path: RDKit's pickle
# Pickle tags (RDKit MolPickler::Tags) checked by the decoder.
_VERSION_TAG, _BEGIN_ATOM, _BEGIN_BOND = 0, 1, 11
_SUPPORTED_MAJOR = range(13, 17)  # pickle formats 13.x..16.x share the atom/bond layout decoded here
_ATOMS_START = 30  # after magic, version, atom and bond counts, flags and the atom tag


def _byte_class(values: Iterable[int]) -> bytes:
    """A regular-expression character class of the given byte values."""
    return b"[" + b"".join(b"\\x%02x" % value for value in values) + b"]"


# An atom record is: atomic number; flags (0x20 no implicit Hs, 0x40 aromatic; 0x1E
# mark query atoms, dummy labels, ...); a uint16 mask of the stored properties; two
# zero bytes; one byte per stored property in the bit order below; the isotope as a
# uint32 if mask bit 0x100 is set.  Absent properties take RDKit's defaults
# (hybridization SP3, everything else 0).  The pattern accepts exactly the records
# the decoder understands (flags without 0x1E, mask bits only in 0x1FE), so each
# match is one whole record.
_ATOM_PROPERTY_BITS = (0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80)
_ATOM_PROPERTY_DEFAULTS = (0, 0, 4, 0, 0, 0, 0)
_ATOM_RECORD = b"." + _byte_class(f for f in range(256) if not f & 0x1E) + b"(?:" + b"|".join(
    _byte_class(m for m in range(0, 256, 2) if bin(m).count("1") == count)
    + bytes([isotope]) + b"\x00\x00" + b"." * (count + 4 * isotope)
    for isotope in (0, 1) for count in (2, 3, 1, 4, 0, 5, 6, 7)  # most frequent first
) + b")"


def _bond_record(end_size: int, capture: str | None = None) -> bytes:
    """A bond record: the two end atoms (one byte each, int32 above 255 atoms); flags
    (0x08 type stored, 0x04 direction stored, 0x02 stereo stored, 0x20 conjugated,
    0x40 aromatic; 0x11 mark query bonds and mol-file end points); the type; the
    direction; the stereo, the number of stereo atoms (0 or 2 here) and those atoms.
    ``capture`` puts a group around the ``"ends"`` or the ``"rest"`` (the key of the
    bond's properties; stereo atoms are ignored), so that ``findall`` lists those
    bytes directly (two scans are cheaper than splitting pairs in Python).
    """
    def flags_and_values(stereo: bool) -> bytes:
        return b"|".join(
            _byte_class(f for f in range(256) if not f & 0x11 and f & 0x0E == stored)
            + b"." * (((stored >> 3) & 1) + ((stored >> 2) & 1))
            for stored in range(0, 16, 2) if bool(stored & 0x02) == stereo
        )
    ends = b"." * (2 * end_size)
    rest = (b"(?:" + flags_and_values(False) + b"|(?:" + flags_and_values(True) + b").(?:\x00|\x02"
            + ends + b"))")
    if capture == "ends":
        return b"(" + ends + b")" + rest
    if capture == "rest":
        return ends + b"(" + rest + b")"
    return ends + rest


_BOND_RECORDS_BY_SIZE = {size: _bond_record(size) for size in (1, 4)}
_BOND_ENDS_BY_SIZE = {size: _bond_record(size, "ends") for size in (1, 4)}
_BOND_KEYS_BY_SIZE = {size: _bond_record(size, "rest") for size in (1, 4)}


@lru_cache(maxsize=1024)
def _pattern(record: bytes, count: int | None = None) -> re.Pattern:
    """``record`` (``count=None``) or exactly ``count`` records in a row."""
    return re.compile(record if count is None else b"(?:%s){%d}" % (record, count), re.DOTALL)


class _Unsupported(Exception):
    """The pickle holds something the fast decoder does not handle."""


# What sends a molecule to the reference path (a truncated pickle raises IndexError or struct.error).
_FALLBACK = (_Unsupported, IndexError, StructError)


def _atom_properties(record: bytes) -> tuple[int, ...]:
    """One atom record -> the 8 atom columns of :class:`MoleculeArrays`."""
    z, flags, low, high = record[:4]
    mask = low | high << 8
    values = list(_ATOM_PROPERTY_DEFAULTS)
    pos = 6
    for slot, bit in enumerate(_ATOM_PROPERTY_BITS):
        if mask & bit:
            values[slot] = record[pos]
            pos += 1
    charge, chiral, hybridization, explicit_h, _explicit_valence, implicit_h, radicals = values
    # getTotalNumHs(): explicit + implicit (no implicit Hs when noImplicit is set)
    num_hs = explicit_h + (0 if flags & 0x20 else implicit_h)
    return (z, (flags >> 6) & 1, charge - 256 if charge > 127 else charge, chiral, hybridization,
            num_hs, implicit_h, radicals)


def _bond_properties(record: bytes) -> tuple[int, ...]:
    """A bond record from its flags on -> the 4 bond-property columns of :class:`MoleculeArrays`."""
    flags = record[0]
    bond_type = record[1] if flags & 0x08 else 1
    stereo = record[1 + ((flags >> 3) & 1) + ((flags >> 2) & 1)] if flags & 0x02 else 0
    return bond_type, stereo, (flags >> 5) & 1, (flags >> 6) & 1


class _RecordTable:
    """Distinct records seen so far -> rows of a table of their decoded properties.

    Molecules are made of few distinct atom records (an aromatic CH carbon, a
    carbonyl oxygen, ...) and bond records, so each distinct one is decoded in
    Python once.  A molecule's properties are then one numpy gather of row ids
    (:meth:`ids_of`), and a per-row function of them (the OGB features) the
    concatenation of each record's encoded row (:meth:`encoded`), both without
    Python code per record.  Records that decode alike (bonds differing only in
    their stereo atoms) share a row.
    """

    max_records = 1 << 20  # beyond this (never seen in practice) molecules take the reference path

    def __init__(self, parse: Callable[[bytes], tuple[int, ...]], width: int) -> None:
        self.parse = parse
        self.ids: dict[bytes, int] = {}
        self.row_ids: dict[tuple[int, ...], int] = {}
        self.table = np.zeros((0, width), dtype=np.int64)
        self._encodings: dict[Callable, dict[bytes, bytes]] = {}

    def _add(self, records: list[bytes]) -> None:
        if len(self.ids) + len(records) > self.max_records:
            raise _Unsupported("too many distinct records")
        num_rows = len(self.row_ids)
        for record in records:
            if record not in self.ids:
                self.ids[record] = self.row_ids.setdefault(self.parse(record), len(self.row_ids))
        if len(self.row_ids) > num_rows:
            self.table = np.array(list(self.row_ids), dtype=np.int64).reshape(len(self.row_ids), -1)

    def ids_of(self, records: list[bytes]) -> np.ndarray:
        """``[len(records)]`` row ids, parsing the records not seen before."""
        try:
            return np.fromiter(map(self.ids.__getitem__, records), dtype=np.int64, count=len(records))
        except KeyError:
            self._add(records)
            return np.fromiter(map(self.ids.__getitem__, records), dtype=np.int64, count=len(records))

    def encoded(self, function: Callable[[np.ndarray], np.ndarray], records: list[bytes]) -> bytes:
        """The rows ``function(table)[ids_of(records)]`` as one buffer (int64, C order)."""
        encoding = self._encodings.setdefault(function, {})
        try:
            return b"".join(map(encoding.__getitem__, records))
        except KeyError:
            ids = self.ids_of(records)
            rows = function(self.table[ids])  # a per-row function: applied to this molecule's rows
            for record, row in zip(records, rows):
                encoding[record] = row.astype(np.int64).tobytes()
            return b"".join(map(encoding.__getitem__, records))


_ATOM_RECORDS = _RecordTable(_atom_properties, 8)
_BOND_RECORDS = _RecordTable(_bond_properties, 4)


class _Decoded(NamedTuple):
    atoms: list[bytes]  # [N] atom records (keys of _ATOM_RECORDS)
    bonds: Sequence[bytes]  # [B] bond records from the flags on (keys of _BOND_RECORDS)
    ends: np.ndarray  # [2B] bond end atoms (i_0, j_0, i_1, j_1, ...)
    rings: list[Sequence[int]]  # atom rings
    ring_atoms: np.ndarray  # the atoms of all rings, concatenated


def _decode(buf: bytes, ring_tags: frozenset[int]) -> _Decoded:
    """Split RDKit's binary molecule format into records (see the module docstring).

    The records are found by regular expressions (in C): one anchored match of
    exactly N atom records checks the whole atom block, one ``findall`` lists
    them; the same for the bonds.  No Python code runs per atom or bond.
    """
    if len(buf) < _ATOMS_START or unpack_from("<i", buf, 4)[0] != _VERSION_TAG:
        raise _Unsupported("no version tag")
    major = unpack_from("<i", buf, 8)[0]
    if major not in _SUPPORTED_MAJOR:
        raise _Unsupported(f"pickle version {major}")
    num_atoms, num_bonds = unpack_from("<ii", buf, 20)
    if buf[_ATOMS_START - 1] != _BEGIN_ATOM:
        raise _Unsupported("no atom tag")
    block = _pattern(_ATOM_RECORD, num_atoms).match(buf, _ATOMS_START)
    if block is None:
        raise _Unsupported("an atom record with a query, map number, dummy label, monomer info or new field")
    atoms = _pattern(_ATOM_RECORD).findall(buf, _ATOMS_START, block.end())
    pos = block.end()
    if buf[pos] != _BEGIN_BOND:
        raise _Unsupported("no bond tag")
    pos += 1
    wide = num_atoms > 255  # atom indices are int32 above 255 atoms, else one byte
    end_size = 4 if wide else 1
    block = _pattern(_BOND_RECORDS_BY_SIZE[end_size], num_bonds).match(buf, pos)
    if block is None:
        raise _Unsupported("a query bond, mol-file end points or an unusual number of stereo atoms")
    end = block.end()
    bonds = _pattern(_BOND_KEYS_BY_SIZE[end_size]).findall(buf, pos, end)
    ends = np.frombuffer(b"".join(_pattern(_BOND_ENDS_BY_SIZE[end_size]).findall(buf, pos, end)),
                         dtype="<i4" if wide else np.uint8)
    pos = end

    if buf[pos] not in ring_tags:
        raise _Unsupported("no ring information")
    num_rings = unpack_from("<I", buf, pos + 1)[0]
    pos += 5
    rings: list[Sequence[int]] = []
    for _ in range(num_rings):
        if wide:
            size = unpack_from("<i", buf, pos)[0]
            rings.append(unpack_from(f"<{size}i", buf, pos + 4))
            pos += 4 + 4 * size
        else:
            size = buf[pos]
            rings.append(buf[pos + 1 : pos + 1 + size])
            pos += 1 + size
    if wide:
        ring_atoms = np.array([atom for ring in rings for atom in ring], dtype=np.int64)
    else:
        ring_atoms = np.frombuffer(b"".join(rings), dtype=np.uint8)
    return _Decoded(atoms, bonds, ends, rings, ring_atoms)


def _arrays_of(decoded: _Decoded) -> MoleculeArrays:
    in_ring = np.zeros(len(decoded.atoms), dtype=np.int64)
    in_ring[decoded.ring_atoms] = 1
    return MoleculeArrays.from_columns(
        _ATOM_RECORDS.table[_ATOM_RECORDS.ids_of(decoded.atoms)], decoded.ends.astype(np.int64).reshape(-1, 2),
        _BOND_RECORDS.table[_BOND_RECORDS.ids_of(decoded.bonds)], in_ring, [tuple(ring) for ring in decoded.rings])


def read_molecule_slow(mol) -> MoleculeArrays:
    """The reference path: one RDKit call per atom and bond property."""
    atoms = list(mol.GetAtoms())
    bonds = list(mol.GetBonds())

    def column(values) -> np.ndarray:
        return np.array([int(v) for v in values], dtype=np.int64)

    return MoleculeArrays(
        atomic_num=column(a.GetAtomicNum() for a in atoms),
        is_aromatic=column(a.GetIsAromatic() for a in atoms),
        formal_charge=column(a.GetFormalCharge() for a in atoms),
        chiral_tag=column(a.GetChiralTag() for a in atoms),
        hybridization=column(a.GetHybridization() for a in atoms),
        num_hs=column(a.GetTotalNumHs() for a in atoms),
        implicit_valence=column(a.GetNumImplicitHs() for a in atoms),
        num_radical_electrons=column(a.GetNumRadicalElectrons() for a in atoms),
        src=column(b.GetBeginAtomIdx() for b in bonds),
        dst=column(b.GetEndAtomIdx() for b in bonds),
        bond_type=column(b.GetBondType() for b in bonds),
        bond_stereo=column(b.GetStereo() for b in bonds),
        bond_conjugated=column(b.GetIsConjugated() for b in bonds),
        bond_aromatic=column(b.GetIsAromatic() for b in bonds),
        in_ring=column(a.IsInRing() for a in atoms),
        rings=[tuple(r) for r in mol.GetRingInfo().AtomRings()],
    )


_RING_TAGS: frozenset[int] | None = None


def _ring_tags() -> frozenset[int]:
    """The pickle tags that open the ring section (SSSR or fast ring finding), learned once from this RDKit build."""
    global _RING_TAGS
    if _RING_TAGS is None:
        Chem = require("rdkit.Chem", "molecule featurisation")
        fast = Chem.MolFromSmiles("C1CC1", sanitize=False)
        Chem.FastFindRings(fast)
        tags = set()
        for mol in (Chem.MolFromSmiles("C1CC1"), fast):
            buf = mol.ToBinary()
            atoms = _pattern(_ATOM_RECORD, 3).match(buf, _ATOMS_START)
            bonds = _pattern(_BOND_RECORDS_BY_SIZE[1], 3).match(buf, atoms.end() + 1)
            tags.add(buf[bonds.end()])
        _RING_TAGS = frozenset(tags)
    return _RING_TAGS


def read_molecule(mol) -> MoleculeArrays:
    """The atom and bond properties of a sanitised RDKit molecule (fast path, reference fallback)."""
    try:
        return _arrays_of(_decode(mol.ToBinary(), _ring_tags()))
    except _FALLBACK:
        return read_molecule_slow(mol)


_EDGE_ORDERS: dict[int, np.ndarray] = {}


def _edge_order(length: int) -> np.ndarray:
    """``[2, length]``: ``[[0, 1, 2, 3, ...], [1, 0, 3, 2, ...]]``, kept per length (contiguous: gathers are faster)."""
    order = _EDGE_ORDERS.get(length)
    if order is None:
        order = np.stack((np.arange(length), np.arange(length) ^ 1))
        if length <= 4096:
            _EDGE_ORDERS[length] = order
    return order


def directed_edges(ends: np.ndarray) -> np.ndarray:
    """``[2, 2B]`` int64 from the bond ends ``[2B]`` = ``(i_0, j_0, i_1, j_1, ...)``.

    Bond k gives the columns 2k = (i_k, j_k) and 2k + 1 = (j_k, i_k).
    """
    return ends.take(_edge_order(len(ends))).astype(np.int64, copy=False)


# ----------------------------------------------------------------- OGB features
_ATOMIC_NUM_TABLE = np.array([z - 1 if 0 < z < 119 else 118 for z in range(256)], dtype=np.int64)
_CHIRALITY_TABLE = np.array(_CHIRALITY, dtype=np.int64)
_HYBRIDIZATION_TABLE = np.array(_HYBRIDIZATION, dtype=np.int64)
_BOND_TYPE_TABLE = np.array(_BOND_TYPE, dtype=np.int64)
_BOND_STEREO_TABLE = np.array(_BOND_STEREO, dtype=np.int64)


def ogb_atom_features(arrays: MoleculeArrays) -> np.ndarray:
    """``[N, 9]`` int64: OGB's atom features (``ogb.utils.features.atom_to_feature_vector``)."""
    charge, num_hs = arrays.formal_charge, arrays.num_hs
    x = np.empty((arrays.num_atoms, 9), dtype=np.int64)
    x[:, 0] = _ATOMIC_NUM_TABLE[arrays.atomic_num]
    x[:, 1] = _CHIRALITY_TABLE[arrays.chiral_tag]
    x[:, 2] = np.minimum(arrays.degree() + num_hs, _DEGREE_MISC)
    x[:, 3] = np.where(np.abs(charge) <= 5, charge + 5, _CHARGE_MISC)
    x[:, 4] = np.minimum(num_hs, _NUM_H_MISC)
    x[:, 5] = np.minimum(arrays.num_radical_electrons, _RADICAL_MISC)
    x[:, 6] = _HYBRIDIZATION_TABLE[arrays.hybridization]
    x[:, 7] = arrays.is_aromatic
    x[:, 8] = arrays.in_ring
    return x


def ogb_bond_features(arrays: MoleculeArrays) -> np.ndarray:
    """``[B, 3]`` int64 per bond (one row per bond, not per direction)."""
    edge_attr = np.empty((len(arrays.bond_type), 3), dtype=np.int64)
    edge_attr[:, 0] = _BOND_TYPE_TABLE[arrays.bond_type]
    edge_attr[:, 1] = _BOND_STEREO_TABLE[arrays.bond_stereo]
    edge_attr[:, 2] = arrays.bond_conjugated
    return edge_attr


def _ogb_atom_rows(table: np.ndarray) -> np.ndarray:
    """OGB atom features of the atom-record table, before degree and ring membership are known."""
    return ogb_atom_features(MoleculeArrays.from_columns(
        table, np.zeros((0, 2), dtype=np.int64), np.zeros((0, 4), dtype=np.int64), np.zeros(len(table), dtype=np.int64), []))


def _ogb_edge_rows(table: np.ndarray) -> np.ndarray:
    """OGB bond features of the bond-record table, twice per row (the two directed edges of a bond)."""
    rows = ogb_bond_features(MoleculeArrays.from_columns(
        np.zeros((0, 8), dtype=np.int64), np.zeros((len(table), 2), dtype=np.int64), table, np.zeros(0, dtype=np.int64), []))
    return np.concatenate((rows, rows), axis=1)


def ogb_graph_arrays(mol) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``x [N, 9]``, ``edge_index [2, 2B]``, ``edge_attr [2B, 3]`` (int64) of ``ogb.utils.smiles2graph``.

    The fast path gathers each atom's features from a table over its record,
    then adds what depends on the whole molecule: the degree (total degree =
    bonds + Hs; the table holds the Hs) and ring membership.
    """
    try:
        decoded = _decode(mol.ToBinary(), _ring_tags())
    except _FALLBACK:
        arrays = read_molecule_slow(mol)
        return (ogb_atom_features(arrays), directed_edges(arrays.ends()),
                np.repeat(ogb_bond_features(arrays), 2, axis=0))
    # Copies of the joined bytes, not views of a bytearray: a view keeps a memoryview and its buffer alive,
    # two more objects per array for the cyclic garbage collector to track (and scan) per molecule kept.
    x = np.frombuffer(_ATOM_RECORDS.encoded(_ogb_atom_rows, decoded.atoms), dtype=np.int64).copy().reshape(-1, 9)
    total_degree = x[:, 2]  # a view: updated in place
    total_degree += np.bincount(decoded.ends, minlength=len(x))
    np.minimum(total_degree, _DEGREE_MISC, out=total_degree)
    x[:, 8][decoded.ring_atoms] = 1  # (through the column view: the cheapest fancy assignment)
    edge_attr = np.frombuffer(_BOND_RECORDS.encoded(_ogb_edge_rows, decoded.bonds), dtype=np.int64).copy().reshape(-1, 3)
    return x, directed_edges(decoded.ends), edge_attr


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
    symbol = np.array([index.get(z, unknown) for z in arrays.atomic_num.tolist()])
    offset = len(DUVENAUD_SYMBOLS)
    out[rows, symbol] = 1
    out[rows, offset + np.minimum(arrays.degree(), 5)] = 1
    out[rows, offset + 6 + np.minimum(arrays.num_hs, 4)] = 1
    out[rows, offset + 11 + np.minimum(arrays.implicit_valence, 5)] = 1
    out[rows, offset + 17] = arrays.is_aromatic
    return out


def duvenaud_bond_features(arrays: MoleculeArrays) -> np.ndarray:
    """``[B, 6]`` float32: single, double, triple, aromatic, conjugated, in ring."""
    ring_pairs = arrays.ring_bond_pairs()
    rows = []
    for i, j, t, c in zip(arrays.src.tolist(), arrays.dst.tolist(), arrays.bond_type.tolist(),
                          arrays.bond_conjugated.tolist()):
        rows.append((t == 1, t == 2, t == 3, t == 12, c, ((i, j) if i < j else (j, i)) in ring_pairs))
    return np.array(rows, dtype=np.float32).reshape(len(rows), DUVENAUD_BOND_DIM)
