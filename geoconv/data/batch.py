"""Batching: a batch is one graph, the disjoint union of its members.

The batching rule is the level table of :mod:`geoconv.data.graph`:

* every tensor is concatenated along its level dimension (dim 1 for
  ``edge_index``, dim 0 otherwise);
* a tensor declared ``index_of=level`` gets, per graph, the number of
  elements of that level in the graphs before it added (negative padding
  entries are left alone);
* ``batch [N]`` maps nodes to graphs and ``ptr [G + 1]`` holds node offsets.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from geoconv.data.graph import LEVELS, Graph, GraphValidationError


class Batch(Graph):
    """A disjoint union of graphs, itself a :class:`Graph`.

    Build one with :meth:`Batch.from_graphs` and split it back with
    :meth:`to_graphs` (an exact round trip).
    """

    @classmethod
    def from_graphs(cls, graphs: Sequence[Graph]) -> "Batch":
        """Collate ``graphs`` into one :class:`Batch`.

        All graphs must hold the same tensors with the same levels.
        """
        graphs = list(graphs)
        if len(graphs) == 0:
            raise ValueError("Batch.from_graphs needs at least one graph")
        first = graphs[0]
        names = first.keys()
        for i, graph in enumerate(graphs):
            if not isinstance(graph, Graph):
                raise TypeError(f"graph {i} is a {type(graph).__name__}, not a geoconv Graph")
            if set(graph.keys()) != set(names):
                missing = set(names) ^ set(graph.keys())
                raise GraphValidationError(
                    f"graph {i} does not hold the same tensors as graph 0 (differing: {sorted(missing)})"
                )
            for name in names:
                if graph.level_of(name) != first.level_of(name) or graph.index_of(name) != first.index_of(name):
                    raise GraphValidationError(f"tensor {name!r} of graph {i} is declared with another level than in graph 0")
        device = first.device
        counts = {
            level: torch.tensor([g.count(level) for g in graphs], dtype=torch.long)
            for level in LEVELS
        }
        offsets = {level: torch.cumsum(c, 0) - c for level, c in counts.items()}

        batch = cls.__new__(cls)
        object.__setattr__(batch, "_store", {})
        object.__setattr__(batch, "_level", {n: first.level_of(n) for n in names})
        object.__setattr__(batch, "_index_of", {n: first.index_of(n) for n in names if first.index_of(n)})
        num_nodes = int(counts["node"].sum())
        object.__setattr__(batch, "_num_nodes", num_nodes)
        for name in names:
            parts = [g._store[name] for g in graphs]
            target = first.index_of(name)
            if target is not None:
                parts = [
                    _offset(part, int(offsets[target][i])) for i, part in enumerate(parts)
                ]
            dim = 1 if name == "edge_index" else 0
            batch._store[name] = torch.cat(parts, dim=dim)
        object.__setattr__(batch, "_counts", {level: c.to(device) for level, c in counts.items()})
        graph_ids = torch.arange(len(graphs), device=device)
        object.__setattr__(batch, "_batch", torch.repeat_interleave(graph_ids, counts["node"].to(device)))
        ptr = torch.zeros(len(graphs) + 1, dtype=torch.long, device=device)
        ptr[1:] = torch.cumsum(counts["node"].to(device), 0)
        object.__setattr__(batch, "_ptr", ptr)
        return batch

    @property
    def num_graphs(self) -> int:
        return int(self._counts["graph"].numel())

    @property
    def batch(self) -> Tensor:
        return self._batch

    @property
    def ptr(self) -> Tensor:
        return self._ptr

    def counts(self, level: str) -> Tensor:
        """Per-graph number of elements of ``level``, shape ``[G]``."""
        return self._counts[level]

    @property
    def num_edges(self) -> int:
        return int(self._counts["edge"].sum())

    @property
    def num_faces(self) -> int:
        return int(self._counts["face"].sum())

    def to_graphs(self) -> list[Graph]:
        """Split back into the graphs it was built from."""
        counts = {level: self._counts[level].cpu() for level in LEVELS}
        offsets = {level: torch.cumsum(c, 0) - c for level, c in counts.items()}
        graphs = []
        pieces: dict[str, list[Tensor]] = {}
        for name, value in self._store.items():
            level = self._level[name]
            sizes = counts[level].tolist()
            dim = 1 if name == "edge_index" else 0
            pieces[name] = list(torch.split(value, sizes, dim=dim))
        for i in range(self.num_graphs):
            graph = Graph.__new__(Graph)
            object.__setattr__(graph, "_store", {})
            object.__setattr__(graph, "_level", dict(self._level))
            object.__setattr__(graph, "_index_of", dict(self._index_of))
            object.__setattr__(graph, "_num_nodes", int(counts["node"][i]))
            for name, parts in pieces.items():
                part = parts[i]
                target = self._index_of.get(name)
                if target is not None:
                    part = _offset(part, -int(offsets[target][i]))
                graph._store[name] = part
            graphs.append(graph)
        return graphs

    def __getitem__(self, index: int) -> Graph:
        return self.to_graphs()[index]

    def __len__(self) -> int:
        return self.num_graphs

    def apply(self, fn) -> "Batch":
        new = super().apply(fn)
        object.__setattr__(new, "_batch", fn(self._batch))
        object.__setattr__(new, "_ptr", fn(self._ptr))
        object.__setattr__(new, "_counts", {k: fn(v) for k, v in self._counts.items()})
        return new

    def _expected_rows(self, level: str, name: str) -> int | None:
        if level == "graph":
            return self.num_graphs
        return super()._expected_rows(level, name)

    def subgraph(self, node_index: Tensor) -> Graph:
        raise TypeError("subgraph() takes a single Graph: split the Batch with to_graphs() first")


def _offset(index: Tensor, offset: int) -> Tensor:
    """Add ``offset`` to the non-negative entries (negative entries are padding)."""
    if offset == 0:
        return index
    return torch.where(index >= 0, index + offset, index)


def collate(graphs: Sequence[Graph]) -> Batch:
    """``collate_fn`` for :class:`torch.utils.data.DataLoader`."""
    return Batch.from_graphs(graphs)
