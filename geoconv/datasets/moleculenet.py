"""MoleculeNet property-prediction sets (Wu et al., Chem. Sci. 2018) from the released CSVs.

Each molecule becomes a :class:`~geoconv.data.Graph` (see :mod:`geoconv.chem`)
with graph-level targets ``y [1, T]`` (NaN where a label is missing),
``label_mask [1, T]`` (True where present) and its SMILES as ``graph.smiles``.
SMILES that the installed RDKit cannot parse, and empty SMILES cells, are
skipped, counted (``dataset.num_invalid``, ``dataset.invalid_smiles``) and
reported in one warning.  Splits:
:meth:`MoleculeNet.splits` gives OGB's deterministic Bemis-Murcko scaffold
split or a seeded random split, 80/10/10, as ``{"train", "val", "test"}`` index tensors.
"""

from __future__ import annotations

import csv
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from geoconv.data import Graph
from geoconv.datasets.base import DatasetError, GraphDataset, RemoteFile, cached, data_root, fetch, split_indices, text_stream

DEEPCHEM = "https://deepchemdata.s3-us-west-1.amazonaws.com/datasets/"


@dataclass(frozen=True)
class MoleculeNetSpec:
    file: str  # name of the released file (under <root>/moleculenet/)
    smiles_column: str
    tasks: tuple[str, ...] | None  # None: every column except the SMILES column
    task_type: str  # "regression" or "classification"
    sha256: str | None = None  # of the uncompressed CSV (../shared/data/MANIFEST.md)
    compressed_sha256: tuple[str, ...] = ()
    ogb_name: str | None = None


TOX21_TASKS = ("NR-AR", "NR-AR-LBD", "NR-AhR", "NR-Aromatase", "NR-ER", "NR-ER-LBD", "NR-PPAR-gamma",
               "SR-ARE", "SR-ATAD5", "SR-HSE", "SR-MMP", "SR-p53")

SPECS: dict[str, MoleculeNetSpec] = {
    "esol": MoleculeNetSpec(
        "delaney-processed.csv", "smiles", ("measured log solubility in mols per litre",), "regression",
        "8c06a76f0c6487d29ab0f903e6a7a7139f189ab3c1178f159c8be8964602f189",
        ("5d3f47386ea1a6ff54a67e90d9f1106180a8d60be5f3bc259781726f56410b00",), "ogbg-molesol"),
    "freesolv": MoleculeNetSpec(
        "SAMPL.csv", "smiles", ("expt",), "regression",
        "ab5895d914ee87cb563bd7b9611e869527bba45bec6b014d34dc495a0f9dcb72",
        ("658dce87944365ad8fc03b8b137e561320deb64316bda57fe74a5069d0859b13",), "ogbg-molfreesolv"),
    "lipophilicity": MoleculeNetSpec(
        "Lipophilicity.csv", "smiles", ("exp",), "regression",
        "aed41590cb30609d51d8e08ad3ff06495a76e80e211358801f596b10da69bacd",
        ("b63bb8a9fbb8c68bc62949e63d841a59c2e78571a3f0087c47b83f484ee45468",), "ogbg-mollipo"),
    "bbbp": MoleculeNetSpec("BBBP.csv", "smiles", ("p_np",), "classification", ogb_name="ogbg-molbbbp"),
    "bace": MoleculeNetSpec("bace.csv", "mol", ("Class",), "classification", ogb_name="ogbg-molbace"),
    "hiv": MoleculeNetSpec(
        "HIV.csv", "smiles", ("HIV_active",), "classification",
        "54713c3205055055ea4214e8c4b0d22d93af7e54ad2c48f4edc866e161e57262",
        ("8d4a211ed33d242d3303f28e9160acfa94d606675c9d30944fd12373bb810ebc",), "ogbg-molhiv"),
    # DeepChem serves these three gzip-compressed; their sha256 is not pinned here.
    "tox21": MoleculeNetSpec("tox21.csv.gz", "smiles", TOX21_TASKS, "classification", ogb_name="ogbg-moltox21"),
    "clintox": MoleculeNetSpec("clintox.csv.gz", "smiles", ("FDA_APPROVED", "CT_TOX"), "classification",
                               ogb_name="ogbg-molclintox"),
    "sider": MoleculeNetSpec("sider.csv.gz", "smiles", None, "classification", ogb_name="ogbg-molsider"),
}
ALIASES = {"delaney": "esol", "lipo": "lipophilicity", "sampl": "freesolv"}


