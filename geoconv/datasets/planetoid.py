"""Planetoid citation graphs (Cora, CiteSeer, PubMed) with the public split.

Reads the original files of Yang, Cohen & Salakhutdinov (ICML 2016),
``ind.<name>.{x,tx,allx,y,ty,ally,graph,test.index}``, as released at
https://github.com/kimiyoung/planetoid.  The pickles hold scipy sparse
matrices; they are read with a restricted unpickler that rebuilds the CSR
arrays directly, so neither scipy nor arbitrary pickled code is needed.
"""

from __future__ import annotations

import collections
import os
import pickle
from pathlib import Path

import numpy as np
import torch

from geoconv.data import Graph
from geoconv.datasets.base import DatasetError, RemoteFile, cached, data_root, fetch_all, mask_splits, read_bytes, read_text
from geoconv.ops import remove_self_loops, to_undirected

URL = "https://github.com/kimiyoung/planetoid/raw/master/data/ind.{name}.{part}"
PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")

# sha256 of the released files (../shared/data/MANIFEST.md); CiteSeer's are not pinned here.
SHA256 = {
    "cora": {
        "allx": "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
        "ally": "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
        "graph": "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
        "test.index": "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
        "tx": "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
        "ty": "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
        "x": "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
        "y": "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
    },
    "pubmed": {
        "ally": "0c37bbe3b5014ec365e9d393cf4791925e5ed94fb194305d74f064a8d7b50f0e",
        "graph": "5b89f0036ca22909471f1e6558eb42fa06e0c730a577bde5b058b40638f81dc9",
        "test.index": "b101d421688bbaecbd82e8a18f1e282378d6830f3a37666f28ebc47f844341b5",
        "tx": "4eb5f5d0f30f26497eb0ac6ac9719d09c67e284f1ed0385c93f3ef27a671da3d",
        "ty": "ee2e0d4819d9fbcc403689c3bf2e49face401b605932f093bc58ab6461130fdd",
        "x": "fbe9cb5c47200d1b7769a26e579be3b7130b556831f9d850e77c4c74f2599b33",
        "y": "e6c807633307a07ed659249006536a147c7999c797f11a2560752990181b41b3",
    },
    "citeseer": {},
}
NUM_CLASSES = {"cora": 7, "citeseer": 6, "pubmed": 3}


def planetoid_files(name: str) -> list[RemoteFile]:
    return [
        RemoteFile(f"planetoid/ind.{name}.{part}", URL.format(name=name, part=part), SHA256[name].get(part))
        for part in PARTS
    ]


class _CSRState:
    """Stand-in for a pickled scipy.sparse matrix: keeps its arrays."""

    def __init__(self, *args, **kwargs) -> None:
        self.state: dict = {}

    def __setstate__(self, state: dict) -> None:
        self.state = state

    def to_dense(self) -> np.ndarray:
        state = self.state
        fmt = state.get("format", "csr")
        shape = state.get("_shape", state.get("shape"))
        if fmt != "csr":
            raise DatasetError(f"unexpected sparse format {fmt!r} in a Planetoid file")
        dense = np.zeros(shape, dtype=np.float32)
        indptr, indices, values = state["indptr"], state["indices"], state["data"]
        rows = np.repeat(np.arange(shape[0]), np.diff(indptr))
        dense[rows, indices] = values
        return dense


class _PlanetoidUnpickler(pickle.Unpickler):
    """Allows only numpy arrays, scipy CSR matrices (as :class:`_CSRState`) and dicts."""

    def find_class(self, module: str, name: str):
        if module.startswith("scipy.sparse") and name in ("csr_matrix", "csr_array"):
            return _CSRState
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name in ("_reconstruct", "scalar"):
            return getattr(np._core.multiarray if hasattr(np, "_core") else np.core.multiarray, name)
        if module == "numpy" and name in ("ndarray", "dtype"):
            return getattr(np, name)
        if module in ("numpy.core.numeric", "numpy._core.numeric") and name == "_frombuffer":
            return getattr(np._core.numeric if hasattr(np, "_core") else np.core.numeric, name)
        if module == "_codecs" and name == "encode":  # bytes in protocol-2 pickles written by Python 3
            import codecs

            return codecs.encode
        if module in ("collections", "__builtin__", "builtins") and name in ("defaultdict", "list", "dict", "int"):
            return getattr(collections if name == "defaultdict" else __import__("builtins"), name)
        raise pickle.UnpicklingError(f"unexpected object {module}.{name}")


def _load_pickle(path: Path):
    import io

    try:
        return _PlanetoidUnpickler(io.BytesIO(read_bytes(path)), encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError) as error:
        raise DatasetError(f"{path} is not a readable Planetoid pickle ({error})") from error


def _dense(value) -> np.ndarray:
    return value.to_dense() if isinstance(value, _CSRState) else np.asarray(value, dtype=np.float32)


