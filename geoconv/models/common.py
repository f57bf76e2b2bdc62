"""What every model shares: reading its inputs from a Graph (the fields are named by the model's constructor,
never guessed), per-layer widths from ``hidden_channels`` / ``num_layers``, and resetting parameters."""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor, nn

from geoconv.data import Graph
from geoconv.ops.so3 import EdgeFrame, edge_frame


def as_fields(fields: str | Sequence[str], option: str) -> tuple[str, ...]:
    """``fields`` as a non-empty tuple of names (a single name is allowed); ``option`` names it in errors."""
    names = (fields,) if isinstance(fields, str) else tuple(fields)
    if not names or not all(isinstance(name, str) for name in names):
        raise ValueError(f"{option} must be a field name or a non-empty sequence of them, got {fields!r}")
    return names


def read_fields(graph: Graph, fields: tuple[str, ...], *, model: str, option: str) -> Tensor:
    """The tensors ``graph.<field>`` for ``fields``; several are flattened to ``[rows, -1]`` and concatenated.

    A single field is returned as stored (its dtype and shape are the model's concern).
    """
    missing = [name for name in fields if name not in graph]
    if missing:
        raise ValueError(
            f"{model} reads {option}={fields!r}, but the graph has no tensor {missing[0]!r} "
            f"(present: {sorted(graph.keys())}); store it or pass {option}=..."
        )
    if len(fields) == 1:
        return getattr(graph, fields[0])
    parts = [getattr(graph, name) for name in fields]
    return torch.cat([part.reshape(part.shape[0], math.prod(part.shape[1:])) for part in parts], dim=1)  # explicit: N may be 0


def layer_widths(hidden_channels: int | Sequence[int], num_layers: int | None, *, default_num_layers: int) -> list[int]:
    """Widths of the hidden layers: ``hidden_channels`` repeated ``num_layers`` times, or one width per layer.

    A sequence fixes the number of layers; ``num_layers``, if given too, must agree with it.
    """
    if isinstance(hidden_channels, int):
        count = default_num_layers if num_layers is None else num_layers
        widths = [hidden_channels] * count
    else:
        widths = [int(c) for c in hidden_channels]
        if num_layers is not None and num_layers != len(widths):
            raise ValueError(f"num_layers={num_layers} but hidden_channels lists {len(widths)} widths {tuple(widths)}")
    if not widths:
        raise ValueError("a model needs num_layers >= 1")
    if min(widths) < 1:
        raise ValueError(f"hidden_channels must be positive, got {tuple(widths)}")
    return widths


def reset_children(module: nn.Module) -> None:
    """Call ``reset_parameters()`` on each child of ``module`` that has one, and descend into those without.

    A layer that has its own ``reset_parameters`` is trusted with its whole subtree (its own initialisation is
    not overwritten by its children's defaults).
    """
    for child in module.children():
        if hasattr(child, "reset_parameters"):
            child.reset_parameters()
        else:
            reset_children(child)


class AtomModel(nn.Module):
    """What the models of atoms share (:class:`~geoconv.models.ESCN`, :class:`~geoconv.models.GridESCN`).

    They read atomic numbers and positions from the fields their constructor names
    (``atomic_number_field``, ``pos_field``), compute ``forward_tensors(z, pos, edge_index, batch,
    num_graphs)`` and give forces as the negative gradient of the first output.
    """

    in_channels: int
    out_channels: int
    atomic_number_field: str
    pos_field: str

    def reset_parameters(self) -> None:
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward_tensors(self, z: Tensor, pos: Tensor, edge_index: Tensor, batch: Tensor | None = None,
                        num_graphs: int | None = None) -> Tensor:
        raise NotImplementedError

    def _inputs(self, graph: Graph) -> tuple[Tensor, Tensor]:
        name = type(self).__name__
        z = read_fields(graph, (self.atomic_number_field,), model=name, option="atomic_number_field")
        pos = read_fields(graph, (self.pos_field,), model=name, option="pos_field")
        return (z.view(-1) if z.dim() == 2 and z.shape[1] == 1 else z), pos

    def forward(self, graph: Graph) -> Tensor:
        """Graph outputs ``[G, out_channels]`` from the fields named by the constructor."""
        z, pos = self._inputs(graph)
        return self.forward_tensors(z, pos, graph.edge_index, graph.batch, graph.num_graphs)

    def energy_and_forces(self, graph: Graph) -> tuple[Tensor, Tensor]:
        """``(energy [G], forces [N, 3])`` with forces the negative gradient of the first output."""
        if self.out_channels != 1:
            raise ValueError(f"forces need a single (energy) output, but out_channels={self.out_channels}")
        z, pos = self._inputs(graph)
        pos = pos.detach().requires_grad_(True)
        energy = self.forward_tensors(z, pos, graph.edge_index, graph.batch, graph.num_graphs)[:, 0]
        (gradient,) = torch.autograd.grad(energy.sum(), pos, create_graph=self.training)
        return energy, -gradient

    def _check_atoms(self, z: Tensor, pos: Tensor) -> None:
        if z.dim() != 1 or z.dtype != torch.long:
            raise ValueError(f"atomic numbers must be an int64 tensor of shape [N], got {z.dtype} {list(z.shape)}")
        if pos is None or pos.shape != (z.shape[0], 3):
            raise ValueError(f"pos must have shape [N={z.shape[0]}, 3], got {None if pos is None else list(pos.shape)}")
        # Host sync: eager mode only (skipped while torch.compile traces).
        if z.numel() and not torch.compiler.is_compiling() and (int(z.min()) < 0 or int(z.max()) >= self.in_channels):
            raise ValueError(f"atomic numbers must be in [0, in_channels={self.in_channels}), got range [{int(z.min())}, {int(z.max())}]")


def frame_and_distance(edge_vec: Tensor, lmax: int, mmax: int) -> tuple[EdgeFrame, Tensor]:
    """The edge frames of ``edge_vec [E, 3]`` and the edge lengths ``[E]`` (with a finite gradient for zero-length edges)."""
    frame = edge_frame(edge_vec, lmax, mmax)
    # Norm of a zero vector has no gradient: use the frame's validity mask to keep it finite.
    distance = torch.where(frame.valid.unsqueeze(1), edge_vec, torch.ones_like(edge_vec)).norm(dim=1)
    return frame, distance
