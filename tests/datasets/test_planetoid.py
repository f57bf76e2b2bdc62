import pickle
import shutil
from collections import defaultdict

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from geoconv.datasets import DatasetError, Planetoid
from geoconv.ops import is_undirected


def test_cora_public_split(shared_data):
    cora = Planetoid("cora", root=shared_data, download=False)
    assert cora.num_nodes == 2708 and cora.x.shape == (2708, 1433) and cora.num_classes == 7
    assert cora.num_edges == 10556  # each of the 5,278 undirected edges in both directions
    assert is_undirected(cora.edge_index)
    assert not (cora.edge_index[0] == cora.edge_index[1]).any()
    assert [int(m.sum()) for m in (cora.train_mask, cora.val_mask, cora.test_mask)] == [140, 500, 1000]
    assert torch.equal(cora.train_mask.nonzero().view(-1), torch.arange(140))
    assert not (cora.train_mask & cora.test_mask).any()
    assert cora.y.bincount().tolist() == [351, 217, 418, 818, 426, 298, 180]
    assert set(cora.x.unique().tolist()) == {0.0, 1.0}
    assert cora[0] is cora and len(cora) == 1


def test_pubmed_without_allx_is_a_clear_error(shared_data):
    with pytest.raises(DatasetError, match=r"Planetoid pubmed needs planetoid/ind\.pubmed\.allx: .* is not under the data root"):
        Planetoid("pubmed", root=shared_data, download=False)


def test_unknown_name():
    with pytest.raises(ValueError, match="unknown Planetoid dataset 'cora2'"):
        Planetoid("cora2")


def write_planetoid(folder, name: str, test_index: list[int]) -> None:
    """A tiny dataset in the original format (scipy pickles, protocol 2)."""
    rng = np.random.default_rng(0)
    num_train, num_all = 2, 4  # x/y: 2 labelled, allx/ally: 4 (incl. unlabelled)
    features = lambda n: sp.csr_matrix(rng.integers(0, 2, (n, 3)).astype(np.float32))  # noqa: E731
    labels = lambda n: np.eye(2)[rng.integers(0, 2, n)]  # noqa: E731
    num_test = len(test_index)
    parts = {
        "x": features(num_train), "allx": features(num_all), "tx": features(num_test),
        "y": labels(num_train), "ally": labels(num_all), "ty": labels(num_test),
    }
    total = num_all + (max(test_index) - min(test_index) + 1)
    graph = defaultdict(list)
    for node in range(total - 1):
        graph[node].append(node + 1)
    parts["graph"] = graph
    folder.mkdir(parents=True, exist_ok=True)
    for part, value in parts.items():
        with open(folder / f"ind.{name}.{part}", "wb") as handle:
            pickle.dump(value, handle, protocol=2)
    (folder / f"ind.{name}.test.index").write_text("\n".join(map(str, test_index)) + "\n")
    return parts


def test_citeseer_isolated_test_nodes_get_zero_rows(tmp_path, monkeypatch):
    # Test indices 4, 6, 7: node 5 is missing from the test files, as CiteSeer's isolated nodes are.
    parts = write_planetoid(tmp_path / "planetoid", "citeseer", [7, 4, 6])
    data = Planetoid("citeseer", root=tmp_path, download=False)
    assert data.num_nodes == 8
    assert torch.equal(data.x[5], torch.zeros(3))
    # test.index lists rows of tx in order: tx row k belongs to node test_index[k] sorted position.
    tx = parts["tx"].toarray()
    sorted_nodes = [4, 6, 7]
    for row, node in enumerate(sorted_nodes):
        assert torch.equal(data.x[[7, 4, 6][row]], torch.from_numpy(tx[sorted_nodes.index(node)]))
    assert data.test_mask.nonzero().view(-1).tolist() == [4, 6, 7]
    assert data.train_mask.nonzero().view(-1).tolist() == [0, 1]


def test_corrupt_pickle_is_a_dataset_error(tmp_path):
    write_planetoid(tmp_path / "planetoid", "citeseer", [4, 5])
    (tmp_path / "planetoid" / "ind.citeseer.graph").write_bytes(b"not a pickle")
    with pytest.raises(DatasetError, match="ind.citeseer.graph is not a readable Planetoid pickle"):
        Planetoid("citeseer", root=tmp_path, download=False)


def test_cora_checksum_mismatch_is_detected(tmp_path, shared_data):
    folder = tmp_path / "planetoid"
    shutil.copytree(shared_data / "planetoid", folder, ignore=shutil.ignore_patterns("*pubmed*"))
    with open(folder / "ind.cora.y", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(DatasetError, match=r"ind\.cora\.y is corrupt"):
        Planetoid("cora", root=tmp_path, download=False)
