"""OGB node property prediction: ``ogbn-arxiv``, ``ogbn-products`` and ``ogbn-proteins``.

The loader reads OGB's released archives as they unpack (the folder of
``http://snap.stanford.edu/ogb/data/nodeproppred/<arxiv|products|proteins>.zip``,
placed at ``<root>/ogb/ogbn_<name>/``, the folder name OGB's own loaders use)::

    raw/edge.csv.gz                   [E, 2] source, target (headerless gzip CSV, like every file here)
    raw/num-node-list.csv.gz          [1] N      raw/num-edge-list.csv.gz  [1] E
    raw/node-feat.csv.gz              [N, C] float (arxiv: 128, products: 100; proteins: none)
    raw/node-label.csv.gz             [N, 1] class (arxiv 40, products 47); proteins [N, 112] 0/1
    raw/node_year.csv.gz              [N, 1] arxiv only: publication year
    raw/node_species.csv.gz           [N, 1] proteins only: NCBI taxonomy id (older archives: species.csv.gz)
    raw/edge-feat.csv.gz              [E, 8] proteins only: association scores
    split/<scheme>/{train,valid,test}.csv.gz   node indices (time / sales_ranking / species)

Edges are read as OGB's ``read_csv_graph_raw`` reads them: for products and
proteins (``add_inverse_edge`` in OGB's ``master.csv``) the file lists each
undirected edge once and edge ``k`` becomes columns ``2k`` (as stored) and
``2k + 1`` (reversed), its features repeated; arxiv's citation edges are kept
*directed* as released (``citing -> cited``).  ``to_undirected=True`` adds the
reverse edges and merges duplicates (:func:`~geoconv.ops.to_undirected`),
which is what OGB's reference GCN does to arxiv (``adj_t.to_symmetric()``);
the recipes of :mod:`geoconv.tasks.ogbn` ask for it.

Downloads: OGB publishes no checksums and the archives are not stored here,
so no sha256 is pinned; instead the unpacked folder's structure is verified
(every file above present, row counts agreeing with ``num-node-list`` /
``num-edge-list``, indices in range, the three split parts disjoint) before
it is moved into place, and the archive itself is downloaded atomically by
:func:`geoconv.datasets.base.fetch`.  Scores come from
``ogb.nodeproppred.Evaluator`` (:meth:`OGBNodeDataset.evaluate`), unchanged.

Cite: Hu, Fey, Zitnik, Dong, Ren, Liu, Catasta, Leskovec, "Open Graph
Benchmark: Datasets for Machine Learning on Graphs", NeurIPS 2020.
"""

from __future__ import annotations

import csv
import gzip
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from geoconv.data import Graph
from geoconv.datasets.base import DatasetError, RemoteFile, cached, data_root, fetch
from geoconv.datasets.ogb_mol import _ogb_package_dir, _read_csv, ogb_evaluator_class
from geoconv.ops import to_undirected as _to_undirected

URL = "http://snap.stanford.edu/ogb/data/nodeproppred/{download_name}.zip"


@dataclass(frozen=True)
class OGBNodeSpec:
    """What OGB's ``nodeproppred/master.csv`` says about one dataset (checked against it by a test)."""

    download_name: str
    add_inverse_edge: bool
    node_files: tuple[str, ...]
    split: str
    num_tasks: int
    num_classes: int
    eval_metric: str
    has_node_feat: bool
    has_edge_feat: bool


SPECS: dict[str, OGBNodeSpec] = {
    "ogbn-arxiv": OGBNodeSpec("arxiv", False, ("node_year",), "time", 1, 40, "acc", True, False),
    "ogbn-products": OGBNodeSpec("products", True, (), "sales_ranking", 1, 47, "acc", True, False),
    "ogbn-proteins": OGBNodeSpec("proteins", True, ("node_species",), "species", 112, 2, "rocauc", False, True),
}
SPLIT_PARTS = ("train", "valid", "test")


def folder_of(name: str, root: Path) -> Path:
    """``<root>/ogb/ogbn_<name>``: where the unpacked archive of ``name`` lives."""
    return root / "ogb" / name.replace("-", "_")


