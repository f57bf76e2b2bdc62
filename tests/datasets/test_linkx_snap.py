"""Twitch, Facebook100 (LINKX) and SNAP loaders on the real files, plus downloads and errors on tiny fixtures."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest
import torch

from geoconv.datasets import DatasetError, RemoteFile
from geoconv.datasets.linkx import Facebook100, Twitch, _binarize
from geoconv.datasets.snap import SNAPGraph, parse_jlg
from geoconv.ops import is_undirected


def test_twitch_de_counts_labels_and_linkx_splits(shared_data):
    graph = Twitch("DE", root=shared_data)
    assert graph.num_nodes == 9498 and graph.num_edges == 2 * 153138  # MANIFEST / README counts
    assert is_undirected(graph.edge_index, graph.num_nodes)
    assert bool((graph.edge_index[0] != graph.edge_index[1]).all())
    assert graph.x.shape == (9498, 3170) and set(graph.x.unique().tolist()) == {0.0, 1.0}
    assert graph.y.dtype == torch.long and set(graph.y.unique().tolist()) == {0, 1}
    # First target row: new_id 5079 is mature (True).
    assert int(graph.y[5079]) == 1
    assert graph.num_splits == 5
    for mask, size in ((graph.train_mask, 4749), (graph.val_mask, 2374), (graph.test_mask, 2375)):
        assert mask.shape == (9498, 5) and mask.sum(0).tolist() == [size] * 5
    assert not bool((graph.train_mask & graph.test_mask).any())


def test_twitch_languages_without_splits(shared_data):
    graph = Twitch("ptbr", root=shared_data)
    assert graph.language == "PTBR" and graph.num_nodes == 1912 and graph.num_edges == 2 * 31299
    assert graph.num_splits == 0 and "train_mask" not in graph
    with pytest.raises(ValueError, match="unknown Twitch language"):
        Twitch("XX", root=shared_data)


def test_facebook100_features_and_gender_labels(shared_data):
    graph = Facebook100("Reed98", root=shared_data)
    assert graph.num_nodes == 962 and graph.num_edges == 37624  # A nnz (symmetric, no self-loops)
    assert is_undirected(graph.edge_index, graph.num_nodes)
    assert set(graph.y.unique().tolist()) <= {-1, 0, 1}
    assert_labelled = graph.labelled == (graph.y >= 0)
    assert bool(assert_labelled.all())
    # One binarised block per info column: every node has exactly one 1 in each block of >= 3 values.
    assert set(graph.x.unique().tolist()) == {0.0, 1.0}
    with pytest.raises(ValueError, match="invalid Facebook100 name"):
        Facebook100("../etc", root=shared_data)


def test_binarize_matches_sklearn_label_binarize_conventions():
    assert _binarize(np.array([3, 5, 3])).tolist() == [[0.0], [1.0], [0.0]]
    assert _binarize(np.array([2, 2])).tolist() == [[0.0], [0.0]]
    assert _binarize(np.array([0, 4, 9, 4])).tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]]


def test_snap_ego_twitter(shared_data):
    graph = SNAPGraph("ego-twitter-undirected", root=shared_data)
    assert graph.num_nodes == 81306 and not graph.directed
    loops = int((graph.edge_index[0] == graph.edge_index[1]).sum())
    assert graph.num_edges == 2 * 1342310 - loops  # a self-loop is its own reverse


def _jlg(text: str) -> bytes:
    return gzip.compress(text.encode())


def test_parse_jlg_table_and_errors():
    edge_index, num_nodes, directed = parse_jlg(_jlg("3,2,d|u,toy\n1,2\n3,1\n"), "toy")
    assert edge_index.tolist() == [[0, 2], [1, 0]] and num_nodes == 3 and directed
    assert parse_jlg(b"2,1,u|u,plain\n1,2\n", "plain")[2] is False
    with pytest.raises(DatasetError, match="bad .jlg header"):
        parse_jlg(_jlg("x,y\n1,2\n"), "bad")
    with pytest.raises(DatasetError, match="announces 3 edges"):
        parse_jlg(_jlg("3,3,u|u,short\n1,2\n"), "short")
    with pytest.raises(DatasetError, match="node ids must be 1..2"):
        parse_jlg(_jlg("2,1,u|u,range\n1,3\n"), "range")
    with pytest.raises(DatasetError, match="must be 'd' or 'u'"):
        parse_jlg(_jlg("2,1,x|u,kind\n1,2\n"), "kind")
    with pytest.raises(ValueError, match="unknown SNAP graph"):
        SNAPGraph("nope")


def test_snap_download_through_file_url_and_checksum(tmp_path, monkeypatch):
    import geoconv.datasets.snap as snap

    payload = _jlg("4,3,u|u,tiny\n1,2\n2,3\n3,4\n")
    source = tmp_path / "source" / "folder" / "tiny.jlg"
    source.parent.mkdir(parents=True)
    source.write_bytes(payload)
    monkeypatch.setitem(snap.SNAP_GRAPHS, "tiny", ("folder", hashlib.sha256(payload).hexdigest()))
    monkeypatch.setattr(snap, "URL", (tmp_path / "source").as_uri() + "/{folder}/{name}.jlg")
    root = tmp_path / "root"
    graph = SNAPGraph("tiny", root=root)
    assert (root / "snap" / "tiny.jlg").read_bytes() == payload
    assert graph.num_nodes == 4 and graph.num_edges == 6
    with pytest.raises(DatasetError, match="not under the data root"):
        SNAPGraph("tiny", root=tmp_path / "empty", download=False)
    monkeypatch.setitem(snap.SNAP_GRAPHS, "tiny", ("folder", "0" * 64))
    with pytest.raises(DatasetError, match="corrupt"):
        SNAPGraph("tiny", root=root)
