"""The one graph structure used by every geoconv family.

A :class:`Graph` holds named tensors, each with a declared *level*:

========  =======================================  ==========================
level     first dimension                          examples
========  =======================================  ==========================
node      ``num_nodes``                            ``x``, ``pos``, ``y`` (node targets), masks
edge      ``num_edges`` (``edge_index`` is [2, E]) ``edge_attr``, ``edge_norm``
face      ``num_faces``                            ``face`` (triangles)
graph     1 per graph                              ``y`` (graph targets)
========  =======================================  ==========================

The level of the built-in fields is fixed (``x``, ``pos`` node; ``edge_attr``
edge; ``face`` face); ``y`` is node-level unless ``y_level="graph"``; every
other tensor is declared with :meth:`Graph.set` (or the ``node_data``,
``edge_data``, ``face_data``, ``graph_data`` constructor dicts).  Tensors that
hold indices into another level are declared with ``index_of=`` so that
batching adds the right offsets (``edge_index`` and ``face`` index nodes).
Nothing is inferred from a field's name.
"""

from __future__ import annotations

from typing import Any, Iterator

import torch
from torch import Tensor

LEVELS = ("node", "edge", "face", "graph")

# Built-in fields: name -> (level, index_of)
BUILTIN_FIELDS: dict[str, tuple[str, str | None]] = {
    "x": ("node", None),
    "pos": ("node", None),
    "edge_index": ("edge", "node"),
    "edge_attr": ("edge", None),
    "face": ("face", "node"),
}


class GraphValidationError(ValueError):
    """A tensor of a Graph has the wrong shape, dtype or an out-of-range index."""


def _check_is_tensor(name: str, value: Any) -> None:
    if not isinstance(value, Tensor):
        raise GraphValidationError(f"{name} must be a torch.Tensor, got {type(value).__name__}")


def _shape(t: Tensor) -> str:
    return "[" + ", ".join(str(s) for s in t.shape) + "]"


