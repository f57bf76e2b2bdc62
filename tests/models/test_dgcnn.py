"""DGCNN classification and part segmentation: shapes, point-order invariance, batch consistency."""

from __future__ import annotations

import pytest
import torch

from geoconv.data import Batch, Graph
from geoconv.models import DGCNN, DGCNNSegmentation


def _cloud(n: int, seed: int, category: int | None = None) -> Graph:
    generator = torch.Generator().manual_seed(seed)
    graph = Graph(pos=torch.randn(n, 3, generator=generator, dtype=torch.float64))
    if category is not None:
        graph.set("category", torch.tensor([category]), "graph")
    return graph


def _permuted(graph: Graph, permutation: torch.Tensor) -> Graph:
    return graph.replace(pos=graph.pos[permutation])


def _small_dgcnn() -> DGCNN:
    torch.manual_seed(0)
    return DGCNN(3, (8, 8, 16), 5, k=6, embedding_channels=32, head_channels=(16,)).double().eval()


def test_dgcnn_paper_configuration_shapes():
    model = DGCNN(3, (64, 64, 128, 256), 40)
    assert [conv.k for conv in model.convs] == [20] * 4
    assert [conv.nn[0].out_features for conv in model.convs] == [64, 64, 128, 256]
    assert model.embedding[0].out_features == 1024 and model.head[0][0].in_features == 2048
    batch = Batch.from_graphs([_cloud(30, 0), _cloud(25, 1)]).apply(lambda t: t.float() if t.is_floating_point() else t)
    model.train()
    logits = model(batch)
    assert logits.shape == (2, 40)
    logits.logsumexp(1).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_dgcnn_invariant_to_point_order_and_batch_consistent():
    model = _small_dgcnn()
    graphs = [_cloud(40, 2), _cloud(33, 3)]
    logits = model(Batch.from_graphs(graphs))
    # Permuting the points of each cloud leaves the logits unchanged.
    permuted = [_permuted(g, torch.randperm(g.num_nodes, generator=torch.Generator().manual_seed(7))) for g in graphs]
    torch.testing.assert_close(model(Batch.from_graphs(permuted)), logits, atol=1e-10, rtol=0)
    # A batch gives the same logits as its clouds one at a time.
    torch.testing.assert_close(torch.cat([model(g) for g in graphs]), logits, atol=1e-10, rtol=0)


def test_dgcnn_segmentation_equivariance_and_batching():
    torch.manual_seed(0)
    model = DGCNNSegmentation(3, 64, 6, num_categories=4, k=5, embedding_channels=32).double().eval()
    graphs = [_cloud(30, 4, category=1), _cloud(22, 5, category=3)]
    out = model(Batch.from_graphs(graphs))
    assert out.shape == (52, 6)
    permutation = torch.randperm(30, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(model(_permuted(graphs[0], permutation)), out[:30][permutation], atol=1e-10, rtol=0)
    torch.testing.assert_close(torch.cat([model(g) for g in graphs]), out, atol=1e-10, rtol=0)
    # The category input matters.
    other = _cloud(30, 4, category=2)
    assert not torch.allclose(model(other), out[:30])


def test_dgcnn_errors():
    model = _small_dgcnn()
    with pytest.raises(ValueError, match=r"DGCNN reads input_fields=\('pos',\), but the graph has no tensor 'pos'"):
        model(Graph(x=torch.randn(5, 3)))
    segmentation = DGCNNSegmentation(3, 64, 4, num_categories=2, k=3)
    with pytest.raises(ValueError, match="category_field=\\('category',\\), but the graph has no tensor 'category'"):
        segmentation(_cloud(10, 0).apply(lambda t: t.float()))
