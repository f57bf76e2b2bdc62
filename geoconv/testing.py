"""Helpers for testing layers: corner-case graphs, random rotations, property checks.

Used by geoconv's own tests and available to users writing layers.  Random draws come from CPU
generators seeded by ``seed`` (the same numbers on every device); the graphs are then moved to
torch's default device (``torch.set_default_device``), and a permutation to the graph's device.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from geoconv.data import Batch, Graph

# jraph's corner-case batch: a single node, empty graphs, graphs without edges.
CORNER_CASE_NODE_COUNTS = (1, 3, 1, 0, 2, 0, 0)


def graph_cases(
    num_features: int = 4,
    *,
    with_pos: bool = False,
    edge_dim: int | None = None,
    dtype: torch.dtype = torch.float32,
    seed: int = 0,
) -> list[Graph]:
    """Graphs with ``CORNER_CASE_NODE_COUNTS`` nodes: the 3-node graph is a
    directed path with a self-loop and a duplicate edge, the 2-node graph has
    no edges, the others are empty or single nodes."""
    generator = torch.Generator().manual_seed(seed)
    edges = {
        3: [[0, 1, 1, 2, 2], [1, 2, 2, 2, 0]],  # duplicate 1->2, self-loop 2->2
    }
    host = {"generator": generator, "dtype": dtype, "device": "cpu"}
    graphs = []
    for n in CORNER_CASE_NODE_COUNTS:
        edge_index = torch.tensor(edges.get(n, [[], []]), dtype=torch.long, device="cpu").view(2, -1)
        graph = Graph(
            x=torch.randn(n, num_features, **host),
            edge_index=edge_index,
            pos=torch.randn(n, 3, **host) if with_pos else None,
            edge_attr=torch.randn(edge_index.shape[1], edge_dim, **host) if edge_dim is not None else None,
            num_nodes=n,
        )
        graphs.append(graph.to(torch.get_default_device()))
    return graphs


def corner_case_batch(**kwargs) -> Batch:
    """:func:`graph_cases` as one :class:`Batch`."""
    return Batch.from_graphs(graph_cases(**kwargs))


def random_graph(
    num_nodes: int,
    num_edges: int,
    num_features: int = 4,
    *,
    dtype: torch.dtype = torch.float32,
    seed: int = 0,
    with_pos: bool = False,
) -> Graph:
    """A random directed multigraph (may contain self-loops, duplicates and isolated nodes)."""
    generator = torch.Generator().manual_seed(seed)
    host = {"generator": generator, "dtype": dtype, "device": "cpu"}
    return Graph(
        x=torch.randn(num_nodes, num_features, **host),
        edge_index=torch.randint(0, max(num_nodes, 1), (2, num_edges), generator=generator, device="cpu"),
        pos=torch.randn(num_nodes, 3, **host) if with_pos else None,
        num_nodes=num_nodes,
    ).to(torch.get_default_device())


def random_rotation(dtype: torch.dtype = torch.float64, generator: torch.Generator | None = None) -> Tensor:
    """A uniformly random rotation matrix ``[3, 3]`` with det +1 (QR of a Gaussian matrix)."""
    # drawn on the generator's device (the same numbers on every device), returned on the default device
    matrix = torch.randn(3, 3, dtype=dtype, generator=generator, device=None if generator is None else generator.device)
    matrix = matrix.to(torch.get_default_device())
    q, r = torch.linalg.qr(matrix)
    q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)
    if torch.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def permute_graph(graph: Graph, permutation: Tensor) -> Graph:
    """The same graph with node ``i`` renamed ``permutation[i]`` (node tensors reordered to match)."""
    num_nodes = graph.num_nodes
    if permutation.numel() != num_nodes:
        raise ValueError(f"permutation has {permutation.numel()} entries but the graph has {num_nodes} nodes")
    inverse = torch.empty_like(permutation)
    inverse[permutation] = torch.arange(num_nodes, device=permutation.device)
    new = graph._shallow_copy()
    for name, value in graph.items():
        if graph.level_of(name) == "node":
            value = value[inverse]
        if graph.index_of(name) == "node":
            value = torch.where(value >= 0, permutation[value.clamp(min=0)], value)
        new._store[name] = value
    return new


def assert_permutation_equivariant(
    fn: Callable[[Graph], Tensor], graph: Graph, *, seed: int = 0, atol: float = 1e-6, rtol: float = 1e-5
) -> None:
    """``fn(P graph) == P fn(graph)`` for a random node permutation ``P`` (``fn`` returns node rows)."""
    generator = torch.Generator().manual_seed(seed)
    permutation = torch.randperm(graph.num_nodes, generator=generator, device="cpu").to(graph.device)
    out = fn(graph)
    out_permuted = fn(permute_graph(graph, permutation))
    inverse = torch.empty_like(permutation)
    inverse[permutation] = torch.arange(graph.num_nodes, device=permutation.device)
    torch.testing.assert_close(out_permuted, out[inverse], atol=atol, rtol=rtol)


def assert_equivariant(
    fn: Callable[[Tensor], Tensor],
    positions: Tensor,
    output_rotation: Callable[[Tensor, Tensor], Tensor],
    *,
    rotation: Tensor | None = None,
    atol: float = 1e-9,
    rtol: float = 0.0,
) -> None:
    """``fn(pos R^T) == output_rotation(fn(pos), R)`` for a random rotation ``R``.

    ``output_rotation(out, R)`` applies the representation of ``R`` to the
    outputs (identity for invariants, ``out @ R.T`` for vectors, Wigner-D
    blocks for spherical features).
    """
    if rotation is None:
        rotation = random_rotation(positions.dtype, torch.Generator().manual_seed(0)).to(positions.device)
    rotated = fn(positions @ rotation.T)
    expected = output_rotation(fn(positions), rotation)
    torch.testing.assert_close(rotated, expected, atol=atol, rtol=rtol)