class Graph:
    """A graph (or, as :class:`~geoconv.data.Batch`, a disjoint union of graphs).

    Args:
        x: node features ``[N, C]`` (any dtype; integer for categorical features).
        edge_index: ``[2, E]`` int64; row 0 is the source, row 1 the target.
        edge_attr: edge features ``[E, D]``.
        pos: node positions ``[N, 3]`` (point clouds, molecules, mesh vertices).
        face: triangles ``[F, 3]`` int64 indexing nodes.
        y: targets; node-level ``[N, ...]`` or, with ``y_level="graph"``, graph-level
            ``[1, ...]`` (a 0-d or 1-d graph target is stored as ``[1]`` / ``[1, T]``).
        num_nodes: required only when no node-level tensor is given.
        y_level: ``"node"`` (default) or ``"graph"``.
        node_data: extra node-level tensors.
        edge_data: extra edge-level tensors.
        face_data: extra face-level tensors.
        graph_data: extra graph-level tensors.
        validate: check shapes, dtypes and index ranges (default True).

    Extra tensors are reachable as attributes (``g.train_mask``).
    """

    def __init__(
        self,
        x: Tensor | None = None,
        edge_index: Tensor | None = None,
        edge_attr: Tensor | None = None,
        pos: Tensor | None = None,
        face: Tensor | None = None,
        y: Tensor | None = None,
        *,
        num_nodes: int | None = None,
        y_level: str = "node",
        node_data: dict[str, Tensor] | None = None,
        edge_data: dict[str, Tensor] | None = None,
        face_data: dict[str, Tensor] | None = None,
        graph_data: dict[str, Tensor] | None = None,
        validate: bool = True,
    ) -> None:
        store: dict[str, Tensor] = {}
        levels: dict[str, str] = {}
        index_of: dict[str, str] = {}
        self.__dict__.update(_store=store, _level=levels, _index_of=index_of, _num_nodes=None)
        # Built-in fields have fixed levels, so only their type is checked here (graphs are
        # built per molecule / per dataset item, where this constructor's cost shows).
        for name, value in (("x", x), ("pos", pos), ("edge_index", edge_index),
                            ("edge_attr", edge_attr), ("face", face)):
            if value is not None:
                _check_is_tensor(name, value)
                store[name] = value
                levels[name], of = BUILTIN_FIELDS[name]
                if of is not None:
                    index_of[name] = of
        if y is not None:
            if y_level not in ("node", "graph"):
                raise GraphValidationError(f"y_level must be 'node' or 'graph', got {y_level!r}")
            if y_level == "graph":
                y = _as_graph_level(torch.as_tensor(y))
            self._put("y", y, y_level, None)
        for level, extra in (("node", node_data), ("edge", edge_data),
                             ("face", face_data), ("graph", graph_data)):
            for name, value in (extra or {}).items():
                if level == "graph":
                    value = _as_graph_level(torch.as_tensor(value))
                self._put(name, value, level, None)
        if num_nodes is not None:
            self.__dict__["_num_nodes"] = int(num_nodes)
        if validate:
            self.validate()

    # ------------------------------------------------------------------ storage
    def _put(self, name: str, value: Any, level: str, index_of: str | None) -> None:
        _check_is_tensor(name, value)
        if level not in LEVELS:
            raise GraphValidationError(f"level of {name} must be one of {LEVELS}, got {level!r}")
        if index_of is not None and index_of not in LEVELS[:3]:
            raise GraphValidationError(f"index_of of {name} must be 'node', 'edge' or 'face', got {index_of!r}")
        if name in BUILTIN_FIELDS and (level, index_of) != BUILTIN_FIELDS[name]:
            raise GraphValidationError(f"{name} is a built-in field with level {BUILTIN_FIELDS[name][0]!r}")
        self._store[name] = value
        self._level[name] = level
        if index_of is None:
            self._index_of.pop(name, None)
        else:
            self._index_of[name] = index_of

    def set(self, name: str, value: Tensor, level: str, *, index_of: str | None = None) -> "Graph":
        """Attach (or replace) tensor ``name`` of the given level; returns ``self``.

        ``index_of`` declares that the tensor holds indices of that level
        (``"node"``, ``"edge"`` or ``"face"``): batching offsets them, and
        negative entries are kept as padding (e.g. a missing mesh neighbour).
        """
        if name in ("batch", "ptr"):
            raise GraphValidationError(f"{name} is computed by Batch and cannot be set")
        if level == "graph":
            value = _as_graph_level(torch.as_tensor(value))
        self._put_validated(name, value, level, index_of)
        return self

    def _put_validated(self, name: str, value: Any, level: str, index_of: str | None) -> None:
        """Store and validate; on failure the graph is left exactly as it was."""
        previous = (self._store.get(name), self._level.get(name), self._index_of.get(name))
        self._put(name, value, level, index_of)
        try:
            self._validate_one(name)
            # The new tensor may change the level's size (the first node tensor defines num_nodes):
            # the other tensors of its level, and those indexing it, must still agree.
            for other in list(self._store):
                if other != name and (self._level[other] == level or self._index_of.get(other) == level):
                    try:
                        self._validate_one(other)
                    except GraphValidationError as error:
                        raise GraphValidationError(f"cannot set {name} {_shape(value)}: {error}") from None
        except GraphValidationError:
            old_value, old_level, old_index_of = previous
            if old_value is None:
                self._store.pop(name, None)
                self._level.pop(name, None)
                self._index_of.pop(name, None)
            else:
                self._put(name, old_value, old_level, old_index_of)
            raise

    def __getattr__(self, name: str) -> Any:
        # self.__dict__ rather than object.__getattribute__: torch.compile traces a model's graph.x through this.
        store = self.__dict__.get("_store")
        if store is None:  # before __init__/__setstate__ (copy, pickle)
            raise AttributeError(name)
        if name in store:
            return store[name]
        if name in BUILTIN_FIELDS or name == "y":
            return None
        raise AttributeError(f"{type(self).__name__} has no tensor {name!r}; present: {sorted(store)}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        if name in BUILTIN_FIELDS:
            if value is None:
                self._store.pop(name, None)
                return
            level, index_of = BUILTIN_FIELDS[name]
        elif name in self._store:
            level, index_of = self._level[name], self._index_of.get(name)
        elif name == "y":
            level, index_of = "node", None
        else:
            raise AttributeError(
                f"unknown tensor {name!r}: declare its level with graph.set({name!r}, value, level='node'|'edge'|'face'|'graph')"
            )
        if level == "graph":
            value = _as_graph_level(torch.as_tensor(value))
        self._put_validated(name, value, level, index_of)

    def __contains__(self, name: str) -> bool:
        return name in self._store

    def keys(self) -> list[str]:
        """Names of the stored tensors."""
        return list(self._store)

    def items(self) -> Iterator[tuple[str, Tensor]]:
        return iter(self._store.items())

    def level_of(self, name: str) -> str:
        """The declared level of tensor ``name``."""
        return self._level[name]

    def index_of(self, name: str) -> str | None:
        """The level that tensor ``name`` indexes (None for plain data)."""
        return self._index_of.get(name)

    # ------------------------------------------------------------------ sizes
    @property
    def num_nodes(self) -> int:
        if self._num_nodes is not None:
            return self._num_nodes
        for name, level in self._level.items():
            if level == "node":
                return int(self._store[name].shape[0])
        edge_index = self._store.get("edge_index")
        if edge_index is not None and edge_index.numel() > 0:
            return int(edge_index.max()) + 1
        return 0

    @property
    def num_edges(self) -> int:
        edge_index = self._store.get("edge_index")
        if edge_index is not None:
            return int(edge_index.shape[1])
        for name, level in self._level.items():
            if level == "edge":
                return int(self._store[name].shape[0])
        return 0

    @property
    def num_faces(self) -> int:
        for name, level in self._level.items():
            if level == "face":
                return int(self._store[name].shape[0])
        return 0

    @property
    def num_graphs(self) -> int:
        return 1

    @property
    def num_node_features(self) -> int:
        x = self._store.get("x")
        return 0 if x is None else (1 if x.dim() == 1 else int(x.shape[-1]))

    def count(self, level: str) -> int:
        """Number of elements of ``level`` (node, edge, face; 1 for graph)."""
        if level == "node":
            return self.num_nodes
        if level == "edge":
            return self.num_edges
        if level == "face":
            return self.num_faces
        if level == "graph":
            return self.num_graphs
        raise ValueError(f"unknown level {level!r}")

    @property
    def batch(self) -> Tensor:
        """Graph index of every node (all zeros for a single graph)."""
        return torch.zeros(self.num_nodes, dtype=torch.long, device=self.device)

    @property
    def ptr(self) -> Tensor:
        """Node offsets ``[G + 1]``."""
        return torch.tensor([0, self.num_nodes], dtype=torch.long, device=self.device)

    @property
    def device(self) -> torch.device:
        for value in self._store.values():
            return value.device
        return torch.device("cpu")

    # ------------------------------------------------------------------ validation
    def validate(self) -> "Graph":
        """Check every tensor; raises :class:`GraphValidationError` naming the field."""
        if self._num_nodes is not None and self._num_nodes < 0:
            raise GraphValidationError(f"num_nodes must be >= 0, got {self._num_nodes}")
        for name in self._store:
            self._validate_one(name)
        return self

    def _validate_one(self, name: str) -> None:
        value = self._store[name]
        level = self._level[name]
        if name == "edge_index":
            if value.dtype != torch.long:
                raise GraphValidationError(f"edge_index must have dtype torch.int64, got {value.dtype}")
            if value.dim() != 2 or value.shape[0] != 2:
                raise GraphValidationError(f"edge_index must have shape [2, E], got {_shape(value)}")
        elif name == "face":
            if value.dtype != torch.long:
                raise GraphValidationError(f"face must have dtype torch.int64, got {value.dtype}")
            if value.dim() != 2 or value.shape[1] != 3:
                raise GraphValidationError(f"face must have shape [F, 3], got {_shape(value)}")
        elif name == "pos":
            if value.dim() != 2:
                raise GraphValidationError(f"pos must have shape [N, 3] (or [N, dim]), got {_shape(value)}")
            if not value.is_floating_point():
                raise GraphValidationError(f"pos must be a floating-point tensor, got {value.dtype}")
        elif value.dim() == 0:
            raise GraphValidationError(f"{name} must have a leading {level} dimension, got a 0-d tensor")
        expected = self._expected_rows(level, name)
        rows = value.shape[1] if name == "edge_index" else value.shape[0]
        if expected is not None and rows != expected:
            what = {"node": "num_nodes", "edge": "num_edges", "face": "num_faces", "graph": "num_graphs"}[level]
            raise GraphValidationError(
                f"{name} has {rows} rows but {what} is {expected} ({level}-level tensor, shape {_shape(value)})"
            )
        target = self._index_of.get(name)
        if target is not None:
            if value.dtype != torch.long:
                raise GraphValidationError(f"{name} indexes {target}s and must have dtype torch.int64, got {value.dtype}")
            if value.numel() > 0:
                limit = self.count(target)
                low, high = (int(v) for v in torch.aminmax(value))  # one pass for both ends
                if high >= limit:
                    raise GraphValidationError(
                        f"{name} contains index {high} but num_{target}s is {limit} (valid range 0..{limit - 1})"
                    )
                if low < 0 and name in BUILTIN_FIELDS:
                    raise GraphValidationError(f"{name} contains negative index {low}")
                if low < -1:
                    raise GraphValidationError(f"{name} contains index {low}; only -1 is allowed as padding")

    def _expected_rows(self, level: str, name: str) -> int | None:
        if level == "graph":
            return self.num_graphs
        if level == "node":
            return self.num_nodes
        if level == "edge":
            if name == "edge_index":
                return None
            return self.num_edges
        if level == "face":
            return self.num_faces
        return None

    # ------------------------------------------------------------------ transforms
    def _empty_like(self) -> "Graph":
        new = Graph.__new__(Graph)
        object.__setattr__(new, "_store", {})
        object.__setattr__(new, "_level", dict(self._level))
        object.__setattr__(new, "_index_of", dict(self._index_of))
        object.__setattr__(new, "_num_nodes", self._num_nodes)
        return new

    def apply(self, fn) -> "Graph":
        """A new Graph with ``fn`` applied to every tensor (no re-validation)."""
        new = self._shallow_copy()
        for name, value in self._store.items():
            new._store[name] = fn(value)
        return new

    def _shallow_copy(self) -> "Graph":
        new = type(self).__new__(type(self))
        for key, value in self.__dict__.items():
            object.__setattr__(new, key, dict(value) if isinstance(value, dict) else value)
        return new

    def to(self, device: torch.device | str, non_blocking: bool = False) -> "Graph":
        """Move every tensor to ``device``."""
        return self.apply(lambda t: t.to(device, non_blocking=non_blocking))

    def cpu(self) -> "Graph":
        return self.to("cpu")

    def pin_memory(self) -> "Graph":
        return self.apply(lambda t: t.pin_memory())

    def clone(self) -> "Graph":
        return self.apply(lambda t: t.clone())

    def replace(self, **tensors: Tensor | None) -> "Graph":
        """A copy with some existing tensors replaced (validated); None removes one."""
        new = self._shallow_copy()
        for name, value in tensors.items():
            if value is None:
                new._store.pop(name, None)
                new._level.pop(name, None)
                new._index_of.pop(name, None)
            else:
                setattr(new, name, value)
        new.validate()
        return new

    def subgraph(self, node_index: Tensor) -> "Graph":
        """The subgraph induced by ``node_index`` (int64 ids or a bool mask).

        Node tensors are sliced, edges with both ends kept are kept (with their
        edge tensors) and renumbered, faces with all three corners kept are
        kept.  The original ids are stored as the node tensor ``node_id``.
        """
        from geoconv.ops.structure import induced_subgraph_mask

        num_nodes = self.num_nodes
        if node_index.dtype == torch.bool:
            if node_index.numel() != num_nodes:
                raise GraphValidationError(f"node mask has {node_index.numel()} entries but num_nodes is {num_nodes}")
            node_index = node_index.nonzero().view(-1)
        node_index = node_index.to(torch.long)
        if node_index.numel() and (int(node_index.min()) < 0 or int(node_index.max()) >= num_nodes):
            raise GraphValidationError(f"subgraph node index out of range 0..{num_nodes - 1}")
        new = self._empty_like()
        edge_mask, relabel = None, None
        if "edge_index" in self._store:
            edge_mask, relabel = induced_subgraph_mask(self._store["edge_index"], node_index, num_nodes)
        face_mask = None
        if "face" in self._store:
            face = self._store["face"]
            if relabel is None:
                relabel = torch.full((num_nodes,), -1, dtype=torch.long, device=face.device)
                relabel[node_index] = torch.arange(node_index.numel(), device=face.device)
            face_mask = (relabel[face] >= 0).all(dim=1)
        for name, value in self._store.items():
            level = self._level[name]
            if level == "node":
                value = value[node_index]
            elif level == "edge" and edge_mask is not None:
                value = value[:, edge_mask] if name == "edge_index" else value[edge_mask]
            elif level == "face" and face_mask is not None:
                value = value[face_mask]
            target = self._index_of.get(name)
            if target == "node":
                value = relabel[value]
            elif target is not None:
                raise GraphValidationError(f"subgraph cannot renumber {name}, which indexes {target}s")
            new._store[name] = value
        object.__setattr__(new, "_num_nodes", int(node_index.numel()))
        new._put("node_id", node_index, "node", None)
        return new

    # ------------------------------------------------------------------ misc
    def __repr__(self) -> str:
        parts = [f"{name}={_shape(value)}" for name, value in self._store.items()]
        if not any(level == "node" for level in self._level.values()):
            parts.append(f"num_nodes={self.num_nodes}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __getstate__(self) -> dict:
        return dict(self.__dict__)

    def __setstate__(self, state: dict) -> None:
        for key, value in state.items():
            object.__setattr__(self, key, value)


def _as_graph_level(value: Tensor) -> Tensor:
    """Graph-level tensors have a leading dimension of 1 per graph."""
    if value.dim() == 0:
        return value.view(1)
    if value.dim() == 1:
        # [T] -> [1, T]; a single value [1] stays [1] so that scalar labels batch to [G]
        return value if value.shape[0] == 1 else value.view(1, -1)
    if value.shape[0] != 1:
        raise GraphValidationError(
            f"a graph-level tensor must have a leading dimension of 1, got shape {_shape(value)}"
        )
    return value
