"""One split API (issue 22 item 5): ``dataset.splits(...)`` -> ``{"train", "val", "test"}`` index tensors everywhere,
``root`` keyword-only in every loader, QM9 a GraphDataset with a transform."""

from __future__ import annotations

import inspect
import zipfile

import pytest
import torch

import geoconv.datasets as datasets
from geoconv.datasets import GeomGCNGraph, GraphDataset, HeterophilousGraph, MoleculeNet, ModelNet, Planetoid, QM9


def _check_format(split: dict, total: int) -> None:
    assert list(split) == ["train", "val", "test"]
    for name, index in split.items():
        assert index.dtype == torch.long and index.dim() == 1, name
        assert index.numel() == 0 or (0 <= int(index.min()) and int(index.max()) < total), name
    everything = torch.cat(list(split.values()))
    assert everything.unique().numel() == everything.numel()  # disjoint, no repeats


def test_every_loader_takes_root_keyword_only():
    loaders = [getattr(datasets, name) for name in datasets.__all__]
    loaders = [cls for cls in loaders if isinstance(cls, type) and cls.__module__.startswith("geoconv.datasets.")]
    checked = 0
    for cls in loaders:
        parameters = inspect.signature(cls.__init__).parameters
        if "root" in parameters:
            assert parameters["root"].kind is inspect.Parameter.KEYWORD_ONLY, cls.__name__
            checked += 1
    assert checked >= 14


def test_planetoid_splits_are_the_public_masks(shared_data):
    cora = Planetoid("cora", root=shared_data, download=False)
    split = cora.splits()
    _check_format(split, cora.num_nodes)
    assert [split[k].numel() for k in ("train", "val", "test")] == [140, 500, 1000]
    for name in ("train", "val", "test"):
        assert torch.equal(split[name], getattr(cora, f"{name}_mask").nonzero().view(-1))
    with pytest.raises(IndexError, match="split 1 out of range: the graph has 1 split"):
        cora.splits(1)


@pytest.mark.parametrize("loader", [GeomGCNGraph, HeterophilousGraph])
def test_ten_split_graphs_give_split_k(shared_data, loader):
    texas = loader("texas", root=shared_data, download=False)
    for k in (0, 7):
        split = texas.splits(k)
        _check_format(split, texas.num_nodes)
        one = texas.with_split(k)
        for name in ("train", "val", "test"):
            assert torch.equal(split[name], getattr(one, f"{name}_mask").nonzero().view(-1)), (k, name)
    assert not torch.equal(texas.splits(0)["train"], texas.splits(7)["train"])
    with pytest.raises(IndexError, match="split 10 out of range"):
        texas.splits(10)


def test_moleculenet_scaffold_and_random_splits_share_the_keys(shared_data):
    esol = MoleculeNet("esol", root=shared_data)
    scaffold = esol.splits("scaffold")
    _check_format(scaffold, len(esol))
    assert [scaffold[k].numel() for k in ("train", "val", "test")] == [902, 113, 113]
    random = esol.splits("random", seed=3)
    _check_format(random, len(esol))
    assert not torch.equal(random["test"], esol.splits("random", seed=4)["test"])


def test_qm9_is_a_graph_dataset_with_transform(shared_data):
    def mark(graph):
        return graph.replace(pos=graph.pos * 0 + 7)

    qm9 = QM9(root=shared_data, max_molecules=40, transform=mark)
    assert isinstance(qm9, GraphDataset)
    split = qm9.splits()
    _check_format(split, len(qm9))
    assert torch.all(qm9[0].pos == 7)
    val = qm9[split["val"]]
    assert isinstance(val, GraphDataset) and len(val) == split["val"].numel()
    assert torch.all(val[0].pos == 7)  # the subset keeps the transform
    assert int(val[0].index) == int(qm9.index[split["val"][0]])
    with pytest.raises(ValueError, match="only the 'random' split"):
        qm9.splits("scaffold")


TETRA = "OFF\n4 4 0\n0 0 0\n2 0 0\n0 2 0\n0 0 2\n3 0 2 1\n3 0 1 3\n3 0 3 2\n3 1 2 3\n"


def test_released_train_test_sets_load_all_and_split_by_part(tmp_path):
    archive = tmp_path / "modelnet" / "ModelNet10.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w") as bundle:
        for member in ("chair/train/a.off", "chair/train/b.off", "chair/test/c.off", "bed/train/d.off", "bed/test/e.off"):
            bundle.writestr(f"ModelNet10/{member}", TETRA)
    both = ModelNet("10", "all", root=tmp_path, num_points=16)
    train = ModelNet("10", "train", root=tmp_path, num_points=16)
    test = ModelNet("10", "test", root=tmp_path, num_points=16)
    split = both.splits()
    _check_format(split, len(both))
    assert split["train"].tolist() == [0, 1, 2] and split["val"].numel() == 0 and split["test"].tolist() == [3, 4]
    torch.testing.assert_close(both[int(split["test"][1])].pos, test[1].pos)
    assert both.num_classes == 2 and both.split == "all"
    assert train.splits()["train"].tolist() == [0, 1, 2] and train.splits()["test"].numel() == 0
    assert test.splits()["test"].tolist() == [0, 1]
