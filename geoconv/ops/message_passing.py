"""The gather -> message -> scatter pattern that every geoconv layer follows.

A message-passing layer is written as ordinary code over three steps::

    src, dst = edge_index                     # row 0 source j, row 1 target i
    x_j = gather(x, src)                      # [E, C] features of each edge's source
    x_i = gather(x, dst)                      # [E, C] features of each edge's target
    messages = some_function(x_i, x_j, edge_attr)        # [E, C'] any torch code
    out = scatter(messages, dst, dim_size=num_nodes, reduce="sum")  # [N, C']

No base class, no introspection: :func:`propagate` is that pattern for the
common weighted-sum message ``w_e x_j``, and layers whose message is a fixed
linear map of ``x_j`` may run it as a sparse matmul
(:class:`~geoconv.ops.SparseAdjacency`), which computes the same sum.
"""

from __future__ import annotations

from torch import Tensor

from geoconv.ops.scatter import scatter


def gather(x: Tensor, index: Tensor) -> Tensor:
    """Rows of ``x`` at ``index``: ``[N, ...] -> [E, ...]``."""
    return x.index_select(0, index)


def propagate(
    x: Tensor,
    edge_index: Tensor,
    edge_weight: Tensor | None = None,
    num_nodes: int | None = None,
    reduce: str = "sum",
) -> Tensor:
    r"""``out_i = reduce_{e = (j -> i)} w_e x_j``: gather, weight, scatter.

    Shapes:
        x: ``[N, ...]``; edge_index: ``[2, E]``; edge_weight: ``[E]``; output: ``[num_nodes, ...]``.
    """
    num_nodes = x.shape[0] if num_nodes is None else num_nodes
    messages = gather(x, edge_index[0])
    if edge_weight is not None:
        messages = messages * edge_weight.view([-1] + [1] * (messages.dim() - 1))
    return scatter(messages, edge_index[1], 0, num_nodes, reduce)
