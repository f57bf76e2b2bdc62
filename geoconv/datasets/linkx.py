"""Node-classification graphs of the LINKX benchmark (Lim et al., "Large Scale Learning on
Non-Homophilous Graphs: New Benchmarks and Strong Simple Methods", NeurIPS 2021), as
released in https://github.com/CUAI/Non-Homophily-Large-Scale (``data/``).

* :class:`Twitch`: the MUSAE Twitch user graphs (Rozemberczki, Allen, Sarkar,
  "Multi-scale Attributed Node Embedding", J. Complex Networks 2021), one per
  language; binary target: the streamer uses explicit language (``mature``).
* :class:`Facebook100`: the Facebook100 university friendship graphs (Traud,
  Mucha, Porter, "Social structure of Facebook networks", Physica A 2012);
  target: gender, as in LINKX.

Both follow LINKX's preprocessing (``dataset.py`` of that repository); the
edges are made undirected (each edge both ways, duplicates and self-loops
removed), as LINKX does for every model except its directed variants.
"""

from __future__ import annotations

import csv
import io
import json
import os

import numpy as np
import torch

from geoconv._optional import require
from geoconv.data import Graph
from geoconv.datasets.base import DatasetError, RemoteFile, cached, data_root, fetch, mask_splits, read_bytes, text_stream
from geoconv.ops import remove_self_loops, to_undirected

URL = "https://github.com/CUAI/Non-Homophily-Large-Scale/raw/master/data/{path}"

TWITCH_LANGUAGES = ("DE", "ENGB", "ES", "FR", "PTBR", "RU", "TW")
TWITCH_FEATURES = 3170  # size of the shared MUSAE feature vocabulary (LINKX's load_twitch)