def required_files(name: str) -> list[str]:
    """The files (relative to the dataset folder) the loader reads."""
    spec = SPECS[name]
    files = ["raw/edge.csv.gz", "raw/num-node-list.csv.gz", "raw/num-edge-list.csv.gz", "raw/node-label.csv.gz"]
    files += ["raw/node-feat.csv.gz"] if spec.has_node_feat else []
    files += ["raw/edge-feat.csv.gz"] if spec.has_edge_feat else []
    files += [f"raw/{extra}.csv.gz" for extra in spec.node_files]
    files += [f"split/{spec.split}/{part}.csv.gz" for part in SPLIT_PARTS]
    return files


def _node_file(raw: Path, extra: str) -> Path:
    path = raw / f"{extra}.csv.gz"
    if extra == "node_species" and not path.exists() and (raw / "species.csv.gz").exists():
        return raw / "species.csv.gz"  # older proteins archives; OGB renames it, we read it where it is
    return path


def missing_files(name: str, folder: Path) -> list[str]:
    missing = []
    for relative in required_files(name):
        path = folder / relative
        if relative.startswith("raw/node_"):
            path = _node_file(folder / "raw", Path(relative).name[: -len(".csv.gz")])
        if not path.exists():
            missing.append(relative)
    return missing


def read_ogb_node_raw(name: str, folder: Path) -> dict[str, Tensor]:
    """The tensors of an unpacked ``ogbn-*`` folder, structure checked (see the module docstring).

    Returns ``edge_index [2, E']`` (E' = 2E with inverse edges), ``num_nodes``, ``y``
    (``[N]`` int64 classes, or ``[N, 112]`` int64 for proteins), ``x [N, C]`` float32 when
    present, ``edge_attr [E', D]`` float32 when present, one ``[N]`` int64 tensor per extra
    node file (``node_year``, ``node_species``) and the split indices ``train`` / ``valid`` / ``test``.
    """
    spec = SPECS[name]
    missing = missing_files(name, folder)
    if missing:
        raise DatasetError(f"{name}: {folder} lacks {', '.join(missing)} (OGB's layout: see geoconv.datasets.ogb_node)")
    raw = folder / "raw"
    edges = _read_csv(raw / "edge.csv.gz", np.int64).reshape(-1, 2)
    node_counts = _read_csv(raw / "num-node-list.csv.gz", np.int64).reshape(-1)
    edge_counts = _read_csv(raw / "num-edge-list.csv.gz", np.int64).reshape(-1)
    if len(node_counts) != 1 or len(edge_counts) != 1:
        raise DatasetError(f"{name}: num-node-list / num-edge-list must hold one graph, got {len(node_counts)} / {len(edge_counts)}")
    num_nodes, num_edges = int(node_counts[0]), int(edge_counts[0])

    def check_rows(what: str, array: np.ndarray, expected: int) -> np.ndarray:
        if array.shape[0] != expected:
            raise DatasetError(f"{name}: {what} has {array.shape[0]} rows, expected {expected} (num-node-list / num-edge-list)")
        return array

    check_rows("edge.csv.gz", edges, num_edges)
    if edges.size and (edges.min() < 0 or edges.max() >= num_nodes):
        raise DatasetError(f"{name}: edge.csv.gz names nodes outside 0..{num_nodes - 1}")
    out: dict[str, Tensor] = {"num_nodes": torch.tensor(num_nodes)}
    edge_feat = None
    if spec.has_edge_feat:
        edge_feat = check_rows("edge-feat.csv.gz", _read_csv(raw / "edge-feat.csv.gz", np.float32), num_edges)
    if spec.add_inverse_edge:
        # edge k -> columns 2k (as stored) and 2k + 1 (reversed), as ogb's read_csv_graph_raw orders them
        edge_index = np.repeat(edges.T, 2, axis=1)
        edge_index[0, 1::2], edge_index[1, 1::2] = edges[:, 1], edges[:, 0]
        if edge_feat is not None:
            edge_feat = np.repeat(edge_feat, 2, axis=0)
    else:
        edge_index = np.ascontiguousarray(edges.T)
    out["edge_index"] = torch.from_numpy(edge_index)
    if edge_feat is not None:
        out["edge_attr"] = torch.from_numpy(edge_feat)
    if spec.has_node_feat:
        out["x"] = torch.from_numpy(check_rows("node-feat.csv.gz", _read_csv(raw / "node-feat.csv.gz", np.float32), num_nodes))
    labels = check_rows("node-label.csv.gz", _read_csv(raw / "node-label.csv.gz", np.float64), num_nodes)
    if labels.shape[1] != spec.num_tasks or np.isnan(labels).any():
        raise DatasetError(f"{name}: node-label.csv.gz must hold {spec.num_tasks} label column(s) without gaps, got {labels.shape[1]}")
    if spec.num_tasks == 1 and (labels.min() < 0 or labels.max() >= spec.num_classes):
        raise DatasetError(f"{name}: node-label.csv.gz holds classes outside 0..{spec.num_classes - 1}")
    labels = labels.astype(np.int64)
    out["y"] = torch.from_numpy(labels[:, 0].copy() if spec.num_tasks == 1 else labels)
    for extra in spec.node_files:
        values = check_rows(f"{extra}.csv.gz", _read_csv(_node_file(raw, extra), np.int64), num_nodes)
        out[extra] = torch.from_numpy(values.reshape(-1).copy())
    taken = np.zeros(num_nodes, dtype=bool)
    for part in SPLIT_PARTS:
        index = _read_csv(folder / "split" / spec.split / f"{part}.csv.gz", np.int64).reshape(-1)
        if index.size and (index.min() < 0 or index.max() >= num_nodes):
            raise DatasetError(f"{name}: split/{spec.split}/{part}.csv.gz names nodes outside 0..{num_nodes - 1}")
        if taken[index].any() or len(np.unique(index)) != len(index):
            raise DatasetError(f"{name}: split/{spec.split}/{part}.csv.gz repeats nodes or overlaps another split part")
        taken[index] = True
        out[part] = torch.from_numpy(index.copy())
    return out


