"""MoleculeNet and ogbg-mol* loaders: real ESOL, tiny CSVs with missing labels / bad SMILES,
OGB's raw csv.gz format (tiny files written here), the CSV fallback, and OGB's Evaluator."""

from __future__ import annotations

import csv
import gzip
import io
import math

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from geoconv.chem import from_smiles
from geoconv.datasets import DatasetError, MoleculeNet, OGBMolDataset

ESOL_TASK = "measured log solubility in mols per litre"


def test_esol_real_file(shared_data):
    dataset = MoleculeNet("esol", root=shared_data)
    assert len(dataset) == 1128 and dataset.num_invalid == 0 and dataset.tasks == [ESOL_TASK]
    with gzip.open(shared_data / "moleculenet" / "delaney-processed.csv.gz", "rt") as handle:
        rows = list(csv.DictReader(handle))
    graph = dataset[5]
    assert graph.smiles == rows[5]["smiles"]
    assert graph.y.item() == pytest.approx(float(rows[5][ESOL_TASK]))
    reference = from_smiles(rows[5]["smiles"])
    assert torch.equal(graph.x, reference.x) and torch.equal(graph.edge_index, reference.edge_index)
    # OGB's ogbg-molesol scaffold split has 902 / 113 / 113 molecules
    split = dataset.splits("scaffold")
    assert [len(split[k]) for k in ("train", "val", "test")] == [902, 113, 113]