# sha256 of the released files (../shared/data/MANIFEST.md): (uncompressed file, gzip copy).
TWITCH_SHA256 = {
    ("DE", "edges.csv"): ("54feaf3e3e70a485fe07f8611e4d2677841b97f77b8358204bcf4a48cc884d86", "994256ddfa9f1cf0985d59a0554dd16aae4d3ed7a48018f3b3ff71af81cc1e7f"),
    ("DE", "features.json"): ("7b39c42570f05cd46017c765df8d8a1bc03f19787c3eb0f9684f50a52476ae3a", "485f822569cbd9587c244e540b8d7ae86281e4cf53eedca52785664117017246"),
    ("DE", "target.csv"): ("2188f58a093bb9db363d3eaf7c3a52c2adc8ff6b23cbcb4f53875f87061c0321", "6eccadba8b727ed4ce4fc3c5197a50bd1e93890364a3868b14d398620921ad01"),
    ("ENGB", "edges.csv"): ("5ea4d7f7267454e9523577eb2a9b4dcb7a22dd660a548240f01b815d08e0e3cc", "a88be9984df3fdf8d83d3ffeebf35170b86083183650ac8f2ce5e824cca1512c"),
    ("ENGB", "features.json"): ("efcd846f7b687d299c9c674f3cda43cd70de8307d2558895bddd3645eb38d500", "60678fb3a2c3f09c223c6013c7965d8816933d2cca157d403a400c71c8e134e8"),
    ("ENGB", "target.csv"): ("e9d51399878216d2dd662b0a152b602cccde7b5cbb8452cb91d9379f64114443", "ce90214e6fcf6584dbb39948209e9c4bfc547eee61fc77db82ae220d92d42d04"),
    ("ES", "edges.csv"): ("17801d2cc45fc4909a431ce7a190c0565d4af87b0548ca7705cf2bef7da4c884", "b2ec17539f5460a08a259b9c94bb54021c293c2c452caeb63ebdd6a217a4f4f7"),
    ("ES", "features.json"): ("598a610ef7e0469c5ad800c11f7ad89797e6a27d7d66b670782a5516cc344725", "1663284657adac500e07d7dcf86aa01cd2c442178d1dd2f24e4d2cfd4af4b829"),
    ("ES", "target.csv"): ("f843427bae58289100e78c6c211fa4a1ae0d5fbf2c665841df9e390b00dcffb5", "9694a6a9e43dd44258ca30a970cdfb74881a6c78ef2f552450f8e294f617f618"),
    ("FR", "edges.csv"): ("9924263f7e8edaa7278dcbc37bd90c8712cb0ea1726d85e054a5588b7959f887", "8a70003990d3ae11422fc2721c7592bc019d34a515ab5a4a73ac5e42ee2c7279"),
    ("FR", "features.json"): ("b6ecbefd5606f46d30a9b4be7b574e5427d9e0314f1bd6a1861942ae718d3573", "1ff39e6454bcd8e1957b0ab77b4bd189cbc5c39ca0b48eac23635eef6c7275ce"),
    ("FR", "target.csv"): ("dd0a9e7ba565cbb95ae66003892709742bd08c26387656e3e235fc25205663b4", "c1980eaf4dc446cbeea3e4d38e3d94912fc94e40b4b11a51d8b077495f9edb60"),
    ("PTBR", "edges.csv"): ("b72d93a3c8a82883771a2f3822fce229885fa0d40367fb105c0535fb36c773b9", "1aa4fc1607810f0e75037c013731d2078b414762ff9ac90d58c6fab39eca5f83"),
    ("PTBR", "features.json"): ("12ba6c60ce009b1bec8fd5ad110539775d14a2b96011df19ba9f72ad1393a406", "30074157bdd20b180e90756e75795f3ab1055af852416dd27f6a32034b32f7f8"),
    ("PTBR", "target.csv"): ("ecba7d1287e72ae7c3f42c922be475283288c0c67346245c72109690460444bd", "3d35286e09708ea7e66ac271659b55129efef57acc384552303f2e3339d1dcce"),
    ("RU", "edges.csv"): ("fd307587a550289f746056ea12a7336171ab2053c9e08c42dba77499126ca5b2", "40161874f4bc2f3a64d36741fd05ecc61c71bad9783d5b9716caded04a6465c4"),
    ("RU", "features.json"): ("c5357468471545a6169de463ef706f321446dc667d9d62d49e68c0b3feef9675", "e9aaf8fe0436e664c357a3d727e1190b0b72b3bb14b8b2b03ea32282670f5f7c"),
    ("RU", "target.csv"): ("db7617528355be994352e491e7b25d060fed466d0d81c09cadd90fa10f15c071", "c7a76d910032014302d39747b646bbefe360ebcb895f875f0ee184c58bb16a79"),
    ("TW", "edges.csv"): ("47c986023f1f434f76026ddfb3ab544be24849011400c99402083d06d3dfa017", "302833170533a33ea85f258cca7b6023b8635ce41f7bc82d87dd07296c9497b1"),
    ("TW", "features.json"): ("9508cc55f4b891018f278df4cec40d622aba2b04c1bca9451fd9e8ce11321c7b", "0f7deab55d96bf77ac334a79510209c512ba00210436f43cc4259e0252bcc0c1"),
    ("TW", "target.csv"): ("65b75f23be40140d2e326813c3f81419f1a94aa1091acfc0279f0403be8165f7", "956c1308ea190146b545d54d17234f41584e84be7b531819b66c2dc48aef7809"),
}
# LINKX's five 50/25/25 splits of twitch-e (only published for DE).
TWITCH_SPLITS = {
    "DE": RemoteFile(
        "linkx/splits/twitch-e-DE-splits.npy", URL.format(path="splits/twitch-e-DE-splits.npy"),
        "3e620e7b0d26e8b433e7e0bc0753d40c7004bfb51eba2d2926748f8be80e7806",
    ),
}

FACEBOOK100_SHA256 = {
    "Amherst41": "3108e4b2edb01be05c5a61147583a40e61012820fff7eebe621dd26018caaf00",
    "Cornell5": "d9ff76ae34e855cb77b0779a3a320f7f73f848901cb13352e2734c17804c4aec",
    "Johns_Hopkins55": "fc7243bf257155df03afbc397ab34b5f8eb8e75f40cd1603398e207a033ef50f",
    "Reed98": "d12ec74dc8c6e237385975b976c3709555a83629a1260be693fb688e3446070e",
}


def twitch_files(language: str) -> dict[str, RemoteFile]:
    files = {}
    for part in ("edges.csv", "features.json", "target.csv"):
        sha, gzip_sha = TWITCH_SHA256[(language, part)]
        path = f"twitch/{language}/musae_{language}_{part}"
        files[part] = RemoteFile(f"linkx/{path}", URL.format(path=path), sha, (gzip_sha,))
    return files


def _undirected(src: np.ndarray, dst: np.ndarray, num_nodes: int) -> torch.Tensor:
    edge_index = torch.from_numpy(np.stack([src, dst]).astype(np.int64))
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= num_nodes):
        raise DatasetError(f"an edge names a node outside 0..{num_nodes - 1}")
    edge_index, _ = remove_self_loops(edge_index)
    edge_index, _ = to_undirected(edge_index, None, num_nodes)
    return edge_index


