"""GraphSAGE convolution with mean aggregation, https://arxiv.org/abs/1706.02216."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from geoconv.ops import SparseAdjacency, check_edge_index, degree, gather, scatter


class SAGEConv(nn.Module):
    r"""GraphSAGE layer with the mean aggregator (Hamilton, Ying & Leskovec, "Inductive
    Representation Learning on Large Graphs", NeurIPS 2017), without the paper's
    normalisation of the output (as OGB's reference models use it).

    .. math::
        x'_i = W_{\mathrm{root}}\, x_i + W_{\mathrm{neighbour}} \frac{1}{|N(i)|} \sum_{j \in N(i)} x_j + b

    Edge ``j -> i`` sends ``x_j`` to ``i``; a node without in-edges aggregates zeros.
    The mean runs as one CSR sparse matmul (:class:`~geoconv.ops.SparseAdjacency` with
    weights ``1 / in-degree``); no concatenation ``[x_i, mean]`` is formed, and no
    self-loop is added (the root term plays its part).  Under ``torch.compile`` (which does
    not trace the CSR kernels) an ``edge_index`` input takes the gather -> scatter-mean
    path instead: same means.

    Args:
        in_channels: ``C``.
        out_channels: ``C'``.
        bias: learn the additive bias ``b`` (default True).

    Shapes:
        x: ``[N, C]``; edge_index: ``[2, E]`` int64, or a precomputed
        :class:`~geoconv.ops.SparseAdjacency` holding the mean weights (see :meth:`mean_adjacency`);
        output: ``[N, C']``.
    """

    def __init__(self, in_channels: int, out_channels: int, *, bias: bool = True) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.root_weight = nn.Parameter(torch.empty(out_channels, in_channels))
        self.neighbour_weight = nn.Parameter(torch.empty(out_channels, in_channels))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # torch.nn.Linear's default initialisation for both weights.
        for weight in (self.root_weight, self.neighbour_weight):
            nn.init.kaiming_uniform_(weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_channels) if self.in_channels else 0.0
            nn.init.uniform_(self.bias, -bound, bound)

    @staticmethod
    def mean_adjacency(edge_index: Tensor, num_nodes: int) -> SparseAdjacency:
        """``A[i, j] = 1 / in-degree(i)`` for each edge ``j -> i``: ``A x`` is the neighbour mean."""
        check_edge_index(edge_index, num_nodes)
        in_degree = degree(edge_index[1], num_nodes)
        return SparseAdjacency(edge_index, in_degree.reciprocal()[edge_index[1]], num_nodes)

    def forward(self, x: Tensor, edge_index: Tensor | SparseAdjacency) -> Tensor:
        if x.dim() != 2 or x.shape[1] != self.in_channels:
            raise ValueError(f"x must have shape [N, {self.in_channels}], got {list(x.shape)}")
        if not isinstance(edge_index, SparseAdjacency) and torch.compiler.is_compiling():
            neighbours = scatter(gather(x, edge_index[0]), edge_index[1], 0, x.shape[0], "mean")
            out = x @ self.root_weight.t() + neighbours @ self.neighbour_weight.t()
            return out if self.bias is None else out + self.bias
        adjacency = edge_index if isinstance(edge_index, SparseAdjacency) else self.mean_adjacency(edge_index, x.shape[0])
        if adjacency.num_nodes != x.shape[0]:
            raise ValueError(f"the adjacency has {adjacency.num_nodes} nodes but x has {x.shape[0]} rows")
        # Project first when that shrinks the sparse product (C' < C), else aggregate first.
        if self.out_channels < self.in_channels:
            neighbours = adjacency.matmul(x @ self.neighbour_weight.t())
        else:
            neighbours = adjacency.matmul(x) @ self.neighbour_weight.t()
        out = x @ self.root_weight.t() + neighbours
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, bias={self.bias is not None}"
