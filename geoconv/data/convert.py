"""Conversions to and from torch_geometric and networkx."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from geoconv._optional import require
from geoconv.data.batch import Batch
from geoconv.data.graph import BUILTIN_FIELDS, Graph


def to_pyg(graph: Graph) -> Any:
    """A ``torch_geometric.data.Data`` (or ``Batch`` for a :class:`Batch`) with the same tensors."""
    pyg_data = require("torch_geometric.data", "to_pyg")
    if isinstance(graph, Batch):
        return pyg_data.Batch.from_data_list([to_pyg(g) for g in graph.to_graphs()])
    data = pyg_data.Data(num_nodes=graph.num_nodes)
    for name, value in graph.items():
        setattr(data, name, value)
    return data


def from_pyg(data: Any, *, levels: dict[str, str] | None = None) -> Graph:
    """A :class:`Graph` from a ``torch_geometric.data.Data`` (or a :class:`Batch` from a PyG ``Batch``).

    Built-in fields keep their level.  For other tensors the level must be
    declared in ``levels`` (name -> 'node' | 'edge' | 'face' | 'graph'); a
    tensor whose level is not declared raises, rather than being guessed.
    ``y`` defaults to node-level when its first dimension equals the number of
    nodes and to graph-level otherwise, unless ``levels['y']`` says.
    """
    pyg_data = require("torch_geometric.data", "from_pyg")
    levels = dict(levels or {})
    if isinstance(data, pyg_data.Batch) and hasattr(data, "to_data_list"):
        return Batch.from_graphs([from_pyg(d, levels=levels) for d in data.to_data_list()])
    builtin = {name: getattr(data, name, None) for name in BUILTIN_FIELDS}
    y = getattr(data, "y", None)
    graph = Graph(**builtin, num_nodes=data.num_nodes)
    if isinstance(y, Tensor):
        y_level = levels.get("y") or ("node" if y.dim() > 0 and y.shape[0] == data.num_nodes else "graph")
        graph.set("y", y, y_level)
    for name in data.keys():
        if name in BUILTIN_FIELDS or name in ("y", "num_nodes", "batch", "ptr"):
            continue
        value = getattr(data, name)
        if not isinstance(value, Tensor):
            continue
        if name not in levels:
            raise ValueError(
                f"from_pyg: the level of tensor {name!r} is not known; pass levels={{{name!r}: 'node'|'edge'|'face'|'graph'}}"
            )
        graph.set(name, value, levels[name])
    return graph


def to_networkx(graph: Graph, *, node_attrs: tuple[str, ...] = (), edge_attrs: tuple[str, ...] = ()) -> Any:
    """A ``networkx.MultiDiGraph`` with one node per node and one edge per column of ``edge_index``.

    Duplicate edges are kept (MultiDiGraph), so the round trip through
    :func:`from_networkx` is exact.  Listed tensors become attributes.
    """
    nx = require("networkx", "to_networkx")
    result = nx.MultiDiGraph()
    for i in range(graph.num_nodes):
        result.add_node(i, **{name: graph._store[name][i].tolist() for name in node_attrs})
    edge_index = graph.edge_index
    if edge_index is not None:
        src, dst = edge_index.tolist()
        for e, (u, v) in enumerate(zip(src, dst)):
            result.add_edge(u, v, **{name: graph._store[name][e].tolist() for name in edge_attrs})
    return result


def from_networkx(nx_graph: Any, *, node_attrs: tuple[str, ...] = (), edge_attrs: tuple[str, ...] = ()) -> Graph:
    """A :class:`Graph` from a networkx graph.

    Nodes are numbered in ``nx_graph.nodes`` order.  An undirected networkx
    graph gives both directions of each edge; a directed one its edges as
    they are.  Listed attributes become node / edge tensors.
    """
    require("networkx", "from_networkx")
    mapping = {node: i for i, node in enumerate(nx_graph.nodes)}
    src, dst, edge_rows = [], [], {name: [] for name in edge_attrs}
    for u, v, attrs in nx_graph.edges(data=True):
        pairs = [(u, v)] if nx_graph.is_directed() else ([(u, v), (v, u)] if u != v else [(u, v)])
        for a, b in pairs:
            src.append(mapping[a])
            dst.append(mapping[b])
            for name in edge_attrs:
                edge_rows[name].append(attrs[name])
    edge_index = torch.tensor([src, dst], dtype=torch.long).view(2, -1)
    graph = Graph(edge_index=edge_index, num_nodes=len(mapping))
    for name in node_attrs:
        graph.set(name, torch.tensor([nx_graph.nodes[n][name] for n in nx_graph.nodes]), "node")
    for name in edge_attrs:
        graph.set(name, torch.tensor(edge_rows[name]), "edge")
    return graph
