"""Every layer of geoconv.nn and every model of geoconv.models, built small, with inputs for a size ``n``.

``LAYERS[name]()`` and ``MODELS[name]()`` return ``(module, make_inputs)`` with ``make_inputs(n, seed)`` the
positional arguments of ``module`` for about ``n`` nodes; shared by the compile and autocast tests.
"""

from __future__ import annotations

import torch
from torch import nn

import geoconv.nn as gnn
from geoconv import models
from geoconv.data import Batch, Graph
from geoconv.testing import random_graph


def _symmetric_edges(num_nodes: int, num_edges: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    src = torch.randint(0, num_nodes, (num_edges,), generator=generator)
    dst = (src + torch.randint(1, num_nodes, (num_edges,), generator=generator)) % num_nodes
    pairs = torch.unique(torch.stack([torch.minimum(src, dst), torch.maximum(src, dst)]), dim=1)
    return torch.cat([pairs, pairs.flip(0)], dim=1)


def _graph(n: int, seed: int, channels: int = 6, with_pos: bool = False) -> Graph:
    return random_graph(n, 3 * n, channels, seed=seed, with_pos=with_pos)


def _molecules(n: int, seed: int, categorical: bool = False) -> Batch:
    """Two molecule-like graphs of ``n`` and ``n + 1`` atoms (undirected chains plus a ring bond)."""
    generator = torch.Generator().manual_seed(seed)
    graphs = []
    for atoms in (n, n + 1):
        chain = torch.stack([torch.arange(atoms - 1), torch.arange(1, atoms)])
        chain = torch.cat([chain, torch.tensor([[0], [atoms - 1]])], dim=1)
        edge_index = torch.cat([chain, chain.flip(0)], dim=1)
        if categorical:
            x = torch.stack([torch.randint(0, 2, (atoms,), generator=generator) for _ in range(9)], dim=1)
            edge_attr = torch.stack([torch.randint(0, 2, (edge_index.shape[1],), generator=generator)
                                     for _ in range(3)], dim=1)
        else:
            x = torch.randn(atoms, 5, generator=generator)
            edge_attr = torch.randn(edge_index.shape[1], 3, generator=generator)
        graphs.append(Graph(x=x, edge_index=edge_index, edge_attr=edge_attr))
    return Batch.from_graphs(graphs)


def _point_clouds(n: int, seed: int) -> Batch:
    generator = torch.Generator().manual_seed(seed)
    return Batch.from_graphs([Graph(pos=torch.randn(m, 3, generator=generator)) for m in (n, n + 3)])


def _escn_molecule(n: int, seed: int) -> Batch:
    generator = torch.Generator().manual_seed(seed)
    graphs = []
    for atoms in (n, n + 2):
        src, dst = torch.meshgrid(torch.arange(atoms), torch.arange(atoms), indexing="ij")
        keep = src != dst
        graphs.append(Graph(pos=torch.randn(atoms, 3, generator=generator) * 1.2,
                            edge_index=torch.stack([src[keep], dst[keep]]),
                            node_data={"z": torch.randint(1, 10, (atoms,), generator=generator)}))
    return Batch.from_graphs(graphs)


def mesh(subdivisions: int):
    from geoconv.data.mesh import mesh_graph
    from geoconv.datasets.mesh_shapes import icosphere

    return mesh_graph(*icosphere(subdivisions), y=0)


class _Call(nn.Module):
    """Calls ``module.<method>`` with the trailing inputs as keywords (layers with keyword-only extras)."""

    def __init__(self, module: nn.Module, *, keywords: tuple[str, ...] = (), method: str = "forward") -> None:
        super().__init__()
        self.module, self.keywords, self.method = module, keywords, method

    def forward(self, *inputs):
        split = len(inputs) - len(self.keywords)
        return getattr(self.module, self.method)(*inputs[:split], **dict(zip(self.keywords, inputs[split:])))


# name -> (build the module, inputs for a size n).  Every layer of geoconv.nn and every model of geoconv.models.
def _gcn_conv():
    return gnn.GCNConv(6, 8), lambda n, s: (_graph(n, s).x, _graph(n, s).edge_index)


def _edge_conv():
    mlp = nn.Sequential(nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 8))
    return gnn.EdgeConv(mlp), lambda n, s: (_graph(n, s).x, _graph(n, s).edge_index)


