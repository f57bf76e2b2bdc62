"""Heterophilic node classification graphs in the Geom-GCN format, with the 10 standard splits.

Pei et al., "Geom-GCN: Geometric Graph Convolutional Networks", ICLR 2020,
released at https://github.com/bingzhewei/geom-gcn:

* ``new_data/<name>/out1_graph_edges.txt``: a header line, then ``src<TAB>dst`` per line;
* ``new_data/<name>/out1_node_feature_label.txt``: a header line, then
  ``node_id<TAB>features<TAB>label``; features are comma-separated values,
  except for ``film`` whose lines list the indices of the non-zero binary
  features (931 + 1 columns, the header says ``feature_amount:931``);
* ``splits/<name>_split_0.6_0.2_<k>.npz`` (``k = 0..9``): boolean
  ``train_mask`` / ``val_mask`` / ``test_mask`` (60% / 20% / 20% per class).

The graph is made undirected (each edge both ways, duplicates merged) and
self-loops are removed, as in the loaders of Geom-GCN, PyG and Neural Sheaf
Diffusion.  The masks are ``[N, 10]`` (column ``k`` = split ``k``); use
:meth:`GeomGCNGraph.split` for one split with 1-d masks.
"""

from __future__ import annotations

import io
import os

import numpy as np
import torch

from geoconv.datasets.base import DAMAGED_FILE_ERRORS, DatasetError, RemoteFile, cached, data_root, fetch_all, read_bytes, read_text
from geoconv.datasets.heterophilous import SplitGraph
from geoconv.ops import remove_self_loops, to_undirected

URL = "https://raw.githubusercontent.com/bingzhewei/geom-gcn/master/{path}"
NAMES = ("texas", "wisconsin", "cornell", "film", "chameleon", "squirrel")
NUM_SPLITS = 10

