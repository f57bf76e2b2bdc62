r"""QM9: 130,831 small organic molecules with 3D geometries and 12 quantum-chemical targets.

Sources (either is read; the first found under the data root wins):

* ``qm9/qm9.csv`` (or ``.xz``/``.gz``): the release as repackaged by its first author in PyPI
  ``qm9pack==1.0.3`` (columns ``Index, SMILES, N_atoms, Elements, XYZ_Ang, ..., Heatcapacity_Cv_cal_mol_K``,
  original units), already without the 3,054 molecules that fail QM9's geometry check.
* The official release on figshare (https://doi.org/10.6084/m9.figshare.978904), downloaded when
  no CSV is present: ``qm9/dsgdb9nsd.xyz.tar.bz2`` (133,885 ``.xyz`` files,
  https://ndownloader.figshare.com/files/3195389) and ``qm9/uncharacterized.txt``
  (https://ndownloader.figshare.com/files/3195404); the uncharacterized molecules are dropped,
  leaving the same 130,831.  (PyTorch Geometric's raw copy,
  https://deepchemdata.s3-us-west-1.amazonaws.com/datasets/molnet_publish/qm9.zip, holds the same
  molecules as SDF.)

Targets are in the units papers report (SchNet, DimeNet, PaiNN, ...):

====  ======  ==========  =================================================
 #    name    unit        definition
====  ======  ==========  =================================================
 0    mu      D           dipole moment
 1    alpha   a0^3        isotropic polarizability
 2    homo    meV         HOMO energy
 3    lumo    meV         LUMO energy
 4    gap     meV         LUMO - HOMO
 5    r2      a0^2        electronic spatial extent
 6    zpve    meV         zero-point vibrational energy
 7    U0      meV         atomization energy at 0 K
 8    U       meV         atomization energy at 298.15 K
 9    H       meV         atomization enthalpy at 298.15 K
 10   G       meV         atomization free energy at 298.15 K
 11   cv      cal/(mol K) heat capacity at 298.15 K
====  ======  ==========  =================================================

Atomization energies subtract the per-atom reference energies of QM9's ``atomref.txt``
(https://ndownloader.figshare.com/files/3195395, B3LYP/6-31G(2df,p), Hartree) from the total
energies; 1 Hartree = 27.211386246 eV (CODATA 2018, as PyTorch Geometric).

Cite: Ramakrishnan, Dral, Rupp, von Lilienfeld, "Quantum chemistry structures and properties of
134 kilo molecules", Sci. Data 1, 140022 (2014); Ruddigkeit et al., J. Chem. Inf. Model. 52 (2012).
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch import Tensor

from geoconv.data import Graph
from geoconv.datasets.base import (
    DAMAGED_FILE_ERRORS, DatasetError, DatasetView, GraphDataset, RemoteFile, cached, damaged_file_error, data_root, fetch, locate, open_file,
    read_text,
)

TARGETS = ("mu", "alpha", "homo", "lumo", "gap", "r2", "zpve", "U0", "U", "H", "G", "cv")
UNITS = ("D", "a0^3", "meV", "meV", "meV", "a0^2", "meV", "meV", "meV", "meV", "meV", "cal/(mol K)")
HARTREE_TO_MEV = 27.211386246 * 1000.0
ELEMENTS = {"H": 1, "C": 6, "N": 7, "O": 8, "F": 9}
# QM9 atomref.txt, Hartree: U(0 K), U(298.15 K), H(298.15 K), G(298.15 K) of the free atoms.
ATOMREF_HARTREE = {
    1: (-0.500273, -0.498857, -0.497912, -0.510927),
    6: (-37.846772, -37.845355, -37.844411, -37.861317),
    7: (-54.583861, -54.582445, -54.581501, -54.598897),
    8: (-75.064579, -75.063163, -75.062219, -75.079532),
    9: (-99.718730, -99.717314, -99.716370, -99.733544),
}
NUM_MOLECULES = 130_831
SPLIT_SIZES = (110_000, 10_000)
SPLIT_SEED = 0

CSV_FILE = RemoteFile(
    "qm9/qm9.csv",
    "https://pypi.org/project/qm9pack/1.0.3/ (qm9pack/data/qm9_part{1,2,3}.csv concatenated, see datasets/README.md)",
    # the derived file of ../shared/data/MANIFEST.md: qm9.csv (130,589,109 bytes) and its xz copy
    "689343c6efcb1b3ba2f56c59aaa62b44756591a7a639ddfc385d77d6879dbdeb",
    ("2a5e3fb6b141f13673fba3a55ac77452f17bb336dd698813a23e5893619d1e20",),
)
XYZ_FILE = RemoteFile("qm9/dsgdb9nsd.xyz.tar.bz2", "https://ndownloader.figshare.com/files/3195389")
UNCHARACTERIZED_FILE = RemoteFile("qm9/uncharacterized.txt", "https://ndownloader.figshare.com/files/3195404")

# Raw property columns (original units) in the order of TARGETS.
CSV_COLUMNS = (
    "Dipole_debye", "Polarizability_bohr3", "HOMO_au", "LUMO_au", "HOMO_LUMO_gap_au", "R2_bohr2", "ZPVE_au",
    "InternalEnergy_0K_au", "InternalEnergy_298K_au", "Enthalphy_298K_au", "GibbsFreeEnergy_298K_au",
    "Heatcapacity_Cv_cal_mol_K",
)


def convert_targets(raw: np.ndarray, z: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    """Raw QM9 properties ``[M, 12]`` (Debye, Bohr^3, Hartree, Bohr^2, cal/mol K) to paper units.

    Energies (homo, lumo, gap, zpve) go to meV; U0, U, H, G become atomization energies in meV.
    """
    out = raw.astype(np.float64).copy()
    out[:, 2:5] *= HARTREE_TO_MEV
    out[:, 6] *= HARTREE_TO_MEV
    reference = np.zeros((10, 4))
    for element, values in ATOMREF_HARTREE.items():
        reference[element] = values
    molecule = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
    per_molecule = np.zeros((len(ptr) - 1, 4))
    np.add.at(per_molecule, molecule, reference[z])
    out[:, 7:11] = (out[:, 7:11] - per_molecule) * HARTREE_TO_MEV
    return out


def _pack(z: np.ndarray, pos: np.ndarray, counts: np.ndarray, raw: np.ndarray, index: np.ndarray) -> dict[str, Tensor]:
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    if ptr[-1] != len(z) or len(pos) != len(z):
        raise DatasetError(f"QM9: {len(z)} elements and {len(pos)} positions for {ptr[-1]} atoms")
    return {
        "z": torch.from_numpy(z.astype(np.int64)),
        "pos": torch.from_numpy(pos.astype(np.float32)),
        "ptr": torch.from_numpy(ptr),
        "y": torch.from_numpy(convert_targets(raw, z, ptr)),
        "index": torch.from_numpy(index.astype(np.int64)),
    }


def _element_codes(symbols: bytes) -> np.ndarray:
    table = np.zeros(256, dtype=np.int64)
    for symbol, number in ELEMENTS.items():
        table[ord(symbol)] = number
    codes = table[np.frombuffer(symbols, dtype=np.uint8)]
    if (codes == 0).any():
        bad = chr(np.frombuffer(symbols, dtype=np.uint8)[codes == 0][0])
        raise DatasetError(f"QM9: unexpected element symbol {bad!r} (expected one of {sorted(ELEMENTS)})")
    return codes


def build_from_csv(path: Path, max_molecules: int | None = None) -> dict[str, Tensor]:
    """Parse the qm9pack CSV (vectorised: all coordinate strings are split at once)."""
    from geoconv._optional import require

    pandas = require("pandas", "reading the QM9 CSV")
    columns = ["Index", "N_atoms", "Elements", "XYZ_Ang", *CSV_COLUMNS]
    with open_file(path, "rb") as handle:
        try:
            frame = pandas.read_csv(handle, usecols=columns, nrows=max_molecules,
                                    dtype={"Elements": str, "XYZ_Ang": str})
        except ValueError as error:
            raise DatasetError(f"{path} is not the QM9 CSV: {error}") from error
        except DAMAGED_FILE_ERRORS as error:
            raise damaged_file_error(path, error, CSV_FILE.url) from None
    counts = frame["N_atoms"].to_numpy(np.int64)
    symbols = "".join(frame["Elements"]).translate({ord(c): None for c in "[]', "})
    z = _element_codes(symbols.encode())
    coordinates = ",".join(frame["XYZ_Ang"]).translate({ord(c): None for c in "[] "})
    pos = np.array(coordinates.split(","), dtype=np.float64).reshape(-1, 3)
    raw = frame[list(CSV_COLUMNS)].to_numpy(np.float64)
    return _pack(z, pos, counts, raw, frame["Index"].to_numpy())


def _float(token: str) -> float:
    return float(token.replace("*^", "e"))  # the xyz files write some exponents Mathematica-style


def parse_xyz(text: str) -> tuple[int, list[str], np.ndarray, list[float]]:
    """One QM9 ``.xyz`` file: (index, elements, positions [n, 3], 12 raw properties in TARGETS order)."""
    lines = text.splitlines()
    try:
        count = int(lines[0])
        fields = lines[1].split()
        index = int(fields[1])
        # gdb index A B C mu alpha homo lumo gap r2 zpve U0 U H G Cv
        properties = [_float(token) for token in fields[5:17]]
        atoms = [line.split() for line in lines[2:2 + count]]
        elements = [atom[0] for atom in atoms]
        positions = np.array([[_float(value) for value in atom[1:4]] for atom in atoms])
    except (IndexError, ValueError) as error:
        raise DatasetError(f"not a QM9 xyz file ({error}): {text[:80]!r}") from error
    if len(properties) != 12 or positions.shape != (count, 3):
        raise DatasetError(f"QM9 xyz file of molecule {index} has {len(properties)} properties / {positions.shape} positions")
    return index, elements, positions, properties


def read_uncharacterized(path: Path) -> set[int]:
    """Indices (1-based) listed in QM9's ``uncharacterized.txt`` (rows starting with an integer)."""
    skip = set()
    for line in read_text(path).splitlines():
        tokens = line.split()
        if len(tokens) >= 2 and tokens[0].isdigit():
            skip.add(int(tokens[0]))
    return skip


