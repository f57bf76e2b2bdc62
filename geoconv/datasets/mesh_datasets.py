"""MeshCNN's datasets in their released layout: SHREC'16, Cubes, COSEG and human-body segmentation.

The archives are the ones MeshCNN's ``scripts/*/get_data.sh`` download
(Dropbox links of ranahanocka/MeshCNN); under the data root they live in
``meshcnn/<archive>.tar.gz`` and are extracted next to it:

=====================  ===================================================================
dataset                layout under ``<root>/meshcnn/``
=====================  ===================================================================
SHREC'16 (30 classes)  ``shrec_16/<class>/{train,test}/*.obj`` (16 train + 4 test per class)
Cubes (22 classes)     ``cubes/<class>/{train,test}/*.obj``
COSEG                  ``coseg_{aliens,chairs,vases}/{train,test}/*.obj``, ``seg/*.eseg``,
                       ``sseg/*.seseg``, ``classes.txt``
human body             ``human_seg/{train,test}/*.obj``, ``seg/*.eseg``, ``sseg/*.seseg``, ``classes.txt``
=====================  ===================================================================

``.eseg`` files hold one label per edge in MeshCNN's edge order, which is the
order :func:`~geoconv.ops.mesh.mesh_topology` produces; ``.seseg`` files hold
the soft labels (one column per class, > 0 = the edge may carry that class).
SHREC'16 "split 10" (10 training / 10 test meshes per class, Ezuz et al. 2017)
is drawn from the 20 released meshes of each class with a fixed seed; "split
16" is the released train/test folders.  No checksums are published for the
archives, so downloads are size-checked only by tar's own integrity checks.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Callable

import torch

from geoconv.data.graph import Graph
from geoconv.data.mesh import EDGE_LABELS, mesh_graph
from geoconv.data.mesh_io import MESH_SUFFIXES, read_mesh
from geoconv.datasets.base import DatasetError, GraphDataset, RemoteFile, cached, data_root, extract_archive, fetch
from geoconv.ops.mesh import MESH_FEATURES, MeshRepairWarning

__all__ = ["MESHCNN_ARCHIVES", "MeshClassificationDataset", "MeshSegmentationDataset", "SOFT_LABELS"]

SOFT_LABELS = "edge_soft_y"

MESHCNN_ARCHIVES: dict[str, RemoteFile] = {
    "shrec_16": RemoteFile("meshcnn/shrec_16.tar.gz", "https://www.dropbox.com/s/w16st84r6wc57u7/shrec_16.tar.gz?dl=1"),
    "cubes": RemoteFile("meshcnn/cubes.tar.gz", "https://www.dropbox.com/s/2bxs5f9g60wa0wr/cubes.tar.gz?dl=1"),
    "coseg": RemoteFile("meshcnn/coseg.tar.gz", "https://www.dropbox.com/s/34vy4o5fthhz77d/coseg.tar.gz?dl=1"),
    "human_seg": RemoteFile("meshcnn/human_seg.tar.gz", "https://www.dropbox.com/s/s3n05sw0zg27fz3/human_seg.tar.gz?dl=1"),
}

_FOLDERS = {
    "shrec16": ("shrec_16", "shrec_16"),
    "cubes": ("cubes", "cubes"),
    "coseg_aliens": ("coseg", "coseg_aliens"),
    "coseg_chairs": ("coseg", "coseg_chairs"),
    "coseg_vases": ("coseg", "coseg_vases"),
    "human_seg": ("human_seg", "human_seg"),
}


def _dataset_folder(name: str, root: str | os.PathLike | None, download: bool) -> Path:
    """``<root>/meshcnn/<folder>``, extracting (and if needed downloading) the archive first."""
    if name not in _FOLDERS:
        raise ValueError(f"unknown MeshCNN dataset {name!r}; choose from {sorted(_FOLDERS)}")
    archive_name, folder = _FOLDERS[name]
    base = data_root(root) / "meshcnn"
    target = base / folder
    if target.is_dir():
        check_structure(target)  # a copy made by hand (or by an older, non-atomic extraction) is checked too
        return target
    remote = MESHCNN_ARCHIVES[archive_name]
    archive = fetch(remote, root, download_missing=download)
    members = [member for member, (archive_of, _) in _FOLDERS.items() if archive_of == archive_name]
    extract_archive(archive, {_FOLDERS[m][1]: base / _FOLDERS[m][1] for m in members}, source=remote.url,
                    check=lambda _, unpacked: check_structure(unpacked, archive))
    return target


def check_structure(folder: Path, archive: Path | None = None) -> None:
    """Raise :class:`DatasetError` unless ``folder`` has MeshCNN's layout with train and test meshes.

    Classification sets: every class folder holds ``train/`` and ``test/`` meshes.  Segmentation
    sets: ``train/`` and ``test/`` meshes and one ``seg/<mesh>.eseg`` label file per mesh.
    """
    where = f" (extracted from {archive})" if archive is not None else ""
    if (folder / "train").is_dir() or (folder / "seg").is_dir():
        problems = [f"{split}/ holds no meshes" for split in ("train", "test") if not _mesh_files(folder / split)]
        unlabelled = [p.name for split in ("train", "test") for p in _mesh_files(folder / split)
                      if not (folder / "seg" / (p.stem + ".eseg")).is_file()]
        if unlabelled:
            problems.append(f"{len(unlabelled)} meshes have no seg/<name>.eseg label file (e.g. {unlabelled[0]})")
    else:
        classes = [p for p in folder.iterdir() if p.is_dir()]
        problems = [] if classes else ["no class folders"]
        problems += [f"{cls.name}/{split}/ holds no meshes" for cls in sorted(classes) for split in ("train", "test")
                     if not _mesh_files(cls / split)]
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise DatasetError(f"{folder}{where} is incomplete or not a MeshCNN dataset: {shown}. "
                           f"Delete it (and its archive) to download it again, or replace it with a complete copy.")


def _mesh_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in MESH_SUFFIXES)


def _check_features(features: str) -> None:
    if features not in MESH_FEATURES:
        raise ValueError(f"features must be one of {MESH_FEATURES}, got {features!r}")


class MeshClassificationDataset(GraphDataset):
    """SHREC'16 or Cubes as mesh graphs with a class label ``y``.

    Args:
        name: ``"shrec16"`` or ``"cubes"``.
        split: ``"train"``, ``"test"`` or ``"all"`` (both; :meth:`splits` tells them apart).
        root: data root (see :func:`~geoconv.datasets.base.data_root`).
        train_per_class: SHREC'16 only: 16 (the released split) or 10 (10/10 split drawn with ``seed``).
        seed: seed of the split-10 draw.
        download: download the archive when no local copy exists.
        transform: applied to each graph when indexed.
        repair: run :func:`~geoconv.ops.mesh.repair_mesh` on every mesh (as MeshCNN does); one
            :class:`~geoconv.ops.mesh.MeshRepairWarning` counts the meshes it changed.
        features: edge features ``"released"`` (default: as MeshCNN's released code, which adds 0.1 to
            every norm it divides by, so published accuracies are comparable) or ``"exact"``
            (scale-invariant); see :func:`~geoconv.ops.mesh.mesh_edge_features`.  Part of the cache key.

    SHREC here is the 30-class non-rigid set of SHREC 2011 (Lian et al.), 20 meshes per class,
    as MeshCNN releases it (``shrec_16`` = the 16-training-meshes split).

    Published (MeshCNN paper): 98.6% (SHREC split 16), 91.0% (split 10), 92.16% (Cubes).
    """

    def __init__(self, name: str, split: str = "train", *, root: str | os.PathLike | None = None,
                 train_per_class: int = 16, seed: int = 0, download: bool = True,
                 transform: Callable[[Graph], Graph] | None = None, repair: bool = True,
                 features: str = "released") -> None:
        if name not in ("shrec16", "cubes"):
            raise ValueError(f"name must be 'shrec16' or 'cubes', got {name!r}")
        _check_features(features)
        if split not in ("train", "test", "all"):
            raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
        if train_per_class not in (16, 10) or (name == "cubes" and train_per_class != 16):
            raise ValueError("train_per_class must be 16 (the released split) or 10 (SHREC'16 only)")
        if split == "all":
            self._load_parts(lambda part: MeshClassificationDataset(
                name, part, root=root, train_per_class=train_per_class, seed=seed, download=download,
                transform=transform, repair=repair, features=features))
            return
        folder = _dataset_folder(name, root, download)
        self.classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
        if not self.classes:
            raise DatasetError(f"{folder} holds no class folders")
        files: list[tuple[Path, int]] = []
        for label, cls in enumerate(self.classes):
            train = _mesh_files(folder / cls / "train")
            test = _mesh_files(folder / cls / "test")
            if train_per_class == 16:
                chosen = train if split == "train" else test
            else:
                pooled = train + test
                order = torch.randperm(len(pooled), generator=torch.Generator().manual_seed(seed + label)).tolist()
                picked = order[:10] if split == "train" else order[10:]
                chosen = [pooled[i] for i in sorted(picked)]
            files += [(path, label) for path in chosen]
        if not files:
            raise DatasetError(f"no {split} meshes under {folder}")

        def build() -> list[Graph]:
            if not repair:
                return [mesh_graph(*read_mesh(path), y=label, features=features) for path, label in files]
            # One summary warning for the data set rather than one per mesh.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", MeshRepairWarning)
                graphs = [mesh_graph(*read_mesh(path), y=label, repair=True, features=features) for path, label in files]
            repaired = [w for w in caught if issubclass(w.category, MeshRepairWarning)]
            for w in caught:
                if not issubclass(w.category, MeshRepairWarning):
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            if repaired:
                warnings.warn(f"{name} {split}: repair_mesh changed {len(repaired)} of {len(files)} meshes "
                              f"(first: {repaired[0].message})", MeshRepairWarning, stacklevel=2)
            return graphs

        tag = f"{name}_{split}_{train_per_class}_{seed}_{int(repair)}_{features}"
        graphs = cached(f"meshcnn_{tag}", [path for path, _ in files], build, version=f"1:{features}")
        super().__init__(graphs, transform)
        self.name, self.split, self.num_classes = name, split, len(self.classes)
        self.parts = [split] * len(graphs)


class MeshSegmentationDataset(GraphDataset):
    """COSEG (aliens, chairs, vases) or the human-body set with per-edge labels.

    Each graph holds ``edge_y [M]`` (int64, class index after subtracting
    ``classes.txt``'s first value, as MeshCNN does) and ``edge_soft_y [M, K]``
    (0/1 soft labels).  Meshes are not repaired: the labels follow the file's
    edge order, so a mesh whose label count differs from its edge count raises.

    Args:
        name: ``coseg_aliens``, ``coseg_chairs``, ``coseg_vases`` or ``human_seg``.
        split: ``"train"`` or ``"test"``.
        root: data root (see :func:`~geoconv.datasets.base.data_root`).
        download: download the archive when no local copy exists.
        transform: applied to each graph when indexed.
        features: edge features ``"released"`` (default: as MeshCNN's released code, which adds 0.1 to
            every norm it divides by, so published accuracies are comparable) or ``"exact"``
            (scale-invariant); see :func:`~geoconv.ops.mesh.mesh_edge_features`.  Part of the cache key.

    Published (MeshCNN paper, edge accuracy): human body 85.39%, COSEG vases
    97.27%, chairs 92.99%, aliens 96.26%.
    """

    def __init__(self, name: str, split: str = "train", *, root: str | os.PathLike | None = None,
                 download: bool = True, transform: Callable[[Graph], Graph] | None = None,
                 features: str = "released") -> None:
        if name not in ("coseg_aliens", "coseg_chairs", "coseg_vases", "human_seg"):
            raise ValueError(f"name must be one of coseg_aliens, coseg_chairs, coseg_vases, human_seg; got {name!r}")
        _check_features(features)
        if split not in ("train", "test", "all"):
            raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
        if split == "all":
            self._load_parts(lambda part: MeshSegmentationDataset(name, part, root=root, download=download,
                                                                  transform=transform, features=features))
            return
        folder = _dataset_folder(name, root, download)
        files = _mesh_files(folder / split)
        if not files:
            raise DatasetError(f"no meshes under {folder / split}")
        classes_file = folder / "classes.txt"
        seg = [folder / "seg" / (p.stem + ".eseg") for p in files]
        sseg = [folder / "sseg" / (p.stem + ".seseg") for p in files]
        for path in seg:
            if not path.is_file():
                raise DatasetError(f"label file {path} is missing")
        offset = _read_table(classes_file)[0, 0].item() if classes_file.is_file() else None

        def build() -> list[Graph]:
            graphs = []
            labels = [_read_table(path).view(-1) for path in seg]
            low = offset if offset is not None else min(float(t.min()) for t in labels)
            for path, label, soft_path in zip(files, labels, sseg):
                pos, face = read_mesh(path)
                graph = mesh_graph(pos, face, features=features)
                if label.numel() != graph.num_edges:
                    raise DatasetError(f"{path} has {graph.num_edges} edges but its label file has {label.numel()} labels")
                graph.set(EDGE_LABELS, (label - low).round().long(), "edge")
                if soft_path.is_file():
                    soft = _read_table(soft_path)
                    if soft.dim() == 1:
                        soft = soft.view(-1, 1)
                    graph.set(SOFT_LABELS, (soft > 0).long(), "edge")
                graphs.append(graph)
            return graphs

        raw = files + seg + [p for p in sseg if p.is_file()] + ([classes_file] if classes_file.is_file() else [])
        graphs = cached(f"meshcnn_{name}_{split}_{features}", raw, build, version=f"1:{features}")
        super().__init__(graphs, transform)
        self.name, self.split, self.parts = name, split, [split] * len(graphs)
        observed = int(max(int(g.edge_y.max()) for g in graphs)) + 1
        self.num_classes = max(observed, _read_table(classes_file).shape[0]) if classes_file.is_file() else observed


def _read_table(path: Path) -> torch.Tensor:
    """Whitespace-separated numbers, one row per line, as float64."""
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    try:
        return torch.tensor([[float(v) for v in row] for row in rows], dtype=torch.float64)
    except ValueError as error:
        raise DatasetError(f"{path}: cannot parse a number ({error})") from None
