"""Input checks shared by ops and layers: each raises an error naming the problem.

Checks that read tensor values (non-finite entries, index ranges) need a host
sync and graph breaks, so they are skipped while ``torch.compile`` traces
(:func:`compiling`); checks of metadata only (dtype, device, shape) always run.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn


def compiling() -> bool:
    """True while torch.compile traces (value checks are skipped then)."""
    return torch.compiler.is_compiling()


def check_finite(tensor: Tensor, name: str, where: str) -> None:
    """Raise a ValueError if floating ``tensor`` holds NaN or inf (skipped while compiling)."""
    if compiling() or not tensor.is_floating_point() or tensor.numel() == 0:
        return
    bad = ~torch.isfinite(tensor)
    if bool(bad.any()):
        rows = bad.reshape(tensor.shape[0], -1).any(dim=1).nonzero().view(-1) if tensor.dim() else torch.zeros(1)
        raise ValueError(
            f"{where}: {name} holds {int(bad.sum())} non-finite value(s) (NaN or inf), in {rows.numel()} row(s), "
            f"first at row {int(rows[0])}; {where} cannot give a meaningful result for them"
        )


def check_categories(x: Tensor, vocabulary_sizes: Sequence[int], where: str) -> None:
    """Raise a ValueError if column ``k`` of int ``x [M, K]`` leaves ``0..V_k - 1`` (skipped while compiling)."""
    if compiling() or x.numel() == 0:
        return
    low, high = x.min(dim=0).values.tolist(), x.max(dim=0).values.tolist()
    for k, size in enumerate(vocabulary_sizes):
        if low[k] < 0 or high[k] >= size:
            value = low[k] if low[k] < 0 else high[k]
            row = int(((x[:, k] < 0) | (x[:, k] >= size)).nonzero()[0])
            raise ValueError(
                f"{where}: column {k} holds category {value} (first at row {row}) outside its vocabulary 0..{size - 1}"
            )


def check_rows(tensor: Tensor, rows: int, name: str, what: str, where: str) -> None:
    """Raise a ValueError unless ``tensor`` has ``rows`` rows (metadata only)."""
    if tensor.dim() == 0 or tensor.shape[0] != rows:
        raise ValueError(f"{where}: {name} has shape {list(tensor.shape)} but needs one row per {what} ({rows})")


def check_dtype_device(where: str, module: nn.Module | None = None, **tensors: Tensor | None) -> None:
    """Raise a TypeError naming the tensors when floating inputs (and ``module``'s parameters)
    differ in dtype, or when inputs and parameters are on different devices (metadata only)."""
    given = {name: t for name, t in tensors.items() if t is not None}
    if module is not None:
        parameter = next(module.parameters(), None)
        if parameter is not None:
            given["the layer's parameters"] = parameter
    devices = {name: t.device for name, t in given.items()}
    if len(set(devices.values())) > 1:
        listed = ", ".join(f"{name} on {device}" for name, device in devices.items())
        raise TypeError(f"{where}: all tensors must be on one device, got {listed} (move them with .to(device))")
    floats = {name: t.dtype for name, t in given.items() if t.is_floating_point()}
    # Under autocast, mixed dtypes are expected (bf16 activations, float32 parameters).
    autocast = any(_autocast_enabled(t.device.type) for t in given.values())
    if not autocast and len(set(floats.values())) > 1:
        listed = ", ".join(f"{name} {str(dtype).replace('torch.', '')}" for name, dtype in floats.items())
        raise TypeError(f"{where}: floating-point inputs must share one dtype, got {listed} (convert with .to(dtype))")


def _autocast_enabled(device_type: str) -> bool:
    # torch.is_autocast_enabled raises for a device type autocast does not know (meta).
    return device_type != "meta" and torch.is_autocast_enabled(device_type)
