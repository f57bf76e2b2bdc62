"""Graph convolution of Kipf & Welling, https://arxiv.org/abs/1609.02907."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from geoconv.ops import SparseAdjacency, check_edge_index, gather, gcn_norm, scatter


class GCNConv(nn.Module):
    r"""Graph convolution (Kipf & Welling, "Semi-Supervised Classification with
    Graph Convolutional Networks", ICLR 2017).

    .. math::
        X' = \hat{D}^{-1/2} \hat{A} \hat{D}^{-1/2} X W + b,
        \qquad \hat{A} = A + f I

    node-wise :math:`x'_i = \sum_{j \in N(i) \cup \{i\}} \frac{w_{ji}}{\sqrt{\hat d_j \hat d_i}} W^\top x_j + b`,
    with ``f = 2`` when ``improved``.  Edge ``j -> i`` sends ``x_j`` to ``i``.

    The layer is the gather -> message -> scatter pattern
    (:meth:`message`, :meth:`aggregate`); when the edge weights need no
    gradient, the same sum runs as a CSR sparse matmul
    (:class:`~geoconv.ops.SparseAdjacency`), which is faster on CPU.

    ``torch.compile(conv, fullgraph=True, dynamic=True)`` traces the gather/scatter path (the CSR
    product is not traceable; compiled code yields to gather/scatter, same sums); the edge-index range
    check runs in eager mode only.  A precomputed ``SparseAdjacency``, ``cached=True`` and sparse
    inputs are eager-mode features.

    Args:
        in_channels: ``C``.
        out_channels: ``C'``.
        improved: self-loop weight 2 instead of 1.
        cached: normalise the graph on the first call and reuse it (transductive
            training on one fixed graph only).
        add_self_loops: add a self-loop to every node (an existing loop keeps its weight).
        normalize: apply the symmetric normalisation; otherwise use the edge weights as given.
        bias: learn an additive bias.

    Shapes:
        x: ``[N, C]`` (dense, or a torch sparse matrix for sparse input features); edge_index: ``[2, E]`` int64, or a precomputed
        :class:`~geoconv.ops.SparseAdjacency` (used as the final propagation
        matrix), or a torch sparse ``[N, N]`` tensor ``adj`` with
        ``adj[i, j]`` the weight of edge ``j -> i`` (normalised if ``normalize``);
        edge_weight: ``[E]``; output: ``[N, C']``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        improved: bool = False,
        cached: bool = False,
        add_self_loops: bool = True,
        normalize: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.improved = improved
        self.cached = cached
        self.add_self_loops = add_self_loops
        self.normalize = normalize
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self._cache: tuple[Tensor, Tensor, SparseAdjacency | None] | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Glorot uniform, as in the paper's code.
        bound = math.sqrt(6.0 / (self.in_channels + self.out_channels))
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        self._cache = None

    def normalized_graph(
        self, edge_index: Tensor, edge_weight: Tensor | None, num_nodes: int, dtype: torch.dtype
    ) -> tuple[Tensor, Tensor]:
        """The propagation edges and weights this layer uses for a graph."""
        if edge_weight is not None and edge_weight.numel() != edge_index.shape[1]:
            raise ValueError(
                f"edge_weight must have shape [E] = [{edge_index.shape[1]}], got {list(edge_weight.shape)}"
            )
        if self.normalize:
            return gcn_norm(
                edge_index, edge_weight, num_nodes,
                improved=self.improved, add_self_loops=self.add_self_loops, dtype=dtype,
            )
        if edge_weight is None:
            edge_weight = torch.ones(edge_index.shape[1], dtype=dtype, device=edge_index.device)
        return edge_index, edge_weight

    def message(self, x_j: Tensor, edge_weight: Tensor) -> Tensor:
        """``[E, C']`` messages ``w_ji x_j``."""
        return x_j * edge_weight.view(-1, 1)

    def aggregate(self, messages: Tensor, dst: Tensor, num_nodes: int) -> Tensor:
        """Sum of the messages arriving at each node, ``[N, C']``."""
        return scatter(messages, dst, 0, num_nodes, "sum")

    def forward(self, x: Tensor, edge_index: Tensor | SparseAdjacency, edge_weight: Tensor | None = None) -> Tensor:
        if x.dim() != 2 or x.shape[1] != self.in_channels:
            raise ValueError(f"x must have shape [N, {self.in_channels}], got {list(x.shape)}")
        num_nodes = x.shape[0]
        # A (X W) = (A X) W.  Propagating first costs E*C instead of E*C' in the sparse
        # product, but when x needs no gradient (input features) it also spares the
        # backward sparse product with A^T: worth it up to C = 2 C'.  Sparse (bag-of-words)
        # and wide inputs are multiplied by W first.
        propagate_first = not x.is_sparse and (
            self.in_channels < self.out_channels
            or (not x.requires_grad and self.in_channels <= 2 * self.out_channels)
        )
        h = x if propagate_first else _linear(x, self.weight)
        if isinstance(edge_index, SparseAdjacency):
            if edge_index.num_nodes != num_nodes:
                raise ValueError(f"the adjacency has {edge_index.num_nodes} nodes but x has {num_nodes} rows")
            out = edge_index.matmul(h)
        else:
            if isinstance(edge_index, Tensor) and edge_index.layout != torch.strided:
                edge_index, edge_weight = _from_sparse(edge_index, num_nodes)
            out = self._propagate(h, edge_index, edge_weight, num_nodes)
        if propagate_first:
            out = out @ self.weight.t()
        if self.bias is not None:
            out = out + self.bias
        return out

    def _propagate(self, h: Tensor, edge_index: Tensor, edge_weight: Tensor | None, num_nodes: int) -> Tensor:
        if self.cached and self._cache is not None:
            cached_index, cached_weight, adjacency = self._cache
            if cached_index.shape[1] and int(cached_index.max()) >= num_nodes:
                raise ValueError("cached=True but the graph changed size; call reset_parameters() or use cached=False")
        else:
            check_edge_index(edge_index, num_nodes)
            cached_index, cached_weight = self.normalized_graph(edge_index, edge_weight, num_nodes, h.dtype)
            adjacency = None
        if cached_weight.requires_grad or torch.compiler.is_compiling():
            # Learnable edge weights: the plain gather -> message -> scatter path carries their gradient.
            # torch.compile does not trace the CSR kernels: compiled, the layer always takes this path.
            src, dst = cached_index
            return self.aggregate(self.message(gather(h, src), cached_weight), dst, num_nodes)
        if adjacency is None:
            adjacency = SparseAdjacency(cached_index, cached_weight, num_nodes)
        if self.cached:
            self._cache = (cached_index, cached_weight, adjacency)
        return adjacency.matmul(h)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, improved={self.improved}, cached={self.cached}, "
            f"add_self_loops={self.add_self_loops}, normalize={self.normalize}, bias={self.bias is not None}"
        )


def _linear(x: Tensor, weight: Tensor) -> Tensor:
    """``x W^T`` for a dense or a sparse COO/CSR ``x``."""
    return torch.sparse.mm(x, weight.t()) if x.is_sparse or x.layout != torch.strided else x @ weight.t()


def _from_sparse(adj: Tensor, num_nodes: int) -> tuple[Tensor, Tensor]:
    """``adj[i, j]`` (weight of edge j -> i) -> (edge_index, edge_weight)."""
    if adj.shape[0] != num_nodes or adj.shape[1] != num_nodes:
        raise ValueError(f"sparse adjacency must have shape [{num_nodes}, {num_nodes}], got {list(adj.shape)}")
    coo = adj.to_sparse_coo().coalesce()
    target, source = coo.indices()
    return torch.stack([source, target]), coo.values()
