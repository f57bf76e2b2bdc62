"""Heterophilous graphs in the npz format of Platonov et al. (ICLR 2023).

"A critical look at the evaluation of GNNs under heterophily: Are we really
making progress?" (https://arxiv.org/abs/2302.11640) released roman-empire,
amazon-ratings, minesweeper, tolokers and questions, plus the classic
heterophilic graphs (chameleon, squirrel, actor, texas, cornell, wisconsin)
and their *filtered* versions (duplicate nodes removed), each as one
``data/<name>.npz`` in https://github.com/yandex-research/heterophilous-graphs
with the keys

* ``node_features`` ``[N, C]`` float, ``node_labels`` ``[N]`` int,
* ``edges`` ``[E, 2]``: each undirected edge once (``*_directed`` files: directed),
* ``train_masks`` / ``val_masks`` / ``test_masks`` ``[10, N]`` bool: 10 splits.

The loader returns a :class:`~geoconv.data.Graph` whose ``edge_index`` holds
each undirected edge in both directions (the ``*_directed`` graphs keep their
direction), and whose masks are ``[N, 10]`` (column ``k`` = split ``k``) so
that batching and subgraphs treat them as node data.
"""

from __future__ import annotations

import io
import os

import numpy as np
import torch

from geoconv.data import Graph
from geoconv.datasets.base import DAMAGED_FILE_ERRORS, DatasetError, RemoteFile, cached, data_root, fetch, mask_splits, read_bytes
from geoconv.ops import coalesce, to_undirected

URL = "https://github.com/yandex-research/heterophilous-graphs/raw/main/data/{name}.npz"

NAMES = (
    "roman_empire", "amazon_ratings", "minesweeper", "tolokers", "questions",
    "chameleon", "squirrel", "chameleon_filtered", "squirrel_filtered",
    "chameleon_directed", "squirrel_directed", "chameleon_filtered_directed", "squirrel_filtered_directed",
    "actor", "texas", "texas_4_classes", "cornell", "wisconsin",
)

# sha256 of the files at commit a431395582e9 (../shared/data/MANIFEST.md); the others are not pinned.
SHA256 = {
    "actor": "c350eef06b2c2a9bf8218be2b57cac6d4003d0922eb597a039e9123f75817816",
    "cornell": "684c54ba3daa13b0ba1f04a3d6dd1b1175c1ae9bdeb982851fd4ff96d3aac298",
    "texas": "b164b99e6c3d43e4ab07488ec59bd8c815f90cbc1bd4cf425ce587d2b534d844",
    "tolokers": "dacf3ac94cec53d03cd2adb5255c08b33dee1656c33ca8164a464bd9450a1667",
    "wisconsin": "2543c89838cfc75f737f7c4664cc1d097f8268602c20b2d1bd4f21407df9c074",
}

# Binary tasks evaluated with ROC AUC in the paper (the others with accuracy).
ROC_AUC_TASKS = ("minesweeper", "tolokers", "questions")

KEYS = ("node_features", "node_labels", "edges", "train_masks", "val_masks", "test_masks")


def heterophilous_file(name: str) -> RemoteFile:
    return RemoteFile(f"heterophilous_graphs/{name}.npz", URL.format(name=name), SHA256.get(name))


def build_heterophilous(raw: bytes, name: str) -> dict[str, torch.Tensor]:
    """Tensors of one npz file (see the module docstring for the layout)."""
    try:
        arrays = np.load(io.BytesIO(raw), allow_pickle=False)
        missing = [key for key in KEYS if key not in arrays.files]
        if missing:
            raise DatasetError(f"heterophilous graph {name}: the npz file lacks the keys {missing}")
        data = {key: arrays[key] for key in KEYS}
    except (ValueError, KeyError, *DAMAGED_FILE_ERRORS) as error:  # a truncated npz is a truncated zip
        raise DatasetError(f"heterophilous graph {name}: not a readable npz file ({error})") from error
    x = torch.from_numpy(np.asarray(data["node_features"], dtype=np.float32))
    y = torch.from_numpy(np.asarray(data["node_labels"], dtype=np.int64))
    num_nodes = x.shape[0]
    edges = torch.from_numpy(np.asarray(data["edges"], dtype=np.int64))
    if edges.dim() != 2 or edges.shape[1] != 2:
        raise DatasetError(f"heterophilous graph {name}: edges must be [E, 2], got {list(edges.shape)}")
    if edges.numel() and (int(edges.min()) < 0 or int(edges.max()) >= num_nodes):
        raise DatasetError(f"heterophilous graph {name}: edges name nodes outside 0..{num_nodes - 1}")
    edge_index = edges.t().contiguous()
    if name.endswith("_directed"):
        edge_index, _ = coalesce(edge_index, None, num_nodes)
    else:
        edge_index, _ = to_undirected(edge_index, None, num_nodes)
    masks = {}
    for split in ("train", "val", "test"):
        mask = torch.from_numpy(np.asarray(data[f"{split}_masks"], dtype=bool))
        if mask.dim() != 2 or mask.shape[1] != num_nodes:
            raise DatasetError(
                f"heterophilous graph {name}: {split}_masks must be [num_splits, {num_nodes}], got {list(mask.shape)}"
            )
        masks[f"{split}_mask"] = mask.t().contiguous()
    return {"x": x, "y": y, "edge_index": edge_index, **masks}


