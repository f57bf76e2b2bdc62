import pickle

import pytest
import torch

from geoconv.data import Graph, GraphValidationError


def small_graph() -> Graph:
    return Graph(
        x=torch.arange(8, dtype=torch.float32).view(4, 2),
        edge_index=torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]]),
        edge_attr=torch.ones(4, 3),
        pos=torch.zeros(4, 3),
        face=torch.tensor([[0, 1, 2], [0, 2, 3]]),
        y=torch.tensor([0, 1, 0, 1]),
    )


def test_sizes_and_levels():
    g = small_graph()
    assert (g.num_nodes, g.num_edges, g.num_faces, g.num_graphs) == (4, 4, 2, 1)
    assert g.level_of("x") == "node" and g.level_of("edge_attr") == "edge"
    assert g.level_of("face") == "face" and g.index_of("face") == "node"
    assert g.level_of("y") == "node"
    assert torch.equal(g.batch, torch.zeros(4, dtype=torch.long))
    assert torch.equal(g.ptr, torch.tensor([0, 4]))
    assert g.num_node_features == 2


def test_graph_level_targets_get_a_leading_dimension():
    g = Graph(x=torch.zeros(3, 1), y=torch.tensor([1.0, 2.0, 3.0]), y_level="graph")
    assert g.y.shape == (1, 3) and g.level_of("y") == "graph"
    scalar = Graph(x=torch.zeros(3, 1), y=torch.tensor(2), y_level="graph")
    assert scalar.y.shape == (1,)


def test_num_nodes_without_node_tensors():
    g = Graph(edge_index=torch.tensor([[0], [1]]), num_nodes=5)
    assert g.num_nodes == 5
    empty = Graph(edge_index=torch.zeros(2, 0, dtype=torch.long))
    assert empty.num_nodes == 0 and empty.num_edges == 0


def test_extra_tensors_need_a_declared_level():
    g = small_graph()
    g.set("train_mask", torch.tensor([True, False, True, False]), "node")
    assert g.train_mask.dtype == torch.bool and g.level_of("train_mask") == "node"
    with pytest.raises(AttributeError, match="declare its level"):
        g.unknown_thing = torch.zeros(4)
    with pytest.raises(AttributeError, match="no tensor 'missing'"):
        _ = g.missing
    # Replacing an existing extra keeps its level and is validated.
    with pytest.raises(GraphValidationError, match="train_mask has 3 rows but num_nodes is 4"):
        g.train_mask = torch.zeros(3, dtype=torch.bool)
    assert g.train_mask.shape == (4,)  # the old value is kept


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(x=torch.zeros(3, 2), edge_index=torch.tensor([[0, 1], [1, 2]], dtype=torch.int32)),
         "edge_index must have dtype torch.int64, got torch.int32"),
        (dict(x=torch.zeros(3, 2), edge_index=torch.zeros(3, 2, dtype=torch.long)),
         r"edge_index must have shape \[2, E\], got \[3, 2\]"),
        (dict(x=torch.zeros(3, 2), edge_index=torch.tensor([[0, 3], [1, 2]])),
         r"edge_index contains index 3 but num_nodes is 3 \(valid range 0..2\)"),
        (dict(x=torch.zeros(3, 2), edge_index=torch.tensor([[0, -1], [1, 2]])),
         "edge_index contains negative index -1"),
        (dict(x=torch.zeros(3, 2), pos=torch.zeros(4, 3)),
         "pos has 4 rows but num_nodes is 3"),
        (dict(x=torch.zeros(3, 2), edge_index=torch.tensor([[0], [1]]), edge_attr=torch.zeros(2, 1)),
         "edge_attr has 2 rows but num_edges is 1"),
        (dict(x=torch.zeros(3, 2), face=torch.tensor([[0, 1, 5]])),
         r"face contains index 5 but num_nodes is 3"),
        (dict(x=torch.zeros(3, 2), face=torch.tensor([[0, 1]])),
         r"face must have shape \[F, 3\], got \[1, 2\]"),
        (dict(x=torch.zeros(3, 2), face=torch.tensor([[0.0, 1.0, 2.0]])),
         "face must have dtype torch.int64"),
        (dict(x=torch.zeros(3, 2), pos=torch.zeros(3, 3, dtype=torch.long)),
         "pos must be a floating-point tensor"),
        (dict(x=torch.zeros(3, 2), y=torch.zeros(2, 2), y_level="graph"),
         "a graph-level tensor must have a leading dimension of 1"),
        (dict(x=torch.zeros(3, 2), y=torch.zeros(3), y_level="edge"),
         "y_level must be 'node' or 'graph'"),
        (dict(x=torch.zeros(3, 2), node_data={"mask": torch.zeros(2)}),
         "mask has 2 rows but num_nodes is 3"),
        (dict(x=[[1.0]]), "x must be a torch.Tensor, got list"),
    ],
)
def test_validation_errors_name_the_problem(kwargs, message):
    with pytest.raises(GraphValidationError, match=message):
        Graph(**kwargs)


