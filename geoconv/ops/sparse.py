"""Weighted neighbourhood sums as a CSR sparse matmul, cached for fixed graphs.

For a fixed graph, the gather -> weight -> scatter-sum of a linear message

.. math::
    \\mathrm{out}_i = \\sum_{e = (j \\to i)} w_e \\, x_j

is the product ``A @ x`` with the ``[N, N]`` matrix ``A[i, j] = sum of w_e
over edges j -> i``.  :class:`SparseAdjacency` stores ``A`` in CSR form (rows
are targets) and runs the product through one kernel that reads each row's
entries once (a weighted ``embedding_bag`` sum on the CPU, torch's CSR kernel
elsewhere), several times faster than the index_select + index_add pair.  The
backward pass multiplies by ``A^T``, built lazily on first use and kept.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

from geoconv.ops.structure import check_edge_index

_REDUCED_PRECISION = (torch.float16, torch.bfloat16)


def _csr(row: Tensor, col: Tensor, value: Tensor, num_rows: int, num_cols: int) -> Tensor:
    """A CSR tensor from COO entries (duplicates are kept; the kernel sums them)."""
    # The CSR kernel needs rows grouped, not columns sorted: a stable sort on the
    # row alone, on int32 keys when they fit, is about twice as fast as a full key sort.
    keys = row.int() if num_rows < 2**31 - 1 else row
    order = torch.argsort(keys, stable=True)
    col, value = col.index_select(0, order), value.index_select(0, order)
    crow = torch.zeros(num_rows + 1, dtype=torch.long, device=row.device)
    crow[1:] = torch.cumsum(torch.bincount(row, minlength=num_rows), 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "CSR support is in beta" is not actionable for users
        return torch.sparse_csr_tensor(crow, col, value, (num_rows, num_cols))


class SparseAdjacency:
    """``A[i, j] = sum of edge_weight over edges j -> i`` for a fixed graph.

    Args:
        edge_index: ``[2, E]`` int64 (row 0 source ``j``, row 1 target ``i``).
        edge_weight: ``[E]`` weights, default 1.  Gradients do not flow into the
            weights through this path (use :func:`geoconv.ops.propagate` with
            ``reduce="sum"`` for learnable edge weights).
        num_nodes: ``N``.

    ``adj @ x`` (or :meth:`matmul`) computes ``A x`` for ``x [N, C]`` with
    autograd support for ``x``.
    """

    def __init__(self, edge_index: Tensor, edge_weight: Tensor | None, num_nodes: int) -> None:
        check_edge_index(edge_index, num_nodes)
        if edge_weight is None:
            edge_weight = torch.ones(edge_index.shape[1], device=edge_index.device)
        if edge_weight.dim() != 1 or edge_weight.numel() != edge_index.shape[1]:
            raise ValueError(
                f"edge_weight must have shape [E] = [{edge_index.shape[1]}], got {list(edge_weight.shape)}"
            )
        self.edge_index = edge_index
        self.edge_weight = edge_weight.detach()
        self.num_nodes = int(num_nodes)
        self._forward = _csr(edge_index[1], edge_index[0], self.edge_weight, self.num_nodes, self.num_nodes)
        self._transpose: Tensor | None = None

    @property
    def csr(self) -> Tensor:
        """The CSR matrix ``A`` (targets are rows)."""
        return self._forward

    def transpose_csr(self) -> Tensor:
        """The CSR matrix ``A^T`` (sources are rows), built on first use."""
        if self._transpose is None:
            self._transpose = _csr(self.edge_index[0], self.edge_index[1], self.edge_weight, self.num_nodes, self.num_nodes)
        return self._transpose

    def matmul(self, x: Tensor) -> Tensor:
        if x.shape[0] != self.num_nodes:
            raise ValueError(f"x has {x.shape[0]} rows but the adjacency has {self.num_nodes} nodes")
        if self.num_nodes == 0 or self.edge_index.shape[1] == 0:
            return x.new_zeros(x.shape) * x  # keeps the autograd graph
        return _CSRMatmul.apply(self, x)

    def __matmul__(self, x: Tensor) -> Tensor:
        return self.matmul(x)

    def to(self, device: torch.device | str) -> "SparseAdjacency":
        return SparseAdjacency(self.edge_index.to(device), self.edge_weight.to(device), self.num_nodes)

    def __repr__(self) -> str:
        return f"SparseAdjacency(num_nodes={self.num_nodes}, nnz={self.edge_index.shape[1]})"


class _CSRMatmul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, adjacency: SparseAdjacency, x: Tensor) -> Tensor:
        ctx.adjacency = adjacency
        if x.dtype in _REDUCED_PRECISION:
            # No half-precision CSR kernels on the CPU; float32 also keeps the sums accurate.
            return _CSRMatmul.forward(ctx, adjacency, x.float()).to(x.dtype)
        csr = adjacency.csr
        if csr.dtype != x.dtype:
            csr = csr.to(x.dtype)
        with torch.autocast(x.device.type, enabled=False):  # autocast would round the product to half precision
            columns = x.flatten(1) if x.dim() > 1 else x.unsqueeze(1)  # [N, C] even when N = 0
            return _csr_times_dense(csr, columns).view(x.shape)

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        if not ctx.needs_input_grad[1]:
            return None, None
        if grad_out.dtype in _REDUCED_PRECISION:
            _, grad = _CSRMatmul.backward(ctx, grad_out.float())
            return None, grad.to(grad_out.dtype)
        transpose = ctx.adjacency.transpose_csr()
        if transpose.dtype != grad_out.dtype:
            transpose = transpose.to(grad_out.dtype)
        grad = grad_out.contiguous()
        with torch.autocast(grad.device.type, enabled=False):
            columns = grad.flatten(1) if grad.dim() > 1 else grad.unsqueeze(1)
            return None, _csr_times_dense(transpose, columns).view(grad.shape)


def _csr_times_dense(csr: Tensor, dense: Tensor) -> Tensor:
    """``csr @ dense`` for a ``[R, N]`` CSR matrix and ``dense [N, C]``.

    On the CPU as a weighted ``embedding_bag`` sum (each row of ``csr`` a bag of rows of ``dense``, its values
    the weights; an empty row gives 0), whose kernel writes the output once: torch's CSR product zero-fills
    it, multiplies into a temporary and adds that in (100,000 rows, 1,100,000 entries, 128 channels, 1
    thread: 49 ms against 78 ms).  Elsewhere, torch's CSR kernel (cuSPARSE on CUDA).
    """
    if dense.device.type != "cpu" or dense.shape[1] == 0:
        return torch.sparse.mm(csr, dense)
    crow = csr.crow_indices()
    return torch.nn.functional.embedding_bag(csr.col_indices(), dense, crow[:-1], mode="sum",
                                             per_sample_weights=csr.values())


def spmm(edge_index: Tensor, edge_weight: Tensor | None, x: Tensor, num_nodes: int | None = None) -> Tensor:
    """``out_i = sum_{e=(j->i)} w_e x_j`` through a one-off :class:`SparseAdjacency`."""
    num_nodes = x.shape[0] if num_nodes is None else num_nodes
    return SparseAdjacency(edge_index, edge_weight, num_nodes).matmul(x)