def build_from_xyz(archive: Path, uncharacterized: Path, max_molecules: int | None = None) -> dict[str, Tensor]:
    """Parse the official ``dsgdb9nsd.xyz.tar.bz2``, dropping the uncharacterized molecules."""
    skip = read_uncharacterized(uncharacterized)
    molecules = []
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                if not member.isfile() or not member.name.endswith(".xyz"):
                    continue
                handle = tar.extractfile(member)
                parsed = parse_xyz(io.TextIOWrapper(handle, encoding="utf-8").read())
                if parsed[0] not in skip:
                    molecules.append(parsed)
    except (*DAMAGED_FILE_ERRORS, UnicodeDecodeError) as error:
        raise damaged_file_error(archive, error, XYZ_FILE.url) from None
    molecules.sort(key=lambda item: item[0])
    if max_molecules is not None:
        molecules = molecules[:max_molecules]
    if not molecules:
        raise DatasetError(f"{archive} holds no QM9 .xyz files")
    z = _element_codes("".join(e for m in molecules for e in m[1]).encode())
    pos = np.concatenate([m[2] for m in molecules])
    counts = np.array([len(m[1]) for m in molecules])
    raw = np.array([m[3] for m in molecules])
    return _pack(z, pos, counts, raw, np.array([m[0] for m in molecules]))


