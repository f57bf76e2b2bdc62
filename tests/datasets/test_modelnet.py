"""ModelNet (.off archive and HDF5 release), ShapeNetPart and the offline SampledShapes, on small files written here."""

from __future__ import annotations

import io
import zipfile

import h5py
import numpy as np
import pytest
import torch

from geoconv.data import Batch
from geoconv.datasets import DatasetError
from geoconv.datasets import modelnet as modelnet_module
from geoconv.datasets.modelnet import ModelNet, ModelNetHDF5
from geoconv.datasets.sampled_shapes import CLASSES, SampledShapes
from geoconv.datasets.shapenet_part import ShapeNetPart, category_parts
from geoconv.models import DGCNNSegmentation

TETRA = "OFF\n4 4 0\n0 0 0\n2 0 0\n0 2 0\n0 0 2\n3 0 2 1\n3 0 1 3\n3 0 3 2\n3 1 2 3\n"
# ModelNet files sometimes glue the counts to the keyword; and a quad face.
SQUARE = "OFF4 1 0\n0 0 0\n1 0 0\n1 1 0\n0 1 0\n4 0 1 2 3\n"


def _write_off_zip(path, name="10"):
    path.parent.mkdir(parents=True, exist_ok=True)
    files = {
        f"ModelNet{name}/chair/train/chair_0001.off": TETRA,
        f"ModelNet{name}/chair/train/chair_0002.off": SQUARE,
        f"ModelNet{name}/chair/test/chair_0003.off": TETRA,
        f"ModelNet{name}/bed/train/bed_0001.off": SQUARE,
        f"ModelNet{name}/bed/test/bed_0002.off": SQUARE,
    }
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)


def _h5_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        for key, value in arrays.items():
            handle.create_dataset(key, data=value)
    return buffer.getvalue()


def test_modelnet_off_archive(tmp_path, monkeypatch):
    _write_off_zip(tmp_path / "modelnet" / "ModelNet10.zip")
    train = ModelNet("10", "train", root=tmp_path, num_points=64)
    test = ModelNet("10", "test", root=tmp_path, num_points=64)
    assert train.classes == ["bed", "chair"] and train.num_classes == 2
    assert len(train) == 3 and len(test) == 2
    assert sorted(int(g.y) for g in train) == [0, 1, 1]
    for graph in train:
        assert graph.pos.shape == (64, 3) and graph.normal.shape == (64, 3)
        assert abs(graph.pos.norm(dim=1).max().item() - 1) < 1e-5
        torch.testing.assert_close(graph.pos.mean(0), torch.zeros(3), atol=1e-5, rtol=0)
    square = [g for g in train if int(g.y) == 0][0]
    assert square.pos[:, 2].abs().max().item() < 1e-6  # the flat square stays flat
    # Deterministic: a load from the cache, and a fresh build in an empty cache, give the same points.
    cached_load = ModelNet("10", "train", root=tmp_path, num_points=64)
    monkeypatch.setenv("GEOCONV_CACHE", str(tmp_path / "another_cache"))
    rebuilt = ModelNet("10", "train", root=tmp_path, num_points=64)
    assert (tmp_path / "another_cache").is_dir()  # really built again, not read from the first cache
    for i in range(len(train)):
        torch.testing.assert_close(cached_load[i].pos, train[i].pos, atol=0, rtol=0)
        torch.testing.assert_close(rebuilt[i].pos, train[i].pos, atol=0, rtol=0)


def test_modelnet_download_and_extracted_folder(tmp_path, monkeypatch):
    source = tmp_path / "server" / "ModelNet40.zip"
    _write_off_zip(source, "40")
    monkeypatch.setitem(modelnet_module.OFF_URLS, "40", source.as_uri())
    root = tmp_path / "root"
    assert len(ModelNet("40", "test", root=root, num_points=16)) == 2
    assert (root / "modelnet" / "ModelNet40.zip").is_file()
    # An extracted folder is read instead of the archive.
    folder = tmp_path / "extracted" / "modelnet" / "ModelNet40" / "sofa" / "train"
    folder.mkdir(parents=True)
    (folder / "sofa_0001.off").write_text(TETRA)
    extracted = ModelNet("40", "train", root=tmp_path / "extracted", num_points=8)
    assert extracted.classes == ["sofa"] and len(extracted) == 1
    monkeypatch.setitem(modelnet_module.OFF_URLS, "10", (tmp_path / "missing.zip").as_uri())
    with pytest.raises(DatasetError, match="could not download"):
        ModelNet("10", root=tmp_path / "empty")


