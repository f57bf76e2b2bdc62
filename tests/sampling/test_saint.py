"""GraphSAINT samplers: unbiasedness by Monte-Carlo, the paper's distributions and norms, seeding, workers, errors."""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor
from torch.testing import assert_close

from geoconv.data import Graph
from geoconv.ops import gcn_norm, remove_self_loops, scatter, to_undirected
from geoconv.sampling import (
    GraphSAINTEdgeSampler,
    GraphSAINTNodeSampler,
    GraphSAINTRandomWalkSampler,
    GraphSAINTSampler,
)

SAMPLERS = {
    "node": (GraphSAINTNodeSampler, {}),
    "edge": (GraphSAINTEdgeSampler, {}),
    "rw": (GraphSAINTRandomWalkSampler, {"walk_length": 2}),
}


@pytest.fixture(autouse=True)
def _one_thread():
    # Tiny tensor ops are dominated by thread-pool start-up on a shared CPU.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make(kind: str, graph: Graph, batch_size: int, **kwargs) -> GraphSAINTSampler:
    cls, extra = SAMPLERS[kind]
    return cls(graph, batch_size, **{**extra, **kwargs})


def small_graph(num_nodes: int = 30, num_chords: int = 10, seed: int = 0) -> Graph:
    """A circulant graph (i ~ i+1, i+2) with random chords: connected, no self-loops, both directions."""
    generator = torch.Generator().manual_seed(seed)
    nodes = torch.arange(num_nodes)
    ring = torch.cat([torch.stack([nodes, (nodes + k) % num_nodes]) for k in (1, 2)], dim=1)
    chords = torch.randint(0, num_nodes, (2, num_chords), generator=generator)
    edge_index, _ = to_undirected(torch.cat([ring, chords], dim=1), None, num_nodes)
    edge_index = edge_index[:, edge_index[0] != edge_index[1]]
    x = 1 + torch.rand(num_nodes, 1, dtype=torch.float64, generator=generator)
    return Graph(x=x, edge_index=edge_index)


def shuffled_graph(seed: int = 0) -> Graph:
    """A graph with edges in random order, an edge feature, an edge id, node targets, masks and a graph target."""
    generator = torch.Generator().manual_seed(seed)
    num_nodes = 50
    edge_index, _ = to_undirected(torch.randint(0, num_nodes, (2, 120), generator=generator), None, num_nodes)
    order = torch.randperm(edge_index.shape[1], generator=generator)
    edge_index = edge_index[:, order]
    num_edges = edge_index.shape[1]
    return Graph(
        x=torch.randn(num_nodes, 3, generator=generator),
        edge_index=edge_index,
        edge_attr=torch.randn(num_edges, 2, generator=generator),
        y=torch.randint(0, 3, (num_nodes,), generator=generator),
        node_data={"train_mask": torch.rand(num_nodes, generator=generator) < 0.5},
        edge_data={"edge_id": torch.arange(num_edges)},
        graph_data={"label": torch.tensor([7])},
    )


