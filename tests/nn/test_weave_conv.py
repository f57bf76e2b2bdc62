"""WeaveConv: dense reference, pair-order invariance, permutation equivariance, batching, errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from geoconv.data import Batch, Graph
from geoconv.nn import WeaveConv
from geoconv.testing import corner_case_batch, permute_graph


def _pairs_graph(num_nodes: int, seed: int) -> Graph:
    """All ordered atom pairs i != j with symmetric pair features (as the paper's pair features are)."""
    generator = torch.Generator().manual_seed(seed)
    index = torch.arange(num_nodes)
    src, dst = torch.meshgrid(index, index, indexing="ij")
    keep = src != dst
    edge_index = torch.stack([src[keep], dst[keep]])
    symmetric = torch.randn(num_nodes, num_nodes, 3, generator=generator, dtype=torch.float64)
    symmetric = symmetric + symmetric.transpose(0, 1)
    return Graph(x=torch.randn(num_nodes, 4, generator=generator, dtype=torch.float64), edge_index=edge_index,
                 edge_attr=symmetric[edge_index[0], edge_index[1]], num_nodes=num_nodes)


def _layer(update_edges: bool = True) -> WeaveConv:
    torch.manual_seed(0)
    return WeaveConv(4, 3, 6, 5, hidden_channels=7, update_edges=update_edges).double()


def test_matches_dense_reference():
    graph = _pairs_graph(5, seed=0)
    layer = _layer()
    atoms, pairs = layer(graph.x, graph.edge_index, graph.edge_attr)
    x, (src, dst), p = graph.x, graph.edge_index, graph.edge_attr
    for i in range(5):
        pair_sum = sum(F.relu(layer.pair_to_atom(p[e])) for e in range(p.shape[0]) if dst[e] == i)
        expected = F.relu(layer.atom_update(torch.cat([F.relu(layer.atom_to_atom(x[i])), pair_sum])))
        torch.testing.assert_close(atoms[i], expected)
    for e in range(p.shape[0]):
        a, b = x[dst[e]], x[src[e]]
        to_pair = F.relu(layer.atom_to_pair(torch.cat([a, b]))) + F.relu(layer.atom_to_pair(torch.cat([b, a])))
        expected = F.relu(layer.pair_update(torch.cat([to_pair, F.relu(layer.pair_to_pair(p[e]))])))
        torch.testing.assert_close(pairs[e], expected)


def test_pair_output_does_not_depend_on_pair_orientation():
    graph = _pairs_graph(6, seed=1)
    _, pairs = _layer()(graph.x, graph.edge_index, graph.edge_attr)
    lookup = {(int(s), int(d)): k for k, (s, d) in enumerate(graph.edge_index.T)}
    for (s, d), k in lookup.items():
        torch.testing.assert_close(pairs[k], pairs[lookup[(d, s)]])


def test_permutation_equivariance():
    graph = _pairs_graph(6, seed=2)
    layer = _layer()
    permutation = torch.randperm(6, generator=torch.Generator().manual_seed(3))
    permuted = permute_graph(graph, permutation)
    atoms, pairs = layer(graph.x, graph.edge_index, graph.edge_attr)
    atoms_p, pairs_p = layer(permuted.x, permuted.edge_index, permuted.edge_attr)
    inverse = torch.empty_like(permutation)
    inverse[permutation] = torch.arange(6)
    torch.testing.assert_close(atoms_p, atoms[inverse])
    torch.testing.assert_close(pairs_p, pairs)  # pair rows keep their order, only atom ids are renamed


def test_batch_equals_separate_graphs_and_corner_cases():
    graphs = [_pairs_graph(n, seed=n) for n in (3, 1, 4)]
    layer = _layer()
    batch = Batch.from_graphs(graphs)
    atoms, pairs = layer(batch.x, batch.edge_index, batch.edge_attr)
    separate = [layer(g.x, g.edge_index, g.edge_attr) for g in graphs]
    torch.testing.assert_close(atoms, torch.cat([s[0] for s in separate]))
    torch.testing.assert_close(pairs, torch.cat([s[1] for s in separate]))
    corner = corner_case_batch(num_features=4, edge_dim=3, dtype=torch.float64)
    atoms, pairs = layer(corner.x, corner.edge_index, corner.edge_attr)
    assert atoms.shape == (corner.num_nodes, 6) and pairs.shape == (corner.num_edges, 5)


def test_without_pair_update_returns_input_pairs():
    graph = _pairs_graph(4, seed=5)
    atoms, pairs = _layer(update_edges=False)(graph.x, graph.edge_index, graph.edge_attr)
    assert atoms.shape == (4, 6) and pairs is graph.edge_attr


def test_errors():
    graph = _pairs_graph(4, seed=5)
    with pytest.raises(ValueError, match="edge_attr must have shape"):
        _layer()(graph.x, graph.edge_index, graph.edge_attr[:-1])
    with pytest.raises(ValueError, match="edge_index"):
        _layer()(graph.x, graph.edge_index + 4, graph.edge_attr)
