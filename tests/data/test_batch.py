import pytest
import torch

from geoconv.data import Batch, DataLoader, Graph, GraphValidationError
from geoconv.testing import CORNER_CASE_NODE_COUNTS, graph_cases


def assert_graphs_equal(a: Graph, b: Graph) -> None:
    assert a.keys() == b.keys()
    assert a.num_nodes == b.num_nodes
    for name in a.keys():
        assert a.level_of(name) == b.level_of(name)
        assert a.index_of(name) == b.index_of(name)
        torch.testing.assert_close(getattr(a, name), getattr(b, name), rtol=0, atol=0)


def test_corner_case_batch_vectors():
    graphs = graph_cases(num_features=2, with_pos=True, edge_dim=3)
    batch = Batch.from_graphs(graphs)
    assert batch.num_graphs == len(CORNER_CASE_NODE_COUNTS)
    assert batch.num_nodes == sum(CORNER_CASE_NODE_COUNTS)
    assert torch.equal(batch.ptr, torch.tensor([0, 1, 4, 5, 5, 7, 7, 7]))
    assert torch.equal(batch.batch, torch.tensor([0, 1, 1, 1, 2, 4, 4]))
    # The 3-node graph's edges are offset by the one node before it.
    assert torch.equal(batch.edge_index, graphs[1].edge_index + 1)
    assert torch.equal(batch.counts("edge"), torch.tensor([0, 5, 0, 0, 0, 0, 0]))


def test_round_trip_is_exact_on_corner_cases():
    graphs = graph_cases(num_features=2, with_pos=True, edge_dim=3)
    for g in graphs:
        g.set("label", torch.tensor([float(g.num_nodes)]), "graph")
    back = Batch.from_graphs(graphs).to_graphs()
    assert len(back) == len(graphs)
    for a, b in zip(graphs, back):
        assert_graphs_equal(a, b)


def test_offsets_for_faces_and_declared_index_tensors_keep_padding():
    def mesh(n_vertices: int, faces: list[list[int]], neighbours: list[list[int]]) -> Graph:
        g = Graph(
            pos=torch.randn(n_vertices, 3),
            edge_index=torch.tensor([[0, 1], [1, 2]]),
            face=torch.tensor(faces),
        )
        g.set("neighbour_edges", torch.tensor(neighbours), "edge", index_of="edge")
        return g

    a = mesh(3, [[0, 1, 2]], [[1, -1], [0, -1]])
    b = mesh(4, [[1, 2, 3]], [[-1, 1], [0, 1]])
    batch = Batch.from_graphs([a, b])
    assert torch.equal(batch.face, torch.tensor([[0, 1, 2], [4, 5, 6]]))
    assert torch.equal(batch.neighbour_edges, torch.tensor([[1, -1], [0, -1], [-1, 3], [2, 3]]))
    for original, restored in zip([a, b], batch.to_graphs()):
        assert_graphs_equal(original, restored)


def test_graph_level_targets_stack():
    graphs = [Graph(x=torch.zeros(n, 1), y=torch.tensor([float(n), 1.0]), y_level="graph") for n in (2, 0, 3)]
    batch = Batch.from_graphs(graphs)
    assert batch.y.shape == (3, 2)
    assert torch.equal(batch.y[:, 0], torch.tensor([2.0, 0.0, 3.0]))
    labels = Batch.from_graphs([Graph(x=torch.zeros(2, 1), y=torch.tensor(k), y_level="graph") for k in (4, 5)])
    assert torch.equal(labels.y, torch.tensor([4, 5]))


def test_mismatched_graphs_raise():
    a = Graph(x=torch.zeros(2, 1))
    b = Graph(x=torch.zeros(2, 1), pos=torch.zeros(2, 3))
    with pytest.raises(GraphValidationError, match=r"graph 1 does not hold the same tensors as graph 0 \(differing: \['pos'\]\)"):
        Batch.from_graphs([a, b])
    c = Graph(x=torch.zeros(2, 1)).set("t", torch.zeros(2), "node")
    d = Graph(x=torch.zeros(2, 1), edge_index=torch.zeros(2, 2, dtype=torch.long))
    d.set("t", torch.zeros(2), "edge")
    with pytest.raises(GraphValidationError):
        Batch.from_graphs([c, d])
    with pytest.raises(ValueError, match="at least one graph"):
        Batch.from_graphs([])
    with pytest.raises(TypeError, match="not a geoconv Graph"):
        Batch.from_graphs([a, "graph"])


def test_batch_is_a_graph_and_moves():
    batch = Batch.from_graphs(graph_cases())
    assert isinstance(batch, Graph)
    moved = batch.to("cpu")
    assert isinstance(moved, Batch)
    assert torch.equal(moved.batch, batch.batch) and moved.num_graphs == batch.num_graphs
    assert len(batch) == batch.num_graphs
    assert_graphs_equal(batch[1], graph_cases()[1])


class _Graphs(torch.utils.data.Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        return Graph(
            x=torch.full((i + 1, 2), float(i)),
            edge_index=torch.tensor([[0], [i]]),
            y=torch.tensor(i),
            y_level="graph",
        )


def test_dataloader_with_worker_processes():
    loader = DataLoader(_Graphs(), batch_size=4, num_workers=2)
    batches = list(loader)
    assert [b.num_graphs for b in batches] == [4, 4, 2]
    assert torch.equal(batches[0].y, torch.tensor([0, 1, 2, 3]))
    # Second graph (1 node offset) has its edge 0 -> 1 shifted to 1 -> 2.
    assert torch.equal(batches[0].edge_index[:, 1], torch.tensor([1, 2]))
    assert batches[2].num_nodes == 9 + 10
    with pytest.raises(TypeError, match="sets collate_fn itself"):
        DataLoader(_Graphs(), collate_fn=list)