def _dynamic_edge_conv(aggr="max", block=False):
    mlp = gnn.LinearEdgeBlock(6, 8) if block else nn.Sequential(nn.Linear(12, 8), nn.ReLU())
    batch = lambda n: torch.repeat_interleave(torch.arange(3), torch.tensor([n, 2, n + 1]))  # noqa: E731
    return _Call(gnn.DynamicEdgeConv(mlp, k=4, aggr=aggr), keywords=("batch",)), lambda n, s: (torch.randn(2 * n + 3, 6), batch(n))


def _so2_convolution():
    from geoconv.ops.so3 import frame_layout

    size = len(frame_layout(3, 2))
    return (gnn.SO2Convolution(4, 5, lmax=3, mmax=2, edge_channels=3),
            lambda n, s: (torch.randn(n, size, 4), torch.randn(n, 3)))


def _escn_conv():
    def inputs(n, s):
        graph = _graph(n, s, channels=3, with_pos=True)
        src, dst = graph.edge_index
        return (torch.randn(n, 9, 4), graph.edge_index, graph.pos[dst] - graph.pos[src], torch.randn(3 * n, 3),
                torch.rand(3 * n))
    return gnn.ESCNConv(4, lmax=2, edge_channels=3), inputs


def _so2_bottleneck_convolution():
    from geoconv.ops.so3 import frame_layout

    sizes = [4] + [n for n in (3, 2) for _ in range(2)]  # lmax 3, mmax 2: orders 0, +-1, +-2
    assert sum(sizes) == len(frame_layout(3, 2))
    return (gnn.SO2BottleneckConvolution(4, 5, lmax=3, mmax=2, edge_channels=3),
            lambda n, s: ([torch.randn(n, size, 4) for size in sizes], torch.randn(n, 3)))


def _grid_escn_conv():
    def inputs(n, s):
        graph = _graph(n, s, channels=3, with_pos=True)
        src, dst = graph.edge_index
        return (torch.randn(n, 9, 4), graph.edge_index, graph.pos[src] - graph.pos[dst], torch.randn(3 * n, 5),
                torch.randint(0, 6, (n,)))
    conv = gnn.GridESCNConv(4, 5, lmax=2, mmax=1, edge_channels=3, num_radial=5, num_elements=6)
    return _Call(conv, keywords=("z",)), inputs


def _frame_gate():
    return gnn.FrameGate(4, lmax=2, mmax=2), lambda n, s: (torch.randn(n, 9, 4),)


def _sheaf_learner():
    return gnn.SheafLearner(6, 2, restriction="general"), lambda n, s: (torch.randn(n, 6), _symmetric_edges(n, 2 * n, s))


def _sheaf_conv():
    def inputs(n, s):
        edge_index = _symmetric_edges(n, 2 * n, s)
        return torch.randn(n, 2, 3), edge_index, torch.randn(edge_index.shape[1], 2)
    return gnn.SheafConv(3, 4, 2), inputs


def _sheaf_diffusion(restriction, num_layers=2):
    model = _Call(models.SheafDiffusion(6, 4, 3, stalk_dim=2, restriction=restriction, num_layers=num_layers),
                  method="forward_tensors")
    return model, lambda n, s: (torch.randn(n, 6), _symmetric_edges(n, 2 * n, s))


