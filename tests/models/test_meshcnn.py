"""MeshCNN classifier and segmentation U-Net."""

from __future__ import annotations

import pytest
import torch

from geoconv.data import Batch
from geoconv.data.mesh import mesh_graph
from geoconv.datasets.mesh_shapes import icosphere, torus
from geoconv.models import MeshCNNClassifier, MeshCNNSegmenter

# many small tensor ops: one thread is much faster on a shared CPU
pytestmark = pytest.mark.usefixtures("single_thread")


def _meshes():
    # 480 and 384 edges: different sizes in one batch
    return [mesh_graph(*icosphere(2), y=0), mesh_graph(*torus(16, 8), y=1)]


def test_classifier_batch_equals_meshes_one_by_one_and_trains():
    torch.manual_seed(0)
    meshes = _meshes()
    model = MeshCNNClassifier(5, (16, 32), 3, pool_targets=(300, 240), head_channels=20, norm="group", groups=4)
    model = model.double().eval()
    batch = Batch.from_graphs(meshes)
    out = model(batch)
    assert out.shape == (2, 3)
    torch.testing.assert_close(out, torch.cat([model(Batch.from_graphs([m])) for m in meshes]))
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(15):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(batch), batch.y)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0]


def test_segmenter_gives_one_prediction_per_input_edge():
    torch.manual_seed(0)
    meshes = _meshes()
    batch = Batch.from_graphs(meshes)
    model = MeshCNNSegmenter(5, (8, 16, 16), 4, pool_targets=(300, 210), norm="group", groups=4).double()
    out = model(batch)
    assert out.shape == (batch.num_edges, 4)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()
    torch.testing.assert_close(model(batch)[:480], model(Batch.from_graphs(meshes[:1])))


def test_configuration_errors():
    with pytest.raises(ValueError, match="2 blocks need as many pool_targets, got 1"):
        MeshCNNClassifier(5, (16, 32), 3, pool_targets=(300,))
    with pytest.raises(ValueError, match=r"num_layers=3 but hidden_channels lists 2 widths"):
        MeshCNNClassifier(5, (16, 32), 3, 3, pool_targets=(300, 200, 100))
    with pytest.raises(ValueError, match="pool_targets needs 1 entries"):
        MeshCNNSegmenter(5, (8, 16), 3, pool_targets=(300, 200))
    with pytest.raises(ValueError, match="has no 'edge_neighbors'"):
        MeshCNNClassifier(5, (16,), 3, pool_targets=(300,))(Batch.from_graphs([torch_graph()]))


def torch_graph():
    from geoconv.data import Graph

    pos, face = icosphere(1)
    return Graph(pos=pos, face=face, edge_index=torch.zeros(2, 0, dtype=torch.long))
