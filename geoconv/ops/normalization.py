"""Graph normalisations."""

from __future__ import annotations

import torch
from torch import Tensor

from geoconv.ops.scatter import scatter
from geoconv.ops.structure import add_remaining_self_loops


def gcn_norm(
    edge_index: Tensor,
    edge_weight: Tensor | None = None,
    num_nodes: int | None = None,
    *,
    improved: bool = False,
    add_self_loops: bool = True,
    dtype: torch.dtype | None = None,
) -> tuple[Tensor, Tensor]:
    r"""Symmetric GCN normalisation (Kipf & Welling, 2017).

    .. math::
        \hat{A} = A + f I, \quad \hat{D}_{ii} = \sum_j \hat{A}_{ij}, \quad
        w'_{j \to i} = \hat{D}_{jj}^{-1/2}\, \hat{A}_{ij}\, \hat{D}_{ii}^{-1/2}

    with ``f = 2`` if ``improved`` else ``1``.  Self-loops: every node ends up
    with exactly one (an existing loop keeps its weight, see
    :func:`~geoconv.ops.add_remaining_self_loops`).  Degrees are in-degrees
    (summed at the target); nodes of degree 0 get weight 0, not inf.

    Returns:
        ``(edge_index [2, E'], edge_weight [E'])``.

    While ``torch.compile`` traces, existing self-loops are not removed (that would give a
    data-dependent edge count) but kept in place with weight 0, and the ``N`` new loops carry their
    weight: ``E' = E + N`` and every propagation with the result is the same sum as in eager mode.
    """
    if num_nodes is None:
        num_nodes = int(edge_index.max()) + 1 if edge_index.numel() > 0 else 0
    if dtype is None:
        dtype = edge_weight.dtype if edge_weight is not None else torch.float32
    if edge_weight is None:
        edge_weight = torch.ones(edge_index.shape[1], dtype=dtype, device=edge_index.device)
    elif edge_weight.dim() != 1 or edge_weight.numel() != edge_index.shape[1]:
        raise ValueError(
            f"edge_weight must have shape [E] = [{edge_index.shape[1]}], got {list(edge_weight.shape)}"
        )
    if add_self_loops and torch.compiler.is_compiling():
        edge_index, edge_weight = _append_self_loops_static(edge_index, edge_weight, 2.0 if improved else 1.0, num_nodes)
    elif add_self_loops:
        edge_index, edge_weight = add_remaining_self_loops(
            edge_index, edge_weight, 2.0 if improved else 1.0, num_nodes
        )
    src, dst = edge_index[0], edge_index[1]
    deg = scatter(edge_weight, dst, 0, num_nodes, "sum")
    deg_inv_sqrt = deg.pow(-0.5)
    deg_inv_sqrt = deg_inv_sqrt.masked_fill(torch.isinf(deg_inv_sqrt), 0.0)
    return edge_index, deg_inv_sqrt.index_select(0, src) * edge_weight * deg_inv_sqrt.index_select(0, dst)


def _append_self_loops_static(
    edge_index: Tensor, edge_weight: Tensor, fill_value: float, num_nodes: int
) -> tuple[Tensor, Tensor]:
    """:func:`add_remaining_self_loops` with a static edge count: old loops stay with weight 0 and give
    their weight to the appended loop of their node (one of them if several), the others get ``fill_value``."""
    is_loop = edge_index[0] == edge_index[1]
    # Non-loops write to a spare slot num_nodes, dropped afterwards.
    slot = torch.where(is_loop, edge_index[0], num_nodes)
    loop_weight = edge_weight.new_full((num_nodes + 1,), fill_value).scatter(0, slot, edge_weight)[:num_nodes]
    loop = torch.arange(num_nodes, device=edge_index.device)
    new_index = torch.cat([edge_index, loop.repeat(2, 1)], dim=1)
    kept = torch.where(is_loop, torch.zeros_like(edge_weight), edge_weight)
    return new_index, torch.cat([kept, loop_weight])
