"""ShapeNetPart (Yi et al., "A Scalable Active Framework for Region Annotation in 3D Shape
Collections", SIGGRAPH Asia 2016) as the 2048-point HDF5 release of PointNet, used by DGCNN.

The archive ``shapenet_part_seg_hdf5_data.zip`` holds ``hdf5_data/ply_data_train0..5.h5``,
``ply_data_val0.h5``, ``ply_data_test0..1.h5`` with ``data [B, 2048, 3]`` (points),
``label [B, 1]`` (object category 0..15) and ``pid [B, 2048]`` (part label 0..49,
numbered globally across categories), and ``all_object_categories.txt``.  It is read in
place, or from the extracted ``shapenet_part/hdf5_data/`` folder.  The source publishes no
checksum, so it is not pinned.
"""

from __future__ import annotations

import os
import re
from typing import Callable

import torch

from geoconv.data import Graph
from geoconv.datasets.base import DatasetError, GraphDataset
from geoconv.datasets.modelnet import open_release, read_hdf5_arrays

URL = "https://shapenet.cs.stanford.edu/media/shapenet_part_seg_hdf5_data.zip"
CATEGORIES = (
    "Airplane", "Bag", "Cap", "Car", "Chair", "Earphone", "Guitar", "Knife",
    "Lamp", "Laptop", "Motorbike", "Mug", "Pistol", "Rocket", "Skateboard", "Table",
)
# Number of parts of each category, in category order; part ids are consecutive (50 in total).
PARTS_PER_CATEGORY = (4, 2, 2, 4, 4, 3, 3, 2, 4, 2, 6, 2, 3, 3, 3, 3)
SPLITS = {"train": ("train",), "val": ("val",), "trainval": ("train", "val"), "test": ("test",),
          "all": ("train", "val", "test")}


def category_parts(category: int) -> range:
    """The global part ids of ``category`` (e.g. Airplane: 0..3)."""
    start = sum(PARTS_PER_CATEGORY[:category])
    return range(start, start + PARTS_PER_CATEGORY[category])


class ShapeNetPart(GraphDataset):
    """ShapeNetPart part segmentation (16 categories, 50 parts), 2048-point HDF5 release.

    Args:
        split: ``"train"`` (12,137 clouds), ``"val"`` (1,870), ``"trainval"``, ``"test"`` (2,874) or
            ``"all"``; :meth:`splits` gives the released part of every item.
        root: data root; the archive is ``shapenet_part/shapenet_part_seg_hdf5_data.zip``.
        num_points: keep the first ``num_points`` of the 2048 points.
        transform: optional per-item transform.

    Each item: ``pos [num_points, 3]``, node-level ``y`` (part id 0..49) and the graph-level
    int64 tensor ``category`` (0..15), the input of
    :class:`~geoconv.models.DGCNNSegmentation`.
    """

    categories = CATEGORIES
    num_classes = sum(PARTS_PER_CATEGORY)

    def __init__(
        self,
        split: str = "train",
        *,
        root: str | os.PathLike | None = None,
        num_points: int = 2048,
        transform: Callable[[Graph], Graph] | None = None,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {tuple(SPLITS)}, got {split!r}")
        if not 1 <= num_points <= 2048:
            raise ValueError(f"num_points must be in 1..2048, got {num_points}")
        if len(SPLITS[split]) > 1:  # several released parts: load each, so that splits() can tell them apart
            self._load_parts(lambda part: ShapeNetPart(part, root=root, num_points=num_points, transform=transform),
                             SPLITS[split], split)
            return
        files, raw = open_release(root, "shapenet_part/shapenet_part_seg_hdf5_data.zip", URL, "hdf5_data")
        try:
            pattern = "|".join(SPLITS[split])
            chosen = [n for n in files.names() if re.fullmatch(rf"ply_data_({pattern})\d+\.h5", n)]
            chosen.sort(key=lambda n: (SPLITS[split].index(re.match(r"ply_data_([a-z]+)", n).group(1)),
                                       int(re.search(r"(\d+)\.h5$", n).group(1))))
            if not chosen:
                raise DatasetError(f"{raw} holds no hdf5_data/ply_data_{split}<i>.h5 files")
            arrays = read_hdf5_arrays(files, chosen, ("data", "label", "pid"))
        finally:
            files.close()
        if "pid" not in arrays or "label" not in arrays:
            raise DatasetError(f"{raw}: the HDF5 files must hold 'data', 'label' and 'pid'")
        points = arrays["data"][:, :num_points].float()
        category = arrays["label"].view(-1).long()
        parts = arrays["pid"][:, :num_points].long()
        graphs = [
            Graph(pos=points[i], y=parts[i], graph_data={"category": category[i:i + 1]})
            for i in range(points.shape[0])
        ]
        super().__init__(graphs, transform)
        self.split, self.parts = split, [split] * len(graphs)
