"""MeshCNN dataset loaders on tiny archives in the released layouts, the offline shape set, and augmentations."""

from __future__ import annotations

import tarfile

import pytest
import torch

from geoconv.data.mesh import EDGE_LABELS
from geoconv.data.mesh_io import write_obj
from geoconv.data.mesh_transforms import MeshAugment, flip_edges, random_rotation_matrix, scale_vertices, slide_vertices
from geoconv.datasets import DatasetError, RemoteFile
from geoconv.datasets import mesh_datasets
from geoconv.datasets.mesh_datasets import MeshClassificationDataset, MeshSegmentationDataset
from geoconv.datasets.mesh_shapes import (
    box, close_holes, decimate, grid, icosphere, offline_shape_classes, torus,
)
from geoconv.ops.mesh import check_mesh, euler_characteristic, mesh_edge_features, mesh_topology

# many small tensor ops: one thread is much faster on a shared CPU
pytestmark = pytest.mark.usefixtures("single_thread")


def _classification_tree(base, folder, classes, per_split):
    for label, name in enumerate(classes):
        for split, count in per_split.items():
            out = base / folder / name / split
            out.mkdir(parents=True)
            for i in range(count):
                pos, face = (icosphere(1) if label == 0 else torus(6, 4))
                write_obj(out / f"{name}_{split}_{i}.obj", pos * (1 + 0.1 * i), face)


def _tar(source, archive):
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for child in source.iterdir():
            tar.add(child, arcname=child.name)


def test_shrec_splits_from_a_downloaded_archive(tmp_path, monkeypatch):
    staging = tmp_path / "staging"
    _classification_tree(staging, "shrec_16", ["alien", "ants"], {"train": 16, "test": 4})
    _tar(staging, tmp_path / "remote" / "shrec_16.tar.gz")
    url = (tmp_path / "remote" / "shrec_16.tar.gz").as_uri()
    monkeypatch.setitem(mesh_datasets.MESHCNN_ARCHIVES, "shrec_16", RemoteFile("meshcnn/shrec_16.tar.gz", url))
    root = tmp_path / "root"
    train = MeshClassificationDataset("shrec16", "train", root=root)
    test = MeshClassificationDataset("shrec16", "test", root=root)
    assert (root / "meshcnn" / "shrec_16.tar.gz").is_file() and (root / "meshcnn" / "shrec_16" / "ants").is_dir()
    assert len(train) == 32 and len(test) == 8 and train.classes == ["alien", "ants"]
    assert sorted(int(g.y) for g in test) == [0] * 4 + [1] * 4
    assert train[0].num_edges == 120 and train[20].num_edges == 72
    ten_train = MeshClassificationDataset("shrec16", "train", root=root, train_per_class=10)
    ten_test = MeshClassificationDataset("shrec16", "test", root=root, train_per_class=10)
    assert len(ten_train) == 20 and len(ten_test) == 20
    # the 10/10 split partitions the 20 meshes of each class
    pairs = {(round(float(g.pos.norm(dim=1).max()), 4), int(g.y)) for g in list(ten_train) + list(ten_test)}
    assert len(pairs) == len({(round(float(g.pos.norm(dim=1).max()), 4), int(g.y)) for g in list(train) + list(test)})


def test_cubes_from_an_extracted_folder(tmp_path):
    _classification_tree(tmp_path / "meshcnn", "cubes", ["apple", "bat", "bell"], {"train": 2, "test": 1})
    data = MeshClassificationDataset("cubes", "test", root=tmp_path, download=False)
    assert len(data) == 3 and data.num_classes == 3
    with pytest.raises(ValueError, match="train_per_class must be 16"):
        MeshClassificationDataset("cubes", root=tmp_path, train_per_class=10)


def _features_of(graph, features):
    return mesh_edge_features(graph.pos, mesh_topology(graph.face, graph.num_nodes).edge_points, features=features)


def test_edge_features_default_to_the_released_code_and_are_part_of_the_cache_key(tmp_path):
    _classification_tree(tmp_path / "meshcnn", "cubes", ["apple", "bat"], {"train": 1, "test": 1})
    default = MeshClassificationDataset("cubes", "test", root=tmp_path, download=False)
    exact = MeshClassificationDataset("cubes", "test", root=tmp_path, download=False, features="exact")
    again = MeshClassificationDataset("cubes", "test", root=tmp_path, download=False)  # from the cache
    for graph, exact_graph, cached_graph in zip(default, exact, again):
        torch.testing.assert_close(graph.edge_attr, _features_of(graph, "released"), atol=0, rtol=0)
        torch.testing.assert_close(exact_graph.edge_attr, _features_of(graph, "exact"), atol=0, rtol=0)
        assert torch.equal(cached_graph.edge_attr, graph.edge_attr)
        # unit-scale meshes: the two variants differ clearly (the released code adds 0.1 to every norm)
        assert (graph.edge_attr - exact_graph.edge_attr).abs().max() > 0.05
    _segmentation_tree(tmp_path, "coseg_vases", [icosphere(1), torus(6, 4)])
    for features in ("exact", "released"):
        graph = MeshSegmentationDataset("coseg_vases", "train", root=tmp_path, download=False, features=features)[0]
        torch.testing.assert_close(graph.edge_attr, _features_of(graph, features), atol=0, rtol=0)
    segmentation_default = MeshSegmentationDataset("coseg_vases", "train", root=tmp_path, download=False)[0]
    assert torch.equal(segmentation_default.edge_attr, _features_of(segmentation_default, "released"))
    for loader, name in ((MeshClassificationDataset, "cubes"), (MeshSegmentationDataset, "coseg_vases")):
        with pytest.raises(ValueError, match="features must be one of"):
            loader(name, "train", root=tmp_path, download=False, features="paper")


