"""SNAP graphs (structure only) in the ``.jlg`` format of JuliaGraphs/SNAPDatasets.jl.

A ``.jlg`` file is gzip-compressed text: a header ``n,m,d|u,graph`` (nodes,
edges, directed or undirected, name) then ``m`` lines ``u,v`` with 1-based
node ids.  https://github.com/JuliaGraphs/SNAPDatasets.jl (MIT) stores
several SNAP graphs (Leskovec & Krevl, SNAP Datasets, 2014) this way; they
serve here for structure-only scale tests (sampling throughput).
"""

from __future__ import annotations

import gzip
import os

import numpy as np
import torch

from geoconv.data import Graph
from geoconv.datasets.base import DatasetError, RemoteFile, cached, data_root, fetch, read_bytes
from geoconv.io.files import DECOMPRESSION_ERRORS
from geoconv.ops import coalesce, to_undirected

URL = "https://github.com/JuliaGraphs/SNAPDatasets.jl/raw/master/data/{folder}/{name}.jlg"

# name -> (folder in the source repository, sha256 of the .jlg file (../shared/data/MANIFEST.md))
SNAP_GRAPHS = {
    "ego-twitter-undirected": ("ego-twitter", "7f81dda501ad839152246ff328db8108d84b9646534a7236726e8f7e62ef6d11"),
    "soc-slashdot0902-directed": ("soc-slashdot0902", "713b5c637cdaffc3887856ef44066e36e2c91aa83c4e62434bdafc5095a930cb"),
}


def parse_jlg(raw: bytes, name: str) -> tuple[torch.Tensor, int, bool]:
    """``(edge_index [2, m] 0-based, n, directed)`` of a (gzip-compressed or plain) .jlg file."""
    try:
        text = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except DECOMPRESSION_ERRORS as error:
        raise DatasetError(f"SNAP {name}: the gzip-compressed .jlg file is damaged or truncated "
                           f"({type(error).__name__}: {error}); delete it so that it is downloaded again") from None
    header, _, body = text.partition(b"\n")
    try:
        fields = header.decode().split("|")[0].split(",")
        num_nodes, num_edges, kind = int(fields[0]), int(fields[1]), fields[2].strip()
    except (ValueError, IndexError, UnicodeDecodeError) as error:
        raise DatasetError(f"SNAP {name}: bad .jlg header {header[:80]!r} (expected 'n,m,d|u,name')") from error
    if kind not in ("d", "u"):
        raise DatasetError(f"SNAP {name}: the header's third field must be 'd' or 'u', got {kind!r}")
    values = np.fromstring(body.replace(b"\n", b",").decode(), dtype=np.int64, sep=",")
    if values.size != 2 * num_edges:
        raise DatasetError(f"SNAP {name}: the header announces {num_edges} edges but the file holds {values.size / 2:g}")
    edge_index = torch.from_numpy(values.reshape(-1, 2).T.copy()) - 1
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= num_nodes):
        raise DatasetError(f"SNAP {name}: node ids must be 1..{num_nodes}")
    return edge_index, num_nodes, kind == "d"


class SNAPGraph(Graph):
    """A structure-only SNAP graph (``edge_index`` and ``num_nodes``); it *is* a :class:`Graph`.

    ``SNAPGraph("ego-twitter-undirected")``: 81,306 nodes, the 1,342,310
    undirected edges both ways (coalesced: 2,684,606 directed edges, a self-loop counting once);
    ``SNAPGraph("soc-slashdot0902-directed")``: 82,168 nodes, 948,464 directed edges (coalesced).

    Args:
        name: one of :data:`SNAP_GRAPHS`.
        root: data root; the file is ``<root>/snap/<name>.jlg``.
        download: download a missing file (else raise).

    Attributes: ``name``, ``directed``.
    Cite: Leskovec & Krevl, SNAP Datasets (2014); McAuley & Leskovec, NeurIPS 2012 (ego-Twitter);
    Leskovec et al., Internet Mathematics 2009 (Slashdot).
    """

    def __init__(self, name: str, *, root: str | os.PathLike | None = None, download: bool = True) -> None:
        if name not in SNAP_GRAPHS:
            raise ValueError(f"unknown SNAP graph {name!r}; choose from {sorted(SNAP_GRAPHS)}")
        folder, sha = SNAP_GRAPHS[name]
        file = RemoteFile(f"snap/{name}.jlg", URL.format(folder=folder, name=name), sha)
        path = fetch(file, data_root(root), download_missing=download)

        def build() -> dict:
            edge_index, num_nodes, directed = parse_jlg(read_bytes(path), name)
            if directed:
                edge_index, _ = coalesce(edge_index, None, num_nodes)
            else:
                edge_index, _ = to_undirected(edge_index, None, num_nodes)
            return {"edge_index": edge_index, "num_nodes": num_nodes, "directed": directed}

        data = cached(f"snap_{name}", [path], build, version="1")
        super().__init__(edge_index=data["edge_index"], num_nodes=data["num_nodes"])
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "directed", data["directed"])