def molecule_radius_graph(pos: Tensor, cutoff: float) -> Tensor:
    """Edges ``j -> i`` (``[2, E]``, row 0 = source) between distinct atoms closer than ``cutoff``.

    Dense all-pairs distances: exact and fast for one small molecule (QM9 has <= 29 atoms),
    ~40x faster per molecule than the general chunked search of :func:`geoconv.ops.knn.radius_graph`.
    """
    distance = (pos.unsqueeze(0) - pos.unsqueeze(1)).norm(dim=-1)
    close = distance < cutoff
    close.fill_diagonal_(False)
    return close.nonzero().T.flip(0).contiguous()


class QM9(GraphDataset):
    r"""QM9 molecules as :class:`~geoconv.data.Graph` objects with radius graphs (a :class:`GraphDataset`).

    ``QM9()[i]`` has ``z [n]`` (atomic numbers, node level), ``pos [n, 3]`` (Angstrom),
    ``edge_index`` (all ordered pairs of distinct atoms closer than ``cutoff``), graph-level
    ``y [1, 12]`` in paper units (see the module table) and ``index`` (the QM9 molecule number).
    The whole set is also available as flat tensors: ``z``, ``pos``, ``ptr [M+1]``, ``y [M, 12]``
    (float64) and ``index [M]``.  Graphs are made when read (the radius graph of one molecule
    takes microseconds), so ``dataset[indices]`` is a view that copies nothing.

    Args:
        root: data root (default ``$GEOCONV_DATA`` or ``~/.cache/geoconv``); reads
            ``<root>/qm9/qm9.csv[.xz]`` when present, else the official xyz release
            (downloaded when ``download``).
        cutoff: radius of the graphs in Angstrom (default 5).
        max_molecules: read only the first molecules (quick experiments and tests).
        download: download the official release when no local copy exists.
        transform: applied to each graph when it is read.
    """

    def __init__(
        self,
        *,
        root: str | os.PathLike | None = None,
        cutoff: float = 5.0,
        max_molecules: int | None = None,
        download: bool = True,
        transform: Callable[[Graph], Graph] | None = None,
    ) -> None:
        super().__init__(None, transform)
        if not cutoff > 0:
            raise ValueError(f"cutoff must be positive, got {cutoff}")
        if max_molecules is not None and max_molecules < 1:
            raise ValueError(f"max_molecules must be positive, got {max_molecules}")
        root_path = data_root(root)
        suffix = "all" if max_molecules is None else str(max_molecules)
        csv = locate(CSV_FILE, root_path)
        if csv is not None:
            path = fetch(CSV_FILE, root_path, download_missing=False)
            tensors = cached(f"qm9_csv_{suffix}", [path], lambda: build_from_csv(path, max_molecules), version="1",
                             options={"max_molecules": max_molecules})
        else:
            try:
                archive = fetch(XYZ_FILE, root_path, download_missing=download)
                skip = fetch(UNCHARACTERIZED_FILE, root_path, download_missing=download)
            except DatasetError as error:
                raise DatasetError(
                    f"QM9 needs either {CSV_FILE.path} or the official release ({XYZ_FILE.path} and "
                    f"{UNCHARACTERIZED_FILE.path}) under {root_path}: {error}"
                ) from error
            tensors = cached(f"qm9_xyz_{suffix}", [archive, skip],
                             lambda: build_from_xyz(archive, skip, max_molecules), version="1",
                             options={"max_molecules": max_molecules})
        self.z, self.pos, self.ptr = tensors["z"], tensors["pos"], tensors["ptr"]
        self.y, self.index = tensors["y"], tensors["index"]
        self.cutoff = cutoff

    targets = TARGETS
    units = UNITS

    def __len__(self) -> int:
        return self.ptr.numel() - 1

    def num_atoms(self) -> Tensor:
        """``[M]`` atoms per molecule."""
        return self.ptr.diff()

    def get(self, index: int) -> Graph:
        """Molecule ``index`` as a graph (before the transform)."""
        start, stop = int(self.ptr[index]), int(self.ptr[index + 1])
        pos = self.pos[start:stop]
        return Graph(
            pos=pos,
            edge_index=molecule_radius_graph(pos, self.cutoff),
            y=self.y[index].float().unsqueeze(0),
            y_level="graph",
            node_data={"z": self.z[start:stop]},
            graph_data={"index": self.index[index:index + 1]},
        )

    def subset(self, indices: Sequence[int]) -> DatasetView:
        return DatasetView(self, indices, self.transform)

    def splits(self, kind: str = "random", *, sizes: tuple[int, int] = SPLIT_SIZES,
               seed: int = SPLIT_SEED) -> dict[str, Tensor]:
        """The common random split: ``{"train": 110,000, "val": 10,000, "test": rest}`` molecule indices.

        A permutation of ``range(len(self))`` from ``torch.Generator().manual_seed(seed)``; on a
        subset (``max_molecules``) the sizes are scaled down proportionally.  ``kind`` is
        ``"random"`` (the only split papers use for QM9; named for symmetry with the other datasets).
        """
        if kind != "random":
            raise ValueError(f"QM9 has only the 'random' split, got {kind!r}")
        total = len(self)
        train, val = sizes
        if total < NUM_MOLECULES and sizes == SPLIT_SIZES:
            train, val = int(total * train / NUM_MOLECULES), int(total * val / NUM_MOLECULES)
        if train + val > total:
            raise ValueError(f"split sizes {train} + {val} exceed the {total} molecules")
        order = torch.randperm(total, generator=torch.Generator().manual_seed(seed))
        return {"train": order[:train], "val": order[train:train + val], "test": order[train + val:]}
