"""OGBNodeDataset on files written in OGB's released layout: equal to OGB's own reader, scored by OGB's Evaluator."""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from geoconv.datasets import DatasetError, OGBNodeDataset
from geoconv.datasets.ogb_node import SPECS, download_ogb_node, ogb_node_metadata, write_ogb_node_fixture

NAMES = sorted(SPECS)


def ogb_reference(name: str, folder: Path) -> tuple[dict, np.ndarray, dict]:
    """What OGB's NodePropPredDataset computes from the raw folder: read_csv_graph_raw with master.csv's
    options, node-label.csv.gz, and get_idx_split's reading of split/<scheme>/."""
    from ogb.io.read_graph_raw import read_csv_graph_raw

    meta = ogb_node_metadata()[name]
    extra = [] if meta["additional node files"] == "None" else meta["additional node files"].split(",")
    graph = read_csv_graph_raw(str(folder / "raw"), add_inverse_edge=meta["add_inverse_edge"] == "True",
                               additional_node_files=extra)[0]
    labels = pd.read_csv(folder / "raw" / "node-label.csv.gz", compression="gzip", header=None).values
    split_dir = folder / "split" / meta["split"]
    split = {part: pd.read_csv(split_dir / f"{part}.csv.gz", compression="gzip", header=None).values.T[0]
             for part in ("train", "valid", "test")}
    return graph, labels, split


def test_specs_agree_with_ogb_master_csv():
    meta = ogb_node_metadata()
    for name, spec in SPECS.items():
        row = meta[name]
        assert spec.download_name == row["download_name"]
        assert spec.add_inverse_edge == (row["add_inverse_edge"] == "True")
        assert spec.split == row["split"]
        assert (spec.num_tasks, spec.num_classes, spec.eval_metric) == (int(row["num tasks"]), int(row["num classes"]), row["eval metric"])
        assert spec.has_node_feat == (row["has_node_attr"] == "True") and spec.has_edge_feat == (row["has_edge_attr"] == "True")
        assert (",".join(spec.node_files) or "None") == row["additional node files"]


@pytest.mark.parametrize("name", NAMES)
def test_loader_equals_ogb_raw_reader(tmp_path, name):
    folder = write_ogb_node_fixture(name, tmp_path, num_nodes=50, num_edges=150, seed=3)
    ours = OGBNodeDataset(name, root=tmp_path, download=False)
    graph, labels, split = ogb_reference(name, folder)
    assert ours.num_nodes == graph["num_nodes"] == 50
    torch.testing.assert_close(ours.edge_index, torch.from_numpy(graph["edge_index"]))
    if graph["node_feat"] is not None:
        torch.testing.assert_close(ours.x, torch.from_numpy(graph["node_feat"]))
    else:
        assert "x" not in ours
    if graph["edge_feat"] is not None:
        torch.testing.assert_close(ours.edge_attr, torch.from_numpy(graph["edge_feat"]))
    else:
        assert "edge_attr" not in ours
    for extra in SPECS[name].node_files:
        torch.testing.assert_close(getattr(ours, extra), torch.from_numpy(graph[extra]).view(-1))
    torch.testing.assert_close(ours.y.reshape(50, -1), torch.from_numpy(np.array(labels)))
    for part, mask in (("train", ours.train_mask), ("valid", ours.val_mask), ("test", ours.test_mask)):
        torch.testing.assert_close(ours.split_index[part], torch.from_numpy(split[part]))
        torch.testing.assert_close(mask.nonzero().view(-1), torch.from_numpy(np.sort(split[part])))


def test_files_are_headerless_gzip_csv_in_ogb_folders(tmp_path):
    folder = write_ogb_node_fixture("ogbn-proteins", tmp_path, num_nodes=20, num_edges=30)
    assert folder == tmp_path / "ogb" / "ogbn_proteins"
    with gzip.open(folder / "raw" / "edge.csv.gz", "rt") as handle:
        first = handle.readline().strip().split(",")
    assert len(first) == 2 and all(v.isdigit() for v in first)
    assert sorted(p.name for p in (folder / "split" / "species").iterdir()) == ["test.csv.gz", "train.csv.gz", "valid.csv.gz"]
    assert pd.read_csv(folder / "raw" / "node-label.csv.gz", header=None).shape == (20, 112)


def test_arxiv_is_directed_unless_asked(tmp_path):
    write_ogb_node_fixture("ogbn-arxiv", tmp_path, num_nodes=40, num_edges=100)
    directed = OGBNodeDataset("ogbn-arxiv", root=tmp_path, download=False)
    undirected = OGBNodeDataset("ogbn-arxiv", root=tmp_path, download=False, to_undirected=True)
    pairs = {tuple(e) for e in directed.edge_index.t().tolist()}
    expected = sorted(pairs | {(b, a) for a, b in pairs})
    assert sorted(tuple(e) for e in undirected.edge_index.t().tolist()) == expected
    assert undirected.num_edges > directed.num_edges