def build_planetoid(paths: dict[str, Path], name: str) -> dict[str, torch.Tensor]:
    """Tensors of the Planetoid graph, following the original GCN preprocessing."""
    x, tx, allx = (_dense(_load_pickle(paths[p])) for p in ("x", "tx", "allx"))
    y, ty, ally = (_dense(_load_pickle(paths[p])) for p in ("y", "ty", "ally"))
    graph_dict = _load_pickle(paths["graph"])
    test_index = np.array([int(line) for line in read_text(paths["test.index"]).split()], dtype=np.int64)
    test_range = np.sort(test_index)
    if name == "citeseer":
        # Some CiteSeer test nodes are isolated and missing from the test files:
        # give them zero feature / label rows at their positions (Kipf & Welling's rule).
        full = np.arange(test_range.min(), test_range.max() + 1)
        tx_full = np.zeros((len(full), tx.shape[1]), dtype=np.float32)
        tx_full[test_range - test_range.min()] = tx
        ty_full = np.zeros((len(full), ty.shape[1]), dtype=np.float32)
        ty_full[test_range - test_range.min()] = ty
        tx, ty = tx_full, ty_full
    features = np.vstack([allx, tx])
    labels = np.vstack([ally, ty])
    features[test_index] = features[test_range]
    labels[test_index] = labels[test_range]
    num_nodes = features.shape[0]

    sources, targets = [], []
    for node, neighbours in graph_dict.items():
        for neighbour in neighbours:
            sources.append(int(node))
            targets.append(int(neighbour))
    edge_index = torch.tensor([sources, targets], dtype=torch.long)
    if edge_index.numel() and int(edge_index.max()) >= num_nodes:
        raise DatasetError(f"ind.{name}.graph names node {int(edge_index.max())} but there are {num_nodes} feature rows")
    edge_index, _ = remove_self_loops(edge_index)
    edge_index, _ = to_undirected(edge_index, None, num_nodes)

    def mask(index: np.ndarray) -> torch.Tensor:
        out = torch.zeros(num_nodes, dtype=torch.bool)
        out[torch.as_tensor(index, dtype=torch.long)] = True
        return out

    num_train = y.shape[0]
    return {
        "x": torch.from_numpy(features),
        "y": torch.from_numpy(labels.argmax(axis=1)).long(),
        "edge_index": edge_index,
        "train_mask": mask(np.arange(num_train)),
        # Validation: the 500 nodes after the labelled ones (fewer in tiny test files).
        "val_mask": mask(np.arange(num_train, min(num_train + 500, ally.shape[0]))),
        "test_mask": mask(test_range),
    }


class Planetoid(Graph):
    """A Planetoid citation graph with the public split; it *is* a :class:`Graph`.

    ``Planetoid("cora")`` has ``x [2708, 1433]`` (binary bag of words), ``y [2708]``,
    ``edge_index`` (10,556 directed edges: each undirected edge both ways, no
    self-loops or duplicates) and boolean ``train_mask`` / ``val_mask`` /
    ``test_mask`` with 140 / 500 / 1000 nodes.  CiteSeer's isolated test nodes
    get zero features and are in no split.

    Args:
        name: ``"cora"``, ``"citeseer"`` or ``"pubmed"`` (any case).
        root: data root (default ``$GEOCONV_DATA`` or ``~/.cache/geoconv``);
            files are read from / downloaded to ``<root>/planetoid/``.
        download: download missing files (else raise).

    Cite: Yang, Cohen, Salakhutdinov, ICML 2016; Sen et al., AI Magazine 2008.
    """

    def __init__(self, name: str, *, root: str | os.PathLike | None = None, download: bool = True) -> None:
        key = name.lower()
        if key not in NUM_CLASSES:
            raise ValueError(f"unknown Planetoid dataset {name!r}; choose from {sorted(NUM_CLASSES)}")
        root_path = data_root(root)
        files = planetoid_files(key)
        # fetch_all names every missing file (all eight when none is there), not only the first
        paths = fetch_all(dict(zip(PARTS, files)), root_path, download=download, dataset=f"Planetoid {key}")
        tensors = cached(f"planetoid_{key}", list(paths.values()), lambda: build_planetoid(paths, key), version="1")
        super().__init__(
            x=tensors["x"], edge_index=tensors["edge_index"], y=tensors["y"],
            node_data={m: tensors[m] for m in ("train_mask", "val_mask", "test_mask")},
        )
        object.__setattr__(self, "name", key)
        object.__setattr__(self, "num_classes", NUM_CLASSES[key])

    def splits(self, index: int = 0) -> dict[str, torch.Tensor]:
        """The public split (the only one: ``index`` 0) as ``{"train", "val", "test"}`` -> node indices."""
        return mask_splits(self, index)

    def __len__(self) -> int:
        return 1

    def __getitem__(self, index: int) -> Graph:
        if index not in (0, -1):
            raise IndexError("a Planetoid dataset holds one graph (index 0)")
        return self