# sha256 of the files at commit 1124af17444d (../shared/data/MANIFEST.md); chameleon/squirrel are not pinned.
SHA256 = {
    "new_data/cornell/out1_graph_edges.txt": "12dc60defc4f8a1f18499e3695bfd62ef0421f9b722297276e7f02dec7ae3dca",
    "new_data/cornell/out1_node_feature_label.txt": "38561ad44e29199a826ccef7f94f469b94a912076f83fbc453a69b8ac2b4b858",
    "new_data/film/out1_graph_edges.txt": "997cdce67ea9c29257d3ffe796328391931901cf823830affa453178b60e2c3e",
    "new_data/film/out1_node_feature_label.txt": "1d5cdd094f8b91e770f6decfca85b35cf42f75d1efb51055fd6af16e11820ff8",
    "new_data/texas/out1_graph_edges.txt": "0fe85183243a78cbee9b85a684f8240963d04d1020d10e9cd2b8cfb25e33b476",
    "new_data/texas/out1_node_feature_label.txt": "cf5a3ca346cdd1210b8342e22517fcbbdae658065b7a3145f59350e50e6236a3",
    "new_data/wisconsin/out1_graph_edges.txt": "ebd213511c88fce1eda450c2f920600c4b8cbb38f02384856bcc47c6ec1807ae",
    "new_data/wisconsin/out1_node_feature_label.txt": "a32b0aa38d42f0d36841e8a8cb646d197f0ff33a182ac75a2b4476aeed3c7e4b",
    "splits/cornell_split_0.6_0.2_0.npz": "14022a1e19ec7fc0a07a2c06a785a2f9dc52809dbcd1c14fc318f7800675d73f",
    "splits/cornell_split_0.6_0.2_1.npz": "5568fa27e968a724c92211bf97026a36a08893cf94b218043e49b4c973c35cfb",
    "splits/cornell_split_0.6_0.2_2.npz": "763fc1f423395e4172617fa5b6bc0d7adad2241e5fedd1a4f0a098a67f9dc8e9",
    "splits/cornell_split_0.6_0.2_3.npz": "4334321cd9ec42de9d51107fb9a6dc310512e0921bc1cff0f390301ee37315fa",
    "splits/cornell_split_0.6_0.2_4.npz": "2b6b3ef396f4dc7fcdc276fb16b88bb87409b25879dd672b3a506eca844dd8d7",
    "splits/cornell_split_0.6_0.2_5.npz": "1a40ef8b20aa9e1aa850e1abdaba3efac1f66c98ef2c6a59eadefa21136ece6b",
    "splits/cornell_split_0.6_0.2_6.npz": "bcddf4ab59eae4c7d47b8a6cec9025a54ec0e6d3f3bdcd7678e201f25ace4642",
    "splits/cornell_split_0.6_0.2_7.npz": "2b497e12dfc123d7e7c9bb4fc4a82b5bee18409e109a3e3a04da439cacec964d",
    "splits/cornell_split_0.6_0.2_8.npz": "5c4e110d252d7ad156b2e4cd34b6dbd1cecbcc1755f8d72e932cc2a54f2b643c",
    "splits/cornell_split_0.6_0.2_9.npz": "80f1531807194d301affbf6f879a4ab4f56a19bdccb62d192e3ecd1b5275f052",
    "splits/film_split_0.6_0.2_0.npz": "4505a41d4e90abd94d1ec22571ce528b09ad7cf20d87f764aebd4177590767f5",
    "splits/film_split_0.6_0.2_1.npz": "1871b0d24e3977c41e378fd24acc8025b63f86b77739be77a5b558d1287f207d",
    "splits/film_split_0.6_0.2_2.npz": "d26680e911ef3ecc9fc2a26d90c9d35028c63aadd7a5aea774649d1496c282cb",
    "splits/film_split_0.6_0.2_3.npz": "6755ad5f6a0be8594b344af3d2261eed935b83b73c4d70136e1a7beea7f78cb0",
    "splits/film_split_0.6_0.2_4.npz": "328fdca62b25074f21f2922518e042f24b3b8a1fc378f9dfb2cae36439aed902",
    "splits/film_split_0.6_0.2_5.npz": "5b3161a8dc8de4b2e651ebd56d68e768d1377044895b325566117fe26ab81cb7",
    "splits/film_split_0.6_0.2_6.npz": "e251b38abd4d7931b5e9ae5aba99dcdf87f0be283bdf6e65421274a1c9ef1df6",
    "splits/film_split_0.6_0.2_7.npz": "12164ef9f5620a2f12a387f4f2b8636859d42201101d6d32829ade62d5a98326",
    "splits/film_split_0.6_0.2_8.npz": "405cd1f7f631f678119f8bf2405809e86614d532985beb59566fcf95abd35b3f",
    "splits/film_split_0.6_0.2_9.npz": "505691c5d41bb37b20d085415dcdde2e8e68b5bc4e1feb2c0e361308002012bb",
    "splits/texas_split_0.6_0.2_0.npz": "7ba77bf7a8856fcc0ab15623a611b8cdce994e820f577da914123fb4f45272b0",
    "splits/texas_split_0.6_0.2_1.npz": "21cc244a96e3c51ad7993afb4dd227f90e467d82b964bb42d7d9fc500a6ef87f",
    "splits/texas_split_0.6_0.2_2.npz": "b9e96a699ccf3a4c31ffbd03e52b25570889833425d20fa44e06c37b327cf61e",
    "splits/texas_split_0.6_0.2_3.npz": "1a7deeb1285009789d5e6045d7e39f7d019c9223d9a75a2b7ce5e26d33b51f63",
    "splits/texas_split_0.6_0.2_4.npz": "b5419ff3fe31adcae66fdb085d4f47d0b188e9436ab59f438632af969aafc674",
    "splits/texas_split_0.6_0.2_5.npz": "68405fd1b9ff6105d99717220ecbd198785e338bf4a73abee722bbc9703d2667",
    "splits/texas_split_0.6_0.2_6.npz": "8ad78b973164e70e5ac0d282e79adcbc6006e373909fbdfd72a13131e09040b8",
    "splits/texas_split_0.6_0.2_7.npz": "a84bcbf997365bddf5fdf72ed49dc7e435e475f8c6210f8cdee7c8581a2bd6df",
    "splits/texas_split_0.6_0.2_8.npz": "65ba65f296f91d40d2d7d3c9369b67415094a7e254c6eee48cd6d6531c586fdf",
    "splits/texas_split_0.6_0.2_9.npz": "4306981d654ad8835c000c1f73fb6c1e60dfe99e26c13a6073f3b0f4cc3ce6ee",
    "splits/wisconsin_split_0.6_0.2_0.npz": "f66f641e191d35d491cd3b63d6c2cd93c4b436da398984b44c19a8d4d7e7b1a5",
    "splits/wisconsin_split_0.6_0.2_1.npz": "534aeb97266bd5a85a8587adf8eebad3f2e001c1240610f24b62c0ad0c2466ee",
    "splits/wisconsin_split_0.6_0.2_2.npz": "047a5b641778ec3a4c76055fd7f18ecb2424c0952f20dfff7e1b17749d8acbdd",
    "splits/wisconsin_split_0.6_0.2_3.npz": "706c27b4c51d046c0316f1e915f093e4a1fff48b3436b3e7c421eab596a99e77",
    "splits/wisconsin_split_0.6_0.2_4.npz": "7ee813605eec086457aaff022cf3837f2f893fcf8bd37e3a8d2ff0c80e4c4f87",
    "splits/wisconsin_split_0.6_0.2_5.npz": "8094ac2bdaf2cbea8f7a48df66a0800c809b2fd5942740e6b0441b660d3a0dd5",
    "splits/wisconsin_split_0.6_0.2_6.npz": "c423a8deea9b18f9ecb6cfd703578e2159df167de01fe7e6195b88995010252d",
    "splits/wisconsin_split_0.6_0.2_7.npz": "57ad808c8d4dd94dc4404124370bbcebb3dcc597c2bea6457bf05f220adf1527",
    "splits/wisconsin_split_0.6_0.2_8.npz": "27d4d62a2a6aea2cdc399302237512ab0d64fb0c84e648112f97c5896274e42f",
    "splits/wisconsin_split_0.6_0.2_9.npz": "3c149cd124a19021031609e0d7743a7be59aae4f88c8d38410138e8f06f5daaf",
}