class OGBNodeDataset(Graph):
    """One ``ogbn-*`` graph with OGB's split; it *is* a :class:`~geoconv.data.Graph`.

    ``OGBNodeDataset("ogbn-arxiv")`` has ``x [169343, 128]``, ``y [169343]`` (40 classes),
    ``edge_index [2, 1166243]`` (directed citations; ``to_undirected=True``: both directions,
    2,315,598 edges), ``node_year [N]`` and boolean ``train_mask`` / ``val_mask`` / ``test_mask``
    (OGB's time split: train up to 2017, valid 2018, test 2019).  ``ogbn-products``: ``x [2449029, 100]``,
    47 classes, each undirected edge in both directions.  ``ogbn-proteins``: no ``x``,
    ``edge_attr [E, 8]``, ``y [132534, 112]`` (0/1, 112 binary tasks), ``node_species [N]``.

    Args:
        name: ``"ogbn-arxiv"``, ``"ogbn-products"`` or ``"ogbn-proteins"``.
        root: data root (default ``$GEOCONV_DATA``, else ``~/.cache/geoconv``); the dataset
            folder is ``<root>/ogb/ogbn_<name>/`` (``ogbn_arxiv``, ...).
        download: download and unpack OGB's archive when the folder is absent (default True).
        to_undirected: add every edge's reverse and merge duplicates (default False: the
            edges as OGB's reader returns them; arxiv stays directed).

    Attributes: ``name``, ``num_classes``, ``num_tasks``, ``eval_metric`` (``"acc"`` or
    ``"rocauc"``), ``source_path`` (the dataset folder), ``split_index`` (OGB's
    ``get_idx_split()``: ``{"train", "valid", "test"}`` index tensors).
    """

    def __init__(self, name: str, *, root: str | os.PathLike | None = None, download: bool = True,
                 to_undirected: bool = False) -> None:
        if name not in SPECS:
            raise ValueError(f"unknown OGB node dataset {name!r}; choose from {sorted(SPECS)}")
        spec = SPECS[name]
        root_path = data_root(root)
        folder = folder_of(name, root_path)
        if missing_files(name, folder):
            if not download or folder.exists():
                what = "exists but is incomplete" if folder.exists() else "is absent"
                raise DatasetError(
                    f"{name}: {folder} {what} (missing: {', '.join(missing_files(name, folder))}). Download "
                    f"{URL.format(download_name=spec.download_name)} and unzip it so that its '{spec.download_name}/' "
                    f"folder becomes {folder}" + (" (delete the incomplete folder to download again)" if folder.exists() else "")
                )
            download_ogb_node(name, root_path)
        paths = [folder / relative for relative in required_files(name)]
        paths = [p if p.exists() else _node_file(p.parent, p.name[: -len(".csv.gz")]) for p in paths]
        tensors = cached(f"ogbn_{name}", paths, lambda: read_ogb_node_raw(name, folder), version="1")
        num_nodes = int(tensors["num_nodes"])
        edge_index, edge_attr = tensors["edge_index"], tensors.get("edge_attr")
        if to_undirected:
            # duplicates (an edge listed both ways) are merged; their features averaged
            edge_index, edge_attr = _to_undirected(edge_index, edge_attr, num_nodes, reduce="mean")
        masks = {}
        for part, mask_name in zip(SPLIT_PARTS, ("train_mask", "val_mask", "test_mask")):
            masks[mask_name] = torch.zeros(num_nodes, dtype=torch.bool).index_fill_(0, tensors[part], True)
        super().__init__(
            x=tensors.get("x"), edge_index=edge_index, edge_attr=edge_attr, y=tensors["y"], num_nodes=num_nodes,
            node_data={**masks, **{extra: tensors[extra] for extra in spec.node_files}},
        )
        for key, value in (("name", name), ("num_classes", spec.num_classes), ("num_tasks", spec.num_tasks),
                           ("eval_metric", spec.eval_metric), ("source_path", folder),
                           ("split_index", {part: tensors[part] for part in SPLIT_PARTS})):
            object.__setattr__(self, key, value)

    def __len__(self) -> int:
        return 1

    def __getitem__(self, index: int) -> Graph:
        if index not in (0, -1):
            raise IndexError(f"{self.name} holds one graph (index 0)")
        return self

    def evaluator(self):
        """``ogb.nodeproppred.Evaluator(name)``, unchanged (metadata from the installed ogb, no download)."""
        return ogb_evaluator_class("nodeproppred")(self.name)

    def evaluate(self, y_true: Tensor, y_pred: Tensor) -> float:
        """OGB's metric: accuracy of predicted classes ``[n]`` / ``[n, 1]``, or ROC-AUC averaged over the
        112 tasks of scores ``[n, 112]`` (proteins), as a fraction in [0, 1]."""
        if self.num_tasks == 1:
            y_true, y_pred = y_true.reshape(-1, 1), y_pred.reshape(-1, 1)
        return float(self.evaluator().eval({"y_true": y_true, "y_pred": y_pred})[self.eval_metric])

    def __repr__(self) -> str:
        return f"OGBNodeDataset({self.name!r}, num_nodes={self.num_nodes}, num_edges={self.num_edges})"


