import numpy as np
import pytest
import torch

from geoconv.datasets import DatasetError, GeomGCNGraph
from geoconv.datasets.geom_gcn import NUM_SPLITS, parse_features
from geoconv.ops import is_undirected


@pytest.mark.parametrize(
    "name,num_nodes,split_sizes",
    [("texas", 183, (87, 59, 37)), ("wisconsin", 251, (120, 80, 51)), ("cornell", 183, (87, 59, 37))],
)
def test_webkb_graphs_and_ten_splits(shared_data, name, num_nodes, split_sizes):
    graph = GeomGCNGraph(name, root=shared_data, download=False)
    assert graph.x.shape == (num_nodes, 1703) and graph.num_classes == 5 and graph.num_splits == NUM_SPLITS
    assert is_undirected(graph.edge_index) and not (graph.edge_index[0] == graph.edge_index[1]).any()
    assert graph.train_mask.shape == (num_nodes, 10)
    assert tuple(int(getattr(graph, f"{s}_mask")[:, 0].sum()) for s in ("train", "val", "test")) == split_sizes
    # The three masks of each split are disjoint and the 10 splits differ.
    assert not (graph.train_mask & graph.val_mask).any() and not (graph.train_mask & graph.test_mask).any()
    assert not torch.equal(graph.train_mask[:, 0], graph.train_mask[:, 1])
    one = graph.with_split(3)
    assert torch.equal(one.train_mask, graph.train_mask[:, 3]) and one.test_mask.shape == (num_nodes,)
    with pytest.raises(IndexError, match="split 10 out of range"):
        graph.with_split(10)


def test_texas_edges_and_labels(shared_data):
    texas = GeomGCNGraph("texas", root=shared_data, download=False)
    # 325 edge lines in the file; undirected without self-loops and duplicates -> 558 directed edges.
    assert texas.num_edges == 558
    assert texas.y.bincount().tolist() == [33, 1, 18, 101, 30]  # counted with awk on the raw file
    assert set(texas.x.unique().tolist()) == {0.0, 1.0}


def test_film_sparse_feature_format(shared_data):
    film = GeomGCNGraph("actor", root=shared_data, download=False)
    assert film.name == "film" and film.x.shape == (7600, 932) and film.num_classes == 5
    assert is_undirected(film.edge_index)
    assert int(film.train_mask[:, 0].sum()) == 3648


def write_tiny(root, name="texas", num_nodes=4):
    folder = root / "geom_gcn" / "new_data" / name
    folder.mkdir(parents=True)
    lines = ["node_id\tfeature\tlabel"] + [f"{i}\t{i % 2},1,0\t{i % 3}" for i in reversed(range(num_nodes))]
    (folder / "out1_node_feature_label.txt").write_text("\n".join(lines) + "\n")
    (folder / "out1_graph_edges.txt").write_text("node_id\tnode_id\n0\t1\n1\t2\n2\t2\n1\t0\n")
    splits = root / "geom_gcn" / "splits"
    splits.mkdir(parents=True)
    for k in range(NUM_SPLITS):
        train = np.zeros(num_nodes, dtype=np.uint8)
        train[k % num_nodes] = 1
        np.savez(splits / f"{name}_split_0.6_0.2_{k}.npz", train_mask=train, val_mask=1 - train,
                 test_mask=np.zeros(num_nodes, dtype=np.uint8))


def test_download_from_file_urls(tmp_path, monkeypatch):
    source = tmp_path / "remote"
    write_tiny(source, name="squirrel")  # squirrel's files are not pinned to a sha256
    monkeypatch.setattr("geoconv.datasets.geom_gcn.URL", (source / "geom_gcn").as_uri() + "/{path}")
    graph = GeomGCNGraph("squirrel", root=tmp_path / "root")
    assert (tmp_path / "root" / "geom_gcn" / "splits" / "squirrel_split_0.6_0.2_9.npz").exists()
    assert graph.x.tolist()[:2] == [[0.0, 1.0, 0.0], [1.0, 1.0, 0.0]]  # rows placed by node id
    assert graph.y.tolist() == [0, 1, 2, 0]
    assert sorted(map(tuple, graph.edge_index.t().tolist())) == [(0, 1), (1, 0), (1, 2), (2, 1)]
    assert graph.train_mask[:, 5].tolist() == [False, True, False, False]


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown Geom-GCN dataset 'texass'"):
        GeomGCNGraph("texass")
    with pytest.raises(DatasetError, match="Geom-GCN texas needs geom_gcn/new_data/texas/out1_graph_edges.txt"):
        GeomGCNGraph("texas", root=tmp_path, download=False)
    write_tiny(tmp_path)
    with pytest.raises(DatasetError, match="corrupt"):  # a tiny file under texas' name fails the pinned sha256
        GeomGCNGraph("texas", root=tmp_path, download=False)
    with pytest.raises(DatasetError, match="line 2 .* has not 3 tab-separated fields"):
        parse_features("node_id\tfeature\tlabel\n0\t1,0\n", "texas")
