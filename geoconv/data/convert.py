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


def from_pyg(data: Any, *, levels: dict[str, str] | None = None, ignore: tuple[str, ...] | list[str] = ()) -> Graph:
    """A :class:`Graph` from a ``torch_geometric.data.Data`` (or a :class:`Batch` from a PyG ``Batch``).

    Nothing is guessed and nothing is dropped without being named:

    * built-in fields (``x``, ``edge_index``, ``edge_attr``, ``pos``, ``face``) keep their level;
    * every other tensor needs its level in ``levels`` (name -> ``'node' | 'edge' | 'face' | 'graph'``);
    * ``y`` is node-level when its first dimension is the number of nodes and graph-level when it is
      0-d or has one row; where both fit (a one-node graph) or neither does, ``levels['y']`` must say;
    * attributes that are not tensors (a SMILES string, a name) cannot be held by a :class:`Graph`:
      list them in ``ignore`` to drop them (as any attribute listed there is dropped).

    Raises:
        ValueError: naming the attribute whose level is unknown or ambiguous, or that is not a tensor.
    """
    pyg_data = require("torch_geometric.data", "from_pyg")
    levels = dict(levels or {})
    ignored = set(ignore)
    if isinstance(data, pyg_data.Batch) and hasattr(data, "to_data_list"):
        return Batch.from_graphs([from_pyg(d, levels=levels, ignore=tuple(ignored)) for d in data.to_data_list()])
    num_nodes = data.num_nodes
    builtin = {}
    for name in BUILTIN_FIELDS:
        value = getattr(data, name, None)
        if value is not None and name not in ignored:
            if not isinstance(value, Tensor):
                raise ValueError(f"from_pyg: {name} is a {type(value).__name__}, not a tensor")
            builtin[name] = value
    graph = Graph(**builtin, num_nodes=num_nodes)
    for name in data.keys():
        if name in BUILTIN_FIELDS or name in ignored or name in ("num_nodes", "batch", "ptr"):
            continue
        value = getattr(data, name)
        if not isinstance(value, Tensor):
            raise ValueError(
                f"from_pyg: attribute {name!r} is a {type(value).__name__}, not a tensor, and a Graph holds tensors "
                f"only; pass ignore=({name!r},) to drop it knowingly"
            )
        level = levels.get(name)
        if level is None and name == "y":
            level = _y_level(value, num_nodes)
        if level is None and name == "y":
            why = ("both node- and graph-level fit a graph with one node" if num_nodes == 1 else
                   f"neither fits: its first dimension is {value.shape[0]}, the graph has {num_nodes} nodes")
            raise ValueError(f"from_pyg: the level of y {list(value.shape)} is ambiguous ({why}); "
                             "pass levels={'y': 'node'} or levels={'y': 'graph'}")
        if level is None:
            raise ValueError(
                f"from_pyg: the level of tensor {name!r} is not known ({list(value.shape)}); pass "
                f"levels={{{name!r}: 'node'|'edge'|'face'|'graph'}} (or ignore=({name!r},) to drop it)"
            )
        graph.set(name, value, level)
    return graph


def _y_level(y: Tensor, num_nodes: int) -> str | None:
    """``"node"`` or ``"graph"`` when the shape of ``y`` allows only one; None when it is ambiguous."""
    if y.dim() == 0:
        return "graph"
    node, graph = y.shape[0] == num_nodes, y.shape[0] == 1
    if node != graph:
        return "node" if node else "graph"
    return None


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
