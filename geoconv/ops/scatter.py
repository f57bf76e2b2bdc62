"""Scatter and segment reductions, and the scatter softmax.

Native torch kernels (``index_add_``, ``scatter_reduce_``, ``segment_reduce``)
are the default: the same code runs on CPU and CUDA and needs no compiled
extension.  torch_scatter is used for a reduction only when it is installed
*and* the user has enabled it for that reduction with
:func:`use_torch_scatter` after measuring (``benchmarks/scatter.py``): on
this project's 2-core CPU, native kernels were as fast or faster (for max,
torch_scatter took ~1.7 s where ``scatter_reduce`` took ~0.1 s on 1M messages).
"""

from __future__ import annotations

from typing import Iterable

import torch
from torch import Tensor

from geoconv.ops.checks import compiling

REDUCTIONS = ("sum", "add", "mean", "max", "min", "mul")

_torch_scatter_reductions: set[str] = set()

# Sums over these dtypes accumulate in float32.
_REDUCED_PRECISION = (torch.float16, torch.bfloat16)


def use_torch_scatter(reductions: Iterable[str]) -> None:
    """Route the listed reductions to torch_scatter (must be importable).

    ``use_torch_scatter([])`` returns to native kernels for all reductions.
    """
    reductions = set(reductions)
    unknown = reductions - set(REDUCTIONS)
    if unknown:
        raise ValueError(f"unknown reductions {sorted(unknown)}; choose from {REDUCTIONS}")
    if reductions:
        from geoconv._optional import require

        require("torch_scatter", "use_torch_scatter")
    _torch_scatter_reductions.clear()
    _torch_scatter_reductions.update(reductions)


def _check_index(src: Tensor, index: Tensor, dim: int, dim_size: int | None, name: str = "index") -> int:
    if src.device != index.device:
        raise TypeError(f"src is on {src.device} but {name} on {index.device}; move them to one device")
    if index.dtype != torch.long:
        raise TypeError(f"{name} must have dtype torch.int64, got {index.dtype}")
    if index.dim() != 1:
        raise ValueError(f"{name} must be 1-dimensional, got shape {list(index.shape)}")
    if src.dim() == 0:
        raise ValueError("src must have at least one dimension")
    if index.numel() != src.size(dim):
        raise ValueError(
            f"{name} has {index.numel()} entries but src has {src.size(dim)} along dim {dim}"
        )
    if dim_size is None:
        # Needs a device sync; pass dim_size to avoid it.
        dim_size = int(index.max()) + 1 if index.numel() > 0 else 0
    elif dim_size < 0:
        raise ValueError(f"dim_size must be >= 0, got {dim_size}")
    elif dim_size == 0 and index.numel() > 0:
        # torch's kernels write nothing into an empty output and do not check the index then.
        raise ValueError(f"dim_size is 0 but {name} has {index.numel()} entries: each would fall outside the output")
    return dim_size


def _check_dim(src: Tensor, dim: int) -> int:
    """``dim`` as a non-negative dimension of ``src`` (a dimension past the last is an error, not wrapped)."""
    if src.dim() == 0:
        raise ValueError("src must have at least one dimension")
    if not -src.dim() <= dim < src.dim():
        raise ValueError(f"dim must be in -{src.dim()}..{src.dim() - 1} for src of shape {list(src.shape)}, got {dim}")
    return dim % src.dim()


def _name_bad_index(index: Tensor, dim_size: int, where: str, name: str = "index") -> None:
    """After a kernel failed: raise a ValueError naming an index outside ``0..dim_size - 1``, if there is one.

    Run only on failure, so that valid calls pay nothing for it (the kernels check ranges themselves)."""
    bad = (index < 0) | (index >= dim_size)
    if bool(bad.any()):
        first = int(bad.nonzero()[0, 0])
        raise ValueError(
            f"{where}: {name} holds {int(index[first])} (entry {first}), outside 0..{dim_size - 1}: "
            f"every {name} entry must be in 0..dim_size - 1 (dim_size = {dim_size})"
        ) from None


def _broadcast(index: Tensor, src: Tensor, dim: int) -> Tensor:
    """View ``index [E]`` as a tensor of ``src``'s shape (no copy)."""
    shape = [1] * src.dim()
    shape[dim] = -1
    return index.view(shape).expand_as(src)


def scatter(src: Tensor, index: Tensor, dim: int = 0, dim_size: int | None = None, reduce: str = "sum") -> Tensor:
    r"""Reduce the slices of ``src`` along ``dim`` into the rows named by ``index``.

    .. math::
        \mathrm{out}_i = \bigoplus_{j \,:\, \mathrm{index}_j = i} \mathrm{src}_j

    with :math:`\bigoplus` one of ``sum`` (alias ``add``), ``mean``, ``max``,
    ``min``, ``mul``.  Rows that receive nothing are 0 for every reduction.

    Args:
        src: ``[..., E, ...]`` values, ``E`` along ``dim``.
        index: ``[E]`` int64 target row of each slice.
        dim: the dimension of ``src`` that ``index`` runs along.
        dim_size: number of output rows (pass it: inferring it costs a sync).
        reduce: the reduction.

    Shapes:
        output: ``src``'s shape with ``dim`` of size ``dim_size``.

    Gradients: ``max``/``min`` split the gradient evenly between tied maxima
    (torch's ``scatter_reduce`` rule).

    Reduced precision: ``float16``/``bfloat16`` sums and means accumulate in float32 and are
    rounded once at the end (a bfloat16 running sum stops growing at 256 when adding ones).
    """
    if reduce not in REDUCTIONS:
        raise ValueError(f"reduce must be one of {REDUCTIONS}, got {reduce!r}")
    dim = _check_dim(src, dim)
    dim_size = _check_index(src, index, dim, dim_size)
    if compiling():
        return _scatter(src, index, dim, dim_size, reduce)
    try:
        return _scatter(src, index, dim, dim_size, reduce)
    except (RuntimeError, IndexError):
        _name_bad_index(index, dim_size, "scatter")
        raise