def moleculenet_file(name: str) -> RemoteFile:
    spec = SPECS[name]
    return RemoteFile(f"moleculenet/{spec.file}", DEEPCHEM + spec.file, spec.sha256, spec.compressed_sha256)


def read_moleculenet_csv(path: Path, spec: MoleculeNetSpec) -> tuple[list[str], list[str], np.ndarray]:
    """``(smiles, task_names, labels [M, T] float64 with NaN for missing)`` from a MoleculeNet CSV."""
    with text_stream(path) as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise DatasetError(f"{path} is empty")
        if spec.smiles_column not in header:
            raise DatasetError(f"{path} has no SMILES column {spec.smiles_column!r} (columns: {header})")
        smiles_at = header.index(spec.smiles_column)
        tasks = spec.tasks or tuple(c for c in header if c != spec.smiles_column)
        missing = [t for t in tasks if t not in header]
        if missing:
            raise DatasetError(f"{path} lacks the task columns {missing} (columns: {header})")
        task_at = [header.index(t) for t in tasks]
        smiles, labels = [], []
        for line, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise DatasetError(f"{path} line {line} has {len(row)} fields, the header has {len(header)}")
            smiles.append(row[smiles_at])
            try:
                labels.append([float(row[k]) if row[k].strip() != "" else math.nan for k in task_at])
            except ValueError:
                bad = next(k for k in task_at if row[k].strip() != "" and not _is_number(row[k]))
                raise DatasetError(f"{path} line {line}: the label {row[bad]!r} of task {header[bad]!r} is not a number") from None
    return smiles, list(tasks), np.asarray(labels, dtype=np.float64).reshape(len(smiles), len(tasks))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def build_molecule_tensors(smiles: list[str], labels: np.ndarray, features: str) -> dict:
    """Featurise ``smiles``; collate into flat tensors (fast to cache and reload)."""
    from geoconv.chem.featurize import _chem, from_mol, mol_from_smiles

    Chem = _chem()
    quiet = Chem.rdBase.BlockLogs() if hasattr(Chem, "rdBase") else None  # unparsable rows are counted, not logged
    xs, edges, attrs, node_counts, edge_counts, kept, invalid = [], [], [], [], [], [], []
    for i, text in enumerate(smiles):
        mol = mol_from_smiles(text)
        if mol is None:
            invalid.append(i)
            continue
        graph = from_mol(mol, features=features)
        xs.append(graph.x)
        edges.append(graph.edge_index)
        attrs.append(graph.edge_attr)
        node_counts.append(graph.num_nodes)
        edge_counts.append(graph.edge_index.shape[1])
        kept.append(i)
    del quiet
    if not kept:
        raise DatasetError(f"none of the {len(smiles)} SMILES is a parsable molecule (the file holds no usable row)")
    kept_index = torch.tensor(kept, dtype=torch.long)
    return {
        "x": torch.cat(xs), "edge_index": torch.cat(edges, dim=1), "edge_attr": torch.cat(attrs),
        "node_counts": torch.tensor(node_counts, dtype=torch.long), "edge_counts": torch.tensor(edge_counts, dtype=torch.long),
        "y": torch.from_numpy(labels).float()[kept_index], "kept": kept_index,
        "invalid": torch.tensor(invalid, dtype=torch.long),
    }


def graphs_from_tensors(tensors: dict, smiles: list[str]) -> list[Graph]:
    """Split collated tensors back into graphs (views, no copies)."""
    node_counts, edge_counts = tensors["node_counts"].tolist(), tensors["edge_counts"].tolist()
    xs = torch.split(tensors["x"], node_counts)
    edges = torch.split(tensors["edge_index"], edge_counts, dim=1)
    attrs = torch.split(tensors["edge_attr"], edge_counts)
    y = tensors["y"]
    mask = ~torch.isnan(y)
    graphs = []
    for k in range(len(node_counts)):
        graph = Graph(x=xs[k], edge_index=edges[k], edge_attr=attrs[k], y=y[k:k + 1], y_level="graph",
                      graph_data={"label_mask": mask[k:k + 1]}, num_nodes=node_counts[k], validate=False)
        object.__setattr__(graph, "smiles", smiles[k])
        graphs.append(graph)
    return graphs


