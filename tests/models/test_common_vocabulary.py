"""Every model of geoconv.models: one constructor vocabulary, forward(graph) on the corner-case batch,
reset_parameters() that re-initialises every parameter, and batch == graphs one by one (eval mode)."""

from __future__ import annotations

from typing import Callable

import pytest
import torch

import geoconv.models
from geoconv.data import Batch, Graph
from geoconv.data.mesh import mesh_graph
from geoconv.datasets.mesh_shapes import icosphere, torus
from geoconv.nn.atom_bond_encoder import OGB_ATOM_FEATURE_DIMS, OGB_BOND_FEATURE_DIMS
from geoconv.ops import to_undirected
from geoconv.testing import CORNER_CASE_NODE_COUNTS, graph_cases

F64 = torch.float64
VOCABULARY = dict(hidden_channels=8, out_channels=3, num_layers=2, dropout=0.3)


def corner_graphs(**kwargs) -> list[Graph]:
    """graph_cases (node counts 1, 3, 1, 0, 2, 0, 0) in float64 with positions."""
    return graph_cases(4, with_pos=True, dtype=F64, **kwargs)


def undirected_corner_graphs() -> list[Graph]:
    graphs = []
    for graph in corner_graphs():
        edge_index, _ = to_undirected(graph.edge_index, None, graph.num_nodes)
        graphs.append(graph.replace(edge_index=edge_index))
    return graphs


def molecule_corner_graphs() -> list[Graph]:
    """Corner-case graphs with OGB's categorical atom [N, 9] and bond [E, 3] features."""
    generator = torch.Generator().manual_seed(1)
    graphs = []
    for graph in corner_graphs():
        atoms = torch.stack([torch.randint(0, v, (graph.num_nodes,), generator=generator)
                             for v in OGB_ATOM_FEATURE_DIMS], dim=1)
        bonds = torch.stack([torch.randint(0, v, (graph.num_edges,), generator=generator)
                             for v in OGB_BOND_FEATURE_DIMS], dim=1)
        graphs.append(Graph(x=atoms, edge_index=graph.edge_index, edge_attr=bonds, num_nodes=graph.num_nodes))
    return graphs


def fingerprint_graphs() -> list[Graph]:
    graphs = corner_graphs()
    generator = torch.Generator().manual_seed(2)
    for graph in graphs:
        graph.set("fingerprint", torch.rand(1, 16, generator=generator, dtype=F64), "graph")
    return graphs


def atom_graphs() -> list[Graph]:
    graphs = []
    generator = torch.Generator().manual_seed(3)
    for graph in corner_graphs():
        z = torch.randint(1, 10, (graph.num_nodes,), generator=generator)
        graphs.append(Graph(pos=graph.pos, edge_index=graph.edge_index, node_data={"z": z}))
    return graphs


def cloud_graphs() -> list[Graph]:
    graphs = corner_graphs()
    for category, graph in enumerate(graphs):
        graph.set("category", torch.tensor([category % 4]), "graph")
    return graphs


def mesh_graphs() -> list[Graph]:
    # Meshes cannot be empty: two closed meshes of different sizes (480 and 384 edges).
    return [mesh_graph(*icosphere(2)), mesh_graph(*torus(16, 8))]


# name -> (input size, family options, graphs, output level); every model of geoconv.models must be listed.
CASES: dict[str, tuple[int, dict, Callable[[], list[Graph]], str]] = {
    "GCN": (4, {}, corner_graphs, "node"),
    "SheafDiffusion": (4, dict(stalk_dim=2, restriction="general"), undirected_corner_graphs, "node"),
    "DiagSheafDiffusion": (4, dict(stalk_dim=2), undirected_corner_graphs, "node"),
    "BundleSheafDiffusion": (4, dict(stalk_dim=2), undirected_corner_graphs, "node"),
    "GeneralSheafDiffusion": (4, dict(stalk_dim=2), undirected_corner_graphs, "node"),
    "ESCN": (10, dict(lmax=2, num_radial=4, edge_channels=4), atom_graphs, "graph"),
    "GridESCN": (10, dict(lmax=2, mmax=1, num_radial=4, edge_channels=4, num_sphere_samples=16), atom_graphs, "graph"),
    "OGBMolGNN": (9, dict(virtual_node=True), molecule_corner_graphs, "graph"),
    "NeuralFingerprintNet": (4, dict(edge_channels=0, edge_fields=None, fingerprint_length=5), corner_graphs, "graph"),
    "FingerprintMLP": (16, {}, fingerprint_graphs, "graph"),
    "DGCNN": (3, dict(k=2, embedding_channels=8, head_channels=(6,)), cloud_graphs, "graph"),
    "DGCNNSegmentation": (3, dict(k=2, embedding_channels=8, num_categories=4), cloud_graphs, "node"),
    "MeshCNNClassifier": (5, dict(pool_targets=(300, 240), head_channels=6, groups=4), mesh_graphs, "graph"),
    "MeshCNNSegmenter": (5, dict(pool_targets=(300,), groups=4), mesh_graphs, "edge"),
}