def test_evaluator_is_ogbs(tmp_path):
    from ogb.nodeproppred import Evaluator

    write_ogb_node_fixture("ogbn-arxiv", tmp_path, num_nodes=30, num_edges=60)
    arxiv = OGBNodeDataset("ogbn-arxiv", root=tmp_path, download=False)
    assert type(arxiv.evaluator()).__name__ == "Evaluator" and arxiv.evaluator().eval_metric == "acc"
    y_pred = arxiv.y.clone()
    y_pred[:10] = (y_pred[:10] + 1) % 40  # 10 of 30 wrong
    assert arxiv.evaluate(arxiv.y, y_pred) == pytest.approx(20 / 30)
    assert arxiv.evaluate(arxiv.y, y_pred) == Evaluator("ogbn-arxiv").eval(
        {"y_true": arxiv.y.view(-1, 1), "y_pred": y_pred.view(-1, 1)})["acc"]
    write_ogb_node_fixture("ogbn-proteins", tmp_path, num_nodes=40, num_edges=60)
    proteins = OGBNodeDataset("ogbn-proteins", root=tmp_path, download=False)
    scores = torch.randn(40, 112, generator=torch.Generator().manual_seed(0))
    ours = proteins.evaluate(proteins.y, scores)
    theirs = Evaluator("ogbn-proteins").eval({"y_true": proteins.y, "y_pred": scores})["rocauc"]
    assert ours == pytest.approx(theirs) and 0.0 < ours < 1.0
    assert proteins.evaluate(proteins.y, proteins.y.float()) == pytest.approx(1.0)


def test_missing_and_corrupt_files_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="unknown OGB node dataset"):
        OGBNodeDataset("ogbn-mag", root=tmp_path)
    with pytest.raises(DatasetError, match=r"ogbn_arxiv is absent.*arxiv\.zip"):
        OGBNodeDataset("ogbn-arxiv", root=tmp_path, download=False)
    folder = write_ogb_node_fixture("ogbn-arxiv", tmp_path, num_nodes=20, num_edges=30)
    (folder / "raw" / "node_year.csv.gz").unlink()
    with pytest.raises(DatasetError, match="incomplete.*node_year.csv.gz"):
        OGBNodeDataset("ogbn-arxiv", root=tmp_path)  # never downloads over (or deletes) an existing folder
    assert (folder / "raw" / "edge.csv.gz").exists()


@pytest.mark.parametrize("corruption, message", [
    ("num-node-list.csv.gz", "node-feat.csv.gz has 20 rows, expected 25"),
    ("edge.csv.gz", "names nodes outside"),
    ("split/time/valid.csv.gz", "overlaps"),
])
def test_structure_is_verified(tmp_path, corruption, message):
    folder = write_ogb_node_fixture("ogbn-arxiv", tmp_path, num_nodes=20, num_edges=30)
    path = folder / ("raw/" + corruption if "/" not in corruption else corruption)
    if corruption == "num-node-list.csv.gz":
        content = "25\n"
    elif corruption == "edge.csv.gz":
        content = "0,1\n" * 29 + "0,20\n"
    else:
        train = pd.read_csv(folder / "split" / "time" / "train.csv.gz", header=None).values.reshape(-1)
        content = f"{train[0]}\n"
    with gzip.open(path, "wt") as handle:
        handle.write(content)
    with pytest.raises(DatasetError, match=message):
        OGBNodeDataset("ogbn-arxiv", root=tmp_path, download=False)


def test_download_unpacks_and_verifies_without_network(tmp_path, monkeypatch):
    """The archive OGB serves holds ``<download_name>/`` (raw/, split/, RELEASE_v1.txt); a local zip stands in for it."""
    source = write_ogb_node_fixture("ogbn-products", tmp_path / "made", num_nodes=20, num_edges=40)
    archive = tmp_path / "root" / "ogb" / "nodeproppred" / "products.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in source.rglob("*"):
            bundle.write(path, "products/" + str(path.relative_to(source)))
    graph = OGBNodeDataset("ogbn-products", root=tmp_path / "root")  # the zip is the "downloaded" copy
    assert graph.num_nodes == 20 and (tmp_path / "root" / "ogb" / "ogbn_products" / "raw").is_dir()
    assert not [p for p in (tmp_path / "root" / "ogb").iterdir() if p.name.endswith(".unzip")]
    # a broken archive is rejected and leaves no dataset folder behind
    shutil.rmtree(tmp_path / "root" / "ogb" / "ogbn_products")
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("products/raw/edge.csv.gz", b"")
    with pytest.raises(DatasetError, match="lacks"):
        download_ogb_node("ogbn-products", tmp_path / "root")
    assert not (tmp_path / "root" / "ogb" / "ogbn_products").exists()


@pytest.mark.parametrize("name", NAMES)
def test_loader_equals_ogbs_own_dataset_class(tmp_path, name):
    """OGB's NodePropPredDataset (download skipped: the folder is there) reads the same graph, labels and split."""
    from ogb.nodeproppred import NodePropPredDataset

    folder = write_ogb_node_fixture(name, tmp_path, num_nodes=40, num_edges=90, seed=5)
    (folder / "processed").mkdir()  # OGB saves its processed copy there without creating the folder
    theirs = NodePropPredDataset(name, root=str(tmp_path / "ogb"))
    graph, labels = theirs[0]
    split = theirs.get_idx_split()
    ours = OGBNodeDataset(name, root=tmp_path, download=False)
    torch.testing.assert_close(ours.edge_index, torch.from_numpy(graph["edge_index"]))
    torch.testing.assert_close(ours.y.reshape(40, -1), torch.from_numpy(np.array(labels)))
    if graph["edge_feat"] is not None:
        torch.testing.assert_close(ours.edge_attr, torch.from_numpy(graph["edge_feat"]))
    if graph["node_feat"] is not None:
        torch.testing.assert_close(ours.x, torch.from_numpy(graph["node_feat"]))
    for part in ("train", "valid", "test"):
        torch.testing.assert_close(ours.split_index[part], torch.from_numpy(np.array(split[part])))
    assert (theirs.num_tasks, theirs.num_classes, theirs.eval_metric) == (ours.num_tasks, ours.num_classes, ours.eval_metric)