# ---------------------------------------------------------------------- Monte-Carlo unbiasedness
@pytest.mark.parametrize("kind, batch_size", [("node", 20), ("edge", 8), ("rw", 5)])
def test_normalised_aggregation_and_loss_are_unbiased(kind, batch_size):
    graph = small_graph()
    num_nodes, (src, dst) = graph.num_nodes, graph.edge_index
    full_sum = scatter(graph.x[src, 0], dst, 0, num_nodes, "sum")  # full-graph neighbour sums
    node_loss = torch.rand(num_nodes, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    num_steps = 3000
    sampler = make(kind, graph, batch_size, num_steps=num_steps, sample_coverage=2000, seed=3)
    total = torch.zeros(num_nodes, dtype=torch.float64)
    times = torch.zeros(num_nodes, dtype=torch.float64)
    loss_estimates = []
    for sub in sampler:
        s, d = sub.edge_index
        # Normalised neighbour sum: edges weighted by 1 / alpha(u, v) = C(v) / C(u, v).
        aggregated = scatter(sub.x[s, 0] * sub.edge_norm[:].double(), d, 0, sub.num_nodes, "sum")
        total[sub.node_id] += aggregated
        times[sub.node_id] += 1
        loss_estimates.append(float((sub.node_norm.double() * node_loss[sub.node_id]).sum()))
    assert bool((times > 0).all())
    # Given that v is sampled, its normalised neighbour sum is unbiased: mean within 5% of the full sum.
    relative = (total / times - full_sum).abs() / full_sum
    assert float(relative.max()) < 0.05, f"largest relative error {float(relative.max()):.4f}"
    # sum over the subgraph of L_v / lambda_v is unbiased for the full sum of L_v.
    loss_mean = sum(loss_estimates) / num_steps
    assert abs(loss_mean / float(node_loss.sum()) - 1) < 0.05


def gcn_weights(graph: Graph) -> tuple[Tensor, Tensor]:
    """GCN's symmetric normalisation with self-loops: A^[v, u] on each edge u -> v, and the diagonal A^[u, u]
    (``graph`` has no self-loops: gcn_norm lists its edges, then one loop per node)."""
    _, weight = gcn_norm(graph.edge_index, None, graph.num_nodes)
    return weight[: graph.num_edges], weight[graph.num_edges:]


def test_exact_norms_are_the_inclusion_probabilities_the_presampling_estimates():
    graph = small_graph(num_nodes=12, num_chords=4, seed=2)
    batch_size = 4
    exact = GraphSAINTNodeSampler(graph, batch_size, num_steps=1, exact_norms=True, seed=0)
    assert exact.num_presampled == 0
    probability = exact.node_probability.double()
    p_node = 1 - (1 - probability) ** batch_size
    u, v = graph.edge_index
    p_edge = (1 - (1 - probability[u]) ** batch_size - (1 - probability[v]) ** batch_size
              + (1 - probability[u] - probability[v]) ** batch_size)
    assert_close(exact.inclusion_probability, p_node, rtol=1e-12, atol=0)
    assert_close(exact.node_norm, (1 / p_node).float())
    assert_close(exact.edge_norm, (p_node[v] / p_edge).float())
    # The paper's estimate from many pre-sampled subgraphs converges to them.
    estimated = GraphSAINTNodeSampler(graph, batch_size, num_steps=1, sample_coverage=20000, seed=0)
    assert_close(estimated.node_norm, exact.node_norm, rtol=0.03, atol=0)
    assert_close(estimated.edge_norm, exact.edge_norm, rtol=0.05, atol=0)


def test_exact_norms_of_tiny_probabilities_self_loops_and_never_sampled_nodes():
    # Path 0-1-2 with a self-loop on 1 and an isolated node 3: P = (1, 2, 1, 0) / 4 under D^-1 A ... plus the loop.
    edge_index = torch.tensor([[0, 1, 1, 2, 1], [1, 0, 2, 1, 1]])
    graph = Graph(edge_index=edge_index, num_nodes=4)
    weight = torch.tensor([1e-7, 1.0, 1.0, 1e-7, 0.5], dtype=torch.float64)
    sampler = GraphSAINTNodeSampler(graph, 3, num_steps=2, edge_weight=weight, exact_norms=True, seed=0)
    column = torch.tensor([1e-14, 1.0 + 1.0 + 0.25, 1e-14, 0.0], dtype=torch.float64)
    probability = column / column.sum()
    assert_close(sampler.node_probability, probability)
    # pi_0 ~ 3 P_0 ~ 1.3e-14: still accurate to 1e-9 (no 1 - (1 - tiny) cancellation).
    pi = 1 - (1 - probability) ** 3
    pi[0] = pi[2] = 3 * probability[0] - 3 * probability[0] ** 2
    assert_close(sampler.inclusion_probability, pi, rtol=1e-9, atol=0)
    assert float(sampler.edge_norm[4]) == 1.0  # the self-loop is in every subgraph holding node 1
    assert float(sampler.node_norm[3]) == 0.0  # never sampled
    for sub in sampler:
        assert 3 not in sub.node_id.tolist()


def test_node_probability_with_the_models_weights_is_its_squared_column_norm():
    # The example's GCN aggregates with D^-1/2 (A + I) D^-1/2: its columns, not those of D^-1 A, set P(u).
    edge_index, _ = remove_self_loops(shuffled_graph().edge_index)
    graph = Graph(edge_index=edge_index, num_nodes=50)
    n = graph.num_nodes
    edge_weight, loop_weight = gcn_weights(graph)
    dense = torch.zeros(n, n, dtype=torch.float64)
    dense[graph.edge_index[1], graph.edge_index[0]] = edge_weight.double()  # A^[v, u] for u -> v
    dense += torch.diag(loop_weight.double())
    expected = dense.pow(2).sum(0)
    sampler = GraphSAINTNodeSampler(graph, 5, num_steps=1, edge_weight=edge_weight, self_loop_weight=loop_weight, seed=0)
    assert_close(sampler.node_probability, expected / expected.sum())
    # The default is the paper's D^-1 A, given explicitly.
    degree = torch.bincount(graph.edge_index[1], minlength=n).double()
    explicit = GraphSAINTNodeSampler(graph, 5, num_steps=1, edge_weight=1 / degree[graph.edge_index[1]], seed=0)
    assert_close(explicit.node_probability, GraphSAINTNodeSampler(graph, 5, num_steps=1, seed=0).node_probability)


def test_exact_norms_with_the_models_weights_are_unbiased():
    # Monte-Carlo: the GCN-weighted neighbour sum (self-loop included) and the loss, as the example trains.
    graph = small_graph()
    num_nodes, (src, dst) = graph.num_nodes, graph.edge_index
    edge_weight, loop_weight = gcn_weights(graph)
    graph.set("edge_weight", edge_weight, "edge")
    x = graph.x[:, 0]
    full = scatter(x[src] * edge_weight, dst, 0, num_nodes, "sum") + x * loop_weight
    node_loss = torch.rand(num_nodes, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    num_steps = 3000
    sampler = GraphSAINTNodeSampler(graph, 12, num_steps=num_steps, edge_weight=edge_weight,
                                    self_loop_weight=loop_weight, exact_norms=True, seed=3)
    total = torch.zeros(num_nodes, dtype=torch.float64)
    times = torch.zeros(num_nodes, dtype=torch.float64)
    loss_sum = 0.0
    for sub in sampler:
        s, d = sub.edge_index
        weight = sub.edge_weight * sub.edge_norm.double()
        aggregated = scatter(sub.x[s, 0] * weight, d, 0, sub.num_nodes, "sum") + sub.x[:, 0] * loop_weight[sub.node_id]
        total[sub.node_id] += aggregated
        times[sub.node_id] += 1
        loss_sum += float((sub.node_norm.double() * node_loss[sub.node_id]).sum())
    assert bool((times > 0).all())
    relative = (total / times - full).abs() / full
    assert float(relative.max()) < 0.05, f"largest relative error {float(relative.max()):.4f}"
    assert abs(loss_sum / num_steps / float(node_loss.sum()) - 1) < 0.05


# ---------------------------------------------------------------------- distributions of the paper
def test_node_probability_is_the_squared_column_norm_of_the_row_normalised_adjacency():
    graph = shuffled_graph()
    n = graph.num_nodes
    dense = torch.zeros(n, n, dtype=torch.float64)
    sym, _ = to_undirected(graph.edge_index, None, n)
    dense[sym[0], sym[1]] = 1.0
    deg = dense.sum(1, keepdim=True)
    normalised = torch.where(deg > 0, dense / deg, torch.zeros_like(dense))  # D^-1 A
    expected = normalised.pow(2).sum(0)
    sampler = GraphSAINTNodeSampler(graph, 5, num_steps=1, seed=0)
    assert_close(sampler.node_probability, expected / expected.sum())
    # Empirical frequencies of the draws follow it.
    group, node = sampler._draw(20000, torch.Generator(device=sampler.device).manual_seed(0))  # draws on the graph's device
    frequency = torch.bincount(node, minlength=n).double() / node.numel()
    assert_close(frequency, expected / expected.sum(), atol=0.006, rtol=0)


def test_edge_probability_is_the_papers_inverse_degree_sum_not_pyg_double_reciprocal():
    # A star (hub 0 with 6 leaves) plus a path 7-8-9: the formulas disagree strongly.
    edges = [(0, leaf) for leaf in range(1, 7)] + [(7, 8), (8, 9)]
    edge_index, _ = to_undirected(torch.tensor(edges).t(), None, 10)
    sampler = GraphSAINTEdgeSampler(Graph(edge_index=edge_index, num_nodes=10), 1, num_steps=1, seed=0)
    deg = {0: 6, 7: 1, 8: 2, 9: 1, **{leaf: 1 for leaf in range(1, 7)}}
    weight = {(u, v): 1 / deg[u] + 1 / deg[v] for u, v in edges}
    total = sum(weight.values())
    pairs = list(zip(sampler._edge_src.tolist(), sampler._edge_dst.tolist()))
    assert sorted(pairs) == sorted(edges)
    expected = torch.tensor([weight[p] / total for p in pairs], dtype=torch.float64)
    assert_close(sampler.edge_probability, expected)
    # Sampled subgraphs of one edge are its two endpoints, with those frequencies.
    counts = {}
    for step in range(1500):
        sub = sampler.subgraph(step)
        key = tuple(sub.node_id.tolist())
        counts[key] = counts.get(key, 0) + 1
    for (u, v), w in weight.items():
        assert abs(counts.get((u, v), 0) / 1500 - w / total) < 0.04


def test_random_walk_sampler_nodes_are_walks_from_uniform_roots():
    # On a path 0-1-2-...-9, one root and walk_length 3: the nodes form a connected interval of <= 4 nodes.
    edge_index, _ = to_undirected(torch.stack([torch.arange(9), torch.arange(1, 10)]), None, 10)
    sampler = GraphSAINTRandomWalkSampler(Graph(edge_index=edge_index, num_nodes=10), 1, num_steps=400, walk_length=3, seed=0)
    appearances = torch.zeros(10)
    for sub in sampler:
        nodes = sub.node_id
        assert 2 <= nodes.numel() <= 4
        assert bool((nodes[1:] - nodes[:-1] == 1).all())
        assert sub.num_edges == 2 * (nodes.numel() - 1)
        appearances[nodes] += 1
    assert bool((appearances > 0).all())


# ---------------------------------------------------------------------- subgraph content
@pytest.mark.parametrize("kind", list(SAMPLERS))
def test_subgraph_is_the_induced_subgraph_with_its_tensors_and_norms(kind):
    graph = shuffled_graph()
    sampler = make(kind, graph, 6, num_steps=3, sample_coverage=5, seed=1)
    for sub in sampler:
        reference = graph.subgraph(sub.node_id)
        assert sorted(sub.keys()) == sorted(reference.keys() + ["node_norm", "edge_norm"])
        # The sampler lists the edges grouped by pair owner, not in the graph's order: compare in edge-id order.
        order = torch.argsort(sub.edge_id)
        for name in reference.keys():
            value = getattr(sub, name)
            if sub.level_of(name) == "edge":
                value = value[:, order] if name == "edge_index" else value[order]
            assert_close(value, getattr(reference, name))
            assert sub.level_of(name) == reference.level_of(name)
        assert bool((sub.node_id[1:] > sub.node_id[:-1]).all())
        assert_close(sub.node_norm, sampler.node_norm[sub.node_id])
        assert_close(sub.edge_norm, sampler.edge_norm[sub.edge_id])
        assert sub.level_of("edge_norm") == "edge" and sub.level_of("node_norm") == "node"


def test_subgraphs_follow_edge_norm_when_it_is_changed():
    # Subgraphs read edge_norm through a copy in the layout of the pair slots: replacing it or editing it in
    # place must show in the next subgraph.
    graph = shuffled_graph()
    sampler = make("rw", graph, 6, num_steps=1, sample_coverage=5, seed=1)
    sampler.subgraph(0)
    sampler.edge_norm.mul_(3.0).add_(torch.arange(graph.num_edges, dtype=torch.float32))
    sub = sampler.subgraph(0)
    assert sub.num_edges > 0
    assert_close(sub.edge_norm, sampler.edge_norm[sub.edge_id])
    sampler.edge_norm = torch.rand(graph.num_edges)
    sub = sampler.subgraph(0)
    assert_close(sub.edge_norm, sampler.edge_norm[sub.edge_id])


def test_structure_only_graph_with_directed_edges():
    # No node tensors and one-directional edges: walks use the symmetrised graph, the subgraph keeps the given edges.
    edge_index = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    graph = Graph(edge_index=edge_index, num_nodes=5)
    sampler = GraphSAINTRandomWalkSampler(graph, 3, num_steps=2, walk_length=4, sample_coverage=20, seed=0)
    for sub in sampler:
        assert sorted(sub.edge_index.t().tolist()) == sorted(graph.subgraph(sub.node_id).edge_index.t().tolist())
    # node 4 is isolated: it can only be a root that stays put.
    assert sampler.node_norm.shape == (5,) and sampler.edge_norm.shape == (4,)


def test_presampling_stops_when_sample_coverage_times_n_nodes_are_reached():
    graph = small_graph()
    for coverage in (3, 10.5):
        sampler = GraphSAINTRandomWalkSampler(graph, 2, num_steps=1, walk_length=2, sample_coverage=coverage, seed=4)
        # node_norm = n / C(v) (zero counts stored as 0.1, which rounds to 0)
        counts = (sampler.num_presampled / sampler.node_norm.double()).round()
        total = float(counts.sum())
        target = coverage * graph.num_nodes
        assert target <= total < target + 2 * 3  # the last subgraph adds at most 6 nodes


def test_zero_counts_are_handled_as_in_the_papers_code():
    # One pre-sampled subgraph of one node: C = 1 for it, 0 elsewhere.
    graph = small_graph(num_nodes=10, num_chords=0)
    sampler = GraphSAINTNodeSampler(graph, 1, num_steps=1, sample_coverage=0.1, seed=0)
    assert sampler.num_presampled == 1
    sampled = int(torch.nonzero(sampler.node_norm == 1).view(-1)[0])
    expected_node = torch.full((10,), 1 / 0.1)  # count 0 -> 0.1
    expected_node[sampled] = 1.0
    assert_close(sampler.node_norm, expected_node)
    # C(v) > 0, C(u, v) = 0 -> clipped to 1e4; C(v) = C(u, v) = 0 -> 0.1.
    expected_edge = torch.where(graph.edge_index[1] == sampled, 1e4, 0.1).float()
    assert_close(sampler.edge_norm, expected_edge)


def test_without_sample_coverage_the_norms_are_ones():
    graph = shuffled_graph()
    sampler = GraphSAINTEdgeSampler(graph, 4, num_steps=2, seed=0)
    assert sampler.num_presampled == 0
    sub = sampler.subgraph(0)
    assert_close(sub.node_norm, torch.ones(sub.num_nodes))
    assert_close(sub.edge_norm, torch.ones(sub.num_edges))


# ---------------------------------------------------------------------- seeding, epochs, ranks, workers
def _signature(subgraphs) -> list[tuple]:
    return [(tuple(s.node_id.tolist()), tuple(s.edge_index.flatten().tolist())) for s in subgraphs]


@pytest.mark.parametrize("kind", list(SAMPLERS))
def test_same_seed_same_subgraphs_other_seed_other_subgraphs(kind):
    graph = shuffled_graph()
    a = make(kind, graph, 5, num_steps=4, sample_coverage=3, seed=11)
    b = make(kind, graph, 5, num_steps=4, sample_coverage=3, seed=11)
    c = make(kind, graph, 5, num_steps=4, sample_coverage=3, seed=12)
    assert_close(a.node_norm, b.node_norm)
    assert_close(a.edge_norm, b.edge_norm)
    first_a, first_b, first_c = _signature(a), _signature(b), _signature(c)
    assert first_a == first_b
    assert first_a != first_c
    # The next iteration is the next epoch: new subgraphs, again the same for both.
    assert _signature(a) == _signature(b) != first_a
    a.set_epoch(0)
    assert _signature(a) == first_a


def test_seed_none_follows_torch_manual_seed_and_ranks_share_norms():
    graph = shuffled_graph()
    torch.manual_seed(5)
    a = GraphSAINTNodeSampler(graph, 5, num_steps=3, sample_coverage=4)
    torch.manual_seed(5)
    b = GraphSAINTNodeSampler(graph, 5, num_steps=3, sample_coverage=4)
    assert a.seed == b.seed
    b.set_rank(1)
    assert_close(a.node_norm, b.node_norm)
    assert _signature(a.subgraph(s) for s in range(3)) != _signature(b.subgraph(s) for s in range(3))


def test_dataloader_with_worker_processes_yields_the_same_stream():
    graph = shuffled_graph()
    sampler = GraphSAINTRandomWalkSampler(graph, 4, num_steps=7, walk_length=2, sample_coverage=3, seed=2)
    sampler.set_epoch(3)
    direct = list(sampler)
    loader = torch.utils.data.DataLoader(sampler, batch_size=None, num_workers=2)
    from_workers = list(loader)
    assert len(from_workers) == 7 == len(loader)
    assert all(isinstance(g, Graph) for g in from_workers)
    assert _signature(from_workers) == _signature(direct)
    for a, b in zip(direct, from_workers):
        assert_close(a.edge_norm, b.edge_norm)
        assert_close(a.x, b.x)


# ---------------------------------------------------------------------- errors
def test_errors_name_the_problem():
    graph = shuffled_graph()
    with pytest.raises(TypeError, match="geoconv Graph"):
        GraphSAINTNodeSampler(graph.edge_index, 5, num_steps=1)
    with pytest.raises(TypeError, match="base class"):
        GraphSAINTSampler(graph, 5, num_steps=1)
    with pytest.raises(ValueError, match="needs a graph with edge_index"):
        GraphSAINTNodeSampler(Graph(x=torch.randn(3, 2)), 5, num_steps=1)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        GraphSAINTNodeSampler(graph, 0, num_steps=1)
    with pytest.raises(ValueError, match="num_steps must be a positive int"):
        GraphSAINTEdgeSampler(graph, 4, num_steps=-2)
    with pytest.raises(ValueError, match="sample_coverage must be a finite number"):
        GraphSAINTEdgeSampler(graph, 4, num_steps=1, sample_coverage=-1)
    with pytest.raises(ValueError, match="sample_coverage must be a finite number"):
        GraphSAINTEdgeSampler(graph, 4, num_steps=1, sample_coverage=math.inf)
    with pytest.raises(ValueError, match="walk_length must be a positive int"):
        GraphSAINTRandomWalkSampler(graph, 4, num_steps=1, walk_length=0)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        GraphSAINTRandomWalkSampler(graph, 4, num_steps=1, seed=-3)
    with pytest.raises(ValueError, match="0 nodes"):
        GraphSAINTRandomWalkSampler(Graph(edge_index=torch.zeros(2, 0, dtype=torch.long), num_nodes=0), 1, num_steps=1)
    no_edges = Graph(edge_index=torch.zeros(2, 0, dtype=torch.long), num_nodes=4)
    with pytest.raises(ValueError, match="node sampler needs at least one edge"):
        GraphSAINTNodeSampler(no_edges, 1, num_steps=1)
    with pytest.raises(ValueError, match="edge sampler needs a graph with at least one edge"):
        GraphSAINTEdgeSampler(no_edges, 1, num_steps=1)
    with_faces = Graph(x=torch.randn(3, 1), edge_index=torch.tensor([[0, 1], [1, 2]]), face=torch.tensor([[0, 1, 2]]))
    with pytest.raises(ValueError, match="'face' indexes nodes"):
        GraphSAINTNodeSampler(with_faces, 2, num_steps=1)
    with pytest.raises(ValueError, match="exact_norms computes the norms without pre-sampling"):
        GraphSAINTNodeSampler(graph, 2, num_steps=1, sample_coverage=5, exact_norms=True)
    with pytest.raises(ValueError, match=r"edge_weight must be a tensor of shape \[%d\]" % graph.num_edges):
        GraphSAINTNodeSampler(graph, 2, num_steps=1, edge_weight=torch.ones(3))
    with pytest.raises(ValueError, match="self_loop_weight must be finite and >= 0"):
        GraphSAINTNodeSampler(graph, 2, num_steps=1, self_loop_weight=-torch.ones(graph.num_nodes))
    with pytest.raises(ValueError, match="every node has probability 0"):
        GraphSAINTNodeSampler(graph, 2, num_steps=1, edge_weight=torch.zeros(graph.num_edges))
    sampler = GraphSAINTNodeSampler(graph, 2, num_steps=1)
    with pytest.raises(ValueError, match="rank must be >= 0"):
        sampler.set_rank(-1)


@pytest.mark.parametrize("kind", list(SAMPLERS))
@pytest.mark.parametrize("coverage", [0, 5])
def test_coalesced_symmetric_graphs_give_the_induced_edges_with_aligned_edge_tensors(kind, coverage):
    # Such graphs are their own symmetrised graph (no second sort at construction): the edge set and the
    # edge tensors must be those of Graph.subgraph, in the same order.
    graph = shuffled_graph(seed=2)
    edge_index, _ = to_undirected(torch.cat([graph.edge_index, torch.tensor([[4, 9], [4, 9]])], dim=1), None,
                                  graph.num_nodes)  # coalesced, symmetric, with self-loops
    num_edges = edge_index.shape[1]
    graph = Graph(x=graph.x, edge_index=edge_index, edge_data={"edge_id": torch.arange(num_edges)},
                  edge_attr=torch.randn(num_edges, 2, generator=torch.Generator().manual_seed(0)))
    sampler = make(kind, graph, 6, num_steps=3, sample_coverage=coverage, seed=4)
    assert_close(sampler._sym_col.long(), edge_index[1])
    for sub in sampler:
        reference = graph.subgraph(sub.node_id)
        order = torch.argsort(sub.edge_id)
        assert_close(sub.edge_id[order], reference.edge_id)
        assert_close(sub.edge_index[:, order], reference.edge_index)
        assert_close(sub.edge_attr[order], reference.edge_attr)
        assert_close(sub.edge_norm, sampler.edge_norm[sub.edge_id])
    # Structure only (no edge tensors, unit norms): the same edges without looking up edge ids.
    bare = make(kind, Graph(edge_index=edge_index, num_nodes=graph.num_nodes), 6, num_steps=3, seed=4)
    for sub, full in zip(bare, make(kind, graph, 6, num_steps=3, seed=4)):
        assert_close(sub.edge_index, full.edge_index)


# ---------------------------------------------------------------------- any edge_index: raw, duplicates, self-loops, directed
def _forms(num_nodes: int = 40, seed: int = 5) -> dict[str, Tensor]:
    """One undirected graph handed over in several forms (the coalesced symmetric one is the reference)."""
    generator = torch.Generator().manual_seed(seed)
    listed = torch.randint(0, num_nodes, (2, 110), generator=generator)
    listed = torch.cat([listed, torch.tensor([[2, 9], [2, 9]])], dim=1)  # self-loops
    listed = listed[:, listed[0] <= listed[1]]  # each undirected edge once, as a file lists it
    coalesced, _ = to_undirected(listed, None, num_nodes)
    raw = torch.cat([listed, listed.flip(0)], dim=1)  # both directions listed, self-loops twice, unsorted
    duplicated = torch.cat([raw, raw[:, :15]], dim=1)[:, torch.randperm(raw.shape[1] + 15, generator=generator)]
    return {"coalesced": coalesced, "raw": raw, "duplicated": duplicated}


def _dense_induced_edges(edge_index: Tensor, node_id: Tensor, num_nodes: int) -> Tensor:
    inside = torch.zeros(num_nodes, dtype=torch.bool)
    inside[node_id] = True
    return (inside[edge_index[0]] & inside[edge_index[1]]).nonzero().view(-1)


@pytest.mark.parametrize("kind", list(SAMPLERS))
@pytest.mark.parametrize("form", ["raw", "duplicated", "directed"])
def test_any_edge_index_gives_the_dense_induced_subgraph_and_the_coalesced_forms_norms(kind, form):
    num_nodes = 40
    forms = _forms(num_nodes)
    reference_edges = forms["coalesced"]
    if form == "directed":
        # One direction of each undirected edge, plus a reciprocal pair and a duplicate: walks and
        # probabilities use the symmetrised graph, which is the coalesced form.
        edge_index = reference_edges[:, reference_edges[0] <= reference_edges[1]]
        edge_index = torch.cat([edge_index.flip(0)[:, :5], edge_index, edge_index[:, :3]], dim=1)
    else:
        edge_index = forms[form]
    num_edges = edge_index.shape[1]
    graph = Graph(edge_index=edge_index, num_nodes=num_nodes, edge_data={"edge_id": torch.arange(num_edges)})
    reference_graph = Graph(edge_index=reference_edges, num_nodes=num_nodes)
    sampler = make(kind, graph, 6, num_steps=4, sample_coverage=30, seed=2)
    reference = make(kind, reference_graph, 6, num_steps=4, sample_coverage=30, seed=2)
    # The same draws: the same nodes and node norms; each edge u -> v gets the norm of u -> v in the coalesced form
    # (C_v / C_uv, with every copy of an edge counted in every subgraph holding both ends).
    assert_close(sampler.node_norm, reference.node_norm)
    key = reference_edges[0] * num_nodes + reference_edges[1]
    position = torch.searchsorted(key, edge_index[0] * num_nodes + edge_index[1])
    assert_close(sampler.edge_norm, reference.edge_norm[position])
    for sub, expected in zip(sampler, reference):
        assert torch.equal(sub.node_id, expected.node_id)
        dense = _dense_induced_edges(edge_index, sub.node_id, num_nodes)
        assert sorted(sub.edge_id.tolist()) == dense.tolist()
        assert_close(sub.node_id[sub.edge_index], edge_index[:, sub.edge_id])
        assert_close(sub.edge_norm, sampler.edge_norm[sub.edge_id])
        assert_close(sub.node_norm, sampler.node_norm[sub.node_id])


def test_num_threads_is_applied_while_sampling_and_restored():
    graph = shuffled_graph()
    seen = []

    class Spy(GraphSAINTRandomWalkSampler):
        def _draw(self, num_subgraphs, generator):
            seen.append(torch.get_num_threads())
            return super()._draw(num_subgraphs, generator)

    torch.set_num_threads(2)
    sampler = Spy(graph, 3, num_steps=2, walk_length=2, seed=0)  # default: 1 thread inside
    sampler.subgraph(0)
    assert seen == [1] and torch.get_num_threads() == 2
    untouched = Spy(graph, 3, num_steps=2, walk_length=2, seed=0, num_threads=None)
    untouched.subgraph(0)
    assert seen[-1] == 2 and torch.get_num_threads() == 2
    assert_close(untouched.subgraph(1).edge_index, sampler.subgraph(1).edge_index)
    with pytest.raises(ValueError, match="num_threads must be a positive int or None"):
        GraphSAINTRandomWalkSampler(graph, 3, num_steps=1, num_threads=0)
