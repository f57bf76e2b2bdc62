"""Damaged downloads, archives and caches (issue 25 items 1-2): a clear DatasetError, nothing half-done accepted.

Each test here reproduces one finding: before the fix, a truncated ``cubes.tar.gz`` raised a raw EOFError
and the next load returned the half-extracted meshes; a garbage ModelNet zip raised ``BadZipFile``, a garbage
QM9 archive ``tarfile.ReadError``; two extracted ModelNet folders with the same number of files shared
one cache entry.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import tarfile
import zipfile

import pytest
import torch

from geoconv.data.mesh_io import write_obj
from geoconv.datasets import DatasetError, OGBMolDataset, RemoteFile, cached, read_text
from geoconv.datasets import mesh_datasets, qm9
from geoconv.datasets.mesh_datasets import MeshClassificationDataset
from geoconv.datasets.mesh_shapes import icosphere
from geoconv.datasets.modelnet import ModelNet
from geoconv.datasets.moleculenet import MoleculeNet

TETRA = "OFF\n4 4 0\n0 0 0\n2 0 0\n0 2 0\n0 0 2\n3 0 2 1\n3 0 1 3\n3 0 3 2\n3 1 2 3\n"
SQUAT = "OFF\n4 4 0\n0 0 0\n5 0 0\n0 1 0\n0 0 1\n3 0 2 1\n3 0 1 3\n3 0 3 2\n3 1 2 3\n"


def _truncate(path, fraction: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def _cubes_archive(path, meshes_per_split: int = 6) -> None:
    """A cubes.tar.gz in MeshCNN's layout; noisy vertex data so that gzip cannot squeeze it to nothing."""
    generator = torch.Generator().manual_seed(0)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in ("apple", "bat"):
            for split in ("train", "test"):
                for i in range(meshes_per_split):
                    pos, face = icosphere(2)
                    pos = pos * (1 + 0.05 * torch.rand(pos.shape[0], 1, generator=generator, dtype=pos.dtype))
                    text = io.StringIO()
                    text.write("".join(f"v {x:.9f} {y:.9f} {z:.9f}\n" for x, y, z in pos.tolist()))
                    text.write("".join(f"f {a + 1} {b + 1} {c + 1}\n" for a, b, c in face.tolist()))
                    data = text.getvalue().encode()
                    info = tarfile.TarInfo(f"cubes/{name}/{split}/{name}_{i}.obj")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def test_truncated_mesh_archive_raises_and_leaves_nothing_a_later_load_accepts(tmp_path):
    root = tmp_path / "root"
    archive = root / "meshcnn" / "cubes.tar.gz"
    _cubes_archive(archive)
    _truncate(archive, 0.6)
    for attempt in range(2):  # the second load must fail the same way, not read a half-extracted folder
        with pytest.raises(DatasetError, match=r"cannot extract .*cubes\.tar\.gz: it is truncated") as error:
            MeshClassificationDataset("cubes", "train", root=root, download=False)
        assert "Delete it so that it is downloaded again" in str(error.value)
        assert sorted(p.name for p in (root / "meshcnn").iterdir()) == ["cubes.tar.gz"], attempt
    # The complete archive then loads in full.
    _cubes_archive(archive)
    assert len(MeshClassificationDataset("cubes", "train", root=root, download=False)) == 12


def test_half_extracted_mesh_folder_is_not_accepted(tmp_path):
    # A folder left by an older, non-atomic extraction: one class lost its test meshes.
    for name, splits in (("apple", ("train", "test")), ("bat", ("train",))):
        for split in splits:
            out = tmp_path / "meshcnn" / "cubes" / name / split
            out.mkdir(parents=True)
            write_obj(out / "m.obj", *icosphere(1))
    with pytest.raises(DatasetError, match=r"incomplete or not a MeshCNN dataset: bat/test/ holds no meshes"):
        MeshClassificationDataset("cubes", "train", root=tmp_path, download=False)


