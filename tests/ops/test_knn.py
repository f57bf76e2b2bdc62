"""kNN and radius graphs against a brute-force float64 reference."""

from __future__ import annotations

import pytest
import torch

from geoconv.ops.knn import knn, knn_graph, radius_graph

# Graph sizes with the corner cases: a single point, an empty graph, graphs smaller than k.
SIZES = [1, 30, 0, 4, 57]


def _batch(sizes: list[int]) -> torch.Tensor:
    return torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))


def _points(n: int, dim: int = 3, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _reference(x, y, k, batch_x, batch_y, exclude_self=False):
    """Dict query -> sorted list of its k nearest x (same graph), by full distance matrix."""
    dist = ((y[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    dist[batch_y[:, None] != batch_x[None, :]] = float("inf")
    if exclude_self:
        dist.fill_diagonal_(float("inf"))
    result = {}
    for i in range(y.shape[0]):
        finite = torch.isfinite(dist[i]).sum().item()
        order = torch.argsort(dist[i])[: min(k, finite)]
        result[i] = sorted(order.tolist())
    return result


def _as_dict(query, found, num_queries):
    result = {i: [] for i in range(num_queries)}
    for q, f in zip(query.tolist(), found.tolist()):
        result[q].append(f)
    return {q: sorted(v) for q, v in result.items()}


@pytest.mark.parametrize("loop", [False, True])
@pytest.mark.parametrize("max_block, backend", [(1 << 24, "brute"), (50, "brute"), (1, "brute"), (50, "auto"),
                                                (1 << 24, "kdtree")])
def test_knn_graph_matches_brute_force(loop, max_block, backend):
    batch = _batch(SIZES)
    x = _points(batch.numel())
    k = 6
    edge_index = knn_graph(x, k, batch, loop=loop, max_block=max_block, backend=backend)
    expected = _reference(x, x, k, batch, batch, exclude_self=not loop)
    assert _as_dict(edge_index[1], edge_index[0], x.shape[0]) == expected
    # Neighbours stay within their graph; self-loops exactly when loop=True.
    assert torch.equal(batch[edge_index[0]], batch[edge_index[1]])
    assert bool((edge_index[0] == edge_index[1]).any()) == loop


def test_knn_graph_order_and_float32():
    batch = _batch([40, 25])
    x = _points(65, dim=8, seed=1)
    edge_index = knn_graph(x.float(), 5, batch)
    centre, neighbour = edge_index[1], edge_index[0]
    assert torch.equal(centre, torch.arange(65).repeat_interleave(5))
    distance = ((x[centre] - x[neighbour]) ** 2).sum(-1).view(65, 5)
    assert bool((distance[:, 1:] >= distance[:, :-1]).all())
    expected = _reference(x, x, 5, batch, batch, exclude_self=True)
    assert _as_dict(centre, neighbour, 65) == expected


@pytest.mark.parametrize("backend", ["brute", "kdtree"])
def test_knn_bipartite_and_cosine(backend):
    batch_x, batch_y = _batch([20, 0, 15]), _batch([7, 3, 9])
    x, y = _points(35, seed=2), _points(19, seed=3)
    assign = knn(x, y, 4, batch_x, batch_y, backend=backend)
    expected = _reference(x, y, 4, batch_x, batch_y)
    assert _as_dict(assign[0], assign[1], 19) == expected
    assert all(len(expected[i]) == 0 for i in range(7, 10))  # graph 1 has no x points
    # Cosine distance = Euclidean distance of the normalised vectors.
    unit_x, unit_y = x / x.norm(dim=1, keepdim=True), y / y.norm(dim=1, keepdim=True)
    cosine = knn(3.0 * x, y, 4, batch_x, batch_y, cosine=True)
    assert _as_dict(cosine[0], cosine[1], 19) == _reference(unit_x, unit_y, 4, batch_x, batch_y)


def test_knn_single_graph_without_batch():
    x = _points(50, seed=4)
    edge_index = knn_graph(x, 3)
    zeros = torch.zeros(50, dtype=torch.long)
    assert _as_dict(edge_index[1], edge_index[0], 50) == _reference(x, x, 3, zeros, zeros, exclude_self=True)
    assert knn_graph(x[:0], 3).shape == (2, 0)


def test_kdtree_excludes_self_among_duplicates():
    # Three copies of one point: each copy's nearest other points are the two other copies.
    x = torch.cat([torch.zeros(3, 2), _points(10, dim=2, seed=6).float() + 5.0])
    for backend in ("brute", "kdtree"):
        edge_index = knn_graph(x, 2, backend=backend)
        assert not bool((edge_index[0] == edge_index[1]).any())
        assert _as_dict(edge_index[1], edge_index[0], 13)[0] == [1, 2]


@pytest.mark.parametrize("backend", ["brute", "kdtree"])
def test_radius_graph_matches_brute_force(backend):
    batch = _batch(SIZES)
    pos = _points(batch.numel(), seed=5)
    r = 1.0
    edge_index = radius_graph(pos, r, batch, max_num_neighbors=100, backend=backend)
    dist = ((pos[:, None] - pos[None]) ** 2).sum(-1).sqrt()
    close = (dist <= r) & (batch[:, None] == batch[None]) & ~torch.eye(pos.shape[0], dtype=torch.bool)
    expected = {(j, i) for i, j in close.nonzero().tolist()}
    assert set(map(tuple, edge_index.t().tolist())) == expected
    # The cap keeps exactly the nearest max_num_neighbors of every centre (not any subset of them).
    for cap in (1, 2, 5):
        capped = radius_graph(pos, r, batch, max_num_neighbors=cap, backend=backend)
        nearest = set()
        for i in range(pos.shape[0]):
            inside = close[i].nonzero().view(-1)
            order = inside[torch.argsort(dist[i, inside])][:cap]
            nearest |= {(j, i) for j in order.tolist()}
        assert set(map(tuple, capped.t().tolist())) == nearest


def test_knn_errors():
    x = _points(10)
    with pytest.raises(ValueError, match="sorted"):
        knn_graph(x, 2, torch.tensor([0, 1] * 5))
    with pytest.raises(ValueError, match="k must be a positive integer"):
        knn_graph(x, 0)
    with pytest.raises(ValueError, match="same number of channels"):
        knn(x, x[:, :2], 2)
    with pytest.raises(ValueError, match="both batch_x and batch_y"):
        knn(x, x, 2, torch.zeros(10, dtype=torch.long))
    with pytest.raises(ValueError, match="batch has 3 entries"):
        knn_graph(x, 2, torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="r must be positive"):
        radius_graph(x, 0.0)
    with pytest.raises(ValueError, match=r"shape \[N, C\]"):
        knn_graph(x.view(-1), 2)
    with pytest.raises(ValueError, match="backend must be one of"):
        knn_graph(x, 2, backend="ball_tree")