class MoleculeNet(GraphDataset):
    """A MoleculeNet dataset: a list of molecule graphs with graph-level targets.

    Args:
        name: esol, freesolv, lipophilicity, bbbp, bace, hiv, tox21, clintox, sider (any case).
        root: data root; the CSV is read from / downloaded to ``<root>/moleculenet/<file>``
            (a ``.gz`` copy works too).
        features: ``"ogb"`` (integer OGB features) or ``"duvenaud"`` (one-hot floats).
        download: download a missing CSV from DeepChem's S3 bucket (MoleculeNet's host).
        transform: applied to each graph on access (e.g. :class:`geoconv.chem.MorganFingerprint`).

    Attributes: ``tasks`` (task names), ``task_type``, ``smiles`` (kept molecules),
    ``num_invalid`` / ``invalid_smiles`` (rows RDKit could not parse or with an empty SMILES), ``source`` (file read).
    """

    def __init__(self, name: str, *, root: str | os.PathLike | None = None, features: str = "ogb",
                 download: bool = True, transform: Callable[[Graph], Graph] | None = None) -> None:
        key = ALIASES.get(name.lower(), name.lower())
        if key not in SPECS:
            raise ValueError(f"unknown MoleculeNet dataset {name!r}; choose from {sorted(SPECS)}")
        spec = SPECS[key]
        root_path = data_root(root)
        path = fetch(moleculenet_file(key), root_path, download_missing=download)
        all_smiles, tasks, labels = read_moleculenet_csv(path, spec)

        tensors = cached(f"moleculenet_{key}_{features}", [path],
                         lambda: build_molecule_tensors(all_smiles, labels, features), version="2")
        kept = tensors["kept"].tolist()
        smiles = [all_smiles[i] for i in kept]
        super().__init__(graphs_from_tensors(tensors, smiles), transform)
        self.name, self.spec, self.tasks, self.task_type = key, spec, tasks, spec.task_type
        self.features, self.source, self.root = features, path, root_path
        self.smiles = smiles
        self.invalid_smiles = [all_smiles[i] for i in tensors["invalid"].tolist()]
        self.num_invalid = len(self.invalid_smiles)
        if self.num_invalid:
            warnings.warn(f"MoleculeNet {key}: skipped {self.num_invalid} of {len(all_smiles)} rows of {path.name} "
                          f"whose SMILES is empty or unparsable (dataset.invalid_smiles lists them)", stacklevel=2)
        self.y = tensors["y"]

    @property
    def num_tasks(self) -> int:
        return len(self.tasks)

    def scaffolds(self) -> list[str]:
        """Bemis-Murcko scaffold SMILES (with chirality) of every kept molecule (cached)."""
        from geoconv.chem.scaffold import murcko_scaffold

        return cached(f"moleculenet_{self.name}_scaffolds", [self.source],
                      lambda: [murcko_scaffold(s) for s in self.smiles], version="1")

    def splits(self, kind: str = "scaffold", *, seed: int = 0,
               fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> dict[str, Tensor]:
        """``{"train", "val", "test"}`` -> molecule indices: OGB's deterministic Bemis-Murcko scaffold
        split (``seed`` unused) or a random split drawn with ``seed``, in ``fractions``."""
        from geoconv.chem.scaffold import random_split, scaffold_split_from_scaffolds

        if kind == "scaffold":
            parts = scaffold_split_from_scaffolds(self.scaffolds(), fractions)
        elif kind == "random":
            parts = random_split(len(self), fractions, seed=seed)
        else:
            raise ValueError(f"split kind must be 'scaffold' or 'random', got {kind!r}")
        return split_indices(*parts)

    def __repr__(self) -> str:
        return (f"MoleculeNet({self.name!r}, {len(self)} molecules, tasks={self.num_tasks}, "
                f"{self.task_type}, invalid={self.num_invalid})")
