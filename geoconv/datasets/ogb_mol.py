"""OGB graph property prediction on molecules (``ogbg-molhiv``, ``ogbg-moltox21``, ...).

Two sources give the same graphs:

* **OGB's released files** (``<root>/ogb/ogbg_molhiv/``, the folder of
  ``http://snap.stanford.edu/ogb/data/graphproppred/csv_mol_download/hiv.zip``):
  ``raw/{edge,node-feat,edge-feat,num-node-list,num-edge-list,graph-label}.csv.gz``
  (one bond per ``edge.csv.gz`` row, graph-local node ids; the inverse edge
  is added after each bond as OGB's ``read_csv_graph_raw`` does),
  ``mapping/mol.csv.gz`` (SMILES) and ``split/scaffold/{train,valid,test}.csv.gz``.
* **The MoleculeNet CSV**, featurised with :func:`geoconv.chem.from_mol`
  (identical to ``ogb.utils.smiles2graph``, which OGB used to make its files)
  and split with the deterministic scaffold split OGB used.  The installed
  RDKit may reject a few SMILES that OGB's older RDKit accepted; those are
  skipped (``num_invalid``), so the graph count and the split can differ
  slightly from the released files.

``dataset.source`` says which was used.  Scores come from
``ogb.graphproppred.Evaluator`` (:meth:`OGBMolDataset.evaluate`), which reads
its metadata from the installed ogb package and downloads nothing.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from geoconv._optional import require
from geoconv.data import Graph
from geoconv.datasets.base import (
    DAMAGED_FILE_ERRORS, damaged_file_error, DatasetError, GraphDataset, RemoteFile, cached, data_root, downloads_allowed, extract_archive, fetch, locate, split_indices,
    open_file,
)
from geoconv.datasets.moleculenet import SPECS, MoleculeNet, moleculenet_file

OGB_URL = "http://snap.stanford.edu/ogb/data/graphproppred/csv_mol_download/{download_name}.zip"
# ogb name -> (MoleculeNet key, OGB download name: the same word)
OGB_MOLECULES = {spec.ogb_name: (key, key) for key, spec in SPECS.items() if spec.ogb_name}
RAW_FILES = ("edge", "node-feat", "edge-feat", "num-node-list", "num-edge-list", "graph-label")
SOURCES = ("auto", "ogb", "moleculenet")


def _read_csv(path: Path, dtype, *, header: bool = False):
    pandas = require("pandas", "reading OGB csv files")
    try:
        with open_file(path, "rb") as handle:
            frame = pandas.read_csv(handle, header=0 if header else None, skip_blank_lines=False)
    except DAMAGED_FILE_ERRORS as error:
        raise damaged_file_error(path, error) from None
    return frame if header else frame.to_numpy(dtype=dtype, copy=True)  # writable (pandas copy-on-write views are not)


def read_ogb_raw(folder: Path) -> dict:
    """Collated tensors of an OGB molecule dataset folder (``raw/``, ``mapping/``, ``split/scaffold/``)."""
    raw = folder / "raw"
    missing = [name for name in RAW_FILES if not (raw / f"{name}.csv.gz").exists()]
    if missing:
        raise DatasetError(f"{raw} lacks {', '.join(n + '.csv.gz' for n in missing)}")
    edges = _read_csv(raw / "edge.csv.gz", np.int64).reshape(-1, 2)
    node_feat = _read_csv(raw / "node-feat.csv.gz", np.int64)
    edge_feat = _read_csv(raw / "edge-feat.csv.gz", np.int64).reshape(len(edges), -1)
    node_counts = _read_csv(raw / "num-node-list.csv.gz", np.int64).reshape(-1)
    bond_counts = _read_csv(raw / "num-edge-list.csv.gz", np.int64).reshape(-1)
    labels = _read_csv(raw / "graph-label.csv.gz", np.float64)
    if node_counts.sum() != len(node_feat) or bond_counts.sum() != len(edges) or len(labels) != len(node_counts):
        raise DatasetError(
            f"{raw}: num-node-list sums to {node_counts.sum()} for {len(node_feat)} node rows, num-edge-list to "
            f"{bond_counts.sum()} for {len(edges)} edge rows, {len(labels)} label rows for {len(node_counts)} graphs"
        )
    # bond k -> columns 2k (as stored) and 2k + 1 (inverse), like ogb's read_csv_graph_raw
    edge_index = np.repeat(edges.T, 2, axis=1)
    edge_index[0, 1::2], edge_index[1, 1::2] = edges[:, 1], edges[:, 0]
    mapping = _read_csv(folder / "mapping" / "mol.csv.gz", None, header=True)
    released = [np.array(_read_csv(folder / "split" / "scaffold" / f"{part}.csv.gz", np.int64).reshape(-1))
                for part in ("train", "valid", "test")]  # OGB's file names; geoconv's keys are train/val/test
    splits = split_indices(*released)
    return {
        "x": torch.from_numpy(node_feat), "edge_index": torch.from_numpy(edge_index),
        "edge_attr": torch.from_numpy(np.repeat(edge_feat, 2, axis=0)),
        "node_counts": torch.from_numpy(node_counts), "edge_counts": torch.from_numpy(2 * bond_counts),
        "y": torch.from_numpy(labels).float(), "smiles": [str(s) for s in mapping["smiles"]], "splits": splits,
    }


class OGBMolDataset(GraphDataset):
    """An ``ogbg-mol*`` dataset; see the module docstring for the two sources.

    Args:
        name: ``"ogbg-molhiv"``, ``"ogbg-moltox21"``, ``"ogbg-molesol"``, ... (those with a MoleculeNet CSV here).
        root: data root: OGB files under ``<root>/ogb/ogbg_molhiv/``, the CSV under ``<root>/moleculenet/``.
        source: ``"auto"`` (OGB files if present, else the MoleculeNet CSV if present, else download
            OGB's zip), ``"ogb"`` or ``"moleculenet"``.
        download: allow downloads (OGB zip or MoleculeNet CSV).
        transform: applied to each graph on access.

    Attributes: ``source`` ("ogb-files" or "moleculenet-csv"), ``source_path``, ``num_tasks``,
    ``eval_metric``, ``task_type``, ``smiles``, ``num_invalid``.
    """

    def __init__(self, name: str = "ogbg-molhiv", *, root: str | os.PathLike | None = None, source: str = "auto",
                 download: bool = True, transform: Callable[[Graph], Graph] | None = None) -> None:
        if name not in OGB_MOLECULES:
            raise ValueError(f"unknown OGB molecule dataset {name!r}; choose from {sorted(OGB_MOLECULES)}")
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
        key, download_name = OGB_MOLECULES[name]
        root_path = data_root(root)
        folder = root_path / "ogb" / name.replace("-", "_")
        have_ogb = (folder / "raw" / "edge.csv.gz").exists()
        have_csv = locate(moleculenet_file(key), root_path) is not None
        if source == "auto":
            source = "ogb" if have_ogb else ("moleculenet" if have_csv or not downloads_allowed(download) else "ogb")
        self.name, self.root = name, root_path
        if source == "ogb":
            if not have_ogb:
                if not downloads_allowed(download) or folder.exists():
                    raise DatasetError(f"{name}: OGB files not found under {folder}"
                                       + (" (the folder exists but lacks raw/edge.csv.gz; delete it or complete it)"
                                          if folder.exists() else "")
                                       + f"; download {OGB_URL.format(download_name=download_name)} and unzip it there")
                _download_ogb(folder, download_name, root_path)
            paths = sorted(p for p in folder.rglob("*.csv.gz"))
            tensors = cached(f"ogb_{name}", paths, lambda: read_ogb_raw(folder), version="2")
            from geoconv.datasets.moleculenet import graphs_from_tensors

            graphs = graphs_from_tensors(tensors, tensors["smiles"])
            self.smiles, self._splits, self.y = tensors["smiles"], tensors["splits"], tensors["y"]
            self.source, self.source_path, self.num_invalid = "ogb-files", folder, 0
            self._molecules = None
        else:
            molecules = MoleculeNet(key, root=root_path, features="ogb", download=download)
            graphs = molecules.graphs
            self.smiles, self._splits, self.y = molecules.smiles, None, molecules.y
            self.source, self.source_path, self.num_invalid = "moleculenet-csv", molecules.source, molecules.num_invalid
            self._molecules = molecules
        super().__init__(graphs, transform)
        self.num_tasks, self.eval_metric = ogb_metadata(name)
        self.task_type = SPECS[key].task_type
        if self.y.shape[1] != self.num_tasks:
            raise DatasetError(f"{name}: {self.y.shape[1]} label columns, OGB expects {self.num_tasks}")

    def splits(self, kind: str = "scaffold", *, seed: int = 0) -> dict[str, Tensor]:
        """``{"train", "val", "test"}`` -> graph indices.

        ``"scaffold"``: OGB's scaffold split, from the released files (``split/scaffold/``) or recomputed
        with the same procedure from the CSV.  ``"random"``: an 80/10/10 split drawn with ``seed``.
        """
        if kind == "random":
            from geoconv.chem.scaffold import random_split

            return split_indices(*random_split(len(self), (0.8, 0.1, 0.1), seed=seed))
        if kind != "scaffold":
            raise ValueError(f"split kind must be 'scaffold' or 'random', got {kind!r}")
        if self._splits is None:
            self._splits = self._molecules.splits("scaffold")
        return dict(self._splits)

    def evaluator(self):
        """``ogb.graphproppred.Evaluator(name)``: metadata from the installed package, no download."""
        return ogb_evaluator_class()(self.name)

    def evaluate(self, y_true: Tensor, y_pred: Tensor) -> float:
        """The OGB metric (ROC-AUC, AP or RMSE) of predictions ``[G, T]`` against targets (NaN = unlabelled).

        ROC-AUC is :func:`geoconv.metrics.mean_roc_auc` (the package's one implementation, averaged over
        the tasks with both classes as OGB's ``Evaluator``); AP and RMSE are OGB's ``Evaluator``.
        """
        if self.eval_metric == "rocauc":
            from geoconv.metrics import mean_roc_auc

            return mean_roc_auc(y_true, y_pred)
        result = self.evaluator().eval({"y_true": y_true, "y_pred": y_pred})
        return float(result[self.eval_metric])

    def __repr__(self) -> str:
        return f"OGBMolDataset({self.name!r}, {len(self)} graphs, source={self.source}, invalid={self.num_invalid})"


def _ogb_package_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec(require("ogb", "OGB datasets").__name__)
    return Path(list(spec.submodule_search_locations)[0])


def ogb_evaluator_class(kind: str = "graphproppred"):
    """OGB's ``Evaluator`` class of ``kind`` (``"graphproppred"`` or ``"nodeproppred"``).

    ``import ogb.graphproppred`` first imports OGB's PyG and DGL dataset
    classes (and with them torch_geometric, seconds of start-up); when that
    package is not imported yet, ``<kind>/evaluate.py`` of the installed
    ogb is loaded on its own instead (the same file, which needs only numpy,
    pandas, sklearn and torch).
    """
    import importlib.util
    import sys

    if kind not in ("graphproppred", "nodeproppred"):
        raise ValueError(f"kind must be 'graphproppred' or 'nodeproppred', got {kind!r}")
    if f"ogb.{kind}" in sys.modules:
        return sys.modules[f"ogb.{kind}"].Evaluator
    name = f"_geoconv_ogb_{kind}_evaluate"
    cached_module = sys.modules.get(name)
    if cached_module is None:
        path = _ogb_package_dir() / kind / "evaluate.py"
        spec = importlib.util.spec_from_file_location(name, path)
        cached_module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(cached_module)
        sys.modules[name] = cached_module
    return cached_module.Evaluator


def ogb_metadata(name: str) -> tuple[int, str]:
    """``(num_tasks, eval_metric)`` from the installed ogb package's ``graphproppred/master.csv``."""
    master = _ogb_package_dir() / "graphproppred" / "master.csv"
    with open(master, newline="") as handle:
        rows = {row[0]: row[1:] for row in csv.reader(handle)}
    column = rows[""].index(name)
    return int(rows["num tasks"][column]), rows["eval metric"][column]


def _download_ogb(folder: Path, download_name: str, root: Path) -> None:
    """Download OGB's zip and unpack ``<download_name>/`` into ``folder`` (atomically, structure checked)."""
    url = OGB_URL.format(download_name=download_name)
    archive = fetch(RemoteFile(f"ogb/{download_name}.zip", url), root)

    def check(name: str, unpacked: Path) -> None:
        expected = [f"raw/{part}.csv.gz" for part in RAW_FILES] + ["mapping/mol.csv.gz"]
        expected += [f"split/scaffold/{part}.csv.gz" for part in ("train", "valid", "test")]
        missing = [path for path in expected if not (unpacked / path).is_file()]
        if missing:
            raise DatasetError(f"{archive} is not OGB's {download_name}.zip: {name}/ lacks {', '.join(missing)}. "
                               f"Delete it so that it is downloaded again from {url}.")

    extract_archive(archive, {download_name: folder}, source=url, check=check)