def build_twitch(paths: dict, language: str) -> dict[str, torch.Tensor]:
    """Tensors of one Twitch graph, as LINKX's ``load_twitch``.

    ``y[new_id] = mature`` (the first row of a repeated ``new_id`` wins, as in
    LINKX: the FR file repeats two), ``x`` the binary ``[N, 3170]`` indicator
    of the MUSAE features (ids >= N in the feature file are ignored).
    """
    with text_stream(paths["target.csv"]) as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if "mature" not in header or "new_id" not in header:
            raise DatasetError(f"Twitch {language}: target file lacks the mature/new_id columns (header {header})")
        mature_col, id_col = header.index("mature"), header.index("new_id")
        labels: dict[int, int] = {}
        for row in reader:
            labels.setdefault(int(row[id_col]), int(row[mature_col] == "True"))
    num_nodes = len(labels)
    if sorted(labels) != list(range(num_nodes)):
        raise DatasetError(f"Twitch {language}: new_id values are not 0..{num_nodes - 1}")
    y = torch.tensor([labels[i] for i in range(num_nodes)], dtype=torch.long)
    with text_stream(paths["edges.csv"]) as handle:
        next(handle)
        pairs = np.loadtxt(handle, delimiter=",", dtype=np.int64, ndmin=2)
    edge_index = _undirected(pairs[:, 0], pairs[:, 1], num_nodes)
    features = json.loads(read_bytes(paths["features.json"]))
    rows, cols = [], []
    for node, values in features.items():
        if int(node) < num_nodes:
            rows.extend([int(node)] * len(values))
            cols.extend(values)
    x = torch.zeros(num_nodes, TWITCH_FEATURES)
    x[torch.tensor(rows, dtype=torch.long), torch.tensor(cols, dtype=torch.long)] = 1.0
    tensors = {"x": x, "y": y, "edge_index": edge_index}
    if "splits" in paths:
        splits = np.load(io.BytesIO(read_bytes(paths["splits"])), allow_pickle=True)
        for name, key in (("train", "train"), ("val", "valid"), ("test", "test")):
            mask = torch.zeros(num_nodes, len(splits), dtype=torch.bool)
            for k, split in enumerate(splits):
                mask[torch.as_tensor(np.asarray(split[key], dtype=np.int64)), k] = True
            tensors[f"{name}_mask"] = mask
    return tensors


class Twitch(Graph):
    """A MUSAE Twitch graph (one language) as in LINKX; it *is* a :class:`Graph`.

    ``Twitch("DE")`` has ``x [9498, 3170]`` (binary features), ``y [9498]``
    (1 = mature content), ``edge_index`` with the 153,138 friendships both ways.
    For DE, LINKX's five 50/25/25 splits ("twitch-e") are attached as boolean
    ``train_mask`` / ``val_mask`` / ``test_mask`` of shape ``[N, 5]``
    (column ``k`` = split ``k``); the other languages have no published split.

    Args:
        language: one of ``DE, ENGB, ES, FR, PTBR, RU, TW``.
        root: data root (default ``$GEOCONV_DATA`` or ``~/.cache/geoconv``); files
            are ``<root>/linkx/twitch/<language>/musae_<language>_*`` (plain or ``.gz``).
        download: download missing files (else raise).

    Attributes: ``language``, ``num_classes`` (2), ``num_splits`` (5 for DE, else 0).
    Cite: Rozemberczki, Allen, Sarkar, J. Complex Networks 2021; Lim et al., NeurIPS 2021.
    """

    def __init__(self, language: str, *, root: str | os.PathLike | None = None, download: bool = True) -> None:
        key = language.upper()
        if key not in TWITCH_LANGUAGES:
            raise ValueError(f"unknown Twitch language {language!r}; choose from {TWITCH_LANGUAGES}")
        root_path = data_root(root)
        paths = {part: fetch(file, root_path, download_missing=download) for part, file in twitch_files(key).items()}
        if key in TWITCH_SPLITS:
            paths["splits"] = fetch(TWITCH_SPLITS[key], root_path, download_missing=download)
        tensors = cached(f"twitch_{key}", list(paths.values()), lambda: build_twitch(paths, key), version="1")
        masks = {name: tensors[name] for name in ("train_mask", "val_mask", "test_mask") if name in tensors}
        super().__init__(x=tensors["x"], edge_index=tensors["edge_index"], y=tensors["y"], node_data=masks)
        object.__setattr__(self, "language", key)
        object.__setattr__(self, "num_classes", 2)
        object.__setattr__(self, "num_splits", int(masks["train_mask"].shape[1]) if masks else 0)

    def splits(self, index: int = 0) -> dict[str, torch.Tensor]:
        """LINKX's split ``index`` (DE only: 0..4) as ``{"train", "val", "test"}`` -> node indices."""
        return mask_splits(self, index)