def test_modelnet_hdf5_release(tmp_path):
    generator = np.random.default_rng(0)
    clouds = generator.standard_normal((5, 2048, 3)).astype(np.float32)
    normals = generator.standard_normal((5, 2048, 3)).astype(np.float32)
    labels = np.array([[3], [1], [0], [2], [39]], dtype=np.uint8)
    path = tmp_path / "modelnet" / "modelnet40_ply_hdf5_2048.zip"
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(path, "w") as archive:
        prefix = "modelnet40_ply_hdf5_2048/"
        # train files 0 and 1 (written in reverse order: the loader sorts by number), test file 0.
        archive.writestr(prefix + "ply_data_train1.h5", _h5_bytes(data=clouds[2:4], label=labels[2:4], normal=normals[2:4]))
        archive.writestr(prefix + "ply_data_train0.h5", _h5_bytes(data=clouds[:2], label=labels[:2], normal=normals[:2]))
        archive.writestr(prefix + "ply_data_test0.h5", _h5_bytes(data=clouds[4:], label=labels[4:], normal=normals[4:]))
        archive.writestr(prefix + "shape_names.txt", "\n".join(f"class{i}" for i in range(40)) + "\n")
    train = ModelNetHDF5("train", root=tmp_path, num_points=1024)
    assert len(train) == 4 and train.num_classes == 40
    assert [int(g.y) for g in train] == [3, 1, 0, 2]
    torch.testing.assert_close(train[2].pos, torch.from_numpy(clouds[2, :1024]))
    torch.testing.assert_close(train[2].normal, torch.from_numpy(normals[2, :1024]))
    test = ModelNetHDF5("test", root=tmp_path, num_points=2048)
    assert len(test) == 1 and int(test[0].y) == 39 and test[0].pos.shape == (2048, 3)
    with pytest.raises(ValueError, match="num_points must be in 1..2048"):
        ModelNetHDF5("train", root=tmp_path, num_points=4096)
    with pytest.raises(ValueError, match="split must be one of"):
        ModelNetHDF5("validation", root=tmp_path)


def test_hdf5_release_with_a_non_finite_point_is_refused(tmp_path):
    clouds = np.zeros((2, 16, 3), dtype=np.float32)
    clouds[1, 7, 2] = np.nan
    path = tmp_path / "modelnet" / "modelnet40_ply_hdf5_2048.zip"
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(path, "w") as archive:
        prefix = "modelnet40_ply_hdf5_2048/"
        archive.writestr(prefix + "ply_data_train0.h5", _h5_bytes(data=clouds, label=np.array([[0], [1]], np.uint8)))
        archive.writestr(prefix + "ply_data_test0.h5", b"not an hdf5 file")
    with pytest.raises(DatasetError, match=r"ply_data_train0.h5: 'data' of cloud 1 holds a non-finite value at point 7"):
        ModelNetHDF5("train", root=tmp_path, num_points=16)
    with pytest.raises(DatasetError, match=r"ply_data_test0.h5 is not a readable HDF5 file"):
        ModelNetHDF5("test", root=tmp_path, num_points=16)


def test_shapenet_part_release_feeds_segmentation(tmp_path):
    generator = np.random.default_rng(1)
    path = tmp_path / "shapenet_part" / "shapenet_part_seg_hdf5_data.zip"
    path.parent.mkdir(parents=True)
    content = {}
    for split, count, category in (("train0", 2, 0), ("val0", 1, 15), ("test0", 2, 4)):
        parts = np.array(list(category_parts(category)))
        content[split] = dict(
            data=generator.standard_normal((count, 2048, 3)).astype(np.float32),
            label=np.full((count, 1), category, dtype=np.uint8),
            pid=generator.choice(parts, size=(count, 2048)).astype(np.uint8),
        )
    with zipfile.ZipFile(path, "w") as archive:
        for split, arrays in content.items():
            archive.writestr(f"hdf5_data/ply_data_{split}.h5", _h5_bytes(**arrays))
    trainval = ShapeNetPart("trainval", root=tmp_path, num_points=128)
    assert len(trainval) == 3 and [int(g.category) for g in trainval] == [0, 0, 15]
    assert trainval[2].y.shape == (128,) and set(trainval[2].y.tolist()) <= set(category_parts(15))
    assert list(category_parts(15)) == [47, 48, 49] and ShapeNetPart.num_classes == 50
    test = ShapeNetPart("test", root=tmp_path, num_points=64)
    torch.testing.assert_close(test[1].pos, torch.from_numpy(content["test0"]["data"][1, :64]))
    model = DGCNNSegmentation(3, 64, 50, num_categories=16, k=8, embedding_channels=32).eval()
    assert model(Batch.from_graphs(list(test))).shape == (128, 50)


def test_sampled_shapes_offline(shared_data):
    train = SampledShapes("train", root=shared_data, num_points=64, per_class=2)
    test = SampledShapes("test", root=shared_data, num_points=64, per_class=1)
    assert len(train) == 2 * len(CLASSES) and len(test) == len(CLASSES)
    assert [int(g.y) for g in test] == list(range(len(CLASSES)))
    assert train.sources["bunny"].startswith("real mesh") and train.sources["torus"] == "procedural"
    for graph in train:
        assert graph.pos.shape == (64, 3)
        assert abs(graph.pos.norm(dim=1).max().item() - 1) < 1e-5
    assert not torch.allclose(train[0].pos, test[0].pos)  # disjoint random instances
    with pytest.raises(ValueError, match="split must be"):
        SampledShapes("val", root=shared_data)
