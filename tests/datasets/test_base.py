import gzip
import hashlib
import os
from pathlib import Path

import pytest
import torch

from geoconv.datasets import DatasetError, GraphDataset, RemoteFile, cached, data_root, fetch, read_text
from geoconv.data import Graph


def write(path: Path, content: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return hashlib.sha256(content).hexdigest()


def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("GEOCONV_DATA", str(tmp_path / "env"))
    assert data_root() == tmp_path / "env"
    assert data_root(tmp_path / "explicit") == tmp_path / "explicit"
    monkeypatch.delenv("GEOCONV_DATA")
    assert data_root() == Path.home() / ".cache" / "geoconv"


def test_download_is_verified_and_atomic(tmp_path):
    source = tmp_path / "server" / "file.txt"
    digest = write(source, b"hello graphs\n")
    root = tmp_path / "root"
    file = RemoteFile("demo/file.txt", source.as_uri(), digest)
    path = fetch(file, root)
    assert path == root / "demo" / "file.txt" and read_text(path) == "hello graphs\n"
    assert [p.name for p in (root / "demo").iterdir()] == ["file.txt"]  # no temporary left behind
    # A second fetch reads the local copy (the source may be gone).
    source.unlink()
    assert fetch(file, root) == path


def test_corrupt_download_writes_nothing(tmp_path):
    source = tmp_path / "server" / "file.txt"
    write(source, b"tampered")
    root = tmp_path / "root"
    file = RemoteFile("demo/file.txt", source.as_uri(), "0" * 64)
    with pytest.raises(DatasetError, match=r"the download of demo/file.txt from file://.* is corrupt") as error:
        fetch(file, root)
    assert "place it at" in str(error.value)
    assert not any((root / "demo").iterdir())


def test_offline_error_names_file_url_and_manual_location(tmp_path):
    root = tmp_path / "root"
    missing = (tmp_path / "nowhere" / "file.txt").as_uri()
    file = RemoteFile("demo/file.txt", missing, None)
    with pytest.raises(DatasetError) as error:
        fetch(file, root)
    message = str(error.value)
    assert "could not download demo/file.txt" in message and missing in message
    assert str(root / "demo" / "file.txt") in message
    with pytest.raises(DatasetError, match="is not under the data root"):
        fetch(file, root, download_missing=False)


def test_corrupt_local_copy_is_reported_and_left_untouched(tmp_path):
    root = tmp_path / "root"
    local = root / "demo" / "file.txt"
    write(local, b"user data")
    file = RemoteFile("demo/file.txt", "https://example.invalid/file.txt", "1" * 64)
    with pytest.raises(DatasetError, match=r"file.txt is corrupt: sha256 .* does not match the expected 1111"):
        fetch(file, root)
    assert local.read_bytes() == b"user data"


def test_compressed_local_copy_is_found_and_verified(tmp_path):
    root = tmp_path / "root"
    content = b"a\tb\n1\t2\n"
    target = root / "demo" / "table.txt.gz"
    target.parent.mkdir(parents=True)
    with gzip.open(target, "wb") as handle:
        handle.write(content)
    file = RemoteFile("demo/table.txt", "https://example.invalid/table.txt", hashlib.sha256(content).hexdigest())
    path = fetch(file, root)
    assert path == target and read_text(path) == content.decode()
    wrong = RemoteFile("demo/table.txt", "https://example.invalid/table.txt", "2" * 64)
    with pytest.raises(DatasetError, match="corrupt"):
        fetch(wrong, root)


def test_processed_cache_rebuilds_when_raw_file_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOCONV_CACHE", str(tmp_path / "cache"))
    raw = tmp_path / "raw.txt"
    raw.write_text("1")
    builds = []

    def build():
        builds.append(1)
        return {"value": torch.tensor([int(raw.read_text())])}

    assert cached("demo", [raw], build)["value"].item() == 1
    assert cached("demo", [raw], build)["value"].item() == 1
    assert len(builds) == 1
    raw.write_text("22")
    os.utime(raw, ns=(raw.stat().st_atime_ns, raw.stat().st_mtime_ns + 10**9))
    assert cached("demo", [raw], build)["value"].item() == 22
    assert len(builds) == 2
    assert cached("demo", [raw], build, version="2")["value"].item() == 22
    assert len(builds) == 3


def test_graph_dataset_indexing_and_transform():
    graphs = [Graph(x=torch.full((i + 1, 1), float(i))) for i in range(4)]
    dataset = GraphDataset(graphs, transform=lambda g: g.replace(x=g.x * 2))
    assert len(dataset) == 4 and dataset[2].x[0, 0].item() == 4.0
    subset = dataset[torch.tensor([3, 1])]
    assert len(subset) == 2 and subset[0].num_nodes == 4
    assert len(dataset[1:]) == 3