def test_index_tensors_validate_range_and_allow_padding():
    g = small_graph()
    g.set("neighbour_edges", torch.tensor([[1, -1], [2, 0], [3, 1], [0, 2]]), "edge", index_of="edge")
    assert g.index_of("neighbour_edges") == "edge"
    with pytest.raises(GraphValidationError, match="bad contains index 4 but num_edges is 4"):
        g.set("bad", torch.tensor([[4, 0], [0, 0], [0, 0], [0, 0]]), "edge", index_of="edge")
    assert "bad" not in g  # a rejected tensor is not stored
    with pytest.raises(GraphValidationError, match="only -1 is allowed as padding"):
        g.set("bad", torch.tensor([[-2, 0], [0, 0], [0, 0], [0, 0]]), "edge", index_of="edge")
    with pytest.raises(GraphValidationError, match="must have dtype torch.int64"):
        g.set("bad", torch.zeros(4, 2), "edge", index_of="edge")


def test_subgraph_slices_every_level():
    g = small_graph()
    g.set("weight", torch.tensor([1.0, 2.0, 3.0, 4.0]), "edge")
    sub = g.subgraph(torch.tensor([0, 1, 2]))
    assert sub.num_nodes == 3
    assert torch.equal(sub.x, g.x[:3])
    assert torch.equal(sub.edge_index, torch.tensor([[0, 1], [1, 2]]))
    assert torch.equal(sub.weight, torch.tensor([1.0, 2.0]))
    assert torch.equal(sub.face, torch.tensor([[0, 1, 2]]))
    assert torch.equal(sub.node_id, torch.tensor([0, 1, 2]))
    relabelled = g.subgraph(torch.tensor([False, True, True, True]))
    assert torch.equal(relabelled.edge_index, torch.tensor([[0, 1], [1, 2]]))
    assert torch.equal(relabelled.node_id, torch.tensor([1, 2, 3]))
    with pytest.raises(GraphValidationError, match="out of range"):
        g.subgraph(torch.tensor([0, 7]))


def test_replace_to_clone_and_pickle():
    g = small_graph()
    h = g.replace(x=torch.ones(4, 5), edge_attr=None)
    assert h.x.shape == (4, 5) and "edge_attr" not in h and "edge_attr" in g
    with pytest.raises(GraphValidationError):
        g.replace(x=torch.ones(5, 5))
    moved = g.to(torch.device("cpu"))
    assert moved.device.type == "cpu" and torch.equal(moved.x, g.x.cpu())
    copy = g.clone()
    copy.x.add_(1)
    assert not torch.equal(copy.x, g.x)
    restored = pickle.loads(pickle.dumps(g))
    assert restored.keys() == g.keys() and torch.equal(restored.face, g.face)
    assert restored.level_of("face") == "face"


def test_repr_names_shapes():
    assert repr(small_graph()).startswith("Graph(x=[4, 2], pos=[4, 3], edge_index=[2, 4]")
