"""Graph-level readout: one vector per graph from the node (or edge) vectors of a batch."""

from __future__ import annotations

import torch
from torch import Tensor

from geoconv.ops.scatter import scatter

POOL_REDUCTIONS = ("sum", "mean", "max")


def global_pool(x: Tensor, batch: Tensor | None, num_graphs: int | None = None, reduce: str = "sum") -> Tensor:
    r"""Reduce the rows of ``x`` over each graph of a batch.

    .. math::
        \mathrm{out}_g = \bigoplus_{i \,:\, \mathrm{batch}_i = g} x_i

    with :math:`\bigoplus` the sum, mean or max.  A graph without rows (an empty
    graph) gets 0 for every reduction, as :func:`~geoconv.ops.scatter` does.

    Args:
        x: ``[N, ...]`` rows (node features; edge features with the graph of every edge).
        batch: ``[N]`` int64 graph of every row, or None for one graph holding all rows.
        num_graphs: ``G``, the number of output rows (required with ``batch``: inferring it
            would miss trailing empty graphs and cost a device sync); None or 1 without.
        reduce: ``"sum"`` (default), ``"mean"`` or ``"max"``.

    Shapes:
        output: ``[G, ...]``.
    """
    if reduce not in POOL_REDUCTIONS:
        raise ValueError(f"reduce must be one of {POOL_REDUCTIONS}, got {reduce!r}")
    if batch is None:
        if num_graphs not in (None, 1):
            raise ValueError(f"without batch all rows form one graph, but num_graphs={num_graphs}")
        batch = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
        num_graphs = 1
    elif num_graphs is None:
        raise ValueError("global_pool needs num_graphs with a batch vector (graph.num_graphs)")
    if num_graphs < 0:
        raise ValueError(f"num_graphs must be >= 0, got {num_graphs}")
    return scatter(x, batch, 0, num_graphs, reduce)