def ogb_node_metadata() -> dict[str, dict[str, str]]:
    """The installed ogb package's ``nodeproppred/master.csv`` as ``{dataset: {field: value}}``."""
    with open(_ogb_package_dir() / "nodeproppred" / "master.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    names = rows[0][1:]
    return {name: {row[0]: row[1 + i] for row in rows[1:]} for i, name in enumerate(names)}


def download_ogb_node(name: str, root: Path) -> Path:
    """Download OGB's archive of ``name`` (atomically, under ``<root>/ogb/nodeproppred/``), unpack it into a
    staging folder, verify its structure by reading it, then move it to :func:`folder_of`."""
    spec = SPECS[name]
    archive = fetch(RemoteFile(f"ogb/nodeproppred/{spec.download_name}.zip", URL.format(download_name=spec.download_name)), root)
    folder = folder_of(name, root)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".unzip", dir=folder.parent))
    try:
        try:
            with zipfile.ZipFile(archive) as bundle:
                bundle.extractall(staging)
        except zipfile.BadZipFile as error:
            raise DatasetError(f"{name}: {archive} is not a readable zip ({error}); delete it to download again") from error
        unpacked = staging / spec.download_name
        read_ogb_node_raw(name, unpacked)  # raises DatasetError naming what is wrong
        os.replace(unpacked, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


# ---------------------------------------------------------------- fixtures in OGB's released layout


def write_ogb_node_fixture(name: str, root: str | os.PathLike, *, num_nodes: int = 60, num_edges: int = 240,
                           num_features: int = 8, seed: int = 0) -> Path:
    """Write a small random ``name`` dataset in OGB's exact released layout under ``<root>/ogb/ogbn_<name>/``.

    Headerless gzip CSV files with OGB's names, folders and number formats (integers for indices,
    labels, years and species; floats for features), one graph.  Labels follow the features
    (class = argmax of a fixed projection) and edges join nodes of equal label more often, so
    that a model can learn something in a few epochs.  Split: OGB's proportions by a random order
    (arxiv ~54/18/28, products ~8/2/90 in the release; here 50/20/30).  For tests and ``--quick`` runs.
    """
    spec = SPECS[name]
    generator = np.random.default_rng(seed)
    folder = folder_of(name, Path(root))
    raw = folder / "raw"
    split = folder / "split" / spec.split
    raw.mkdir(parents=True, exist_ok=True)
    split.mkdir(parents=True, exist_ok=True)

    def write(path: Path, rows: np.ndarray, fmt: str) -> None:
        with gzip.open(path, "wt", newline="") as handle:
            np.savetxt(handle, np.atleast_2d(rows) if rows.ndim == 2 else rows.reshape(-1, 1), fmt=fmt, delimiter=",")

    features = generator.normal(size=(num_nodes, num_features)).astype(np.float32)
    if spec.num_tasks == 1:
        labels = np.argmax(features @ generator.normal(size=(num_features, spec.num_classes)), axis=1).reshape(-1, 1)
    else:
        labels = (features[:, :4] @ generator.normal(size=(4, spec.num_tasks)) > 0).astype(np.int64)
        labels[:, 0] = 0  # a constant task (OGB's evaluator skips tasks with one class in a part)
    key = labels[:, 0] if spec.num_tasks == 1 else labels[:, 1]
    src = generator.integers(0, num_nodes, size=4 * num_edges)
    dst = generator.integers(0, num_nodes, size=4 * num_edges)
    keep = (src != dst) & ((key[src] == key[dst]) | (generator.random(src.size) < 0.3))
    pairs = np.unique(np.stack([src[keep], dst[keep]], axis=1), axis=0)
    if spec.add_inverse_edge:  # each undirected edge once, as the products / proteins files list them
        pairs = np.unique(np.sort(pairs, axis=1), axis=0)
    pairs = pairs[generator.permutation(len(pairs))[:num_edges]]
    write(raw / "edge.csv.gz", pairs, "%d")
    write(raw / "num-node-list.csv.gz", np.array([num_nodes]), "%d")
    write(raw / "num-edge-list.csv.gz", np.array([len(pairs)]), "%d")
    write(raw / "node-label.csv.gz", labels, "%d")
    if spec.has_node_feat:
        write(raw / "node-feat.csv.gz", features, "%.6f")
    if spec.has_edge_feat:
        # proteins: 8 association scores in [0, 1] with 3 decimals; higher between nodes of one label
        scores = generator.integers(1, 1000, size=(len(pairs), 8)) / 1000.0
        scores[:, 0] = np.where(key[pairs[:, 0]] == key[pairs[:, 1]], 0.9, 0.1)
        write(raw / "edge-feat.csv.gz", scores, "%.3f")
    if "node_year" in spec.node_files:
        write(raw / "node_year.csv.gz", generator.integers(1971, 2021, size=num_nodes), "%d")
    if "node_species" in spec.node_files:
        species = np.array([3702, 4932, 6239, 7227, 7955, 9606, 10090, 511145])
        write(raw / "node_species.csv.gz", species[generator.integers(0, len(species), size=num_nodes)], "%d")
    order = generator.permutation(num_nodes)
    cuts = [int(0.5 * num_nodes), int(0.7 * num_nodes)]
    for part, index in zip(SPLIT_PARTS, np.split(order, cuts)):
        write(split / f"{part}.csv.gz", np.sort(index), "%d")
    (folder / "RELEASE_v1.txt").write_text(f"{name} fixture written by geoconv (not OGB's data)\n")
    return folder