@pytest.mark.parametrize("kind", ["tar", "tar.gz", "tar.xz", "tar.bz2", "zip", "garbage"])
def test_extract_archive_is_atomic_for_every_format(tmp_path, kind):
    from geoconv.datasets.base import extract_archive

    members = {f"data/part{i}.txt": os.urandom(3000) for i in range(4)}
    archive = tmp_path / f"data.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for name, data in members.items():
                bundle.writestr(name, data)
    elif kind == "garbage":
        archive.write_bytes(b"<html>not found</html>" * 50)
    else:
        mode = {"tar": "w", "tar.gz": "w:gz", "tar.xz": "w:xz", "tar.bz2": "w:bz2"}[kind]
        with tarfile.open(archive, mode) as tar:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    target = tmp_path / "out" / "data"
    if kind != "garbage":
        extract_archive(archive, {"data": target})
        assert sorted(p.name for p in target.iterdir()) == [f"part{i}.txt" for i in range(4)]
        target.rename(tmp_path / "first")
        _truncate(archive, 0.6)
    with pytest.raises(DatasetError, match=rf"cannot extract .*data\.{kind}: it is truncated, damaged or not"):
        extract_archive(archive, {"data": target}, source="https://example.invalid/data")
    assert not target.exists() and list((tmp_path / "out").iterdir()) == []  # no staging folder left either


@pytest.mark.parametrize("suffix, opener", [(".gz", gzip.open), (".xz", lzma.open), (".bz2", bz2.open)])
def test_truncated_compressed_file_is_a_dataset_error(tmp_path, suffix, opener):
    path = tmp_path / f"table.csv{suffix}"
    with opener(path, "wb") as handle:
        handle.write(os.urandom(20000).hex().encode())
    _truncate(path, 0.6)
    with pytest.raises(DatasetError, match=rf"table\.csv{suffix} is damaged or not a valid"):
        read_text(path)
    path.write_bytes(b"garbage, not compressed at all")
    with pytest.raises(DatasetError, match="is damaged"):
        read_text(path)


def test_truncated_moleculenet_csv_gz_is_a_dataset_error(tmp_path):
    path = tmp_path / "moleculenet" / "BBBP.csv.gz"
    path.parent.mkdir(parents=True)
    rows = "".join(f"{i},name{i},{i % 2},{'C' * (1 + i % 7)}O\n" for i in range(3000))
    path.write_bytes(gzip.compress(("num,name,p_np,smiles\n" + rows).encode()))
    _truncate(path, 0.5)
    with pytest.raises(DatasetError, match=r"BBBP\.csv\.gz is damaged"):
        MoleculeNet("bbbp", root=tmp_path, download=False)


def test_garbage_modelnet_zip_is_a_dataset_error(tmp_path):
    archive = tmp_path / "modelnet" / "ModelNet10.zip"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"PK garbage " * 100)
    with pytest.raises(DatasetError, match=r"ModelNet10\.zip is damaged or not a valid \.zip file"):
        ModelNet("10", "train", root=tmp_path)


def test_modelnet_zip_with_a_corrupt_member_is_a_dataset_error(tmp_path):
    archive = tmp_path / "modelnet" / "ModelNet10.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as bundle:
        bundle.writestr("ModelNet10/chair/train/chair_0001.off", TETRA)
    data = bytearray(archive.read_bytes())
    at = data.index(b"0 2 0\n")
    data[at:at + 5] = b"9 9 9"  # same length: the zip still opens, the member's CRC no longer matches
    archive.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match="is damaged"):
        ModelNet("10", "train", root=tmp_path, num_points=8)


def test_garbage_qm9_archive_is_a_dataset_error(tmp_path):
    folder = tmp_path / "qm9"
    folder.mkdir()
    (folder / "dsgdb9nsd.xyz.tar.bz2").write_bytes(b"garbage" * 200)
    (folder / "uncharacterized.txt").write_text("header\n")
    with pytest.raises(DatasetError, match=r"dsgdb9nsd\.xyz\.tar\.bz2 is damaged .* complete copy from https://"):
        qm9.QM9(root=tmp_path, download=False)


def test_garbage_ogb_zip_is_a_dataset_error_and_leaves_no_folder(tmp_path):
    archive = tmp_path / "ogb" / "hiv.zip"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"garbage" * 100)
    with pytest.raises(DatasetError, match=r"cannot extract .*hiv\.zip"):
        OGBMolDataset("ogbg-molhiv", root=tmp_path, source="ogb")
    assert sorted(p.name for p in archive.parent.iterdir()) == ["hiv.zip"]
    # a zip without OGB's layout is refused before anything is moved into place
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("hiv/raw/edge.csv.gz", gzip.compress(b"0,1\n"))
    with pytest.raises(DatasetError, match=r"is not OGB's hiv\.zip: hiv/ lacks raw/node-feat\.csv\.gz"):
        OGBMolDataset("ogbg-molhiv", root=tmp_path, source="ogb")
    assert sorted(p.name for p in archive.parent.iterdir()) == ["hiv.zip"]


def _modelnet_folder(root, text: str) -> None:
    for cls in ("bed", "chair"):
        folder = root / "modelnet" / "ModelNet10" / cls / "train"
        folder.mkdir(parents=True)
        (folder / f"{cls}_0001.off").write_text(text)


