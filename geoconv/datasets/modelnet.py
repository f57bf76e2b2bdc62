"""ModelNet10 / ModelNet40 (Wu et al., "3D ShapeNets", CVPR 2015) as point clouds.

Two releases are read:

* :class:`ModelNet`: the official archives of CAD meshes, ``ModelNet10.zip`` /
  ``ModelNet40.zip`` from Princeton (``ModelNet40/<class>/<train|test>/<class>_0001.off``).
  Every mesh is sampled by area (with normals) to ``num_points`` points with a fixed
  per-shape seed and normalised to the unit sphere; the result is cached.
* :class:`ModelNetHDF5`: ``modelnet40_ply_hdf5_2048.zip``, the 2048-point release of
  PointNet (Qi et al. 2017) used by DGCNN's code (``ply_data_train0..4.h5``,
  ``ply_data_test0..1.h5`` with ``data [B, 2048, 3]``, ``label [B, 1]`` and, in
  the original files, ``normal``); ``shape_names.txt`` lists the 40 classes.

Both archives are read in place (no extraction); an already extracted folder next to
the archive (``modelnet/ModelNet40/...``, ``modelnet/modelnet40_ply_hdf5_2048/...``) is
used instead when present.  Neither source publishes checksums, so they are not pinned; zip's
own CRC of every member is checked as it is read, and a truncated, damaged or garbage zip raises
:class:`~geoconv.datasets.base.DatasetError` naming the file.  The processed cache is keyed by
every file of the extracted folder (or the zip), not by a count.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import torch

from geoconv.data import Graph
from geoconv.data.mesh_io import read_mesh
from geoconv.data.pointcloud_transforms import normalize_to_unit_sphere, sample_points
from geoconv.datasets.base import (
    DAMAGED_FILE_ERRORS, DatasetError, GraphDataset, RemoteFile, cached, damaged_file_error, data_root, fetch,
)

OFF_URLS = {
    "10": "http://vision.princeton.edu/projects/2014/3DShapeNets/ModelNet10.zip",
    "40": "http://modelnet.cs.princeton.edu/ModelNet40.zip",
}
HDF5_URL = "https://shapenet.cs.stanford.edu/media/modelnet40_ply_hdf5_2048.zip"
SPLITS = ("train", "test", "all")


def _check_split(split: str, allowed: tuple[str, ...] = SPLITS) -> None:
    if split not in allowed:
        raise ValueError(f"split must be one of {allowed}, got {split!r}")


class ArchiveFolder:
    """The files of a dataset archive: the extracted folder if present, else the zip itself.

    Args:
        archive: path of the ``.zip`` (need not exist if ``folder`` does).
        folder: path of the extracted top folder.
    """

    def __init__(self, archive: Path | None, folder: Path, source: str | None = None) -> None:
        self.folder = folder if folder.is_dir() else None
        self.archive, self.source = archive, source
        self.zip = None
        if self.folder is None:
            try:
                self.zip = zipfile.ZipFile(archive)
            except DAMAGED_FILE_ERRORS as error:
                raise damaged_file_error(archive, error, source) from None
        self.prefix = folder.name + "/"

    def raw_files(self) -> list[Path]:
        """The files the data comes from: every file of the extracted folder, or the zip (for cache keys)."""
        if self.folder is not None:
            return [self.folder / name for name in self.names()]
        return [self.archive]

    def names(self) -> list[str]:
        """Relative paths (``/``-separated, below the top folder) of all files, sorted."""
        if self.folder is not None:
            return sorted(p.relative_to(self.folder).as_posix() for p in self.folder.rglob("*") if p.is_file())
        names = []
        for name in self.zip.namelist():
            if name.startswith(self.prefix) and not name.endswith("/"):
                names.append(name[len(self.prefix):])
            elif "/" + self.prefix in name and "__MACOSX" not in name and not name.endswith("/"):
                names.append(name.split("/" + self.prefix, 1)[1])
        return sorted(names)

    def read(self, name: str) -> bytes:
        if self.folder is not None:
            return (self.folder / name).read_bytes()
        try:
            try:
                return self.zip.read(self.prefix + name)
            except KeyError:
                matches = [n for n in self.zip.namelist() if n.endswith("/" + self.prefix + name)]
                if not matches:
                    raise
                return self.zip.read(matches[0])
        except DAMAGED_FILE_ERRORS as error:  # a member's CRC or compressed stream is wrong
            raise damaged_file_error(self.archive, error, self.source) from None

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def open_release(root: str | os.PathLike | None, archive_path: str, url: str, folder_name: str) -> tuple[ArchiveFolder, Path]:
    """The extracted folder ``<dir of archive_path>/<folder_name>`` if present, else the (fetched) archive."""
    base = data_root(root)
    folder = base / Path(archive_path).parent / folder_name
    if folder.is_dir():
        return ArchiveFolder(None, folder), folder
    archive = fetch(RemoteFile(archive_path, url), root)
    if archive.suffix != ".zip":
        raise DatasetError(f"{archive}: expected the .zip archive itself (compressed copies of a zip are not read)")
    return ArchiveFolder(archive, folder, url), archive


def read_hdf5_arrays(files: ArchiveFolder, names: list[str], keys: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """Concatenate the datasets ``keys`` (those present in every file) of the HDF5 files ``names``."""
    from geoconv._optional import require

    h5py = require("h5py", "reading the HDF5 point-cloud releases")
    parts: dict[str, list] = {key: [] for key in keys}
    for name in names:
        try:
            with h5py.File(io.BytesIO(files.read(name)), "r") as handle:
                missing = [key for key in ("data",) if key not in handle]
                if missing:
                    raise DatasetError(f"{name} has no dataset {missing[0]!r} (found {sorted(handle.keys())})")
                for key in keys:
                    parts[key].append(torch.from_numpy(handle[key][()]) if key in handle else None)
        except OSError as error:  # h5py's error for a damaged or truncated file
            raise DatasetError(f"{name} is not a readable HDF5 file ({error}); is the archive complete?") from None
        for key in ("data", "normal"):
            values = parts[key][-1] if key in parts else None
            if values is not None and values.is_floating_point() and not bool(torch.isfinite(values).all()):
                cloud, point = (~torch.isfinite(values)).reshape(values.shape[0], values.shape[1], -1).any(-1).nonzero()[0].tolist()
                raise DatasetError(f"{name}: {key!r} of cloud {cloud} holds a non-finite value at point {point}; "
                                   "the file is damaged (no model can learn from NaN or inf coordinates)")
    return {key: torch.cat(values) for key, values in parts.items() if values and all(v is not None for v in values)}


def _sample_mesh_bytes(data: bytes, num_points: int, seed: int, label: int, workdir: Path) -> Graph:
    path = workdir / "mesh.off"
    path.write_bytes(data)
    vertices, faces = read_mesh(path, dtype=torch.float64)
    generator = torch.Generator().manual_seed(seed)
    cloud = normalize_to_unit_sphere(sample_points(Graph(pos=vertices, face=faces), num_points, generator=generator))
    return Graph(pos=cloud.pos.float(), node_data={"normal": cloud.normal.float()},
                 y=torch.tensor([label]), y_level="graph")


class ModelNet(GraphDataset):
    """ModelNet10/40 meshes from the official archive, sampled to point clouds.

    Args:
        name: ``"10"`` or ``"40"``.
        split: ``"train"``, ``"test"`` (the official split: 9,843 / 2,468 shapes for ModelNet40,
            3,991 / 908 for ModelNet10) or ``"all"`` (both; :meth:`splits` tells them apart).
        root: data root; the archive is ``modelnet/ModelNet40.zip`` (downloaded if missing).
        num_points: points sampled from every mesh (area-weighted, seeded by the shape's index).
        transform: optional per-item transform.

    Each item: ``pos [num_points, 3]`` in the unit sphere, node tensor ``normal``, graph-level ``y``.
    """

    def __init__(
        self,
        name: str = "40",
        split: str = "train",
        *,
        root: str | os.PathLike | None = None,
        num_points: int = 1024,
        transform: Callable[[Graph], Graph] | None = None,
    ) -> None:
        name = str(name)
        if name not in OFF_URLS:
            raise ValueError(f"name must be '10' or '40', got {name!r}")
        _check_split(split)
        if split == "all":
            self._load_parts(lambda part: ModelNet(name, part, root=root, num_points=num_points, transform=transform))
            return
        files, raw = open_release(root, f"modelnet/ModelNet{name}.zip", OFF_URLS[name], f"ModelNet{name}")
        try:
            entries = []
            for path in files.names():
                match = re.fullmatch(r"([^/]+)/(train|test)/[^/]+\.off", path)
                if match:
                    entries.append((match.group(1), match.group(2), path))
            if not entries:
                raise DatasetError(f"{raw} holds no ModelNet{name}/<class>/<split>/*.off files")
            self.classes = sorted({cls for cls, _, _ in entries})
            chosen = [(cls, path) for cls, s, path in entries if s == split]

            def build() -> list[Graph]:
                graphs = []
                with tempfile.TemporaryDirectory() as workdir:
                    for index, (cls, path) in enumerate(chosen):
                        graphs.append(_sample_mesh_bytes(files.read(path), num_points, index,
                                                         self.classes.index(cls), Path(workdir)))
                return graphs

            graphs = cached(f"modelnet{name}_{split}_{num_points}", files.raw_files(), build, version="2",
                            options={"name": name, "split": split, "num_points": num_points})
        finally:
            files.close()
        super().__init__(graphs, transform)
        self.name, self.split, self.parts = name, split, [split] * len(graphs)

    @property
    def num_classes(self) -> int:
        return len(self.classes)


class ModelNetHDF5(GraphDataset):
    """ModelNet40 as the 2048-point HDF5 release (``modelnet40_ply_hdf5_2048``) used by PointNet and DGCNN.

    Args:
        split: ``"train"`` (9,840 clouds), ``"test"`` (2,468) or ``"all"`` (both; see :meth:`splits`).
        root: data root; the archive is ``modelnet/modelnet40_ply_hdf5_2048.zip``.
        num_points: keep the first ``num_points`` of the 2048 points (as DGCNN's loader does).
        transform: optional per-item transform.

    Each item: ``pos [num_points, 3]``, node tensor ``normal`` when the files hold normals,
    graph-level ``y``.
    """

    def __init__(
        self,
        split: str = "train",
        *,
        root: str | os.PathLike | None = None,
        num_points: int = 1024,
        transform: Callable[[Graph], Graph] | None = None,
    ) -> None:
        _check_split(split)
        if not 1 <= num_points <= 2048:
            raise ValueError(f"num_points must be in 1..2048 for the 2048-point release, got {num_points}")
        if split == "all":
            self._load_parts(lambda part: ModelNetHDF5(part, root=root, num_points=num_points, transform=transform))
            return
        files, raw = open_release(root, "modelnet/modelnet40_ply_hdf5_2048.zip", HDF5_URL, "modelnet40_ply_hdf5_2048")
        try:
            names = files.names()
            chosen = [n for n in names if re.fullmatch(rf"ply_data_{split}\d+\.h5", n)]
            chosen.sort(key=lambda n: int(re.search(r"(\d+)\.h5$", n).group(1)))
            if not chosen:
                raise DatasetError(f"{raw} holds no ply_data_{split}<i>.h5 files")
            self.classes = files.read("shape_names.txt").decode().split() if "shape_names.txt" in names else None
            arrays = read_hdf5_arrays(files, chosen, ("data", "label", "normal"))
        finally:
            files.close()
        points = arrays["data"][:, :num_points].float()
        labels = arrays["label"].view(-1).long()
        normals = arrays["normal"][:, :num_points].float() if "normal" in arrays else None
        graphs = [
            Graph(pos=points[i], y=labels[i:i + 1], y_level="graph",
                  node_data={"normal": normals[i]} if normals is not None else None)
            for i in range(points.shape[0])
        ]
        if self.classes is None:
            self.classes = [str(c) for c in range(int(labels.max()) + 1)]
        super().__init__(graphs, transform)
        self.split, self.parts = split, [split] * len(graphs)

    @property
    def num_classes(self) -> int:
        return len(self.classes)
