"""What every model shares: reading its inputs from a Graph (the fields are named by the model's constructor,
never guessed), per-layer widths from ``hidden_channels`` / ``num_layers``, and resetting parameters."""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor, nn

from geoconv.data import Graph


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