def _neural_fingerprint(num_layers=2):
    def inputs(n, s):
        batch = _molecules(n, s)
        return batch.x, batch.edge_index, batch.edge_attr, batch.batch, batch.num_graphs
    return _Call(gnn.NeuralFingerprint(5, 3, 8, 7, num_layers=num_layers), keywords=("batch", "num_graphs")), inputs


def _weave_conv():
    def inputs(n, s):
        batch = _molecules(n, s)
        return batch.x, batch.edge_index, batch.edge_attr
    return gnn.WeaveConv(5, 3, 6, 4, hidden_channels=7), inputs


def _bond_gcn_conv():
    def inputs(n, s):
        batch = _molecules(n, s, categorical=True)
        return torch.randn(batch.num_nodes, 8), batch.edge_index, batch.edge_attr
    return gnn.BondGCNConv(8), inputs


def _atom_encoder():
    return gnn.AtomEncoder(8), lambda n, s: (_molecules(n, s, categorical=True).x,)


def _bond_encoder():
    return gnn.BondEncoder(8), lambda n, s: (_molecules(n, s, categorical=True).edge_attr,)


def _mesh_conv():
    def inputs(n, s):
        graph = mesh(1 if n < 10 else 2)
        return torch.randn(graph.num_edges, 5), graph.edge_neighbors
    return gnn.MeshConv(5, 7), inputs


LAYERS = {
    "GCNConv": _gcn_conv,
    "SAGEConv": lambda: (gnn.SAGEConv(6, 8), lambda n, s: (_graph(n, s).x, _graph(n, s).edge_index)),
    "EdgeConv": _edge_conv,
    "DynamicEdgeConv": _dynamic_edge_conv,
    "DynamicEdgeConv-mean": lambda: _dynamic_edge_conv("mean"),
    # the edge function evaluated without per-edge tensors (max aggregation), in both layers
    "LinearEdgeBlock-EdgeConv": lambda: (gnn.EdgeConv(gnn.LinearEdgeBlock(6, 8)),
                                         lambda n, s: (_graph(n, s).x, _graph(n, s).edge_index)),
    "LinearEdgeBlock-DynamicEdgeConv": lambda: _dynamic_edge_conv(block=True),
    "SO2Convolution": _so2_convolution,
    "ESCNConv": _escn_conv,
    "FrameGate": _frame_gate,
    "SO2BottleneckConvolution": _so2_bottleneck_convolution,
    "GridESCNConv": _grid_escn_conv,
    "SphereGridMLP": lambda: (gnn.SphereGridMLP(6, 4, lmax=2, hidden_channels=5), lambda n, s: (torch.randn(n, 9, 6),)),
    "SheafLearner": _sheaf_learner,
    "SheafConv": _sheaf_conv,
    "SheafDiffusion-diag": lambda: _sheaf_diffusion("diag"),
    "SheafDiffusion-orthogonal": lambda: _sheaf_diffusion("orthogonal"),
    "SheafDiffusion-general": lambda: _sheaf_diffusion("general"),
    "NeuralFingerprint": _neural_fingerprint,
    "WeaveConv": _weave_conv,
    "BondGCNConv": _bond_gcn_conv,
    "AtomEncoder": _atom_encoder,
    "BondEncoder": _bond_encoder,
    "MeshConv": _mesh_conv,
    "MeshUnpool": lambda: (gnn.MeshUnpool(), lambda n, s: (
        torch.randn(n, 3), torch.stack([torch.arange(2 * n) % n, torch.arange(2 * n)]), 2 * n)),
    "DegreeLinear": lambda: (gnn.DegreeLinear(4, 5, lmax=2), lambda n, s: (torch.randn(n, 9, 4),)),
    "DegreeNorm": lambda: (gnn.DegreeNorm(4, lmax=2), lambda n, s: (torch.randn(n, 9, 4),)),
    "NodeFeedForward": lambda: (gnn.NodeFeedForward(4, 6, lmax=2), lambda n, s: (torch.randn(n, 9, 4),)),
    "MeshNorm": lambda: (gnn.MeshNorm(8, "group", groups=4), lambda n, s: (
        torch.randn(2 * n + 1, 8), torch.repeat_interleave(torch.arange(2), torch.tensor([n, n + 1])), 2)),
    "MeshResBlock": lambda: (gnn.MeshResBlock(5, 7), lambda n, s: (
        torch.randn(mesh(1 if n < 10 else 2).num_edges, 5), mesh(1 if n < 10 else 2).edge_neighbors)),
    "GlobalPool": lambda: (gnn.GlobalPool(("mean", "max")), lambda n, s: (
        torch.randn(2 * n + 1, 4), torch.repeat_interleave(torch.arange(3), torch.tensor([n, 0, n + 1])), 3)),
    "CategoricalEncoder": lambda: (gnn.CategoricalEncoder([3, 4], 5), lambda n, s: (torch.randint(0, 3, (n, 2)),)),
}