def build(name: str, seed: int = 0) -> torch.nn.Module:
    in_channels, family, _, _ = CASES[name]
    torch.manual_seed(seed)
    # The shared vocabulary, all by keyword: a model that spells one of them differently fails here.
    return getattr(geoconv.models, name)(in_channels=in_channels, **VOCABULARY, **family).to(F64)


def rows(graph: Graph, level: str) -> int:
    return {"node": graph.num_nodes, "edge": graph.num_edges, "graph": graph.num_graphs}[level]


def test_every_model_is_covered():
    assert set(CASES) == set(geoconv.models.__all__)


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_on_the_batch_and_shapes(name):
    model = build(name).train()
    graphs = CASES[name][2]()
    batch = Batch.from_graphs(graphs)
    if name not in ("MeshCNNClassifier", "MeshCNNSegmenter"):
        assert batch.counts("node").tolist() == list(CORNER_CASE_NODE_COUNTS)
    out = model(batch)
    assert out.shape == (rows(batch, CASES[name][3]), 3)
    assert torch.isfinite(out).all()
    out.square().sum().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    # The vocabulary is stored under its own names.
    assert (model.in_channels, model.out_channels, model.num_layers, model.dropout) == (CASES[name][0], 3, 2, 0.3)


@pytest.mark.parametrize("name", sorted(CASES))
def test_reset_parameters_reinitialises_every_parameter(name):
    model = build(name)
    graphs = CASES[name][2]()
    batch = Batch.from_graphs(graphs)
    model.eval()
    before = model(batch)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(0.5)  # no initialiser gives a constant 0.5
    model.reset_parameters()
    stale = [n for n, p in model.named_parameters() if bool((p == 0.5).all())]
    assert not stale, f"{name}.reset_parameters() left {stale} untouched"
    # A fresh draw of the initialisation gives a different model (random parts were redrawn).
    after = model(batch)
    assert after.shape == before.shape and not torch.allclose(after, before)


@pytest.mark.parametrize("name", sorted(CASES))
def test_batch_equals_graphs_one_by_one(name):
    model = build(name).eval()
    graphs = CASES[name][2]()
    level = CASES[name][3]
    with torch.no_grad():
        together = model(Batch.from_graphs(graphs))
        one_by_one = torch.cat([model(graph) for graph in graphs])
    assert one_by_one.shape[0] == sum(rows(g, level) for g in graphs)
    torch.testing.assert_close(together, one_by_one, atol=1e-9, rtol=1e-9)
    # Two graphs only (g1, g2) as well, in the other order.
    pair = [graphs[1], graphs[0]]
    with torch.no_grad():
        torch.testing.assert_close(model(Batch.from_graphs(pair)), torch.cat([model(g) for g in pair]),
                                   atol=1e-9, rtol=1e-9)


def test_fields_are_constructor_options():
    """Which fields a model reads is named by the constructor: a missing field is an error naming the option."""
    graph = corner_graphs()[1]
    model = build("GCN")
    renamed = Graph(edge_index=graph.edge_index, node_data={"features": graph.x})
    with pytest.raises(ValueError, match=r"GCN reads input_fields=\('x',\), but the graph has no tensor 'x'"):
        model(renamed)
    torch.manual_seed(0)
    reads_features = geoconv.models.GCN(4, 8, 3, input_fields="features").to(F64).eval()
    torch.testing.assert_close(reads_features(renamed), model.eval()(graph))