class SplitGraph(Graph):
    """A one-graph dataset whose ``train_mask`` / ``val_mask`` / ``test_mask`` are ``[N, S]`` (S splits)."""

    def splits(self, index: int = 0) -> dict[str, torch.Tensor]:
        """Split ``index`` (``0 .. num_splits - 1``) as ``{"train", "val", "test"}`` -> node indices."""
        return mask_splits(self, index)

    def with_split(self, index: int) -> Graph:
        """The graph with the 1-d ``train_mask`` / ``val_mask`` / ``test_mask`` of split ``index``."""
        return select_split(self, index)

    def __len__(self) -> int:
        return 1

    def __getitem__(self, index: int) -> Graph:
        if index not in (0, -1):
            raise IndexError(f"{type(self).__name__} holds one graph (index 0)")
        return self


class HeterophilousGraph(SplitGraph):
    """One graph of Platonov et al. (ICLR 2023) with its 10 splits; it *is* a :class:`Graph`.

    ``HeterophilousGraph("tolokers")`` has ``x [11758, 10]``, ``y [11758]``
    (binary), ``edge_index [2, 1038000]`` (the 519,000 undirected edges both
    ways) and boolean ``train_mask`` / ``val_mask`` / ``test_mask`` of shape
    ``[N, 10]``: ``graph.train_mask[:, k]`` is split ``k`` (50% / 25% / 25%).
    ``texas``, ``cornell``, ``wisconsin`` and ``actor`` are the Geom-GCN
    graphs with duplicate edges merged (fewer edges than the Geom-GCN files)
    and the same 10 splits; ``chameleon_filtered`` / ``squirrel_filtered``
    drop the duplicated nodes of the originals.

    Args:
        name: one of :data:`NAMES` (``"roman-empire"`` is accepted for ``"roman_empire"``).
        root: data root (default ``$GEOCONV_DATA`` or ``~/.cache/geoconv``);
            the file is ``<root>/heterophilous_graphs/<name>.npz``.
        download: download a missing file from GitHub (else raise).

    Attributes: ``name``, ``num_classes``, ``num_splits`` (10), ``metric``
    (``"roc_auc"`` for minesweeper, tolokers and questions, else ``"accuracy"``).

    Cite: Platonov, Kuznedelev, Diskin, Babenko, Prokhorenkova, ICLR 2023.
    """

    def __init__(self, name: str, *, root: str | os.PathLike | None = None, download: bool = True) -> None:
        key = name.lower().replace("-", "_")
        if key not in NAMES:
            raise ValueError(f"unknown heterophilous graph {name!r}; choose from {list(NAMES)}")
        root_path = data_root(root)
        path = fetch(heterophilous_file(key), root_path, download_missing=download)
        tensors = cached(f"heterophilous_{key}", [path], lambda: build_heterophilous(read_bytes(path), key), version="1")
        super().__init__(
            x=tensors["x"], edge_index=tensors["edge_index"], y=tensors["y"],
            node_data={m: tensors[m] for m in ("train_mask", "val_mask", "test_mask")},
        )
        object.__setattr__(self, "name", key)
        object.__setattr__(self, "num_classes", int(tensors["y"].max()) + 1 if tensors["y"].numel() else 0)
        object.__setattr__(self, "num_splits", int(tensors["train_mask"].shape[1]))
        object.__setattr__(self, "metric", "roc_auc" if key in ROC_AUC_TASKS else "accuracy")


def select_split(graph: Graph, index: int) -> Graph:
    """``graph`` with its ``[N, S]`` masks replaced by column ``index``."""
    num_splits = graph.train_mask.shape[1]
    if not -num_splits <= index < num_splits:
        raise IndexError(f"split {index} out of range: the graph has {num_splits} splits")
    out = Graph(x=graph.x, edge_index=graph.edge_index, y=graph.y,
                node_data={m: getattr(graph, m)[:, index] for m in ("train_mask", "val_mask", "test_mask")})
    return out