def _write_csv(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with (gzip.open(path, "wt", newline="") if path.suffix == ".gz" else open(path, "w", newline="")) as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def test_missing_labels_are_masked_and_invalid_smiles_counted(tmp_path):
    header = ["smiles", "FDA_APPROVED", "CT_TOX"]
    rows = [["CCO", "1", ""], ["C1CC", "0", "1"], ["c1ccccc1", "", "0"], ["CC(=O)O", "0", "1"]]
    raw = io.StringIO()
    csv.writer(raw).writerows([header] + rows)
    (tmp_path / "moleculenet").mkdir()
    with gzip.open(tmp_path / "moleculenet" / "clintox.csv.gz", "wt", newline="") as handle:
        handle.write(raw.getvalue())
    dataset = MoleculeNet("clintox", root=tmp_path, download=False)
    assert len(dataset) == 3 and dataset.num_invalid == 1 and dataset.invalid_smiles == ["C1CC"]
    assert dataset.smiles == ["CCO", "c1ccccc1", "CC(=O)O"]
    assert dataset[0].label_mask.tolist() == [[True, False]] and math.isnan(dataset[0].y[0, 1].item())
    assert dataset[1].label_mask.tolist() == [[False, True]] and dataset[1].y[0, 1].item() == 0.0
    random = dataset.splits("random", seed=0)
    assert sorted(torch.cat(list(random.values())).tolist()) == [0, 1, 2]
    with pytest.raises(ValueError, match="split kind"):
        dataset.splits("temporal")


def test_empty_smiles_rows_are_skipped_counted_and_reported(tmp_path):
    header = ["smiles", "FDA_APPROVED", "CT_TOX"]
    rows = [["CCO", "1", "0"], ["", "0", "1"], ["c1ccccc1", "1", "0"]]
    _write_csv(tmp_path / "moleculenet" / "clintox.csv.gz", header, rows)
    with pytest.warns(UserWarning, match=r"skipped 1 of 3 rows of clintox.csv.gz whose SMILES is empty or unparsable"):
        dataset = MoleculeNet("clintox", root=tmp_path, download=False)
    assert len(dataset) == 2 and dataset.invalid_smiles == [""] and dataset.smiles == ["CCO", "c1ccccc1"]
    assert min(g.num_nodes for g in dataset) > 0
    # A label that is not a number is named with its line, not a raw float() error.
    _write_csv(tmp_path / "bad" / "moleculenet" / "clintox.csv.gz", header, rows[:1] + [["CC", "yes", "0"]])
    with pytest.raises(DatasetError, match=r"clintox.csv.gz line 3: the label 'yes' of task 'FDA_APPROVED' is not a number"):
        MoleculeNet("clintox", root=tmp_path / "bad", download=False)
    # No usable row at all: a DatasetError, not a torch.cat error.
    _write_csv(tmp_path / "none" / "moleculenet" / "clintox.csv.gz", header, [["", "1", "0"], ["C1CC", "0", "0"]])
    with pytest.raises(DatasetError, match="none of the 2 SMILES is a parsable molecule"):
        MoleculeNet("clintox", root=tmp_path / "none", download=False)


def test_dataset_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown MoleculeNet"):
        MoleculeNet("qm7", root=tmp_path)
    with pytest.raises(DatasetError, match="BBBP.csv"):
        MoleculeNet("bbbp", root=tmp_path, download=False)
    _write_csv(tmp_path / "moleculenet" / "BBBP.csv", ["name", "p_np"], [["x", "1"]])
    with pytest.raises(DatasetError, match="SMILES column"):
        MoleculeNet("bbbp", root=tmp_path, download=False)
    _write_csv(tmp_path / "moleculenet" / "bace.csv", ["mol", "pIC50"], [["CCO", "1"]])
    with pytest.raises(DatasetError, match="Class"):
        MoleculeNet("bace", root=tmp_path, download=False)


SMILES = ["CC(=O)Oc1ccccc1C(=O)O", "C[C@H](N)C(=O)O", "[Na+].[Cl-]", "c1ccncc1", "C"]
LABELS = [1.0, 0.0, float("nan"), 1.0, 0.0]


def _write_gz(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as handle:
        handle.write("".join(line + "\n" for line in lines))


def _write_ogb_folder(folder):
    """OGB's released layout, made the way OGB made it: smiles2graph, one row per bond."""
    graphs = [from_smiles(s) for s in SMILES]
    edges, node_feat, edge_feat = [], [], []
    for graph in graphs:
        edges += [f"{a},{b}" for a, b in graph.edge_index[:, 0::2].T.tolist()]
        node_feat += [",".join(map(str, row)) for row in graph.x.tolist()]
        edge_feat += [",".join(map(str, row)) for row in graph.edge_attr[0::2].tolist()]
    _write_gz(folder / "raw" / "edge.csv.gz", edges)
    _write_gz(folder / "raw" / "node-feat.csv.gz", node_feat)
    _write_gz(folder / "raw" / "edge-feat.csv.gz", edge_feat)
    _write_gz(folder / "raw" / "num-node-list.csv.gz", [str(g.num_nodes) for g in graphs])
    _write_gz(folder / "raw" / "num-edge-list.csv.gz", [str(g.num_edges // 2) for g in graphs])
    _write_gz(folder / "raw" / "graph-label.csv.gz", ["" if math.isnan(v) else str(int(v)) for v in LABELS])
    _write_gz(folder / "mapping" / "mol.csv.gz", ["HIV_active,smiles,mol_id"] +
              [f"{'' if math.isnan(v) else int(v)},{s},{i}" for i, (v, s) in enumerate(zip(LABELS, SMILES))])
    for part, index in (("train", [0, 1, 2]), ("valid", [3]), ("test", [4])):
        _write_gz(folder / "split" / "scaffold" / f"{part}.csv.gz", [str(i) for i in index])
    return graphs


def test_reads_ogb_released_format(tmp_path):
    graphs = _write_ogb_folder(tmp_path / "ogb" / "ogbg_molhiv")
    dataset = OGBMolDataset("ogbg-molhiv", root=tmp_path, download=False)
    assert dataset.source == "ogb-files" and len(dataset) == 5 and dataset.num_tasks == 1
    for ours, reference in zip(dataset, graphs):
        assert torch.equal(ours.x, reference.x)
        assert torch.equal(ours.edge_index, reference.edge_index)
        assert torch.equal(ours.edge_attr, reference.edge_attr)
    assert dataset[2].label_mask.tolist() == [[False]] and dataset[3].y.tolist() == [[1.0]]
    assert dataset[1].smiles == SMILES[1]
    split = dataset.splits()
    assert split["train"].tolist() == [0, 1, 2] and split["val"].tolist() == [3] and split["test"].tolist() == [4]


def test_builds_from_moleculenet_csv_when_ogb_files_are_absent(tmp_path):
    _write_csv(tmp_path / "moleculenet" / "HIV.csv", ["smiles", "activity", "HIV_active"],
               [[s, "CI", "" if math.isnan(v) else int(v)] for s, v in zip(SMILES, LABELS)])
    # the sha256 of the real HIV.csv is pinned; this tiny file must be refused...
    with pytest.raises(DatasetError, match="sha256"):
        OGBMolDataset("ogbg-molhiv", root=tmp_path, download=False)


def test_csv_fallback_and_evaluator(tmp_path, monkeypatch):
    import geoconv.datasets.moleculenet as moleculenet

    spec = moleculenet.SPECS["hiv"]
    monkeypatch.setitem(moleculenet.SPECS, "hiv", moleculenet.MoleculeNetSpec(
        spec.file, spec.smiles_column, spec.tasks, spec.task_type, None, (), spec.ogb_name))
    _write_csv(tmp_path / "moleculenet" / "HIV.csv", ["smiles", "activity", "HIV_active"],
               [[s, "CI", "" if math.isnan(v) else int(v)] for s, v in zip(SMILES, LABELS)])
    dataset = OGBMolDataset("ogbg-molhiv", root=tmp_path, download=False)
    assert dataset.source == "moleculenet-csv" and len(dataset) == 5
    for ours, smiles in zip(dataset, SMILES):
        reference = from_smiles(smiles)
        assert torch.equal(ours.x, reference.x) and torch.equal(ours.edge_attr, reference.edge_attr)
    split = dataset.splits()
    assert sorted(torch.cat(list(split.values())).tolist()) == [0, 1, 2, 3, 4]
    # OGB's Evaluator: ROC-AUC over the labelled molecules, with the network switched off
    import urllib.request

    def no_network(*args, **kwargs):
        raise AssertionError("the evaluator tried to download")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    scores = torch.tensor([[0.9], [0.2], [0.5], [0.4], [0.3]])
    labelled = [0, 1, 3, 4]
    expected = roc_auc_score(np.array(LABELS)[labelled], scores[labelled, 0].numpy())
    assert dataset.evaluate(dataset.y, scores) == pytest.approx(expected)
    assert dataset.eval_metric == "rocauc"


def test_ogb_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown OGB"):
        OGBMolDataset("ogbg-ppa", root=tmp_path)
    with pytest.raises(ValueError, match="source"):
        OGBMolDataset("ogbg-molhiv", root=tmp_path, source="zenodo")
    with pytest.raises(DatasetError, match="hiv.zip"):
        OGBMolDataset("ogbg-molhiv", root=tmp_path, source="ogb", download=False)
    folder = tmp_path / "ogb" / "ogbg_molhiv"
    _write_ogb_folder(folder)
    _write_gz(folder / "raw" / "num-node-list.csv.gz", ["1"])
    with pytest.raises(DatasetError, match="num-node-list"):
        OGBMolDataset("ogbg-molhiv", root=tmp_path, download=False)