def test_two_modelnet_folders_with_the_same_file_count_do_not_share_a_cache(tmp_path):
    _modelnet_folder(tmp_path / "a", TETRA)
    _modelnet_folder(tmp_path / "b", SQUAT)
    first = ModelNet("10", "train", root=tmp_path / "a", num_points=32)
    second = ModelNet("10", "train", root=tmp_path / "b", num_points=32)
    # SQUAT is 5 long in x, TETRA symmetric: the unit-sphere clouds differ in their x extent
    assert float(second[0].pos[:, 0].abs().max()) > float(first[0].pos[:, 0].abs().max()) + 0.1
    # and a file edited in place (same count, same names) is rebuilt too
    edited = tmp_path / "a" / "modelnet" / "ModelNet10" / "bed" / "train" / "bed_0001.off"
    edited.write_text(SQUAT + "\n")
    again = ModelNet("10", "train", root=tmp_path / "a", num_points=32)
    torch.testing.assert_close(again[0].pos, second[0].pos)


def test_cache_key_holds_the_options_and_a_corrupt_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOCONV_CACHE", str(tmp_path / "cache"))
    raw = tmp_path / "raw.txt"
    raw.write_text("3")
    builds = []

    def build(scale):
        builds.append(scale)
        return torch.tensor([int(raw.read_text()) * scale])

    assert cached("demo", [raw], lambda: build(1), options={"scale": 1}).item() == 3
    assert cached("demo", [raw], lambda: build(2), options={"scale": 2}).item() == 6
    assert cached("demo", [raw], lambda: build(2), options={"scale": 2}).item() == 6
    assert builds == [1, 2]
    (tmp_path / "cache" / "demo.pt").write_bytes(b"not a torch file")
    assert cached("demo", [raw], lambda: build(2), options={"scale": 2}).item() == 6
    assert builds == [1, 2, 2]
    with pytest.raises(ValueError, match="no raw files given"):
        cached("demo", [], lambda: build(2))


def test_offline_environment_variable_stops_every_download(tmp_path, monkeypatch):
    from geoconv.datasets import fetch

    source = tmp_path / "server" / "file.txt"
    source.parent.mkdir()
    source.write_text("x")
    monkeypatch.setenv("GEOCONV_OFFLINE", "1")
    with pytest.raises(DatasetError, match=r"demo/file\.txt is not under the data root .*downloads are off"):
        fetch(RemoteFile("demo/file.txt", source.as_uri()), tmp_path / "root")
    assert not (tmp_path / "root" / "demo" / "file.txt").exists()
    # the same through a loader whose download option is on (MoleculeNet BBBP: no local copy)
    with pytest.raises(DatasetError, match=r"BBBP\.csv is not under the data root .*downloads are off"):
        MoleculeNet("bbbp", root=tmp_path / "root")
    monkeypatch.setitem(mesh_datasets.MESHCNN_ARCHIVES, "cubes", RemoteFile("meshcnn/cubes.tar.gz", source.as_uri()))
    with pytest.raises(DatasetError, match="downloads are off"):
        MeshClassificationDataset("cubes", root=tmp_path / "root")
    monkeypatch.delenv("GEOCONV_OFFLINE")
    assert fetch(RemoteFile("demo/file.txt", source.as_uri()), tmp_path / "root").read_text() == "x"


def test_every_missing_planetoid_file_is_listed(tmp_path, monkeypatch):
    from geoconv.datasets import Planetoid

    monkeypatch.setenv("GEOCONV_OFFLINE", "1")
    with pytest.raises(DatasetError) as error:
        Planetoid("cora", root=tmp_path)
    message = str(error.value)
    for part in ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index"):
        assert f"planetoid/ind.cora.{part} (missing" in message, part
    assert message.count("\n") < 12  # one line per file, not a traceback's worth


def test_qm9_csv_is_pinned_so_a_short_copy_is_refused(tmp_path, shared_data):
    # A well-formed but cut qm9.csv.xz (the header and two molecules) used to load as a 2-molecule QM9.
    with lzma.open(shared_data / "qm9" / "qm9.csv.xz", "rt") as handle:
        head = "".join(next(handle) for _ in range(3))
    (tmp_path / "qm9").mkdir()
    with lzma.open(tmp_path / "qm9" / "qm9.csv.xz", "wt") as handle:
        handle.write(head)
    with pytest.raises(DatasetError, match=r"qm9\.csv\.xz is corrupt: sha256 .* does not match the expected 689343c6"):
        qm9.QM9(root=tmp_path, download=False)
