import networkx as nx
import pytest
import torch
import torch_geometric.data as pyg_data

from geoconv.data import Batch, Graph, from_networkx, from_pyg, to_networkx, to_pyg
from geoconv.testing import graph_cases


def test_pyg_round_trip():
    g = Graph(
        x=torch.randn(4, 3),
        edge_index=torch.tensor([[0, 1, 2], [1, 2, 3]]),
        edge_attr=torch.randn(3, 2),
        y=torch.tensor([0, 1, 1, 0]),
    )
    g.set("train_mask", torch.tensor([True, False, True, False]), "node")
    data = to_pyg(g)
    assert isinstance(data, pyg_data.Data)
    assert data.num_nodes == 4 and torch.equal(data.edge_index, g.edge_index)
    # PyG sees every tensor under its own name (a round trip alone would accept any private encoding).
    assert sorted(data.keys()) == sorted(["x", "edge_index", "edge_attr", "y", "train_mask", "num_nodes"])
    for name in g.keys():
        assert torch.equal(getattr(data, name), getattr(g, name)), name
    back = from_pyg(data, levels={"train_mask": "node"})
    for name in g.keys():
        assert torch.equal(getattr(back, name), getattr(g, name))
        assert back.level_of(name) == g.level_of(name)


def test_from_pyg_requires_declared_levels():
    data = pyg_data.Data(x=torch.zeros(2, 1), edge_index=torch.tensor([[0], [1]]), weight=torch.ones(1))
    with pytest.raises(ValueError, match="level of tensor 'weight' is not known"):
        from_pyg(data)
    assert from_pyg(data, levels={"weight": "edge"}).level_of("weight") == "edge"


def test_pyg_batch_round_trip_matches_pyg_batching():
    graphs = graph_cases(num_features=2)
    ours = Batch.from_graphs(graphs)
    theirs = to_pyg(ours)
    assert isinstance(theirs, pyg_data.Batch)
    # The reference is built by PyG alone from the same tensors (not from to_pyg, which is under test).
    reference = pyg_data.Batch.from_data_list(
        [pyg_data.Data(x=g.x, edge_index=g.edge_index, num_nodes=g.num_nodes) for g in graphs]
    )
    for name in ("x", "edge_index", "batch", "ptr"):
        assert torch.equal(getattr(theirs, name), getattr(reference, name)), name
    assert theirs.num_graphs == reference.num_graphs == len(graphs)
    assert torch.equal(reference.batch, ours.batch)
    assert torch.equal(reference.ptr, ours.ptr)
    back = from_pyg(theirs)
    assert isinstance(back, Batch) and torch.equal(back.x, ours.x)


def test_graph_level_y_from_pyg():
    data = pyg_data.Data(x=torch.zeros(3, 1), y=torch.tensor([[1.0, 2.0]]))
    assert from_pyg(data).level_of("y") == "graph"


def test_networkx_round_trip_keeps_duplicates_and_attributes():
    g = Graph(
        x=torch.tensor([[1.0], [2.0], [3.0]]),
        edge_index=torch.tensor([[0, 0, 1, 2], [1, 1, 2, 2]]),
        edge_attr=torch.tensor([[0.5], [0.5], [1.0], [2.0]]),
    )
    nx_graph = to_networkx(g, node_attrs=("x",), edge_attrs=("edge_attr",))
    assert nx_graph.number_of_nodes() == 3 and nx_graph.number_of_edges() == 4
    back = from_networkx(nx_graph, node_attrs=("x",), edge_attrs=("edge_attr",))
    assert torch.equal(back.edge_index, g.edge_index)
    assert torch.equal(back.x, g.x) and torch.equal(back.edge_attr, g.edge_attr)


def test_from_undirected_networkx_gives_both_directions():
    graph = from_networkx(nx.path_graph(3))
    assert graph.num_nodes == 3
    assert sorted(map(tuple, graph.edge_index.t().tolist())) == [(0, 1), (1, 0), (1, 2), (2, 1)]
    isolated = nx.Graph()
    isolated.add_nodes_from(["a", "b"])
    assert from_networkx(isolated).num_nodes == 2


def test_to_pyg_equals_a_data_object_pyg_builds_itself():
    # Every kind of field: node, edge, face, graph-level y, an edge-level extra.
    x, pos = torch.randn(4, 3), torch.randn(4, 3)
    edge_index, edge_attr = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]]), torch.randn(4, 2)
    face, weight, y = torch.tensor([[0, 1, 2], [0, 2, 3]]), torch.rand(4), torch.tensor([[0.5, 1.5]])
    g = Graph(x=x, edge_index=edge_index, edge_attr=edge_attr, pos=pos, face=face, y=y, y_level="graph")
    g.set("weight", weight, "edge")
    reference = pyg_data.Data(x=x, edge_index=edge_index, edge_attr=edge_attr, pos=pos, face=face, y=y, weight=weight)
    data = to_pyg(g)
    assert sorted(data.keys()) == sorted(reference.keys() + ["num_nodes"]) and data.num_nodes == reference.num_nodes
    for name in reference.keys():
        assert torch.equal(data[name], reference[name]), name
    # And back: the levels are the declared ones, no tensor changed.
    back = from_pyg(reference, levels={"weight": "edge"})
    assert {name: back.level_of(name) for name in back.keys()} == {
        "x": "node", "pos": "node", "edge_index": "edge", "edge_attr": "edge", "face": "face", "y": "graph",
        "weight": "edge"}
    for name in reference.keys():
        assert torch.equal(getattr(back, name), reference[name]), name


def test_from_pyg_does_not_guess_the_level_of_y_on_a_one_node_graph():
    one_node = pyg_data.Data(x=torch.zeros(1, 2), y=torch.tensor([3]))
    with pytest.raises(ValueError, match=r"level of y \[1\] is ambiguous \(both node- and graph-level fit a graph with one node\)"):
        from_pyg(one_node)
    assert from_pyg(one_node, levels={"y": "graph"}).level_of("y") == "graph"
    assert from_pyg(one_node, levels={"y": "node"}).level_of("y") == "node"
    with pytest.raises(ValueError, match=r"neither fits: its first dimension is 2, the graph has 3 nodes"):
        from_pyg(pyg_data.Data(x=torch.zeros(3, 2), y=torch.tensor([1, 0])))
    assert from_pyg(pyg_data.Data(x=torch.zeros(3, 2), y=torch.tensor([1, 0, 1]))).level_of("y") == "node"
    assert from_pyg(pyg_data.Data(x=torch.zeros(3, 2), y=torch.tensor(2.0))).level_of("y") == "graph"


def test_from_pyg_names_non_tensor_attributes_instead_of_dropping_them():
    data = pyg_data.Data(x=torch.zeros(2, 1), edge_index=torch.tensor([[0], [1]]), smiles="CC", name="ethane")
    with pytest.raises(ValueError, match=r"attribute '(smiles|name)' is a str, not a tensor.*ignore="):
        from_pyg(data)
    graph = from_pyg(data, ignore=("smiles", "name"))
    assert sorted(graph.keys()) == ["edge_index", "x"]
    # The same rules hold for every graph of a PyG batch.
    batch = pyg_data.Batch.from_data_list([data, data])
    with pytest.raises(ValueError, match="not a tensor"):
        from_pyg(batch)
    assert from_pyg(batch, ignore=["smiles", "name"]).num_graphs == 2