def _binarize(column: np.ndarray) -> np.ndarray:
    """sklearn's ``label_binarize(column, classes=np.unique(column))``, as LINKX uses it:
    one column per value, but a single indicator column for two values (and a zero column for one)."""
    values, inverse = np.unique(column, return_inverse=True)
    if values.size <= 2:
        return (inverse == 1).astype(np.float32).reshape(-1, 1)
    onehot = np.zeros((column.size, values.size), dtype=np.float32)
    onehot[np.arange(column.size), inverse] = 1.0
    return onehot


def build_facebook100(path, name: str) -> dict[str, torch.Tensor]:
    """Tensors of one Facebook100 graph, as LINKX's ``load_fb100_dataset``.

    ``local_info`` columns: student/faculty status, gender, major, second
    major, dorm, year, high school (0 = missing).  ``y`` = gender - 1 (so
    -1 = unknown); ``x`` = the binarised other six columns, side by side.
    """
    scipy_io = require("scipy.io", "reading Facebook100 .mat files")
    try:
        mat = scipy_io.loadmat(io.BytesIO(read_bytes(path)))
    except (ValueError, OSError, TypeError) as error:
        raise DatasetError(f"Facebook100 {name}: {path} is not a readable .mat file ({error})") from error
    if "A" not in mat or "local_info" not in mat:
        raise DatasetError(f"Facebook100 {name}: the .mat file lacks A or local_info")
    adjacency = mat["A"].tocoo()
    info = np.asarray(mat["local_info"], dtype=np.int64)
    num_nodes = info.shape[0]
    if adjacency.shape != (num_nodes, num_nodes):
        raise DatasetError(f"Facebook100 {name}: A is {adjacency.shape} but local_info has {num_nodes} rows")
    edge_index = _undirected(adjacency.row, adjacency.col, num_nodes)
    columns = [info[:, 0]] + [info[:, k] for k in range(2, info.shape[1])]
    x = torch.from_numpy(np.hstack([_binarize(c) for c in columns]))
    y = torch.from_numpy(info[:, 1] - 1)
    return {"x": x, "y": y, "edge_index": edge_index}


class Facebook100(Graph):
    """A Facebook100 university graph with LINKX's features and gender target; it *is* a :class:`Graph`.

    ``Facebook100("Amherst41")``: 2,235 nodes, ``y`` = gender in {0, 1} and -1
    where unknown (``labelled`` is the mask of known ones), ``x`` the
    binarised status / majors / dorm / year / high school. There is no
    published split (LINKX draws random 50/25/25 splits of the labelled nodes).

    Args:
        name: the university file name, e.g. ``"Amherst41"``, ``"Reed98"``,
            ``"Johns_Hopkins55"`` (spaces of the original names become ``_``),
            ``"Cornell5"``, ``"Penn94"``.
        root: data root; the file is ``<root>/linkx/facebook100/<name>.mat``.
        download: download a missing file (else raise).

    Cite: Traud, Mucha, Porter, Physica A 2012; Lim et al., NeurIPS 2021.
    """

    def __init__(self, name: str, *, root: str | os.PathLike | None = None, download: bool = True) -> None:
        key = name.replace(" ", "_")
        if not key or "/" in key or key.startswith("."):
            raise ValueError(f"invalid Facebook100 name {name!r}")
        file = RemoteFile(
            f"linkx/facebook100/{key}.mat",
            URL.format(path=f"facebook100/{key.replace('_', '%20')}.mat"),
            FACEBOOK100_SHA256.get(key),
        )
        path = fetch(file, data_root(root), download_missing=download)
        tensors = cached(f"facebook100_{key}", [path], lambda: build_facebook100(path, key), version="1")
        super().__init__(
            x=tensors["x"], edge_index=tensors["edge_index"], y=tensors["y"],
            node_data={"labelled": tensors["y"] >= 0},
        )
        object.__setattr__(self, "name", key)
        object.__setattr__(self, "num_classes", 2)