def _scatter(src: Tensor, index: Tensor, dim: int, dim_size: int, reduce: str) -> Tensor:
    if reduce in _torch_scatter_reductions:
        import torch_scatter

        ts_reduce = {"add": "sum"}.get(reduce, reduce)
        out = torch_scatter.scatter(src, index, dim=dim, dim_size=dim_size, reduce=ts_reduce)
        return out
    if reduce in ("sum", "add", "mean") and src.dtype in _REDUCED_PRECISION:
        return _scatter(src.float(), index, dim, dim_size, reduce).to(src.dtype)
    shape = list(src.shape)
    shape[dim] = dim_size
    if reduce in ("sum", "add"):
        return src.new_zeros(shape).index_add_(dim, index, src)
    if reduce == "mean":
        total = src.new_zeros(shape).index_add_(dim, index, src)
        count = torch.zeros(dim_size, dtype=src.dtype, device=src.device)
        count.index_add_(0, index, torch.ones_like(index, dtype=src.dtype))
        count_shape = [1] * src.dim()
        count_shape[dim] = dim_size
        count = count.clamp(min=1).view(count_shape)
        if not src.is_floating_point() and not src.is_complex():
            return torch.div(total, count, rounding_mode="floor")
        return total / count
    torch_reduce = {"max": "amax", "min": "amin", "mul": "prod"}[reduce]
    # include_self=False on a zero tensor: rows without entries stay 0.
    return src.new_zeros(shape).scatter_reduce_(dim, _broadcast(index, src, dim), src, torch_reduce, include_self=False)


def segment(src: Tensor, ptr: Tensor, reduce: str = "sum") -> Tensor:
    r"""Reduce consecutive row ranges of ``src`` (CSR layout).

    .. math::
        \mathrm{out}_i = \bigoplus_{j = \mathrm{ptr}_i}^{\mathrm{ptr}_{i+1} - 1} \mathrm{src}_j

    Args:
        src: ``[E, ...]`` rows sorted by segment.
        ptr: ``[S + 1]`` int64 non-decreasing offsets with ``ptr[0] = 0`` and ``ptr[-1] = E``.
        reduce: ``sum``, ``mean``, ``max``, ``min`` or ``mul``; empty segments give 0.

    Shapes:
        output: ``[S, ...]``.
    """
    if reduce not in REDUCTIONS:
        raise ValueError(f"reduce must be one of {REDUCTIONS}, got {reduce!r}")
    if ptr.dtype != torch.long or ptr.dim() != 1 or ptr.numel() == 0:
        raise ValueError(f"ptr must be a non-empty 1-d int64 tensor, got dtype {ptr.dtype}, shape {list(ptr.shape)}")
    if ptr.device != src.device:
        raise TypeError(f"src is on {src.device} but ptr on {ptr.device}; move them to one device")
    if int(ptr[-1]) != src.shape[0] or int(ptr[0]) != 0:
        raise ValueError(f"ptr must start at 0 and end at src.shape[0] = {src.shape[0]}, got {int(ptr[0])}..{int(ptr[-1])}")
    lengths = ptr[1:] - ptr[:-1]
    if lengths.numel() and int(lengths.min()) < 0:
        raise ValueError("ptr must be non-decreasing")
    # torch.segment_reduce has floating kernels only: integer max/min/mul take the scatter path.
    if reduce in ("sum", "add", "mean") or src.shape[0] == 0 or not src.is_floating_point():
        index = torch.repeat_interleave(torch.arange(lengths.numel(), device=src.device), lengths)
        return scatter(src, index, 0, lengths.numel(), reduce)
    torch_reduce = {"mul": "prod"}.get(reduce, reduce)
    out = torch.segment_reduce(src, torch_reduce, offsets=ptr, axis=0, unsafe=True)
    # segment_reduce gives -inf/inf/1 for empty segments; we promise 0.
    nonempty = (lengths > 0).view([-1] + [1] * (src.dim() - 1))
    return torch.where(nonempty, out, torch.zeros((), dtype=out.dtype, device=out.device))


def softmax(src: Tensor, index: Tensor, dim_size: int | None = None, dim: int = 0) -> Tensor:
    r"""Softmax of ``src`` within the groups given by ``index``.

    .. math::
        \mathrm{out}_j = \frac{\exp(\mathrm{src}_j - m_{i})}{\sum_{k : \mathrm{index}_k = i} \exp(\mathrm{src}_k - m_i)},
        \quad i = \mathrm{index}_j,\ m_i = \max_{k : \mathrm{index}_k = i} \mathrm{src}_k

    (the max is subtracted for stability and cancels out).  ``float16``/``bfloat16`` inputs are
    computed in float32 and the result rounded once.

    Shapes:
        src: ``[E, ...]`` (``E`` along ``dim``); index: ``[E]``; output: like ``src``.
    """
    dim = _check_dim(src, dim)
    dim_size = _check_index(src, index, dim, dim_size)
    if src.dtype in _REDUCED_PRECISION:
        return softmax(src.float(), index, dim_size, dim).to(src.dtype)
    group_max = scatter(src.detach(), index, dim, dim_size, "max")
    shifted = (src - group_max.index_select(dim, index)).exp()
    group_sum = scatter(shifted, index, dim, dim_size, "sum")
    return shifted / group_sum.index_select(dim, index)
