"""NeuralFingerprint: dense reference, invariance to atom renumbering, batching, corner cases, errors."""

from __future__ import annotations

import pytest
import torch

from geoconv.data import Batch, Graph
from geoconv.nn import NeuralFingerprint
from geoconv.testing import corner_case_batch, permute_graph


def _molecule_like(num_nodes: int, seed: int, channels: int = 5, edge_dim: int = 3) -> Graph:
    """A random undirected graph (both directions of each edge) with float64 features."""
    generator = torch.Generator().manual_seed(seed)
    pairs = torch.combinations(torch.arange(num_nodes), 2)
    keep = pairs[torch.rand(len(pairs), generator=generator) < 0.4]
    edge_index = torch.cat([keep.T, keep.T.flip(0)], dim=1)
    bond = torch.randn(len(keep), edge_dim, generator=generator, dtype=torch.float64)
    return Graph(x=torch.randn(num_nodes, channels, generator=generator, dtype=torch.float64),
                 edge_index=edge_index, edge_attr=torch.cat([bond, bond]), num_nodes=num_nodes)


def _layer(max_degree: int = 3, normalize: bool = False) -> NeuralFingerprint:
    torch.manual_seed(0)
    return NeuralFingerprint(5, 3, [6, 4], 7, max_degree=max_degree, normalize=normalize).double()


def _dense_reference(layer: NeuralFingerprint, graph: Graph) -> torch.Tensor:
    """Atom by atom, with Python loops over neighbours."""
    x, (src, dst), edge_attr = graph.x, graph.edge_index, graph.edge_attr
    n = graph.num_nodes
    fingerprint = torch.softmax(layer.readouts[0](x), -1).sum(0)
    for depth, weight in enumerate(layer.degree_weights):
        width = layer.widths[depth]
        rows = []
        for i in range(n):
            incoming = (dst == i).nonzero().view(-1)
            summed = torch.zeros(x.shape[1] + edge_attr.shape[1], dtype=x.dtype)
            for e in incoming.tolist():
                summed = summed + torch.cat([x[src[e]], edge_attr[e]])
            d = min(len(incoming), layer.max_degree)
            block = weight[:, d * width:(d + 1) * width]
            rows.append(torch.relu(torch.cat([x[i], summed]) @ block + layer.biases[depth]))
        x = torch.stack(rows)
        fingerprint = fingerprint + torch.softmax(layer.readouts[depth + 1](x), -1).sum(0)
    return fingerprint.unsqueeze(0)


def test_matches_dense_reference_and_uses_degree_weights():
    graph = _molecule_like(7, seed=1)
    layer = _layer()
    out = layer(graph.x, graph.edge_index, graph.edge_attr)
    torch.testing.assert_close(out, _dense_reference(layer, graph), atol=1e-12, rtol=1e-10)
    # every atom writes unit mass at every depth: the fingerprint sums to N * (L + 1)
    torch.testing.assert_close(out.sum(), torch.tensor(7.0 * 3, dtype=torch.float64))
    with torch.no_grad():  # changing the weights of a degree nobody has leaves the output unchanged
        degrees = torch.bincount(graph.edge_index[1], minlength=7).clamp(max=3)
        unused = [d for d in range(4) if d not in degrees.tolist()]
        for d in unused:
            layer.degree_weights[0][:, d * 6:(d + 1) * 6] += 1.0
    torch.testing.assert_close(layer(graph.x, graph.edge_index, graph.edge_attr), out)


def test_invariant_to_atom_renumbering():
    graph = _molecule_like(9, seed=2)
    layer = _layer()
    permutation = torch.randperm(9, generator=torch.Generator().manual_seed(0))
    permuted = permute_graph(graph, permutation)
    torch.testing.assert_close(layer(permuted.x, permuted.edge_index, permuted.edge_attr),
                               layer(graph.x, graph.edge_index, graph.edge_attr), atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("normalize", [False, True])
def test_batch_equals_separate_graphs(normalize):
    graphs = [_molecule_like(n, seed=n) for n in (4, 6, 1, 5)]
    layer = _layer(normalize=normalize).eval()
    batch = Batch.from_graphs(graphs)
    out = layer(batch.x, batch.edge_index, batch.edge_attr, batch=batch.batch, num_graphs=batch.num_graphs)
    separate = torch.cat([layer(g.x, g.edge_index, g.edge_attr) for g in graphs])
    torch.testing.assert_close(out, separate, atol=1e-12, rtol=1e-12)


def test_corner_case_batch_shapes_and_gradients():
    batch = corner_case_batch(num_features=5, edge_dim=3, dtype=torch.float64)
    layer = _layer()
    out = layer(batch.x, batch.edge_index, batch.edge_attr, batch=batch.batch, num_graphs=batch.num_graphs)
    assert out.shape == (7, 7)
    counts = batch.counts("node").to(torch.float64)
    torch.testing.assert_close(out.sum(1), counts * 3)  # empty graphs give zero fingerprints
    out.sum().backward()
    assert all(p.grad is not None for p in layer.degree_weights)


def test_without_bond_features():
    graph = _molecule_like(5, seed=3)
    torch.manual_seed(0)
    layer = NeuralFingerprint(5, 0, 8, 4, num_layers=2).double()
    assert layer(graph.x, graph.edge_index).shape == (1, 4)


def test_errors():
    graph = _molecule_like(5, seed=3)
    layer = _layer()
    with pytest.raises(ValueError, match="edge_attr"):
        layer(graph.x, graph.edge_index)
    with pytest.raises(ValueError, match="edge_attr"):
        layer(graph.x, graph.edge_index, graph.edge_attr[:, :2])
    with pytest.raises(ValueError, match="edge_index"):
        layer(graph.x, graph.edge_index + 10, graph.edge_attr)
    with pytest.raises(ValueError, match="fingerprint_length"):
        NeuralFingerprint(5, 3, 8, 0)