def geom_gcn_files(name: str) -> dict[str, RemoteFile]:
    """The raw files of ``name``: keys ``edges``, ``features`` and ``split0`` .. ``split9``."""
    paths = {
        "edges": f"new_data/{name}/out1_graph_edges.txt",
        "features": f"new_data/{name}/out1_node_feature_label.txt",
        **{f"split{k}": f"splits/{name}_split_0.6_0.2_{k}.npz" for k in range(NUM_SPLITS)},
    }
    return {key: RemoteFile(f"geom_gcn/{path}", URL.format(path=path), SHA256.get(path)) for key, path in paths.items()}


def _data_lines(text: str) -> list[list[str]]:
    lines = [line for line in text.split("\n")[1:] if line.strip()]
    return [line.rstrip("\r").split("\t") for line in lines]


def parse_features(text: str, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``x [N, C]`` and ``y [N]`` from an ``out1_node_feature_label.txt``."""
    rows = _data_lines(text)
    if any(len(row) != 3 for row in rows):
        bad = next(i for i, row in enumerate(rows) if len(row) != 3)
        raise DatasetError(f"Geom-GCN {name}: line {bad + 2} of out1_node_feature_label.txt has not 3 tab-separated fields")
    num_nodes = len(rows)
    node_ids = np.array([int(row[0]) for row in rows], dtype=np.int64)
    if sorted(node_ids.tolist()) != list(range(num_nodes)):
        raise DatasetError(f"Geom-GCN {name}: node ids are not 0..{num_nodes - 1}")
    y = np.empty(num_nodes, dtype=np.int64)
    y[node_ids] = [int(row[2]) for row in rows]
    if name == "film":
        # Lists of non-zero feature indices.
        columns = [np.array([int(v) for v in row[1].split(",") if v != ""], dtype=np.int64) for row in rows]
        num_features = int(max(c.max() for c in columns if c.size)) + 1
        x = np.zeros((num_nodes, num_features), dtype=np.float32)
        for node, cols in zip(node_ids, columns):
            x[node, cols] = 1.0
    else:
        dense = np.array([[float(v) for v in row[1].split(",")] for row in rows], dtype=np.float32)
        x = np.empty_like(dense)
        x[node_ids] = dense
    return torch.from_numpy(x), torch.from_numpy(y)


def parse_edges(text: str, num_nodes: int, name: str) -> torch.Tensor:
    """Undirected ``edge_index`` (both directions, no self-loops or duplicates) from ``out1_graph_edges.txt``."""
    rows = _data_lines(text)
    edges = torch.tensor([[int(a), int(b)] for a, b in rows], dtype=torch.long).view(-1, 2).t()
    if edges.numel() and (int(edges.min()) < 0 or int(edges.max()) >= num_nodes):
        raise DatasetError(f"Geom-GCN {name}: out1_graph_edges.txt names nodes outside 0..{num_nodes - 1}")
    edges, _ = remove_self_loops(edges)
    edges, _ = to_undirected(edges, None, num_nodes)
    return edges


def parse_split(raw: bytes, num_nodes: int, name: str, index: int) -> dict[str, torch.Tensor]:
    try:
        arrays = np.load(io.BytesIO(raw))
        missing = [key for key in ("train_mask", "val_mask", "test_mask") if key not in arrays.files]
        if missing:
            raise DatasetError(f"Geom-GCN {name}: split {index} lacks {', '.join(missing)}")
        loaded = {key: np.asarray(arrays[key]) for key in ("train_mask", "val_mask", "test_mask")}
    except (ValueError, KeyError, *DAMAGED_FILE_ERRORS) as error:  # a truncated npz is a truncated zip
        raise DatasetError(f"Geom-GCN {name}: split {index} is not a readable npz file ({error})") from error
    masks = {}
    for key in ("train_mask", "val_mask", "test_mask"):
        mask = torch.from_numpy(loaded[key].astype(bool))
        if mask.shape != (num_nodes,):
            raise DatasetError(f"Geom-GCN {name}: split {index} {key} has shape {list(mask.shape)}, expected [{num_nodes}]")
        masks[key] = mask
    return masks


def build_geom_gcn(paths: dict, name: str) -> dict[str, torch.Tensor]:
    x, y = parse_features(read_text(paths["features"]), name)
    edge_index = parse_edges(read_text(paths["edges"]), x.shape[0], name)
    splits = [parse_split(read_bytes(paths[f"split{k}"]), x.shape[0], name, k) for k in range(NUM_SPLITS)]
    masks = {key: torch.stack([s[key] for s in splits], dim=1) for key in ("train_mask", "val_mask", "test_mask")}
    return {"x": x, "y": y, "edge_index": edge_index, **masks}


class GeomGCNGraph(SplitGraph):
    """A Geom-GCN heterophilic graph with its 10 standard splits; it *is* a :class:`Graph`.

    ``GeomGCNGraph("texas")``: ``x [183, 1703]``, ``y [183]`` (5 classes),
    ``edge_index`` undirected without self-loops, masks ``[183, 10]``
    (split 0: 87 / 59 / 37 train / val / test nodes).  ``film`` (Actor) has
    7,600 nodes and 932 binary features.  Features are returned as released
    (the usual preprocessing, row normalisation, is
    :func:`geoconv.data.transforms.normalize_features`).

    Args:
        name: ``texas``, ``wisconsin``, ``cornell``, ``film``, ``chameleon`` or ``squirrel``.
        root: data root (default ``$GEOCONV_DATA`` or ``~/.cache/geoconv``); files under ``<root>/geom_gcn/``.
        download: download missing files from GitHub (else raise).

    Cite: Pei et al., ICLR 2020; WebKB (CMU); Rozemberczki et al. 2021 (chameleon, squirrel);
    Tang et al., KDD 2009 (film / Actor).
    """

    def __init__(self, name: str, *, root: str | os.PathLike | None = None, download: bool = True) -> None:
        key = name.lower()
        if key == "actor":
            key = "film"
        if key not in NAMES:
            raise ValueError(f"unknown Geom-GCN dataset {name!r}; choose from {list(NAMES)}")
        root_path = data_root(root)
        paths = fetch_all(geom_gcn_files(key), root_path, download=download, dataset=f"Geom-GCN {key}")
        tensors = cached(f"geom_gcn_{key}", list(paths.values()), lambda: build_geom_gcn(paths, key), version="1")
        super().__init__(
            x=tensors["x"], edge_index=tensors["edge_index"], y=tensors["y"],
            node_data={m: tensors[m] for m in ("train_mask", "val_mask", "test_mask")},
        )
        object.__setattr__(self, "name", key)
        object.__setattr__(self, "num_classes", int(tensors["y"].max()) + 1)
        object.__setattr__(self, "num_splits", NUM_SPLITS)