def test_missing_archive_offline_names_the_url(tmp_path):
    with pytest.raises(DatasetError, match=r"dropbox.com/s/2bxs5f9g60wa0wr/cubes.tar.gz"):
        MeshClassificationDataset("cubes", root=tmp_path, download=False)


def _segmentation_tree(base, name, meshes, bad_labels=False):
    folder = base / "meshcnn" / name
    for sub in ("train", "test", "seg", "sseg"):
        (folder / sub).mkdir(parents=True)
    (folder / "classes.txt").write_text("1\n2\n3\n")
    expected = {}
    for i, (pos, face) in enumerate(meshes):
        split = "train" if i % 2 == 0 else "test"
        write_obj(folder / split / f"m{i}.obj", pos, face)
        edges = mesh_topology(face, pos.shape[0]).edge_index.t()
        # label by the height of the edge's midpoint: a function of the edge, so order matters
        height = (pos[edges[:, 0], 2] + pos[edges[:, 1], 2]) / 2
        labels = torch.bucketize(height, torch.tensor([-0.3, 0.3], dtype=pos.dtype)) + 1
        rows = labels.tolist()[:-1] if bad_labels else labels.tolist()
        (folder / "seg" / f"m{i}.eseg").write_text("".join(f"{v:.6e}\n" for v in rows))
        soft = torch.nn.functional.one_hot(labels - 1, 3)
        (folder / "sseg" / f"m{i}.seseg").write_text("".join(" ".join(str(float(v)) for v in r) + "\n" for r in soft.tolist()))
        expected[f"m{i}"] = labels - 1
    return expected


def test_segmentation_labels_line_up_with_edges(tmp_path):
    meshes = [icosphere(1), torus(6, 4), icosphere(2), torus(8, 4)]
    expected = _segmentation_tree(tmp_path, "human_seg", meshes)
    train = MeshSegmentationDataset("human_seg", "train", root=tmp_path, download=False)
    assert len(train) == 2 and train.num_classes == 3
    for graph, key in zip(train, ["m0", "m2"]):
        assert torch.equal(getattr(graph, EDGE_LABELS), expected[key])
        assert torch.equal(graph.edge_soft_y.argmax(1), expected[key])
        # recompute the label from the graph's own edges: same edge order as the file
        height = (graph.pos[graph.edge_index[0], 2] + graph.pos[graph.edge_index[1], 2]) / 2
        assert torch.equal(torch.bucketize(height.double(), torch.tensor([-0.3, 0.3], dtype=torch.float64)), expected[key])


def test_segmentation_label_count_mismatch_raises(tmp_path):
    _segmentation_tree(tmp_path, "coseg_vases", [icosphere(1), torus(6, 4)], bad_labels=True)
    with pytest.raises(DatasetError, match=r"m0.obj has 120 edges but its label file has 119 labels"):
        MeshSegmentationDataset("coseg_vases", "train", root=tmp_path, download=False)


def test_generated_shapes_are_closed_manifolds_with_the_right_topology():
    for (pos, face), euler in ((icosphere(2), 2), (torus(10, 6), 0), (box(3), 2), (close_holes(*grid(3, 3)), 2)):
        check_mesh(pos, face)
        assert euler_characteristic(face, pos.shape[0]) == euler
        assert bool((mesh_topology(face, pos.shape[0]).neighbor[:, 2] >= 0).all())  # closed
    pos, face = decimate(*icosphere(3), 750)
    assert check_mesh(pos, face).edge_index.shape[1] == 750


def test_offline_shape_classes_are_labelled_and_uniform(shared_data):
    samples, names = offline_shape_classes(shared_data, per_class=1, edges=600)
    assert names[-3:] == ["bunny (real)", "fandisk (real)", "armadillo (real)"]
    assert [label for _, _, label in samples] == list(range(len(names)))
    for pos, face, _ in samples:
        edges = check_mesh(pos.double(), face).edge_index.shape[1]
        assert 560 <= edges <= 750  # T54 already has 750 edges; others are decimated to ~600


def test_augmentations_keep_a_valid_mesh():
    generator = torch.Generator().manual_seed(0)
    pos, face = icosphere(3)
    rotation = random_rotation_matrix(generator)
    torch.testing.assert_close(rotation @ rotation.t(), torch.eye(3, dtype=torch.float64))
    assert torch.det(rotation) > 0
    scaled = scale_vertices(pos, generator)
    ratios = scaled.abs().amax(0) / pos.abs().amax(0)
    assert not torch.allclose(ratios, ratios[0].expand(3))  # anisotropic
    flipped = flip_edges(pos, face, 0.2, generator)
    check_mesh(pos, flipped)
    edges = mesh_topology(face, pos.shape[0]).edge_index.shape[1]
    changed = (flipped != face).any(1).sum()
    assert 0.3 * edges <= changed <= 0.4 * edges  # two faces per flip, ~0.2 * M flips
    assert euler_characteristic(flipped, pos.shape[0]) == 2
    slid = slide_vertices(pos, face, 0.2, generator)
    moved = (slid != pos).any(1)
    assert 0 < int(moved.sum()) <= int(0.2 * pos.shape[0])
    # the sphere is nearly flat locally: sliding keeps points close to the unit sphere
    assert float((slid.norm(dim=1) - 1).abs().max()) < 0.05
    new_pos, new_face = MeshAugment()(pos, face, generator)
    topology = check_mesh(new_pos, new_face)
    assert torch.isfinite(mesh_edge_features(new_pos, topology.edge_points)).all()
