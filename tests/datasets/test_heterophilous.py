import numpy as np
import pytest

from geoconv.datasets import DatasetError, HeterophilousGraph
from geoconv.datasets.heterophilous import build_heterophilous
from geoconv.ops import is_undirected


def test_tolokers(shared_data):
    graph = HeterophilousGraph("tolokers", root=shared_data, download=False)
    assert graph.x.shape == (11758, 10) and graph.num_classes == 2 and graph.metric == "roc_auc"
    assert graph.num_edges == 2 * 519000 and is_undirected(graph.edge_index)
    assert graph.train_mask.shape == (11758, 10) and graph.num_splits == 10
    assert int(graph.train_mask[:, 0].sum()) == 5879  # 50% / 25% / 25%
    assert not (graph.train_mask & graph.test_mask).any()


def test_texas_filtered_version(shared_data):
    texas = HeterophilousGraph("texas", root=shared_data, download=False)
    assert texas.x.shape == (183, 1703) and texas.num_classes == 5 and texas.metric == "accuracy"
    assert texas.num_edges == 2 * 279
    one = texas.with_split(0)
    assert one.train_mask.shape == (183,) and int(one.train_mask.sum()) == 87


def tiny_npz(path, directed_edges=False):
    np.savez(
        path,
        node_features=np.arange(8, dtype=np.float32).reshape(4, 2),
        node_labels=np.array([0, 1, 1, 0]),
        edges=np.array([[0, 1], [1, 2], [3, 2]]),
        train_masks=np.eye(4, dtype=bool)[[0, 1]], val_masks=np.eye(4, dtype=bool)[[1, 2]],
        test_masks=np.eye(4, dtype=bool)[[2, 3]],
    )


def test_download_and_layout(tmp_path, monkeypatch):
    remote = tmp_path / "remote"
    remote.mkdir()
    tiny_npz(remote / "roman_empire.npz")
    monkeypatch.setattr("geoconv.datasets.heterophilous.URL", remote.as_uri() + "/{name}.npz")
    graph = HeterophilousGraph("roman-empire", root=tmp_path / "root")
    assert (tmp_path / "root" / "heterophilous_graphs" / "roman_empire.npz").exists()
    assert sorted(map(tuple, graph.edge_index.t().tolist())) == [(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2)]
    assert graph.train_mask.shape == (4, 2) and graph.train_mask[:, 1].tolist() == [False, True, False, False]
    assert graph.y.tolist() == [0, 1, 1, 0]


def test_directed_variant_keeps_direction(tmp_path):
    tiny_npz(tmp_path / "a.npz")
    tensors = build_heterophilous((tmp_path / "a.npz").read_bytes(), "chameleon_directed")
    assert tensors["edge_index"].t().tolist() == [[0, 1], [1, 2], [3, 2]]


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown heterophilous graph 'cora'"):
        HeterophilousGraph("cora")
    with pytest.raises(DatasetError, match="heterophilous_graphs/questions.npz is not under the data root"):
        HeterophilousGraph("questions", root=tmp_path, download=False)
    np.savez(tmp_path / "bad.npz", node_features=np.zeros((2, 2)))
    with pytest.raises(DatasetError, match="lacks the keys"):
        build_heterophilous((tmp_path / "bad.npz").read_bytes(), "questions")
    with pytest.raises(DatasetError, match="not a readable npz file"):
        build_heterophilous(b"not an npz", "questions")
    np.savez(tmp_path / "range.npz", node_features=np.zeros((2, 2)), node_labels=np.zeros(2, dtype=int),
             edges=np.array([[0, 5]]), train_masks=np.ones((1, 2), bool), val_masks=np.ones((1, 2), bool),
             test_masks=np.ones((1, 2), bool))
    with pytest.raises(DatasetError, match="edges name nodes outside 0..1"):
        build_heterophilous((tmp_path / "range.npz").read_bytes(), "questions")