MODELS = {
    "GCN": lambda: (models.GCN(6, 8, 3, num_layers=2), lambda n, s: (_graph(n, s),)),
    "DiagSheafDiffusion": lambda: (models.DiagSheafDiffusion(6, 4, 3, stalk_dim=2),
                                   lambda n, s: (Graph(x=torch.randn(n, 6), edge_index=_symmetric_edges(n, 2 * n, s)),)),
    "BundleSheafDiffusion": lambda: (models.BundleSheafDiffusion(6, 4, 3, stalk_dim=2),
                                     lambda n, s: (Graph(x=torch.randn(n, 6), edge_index=_symmetric_edges(n, 2 * n, s)),)),
    "GeneralSheafDiffusion": lambda: (models.GeneralSheafDiffusion(6, 4, 3, stalk_dim=2),
                                      lambda n, s: (Graph(x=torch.randn(n, 6), edge_index=_symmetric_edges(n, 2 * n, s)),)),
    "ESCN": lambda: (models.ESCN(10, 4, 1, num_layers=2, lmax=2, num_radial=4, edge_channels=5, cutoff=4.0),
                     lambda n, s: (_escn_molecule(n, s),)),
    "GridESCN": lambda: (models.GridESCN(10, 4, 1, num_layers=2, lmax=2, mmax=1, inner_channels=5, num_radial=4,
                                         edge_channels=5, cutoff=4.0, num_sphere_samples=11),
                         lambda n, s: (_escn_molecule(n, s),)),
    "OGBMolGNN": lambda: (models.OGBMolGNN(9, 8, 2, num_layers=2, dropout=0.0, virtual_node=True),
                          lambda n, s: (_molecules(n, s, categorical=True),)),
    "NeuralFingerprintNet": lambda: (models.NeuralFingerprintNet(5, 8, 2, num_layers=2, edge_channels=3,
                                                                  fingerprint_length=6, head_channels=8),
                                     lambda n, s: (_molecules(n, s),)),
    "FingerprintMLP": lambda: (_Call(models.FingerprintMLP(6, 8, 2, dropout=0.0), method="forward_tensors"),
                               lambda n, s: (torch.randn(n, 6),)),
    "DGCNN": lambda: (models.DGCNN(3, (8, 8), 4, k=4, embedding_channels=16, head_channels=(8,)),
                      lambda n, s: (_point_clouds(n, s),)),
    "DGCNNSegmentation": lambda: (models.DGCNNSegmentation(3, 64, 4, dropout=0.0, num_categories=0, k=4, embedding_channels=16),
                                  lambda n, s: (_point_clouds(n, s),)),
}

# One-layer builds of multi-layer cases, where code generation is costly (a second layer repeats the first's code).
ONE_LAYER = {
    "SheafDiffusion-diag": lambda: _sheaf_diffusion("diag", num_layers=1),
    "NeuralFingerprint": lambda: _neural_fingerprint(num_layers=1),
}
