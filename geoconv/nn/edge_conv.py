"""Edge convolution of DGCNN, https://arxiv.org/abs/1801.07829."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.ops import check_edge_index, gather, scatter
from geoconv.ops.checks import check_dtype_device

AGGREGATIONS = ("max", "sum", "add", "mean")


def _split_first_linear(mlp: Callable[[Tensor], Tensor]) -> tuple[nn.Linear | None, Callable[[Tensor], Tensor]]:
    """``(first, rest)`` with ``mlp = rest o first`` when ``mlp`` starts with a plain ``nn.Linear``."""
    if type(mlp) is nn.Linear:
        return mlp, nn.Identity()
    if isinstance(mlp, LinearEdgeBlock):  # (slicing it would call its constructor)
        return mlp[0], nn.Sequential(*list(mlp)[1:])
    if type(mlp) is nn.Sequential and len(mlp) > 0 and type(mlp[0]) is nn.Linear:
        return mlp[0], mlp[1:]
    return None, mlp


def edge_messages(
    mlp: Callable[[Tensor], Tensor],
    x_dst: Tensor,
    x_src: Tensor,
    dst: Tensor,
    src: Tensor,
    *,
    regular_k: int | None = None,
) -> Tensor:
    r"""``h(x_i || x_j - x_i)`` for every edge ``j -> i``: ``[E, C']``.

    When ``h`` starts with a plain ``nn.Linear`` of weight ``[W_1 | W_2]``, that
    first layer is evaluated per node and then gathered,

    .. math::
        W_1 x_i + W_2 (x_j - x_i) + b = \underbrace{(W_1 - W_2) x_i + b}_{\text{node } i} + \underbrace{W_2 x_j}_{\text{node } j},

    the same function with ``N`` instead of ``E`` matmul rows (``E = k N`` in a kNN graph).
    ``regular_k`` declares that ``dst`` is ``[0]*k + [1]*k + ...`` (every centre has
    ``k`` consecutive edges), so the centre term is broadcast instead of gathered.
    """
    first, rest = _split_first_linear(mlp)
    channels = x_dst.shape[1]
    if first is None or first.in_features != 2 * channels:
        return mlp(torch.cat([gather(x_dst, dst), gather(x_src, src) - gather(x_dst, dst)], dim=-1))
    weight_centre, weight_neighbour = first.weight[:, :channels], first.weight[:, channels:]
    h_centre = torch.nn.functional.linear(x_dst, weight_centre - weight_neighbour, first.bias)
    h_neighbour = x_src @ weight_neighbour.t()
    if regular_k is None:
        return rest(gather(h_centre, dst) + gather(h_neighbour, src))
    # explicit widths: with no points (an empty cloud) a -1 could not be inferred
    neighbours = gather(h_neighbour, src).view(x_dst.shape[0], regular_k, h_neighbour.shape[1])
    return rest((neighbours + h_centre.unsqueeze(1)).view(src.numel(), h_centre.shape[1]))


class LinearEdgeBlock(nn.Sequential):
    r"""The edge function ``Linear(2C, C') -> [BatchNorm1d(C')] -> [LeakyReLU]`` declared as such, so
    that :class:`EdgeConv` and :class:`~geoconv.nn.DynamicEdgeConv` with ``aggr="max"`` evaluate it
    without any per-edge ``[E, C']`` tensor (DGCNN's edge function).

    With ``[W_1 | W_2]`` the weight of the linear layer, the pre-activation of edge ``j -> i`` is
    :math:`a_i + b_j` with :math:`a_i = (W_1 - W_2) x_i + \mathrm{bias}` and :math:`b_j = W_2 x_j`.
    Batch normalisation over the edges is a per-channel affine map :math:`s h + t` whose statistics
    follow from node quantities: :math:`\sum_e h_e = \sum_i d^{in}_i a_i + \sum_j d^{out}_j b_j` and
    :math:`\sum_e h_e^2 = \sum_i d^{in}_i a_i^2 + 2 \sum_i a_i \sum_{j \in \mathcal{N}(i)} b_j + \sum_j d^{out}_j b_j^2`
    (centred sums, at least float32).  The activation is non-decreasing, so the maximum moves inside:

    .. math::
        \max_{j \in \mathcal{N}(i)} \sigma(s (a_i + b_j) + t) = \sigma\big(s a_i + t + \max_{j \in \mathcal{N}(i)} s b_j\big),

    a maximum over ``[N, C']`` rows (``embedding_bag``, no gathered copy).  Training-mode batch
    statistics, the running averages and the gradients are those of the per-edge module up to float
    rounding; on exactly tied maxima the gradient goes to one of them.  Used any other way (PyG's
    ``EdgeConv``, ``aggr="sum"``/``"mean"``) it is the plain ``Sequential`` applied to every edge.
    Its layout is fixed: do not append or replace layers (the fast path reads ``self[0]``, ``self[1]``...).

    Args:
        in_channels: node features ``C`` (the linear layer takes ``2C``: ``x_i || x_j - x_i``).
        out_channels: ``C'``.
        bias: bias of the linear layer (default False, as DGCNN: a batch norm follows).
        batch_norm: BatchNorm1d over the edges after the linear layer (default True).
        negative_slope: slope of the LeakyReLU (default 0.2 as DGCNN; must be >= 0 so the activation
            is non-decreasing), or None for no activation.

    Shapes:
        input: ``[E, 2C]`` (applied per edge); output: ``[E, C']``.
    """

    def __init__(
        self, in_channels: int, out_channels: int, *, bias: bool = False, batch_norm: bool = True,
        negative_slope: float | None = 0.2,
    ) -> None:
        if negative_slope is not None and not negative_slope >= 0:
            raise ValueError(f"negative_slope must be >= 0 (a non-decreasing activation) or None, got {negative_slope!r}")
        layers: list[nn.Module] = [nn.Linear(2 * in_channels, out_channels, bias=bias)]
        if batch_norm:
            layers.append(nn.BatchNorm1d(out_channels))
        if negative_slope is not None:
            layers.append(nn.LeakyReLU(negative_slope))
        super().__init__(*layers)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.batch_norm, self.negative_slope = batch_norm, negative_slope


def _edge_norm_affine(
    norm: nn.BatchNorm1d, a: Tensor, b: Tensor, num_edges: int | Tensor, in_degree: Tensor, out_degree: Tensor,
    neighbour_sum: Callable[[Tensor], Tensor],
) -> tuple[Tensor, Tensor]:
    """``(scale, shift)`` ``[C']`` with ``norm(h) = scale * h + shift`` for the edge values ``h = a_dst + b_src``,
    following ``BatchNorm1d.forward`` (batch statistics in training mode, running averages updated)."""
    factor, dtype = 0.0, a.dtype
    if norm.training and norm.track_running_stats and norm.num_batches_tracked is not None:
        norm.num_batches_tracked.add_(1)
        factor = 1.0 / float(norm.num_batches_tracked) if norm.momentum is None else norm.momentum
    if norm.training or (norm.running_mean is None and norm.running_var is None):
        # Centred sums (float32 at least): with a' = a - mean_a and b' = b - mean_b, the edge values
        # minus their mean are a'_i + b'_j, so the variance is a sum of centred squares and cross terms
        # (no large mean^2 subtracted, as BatchNorm's own two-pass variance).
        wide = torch.promote_types(a.dtype, torch.float32)
        a, b = a.to(wide), b.to(wide)
        in_degree, out_degree = in_degree.to(wide), out_degree.to(wide)
        mean_a, mean_b = (in_degree @ a) / num_edges, (out_degree @ b) / num_edges
        centred_a, centred_b = a - mean_a, b - mean_b
        neighbours_centred = neighbour_sum(b) - in_degree.unsqueeze(1) * mean_b  # sum_{j in N(i)} b'_j
        squares = (in_degree @ (centred_a * centred_a) + 2 * (centred_a * neighbours_centred).sum(0)
                   + out_degree @ (centred_b * centred_b))
        mean = mean_a + mean_b
        var = (squares / num_edges).clamp(min=0)
        if norm.training and norm.running_mean is not None and norm.running_var is not None:
            with torch.no_grad():
                norm.running_mean.mul_(1 - factor).add_(factor * mean.to(norm.running_mean.dtype))
                unbiased = var * num_edges / (num_edges - 1)
                norm.running_var.mul_(1 - factor).add_(factor * unbiased.to(norm.running_var.dtype))
        mean, var = mean.to(dtype), var.to(dtype)
    else:
        mean, var = norm.running_mean.to(dtype), norm.running_var.to(dtype)
    scale = torch.rsqrt(var + norm.eps)
    if norm.weight is not None:
        scale = scale * norm.weight
    shift = -mean * scale
    if norm.bias is not None:
        shift = shift + norm.bias
    return scale, shift


def linear_block_max(
    block: LinearEdgeBlock, x_src: Tensor, x_dst: Tensor, neighbours: Tensor, *,
    offsets: Tensor | None = None, valid: Tensor | None = None, in_degree: Tensor, out_degree: Tensor,
    num_edges: int | Tensor,
) -> Tensor:
    r"""``max_{j -> i} block(x_i || x_j - x_i)`` for every target ``i``: ``[N_dst, C']`` with no ``[E, C']`` tensor
    (see :class:`LinearEdgeBlock`).

    The neighbours are an ``[N_dst, k]`` table (``valid [N_dst, k]`` marks the real slots; the other slots must
    repeat a real neighbour of their row, which leaves the maximum unchanged) or, with ``offsets [N_dst]``,
    the sources grouped by target as ``embedding_bag`` takes them (a target without edges gets 0, as EdgeConv's).
    ``in_degree [N_dst]``, ``out_degree [N_src]`` and ``num_edges`` count the real edges.
    """
    channels = x_dst.shape[1]
    linear = block[0]
    weight_centre, weight_neighbour = linear.weight[:, :channels], linear.weight[:, channels:]
    a = F.linear(x_dst, weight_centre - weight_neighbour, linear.bias)
    b = F.linear(x_src, weight_neighbour)
    weights = None if valid is None else valid.to(b.dtype)
    if block.batch_norm:
        def neighbour_sum(values: Tensor) -> Tensor:
            return F.embedding_bag(neighbours, values, offsets, mode="sum",
                                   per_sample_weights=None if weights is None else weights.to(values.dtype))

        scale, shift = _edge_norm_affine(block[1], a, b, num_edges, in_degree, out_degree, neighbour_sum)
        a, b = a * scale + shift, b * scale
    out = a + _row_max(neighbours, b, offsets, in_degree)
    if block.negative_slope is not None:
        out = F.leaky_relu(out, block.negative_slope)
    if offsets is not None:  # targets without edges: 0
        out = out.masked_fill((in_degree == 0).unsqueeze(1), 0.0)
    return out


def _row_max(neighbours: Tensor, values: Tensor, offsets: Tensor | None, in_degree: Tensor) -> Tensor:
    """``max_j values[neighbours[i, j]]`` per row (or per bag with ``offsets``), as ``embedding_bag(mode="max")``
    (rows of bags without entries are arbitrary: the caller masks them).

    Without gradients, an ``[N, k]`` table is reduced by ``k`` row gathers and an in-place ``maximum``:
    vectorised kernels that take about a quarter of ``embedding_bag``'s time (its max loop is scalar; measured
    16,384 x 20 neighbours, 64 channels, 1 thread: 12 ms against 43 ms).  Bags (``offsets``) become such a
    table when padding them to the largest bag at most doubles the entries (a kNN graph: no padding); a
    padded slot repeats the last entry of its bag, which leaves the maximum unchanged.  With gradients,
    ``embedding_bag`` keeps the index of each maximum for its backward, which the loop would have to track at
    a higher cost.
    """
    if (torch.is_grad_enabled() and values.requires_grad) or torch.compiler.is_compiling() or neighbours.numel() == 0:
        return F.embedding_bag(neighbours, values, offsets, mode="max")
    if offsets is not None:
        width = int(in_degree.max()) if in_degree.numel() else 0
        rows = in_degree.shape[0]
        if width == 0 or rows * width > 2 * neighbours.numel():
            return F.embedding_bag(neighbours, values, offsets, mode="max")
        last = offsets + (in_degree - 1).clamp(min=0)
        slot = offsets.unsqueeze(1) + torch.arange(width, device=offsets.device, dtype=offsets.dtype)
        position = torch.minimum(slot, last.unsqueeze(1)).clamp_(max=neighbours.numel() - 1)
        neighbours = neighbours.index_select(0, position.view(-1)).view(rows, width)
    if neighbours.shape[0] and neighbours.shape[1]:
        columns = neighbours.t()
        out = values.index_select(0, columns[0])
        for column in columns[1:]:
            torch.maximum(out, values.index_select(0, column), out=out)
        return out
    return F.embedding_bag(neighbours, values, None, mode="max")


def uses_linear_block(module: object, aggr: str, num_edges: int) -> bool:
    """Whether the fused max path applies: a :class:`LinearEdgeBlock` edge function, ``max`` aggregation, and
    more than one edge in training-mode batch norm (else the per-edge module raises its own error)."""
    if not isinstance(module, LinearEdgeBlock) or aggr != "max":
        return False
    return not (module.batch_norm and module.training and num_edges < 2)


def reset_module(module: object) -> None:
    """Call ``reset_parameters()`` on every submodule of ``module`` that has one."""
    if isinstance(module, nn.Module):
        for child in module.modules():
            if hasattr(child, "reset_parameters"):
                child.reset_parameters()


class EdgeConv(nn.Module):
    r"""Edge convolution (Wang et al., "Dynamic Graph CNN for Learning on Point
    Clouds", ACM TOG 2019).

    .. math::
        x'_i = \max_{j \in \mathcal{N}(i)} h_\Theta(x_i \,\Vert\, x_j - x_i)

    over the edges ``j -> i`` (row 0 of ``edge_index`` is the neighbour ``j``, row 1
    the centre ``i``); ``aggr`` may also be ``"sum"`` or ``"mean"``.  Nodes
    without incoming edges get 0.  The edge function sees the centre's
    feature (global shape) and the offset to the neighbour (local shape).

    ``h`` is any module mapping ``[E, 2C]`` to ``[E, C']``; when it starts with
    a plain ``nn.Linear`` its first layer is applied per node (see
    :func:`edge_messages`), which computes the same function faster.  Declared as a
    :class:`LinearEdgeBlock` (``Linear -> BatchNorm -> LeakyReLU``) with ``aggr="max"``,
    no per-edge tensor is formed at all (:func:`linear_block_max`).

    Args:
        nn: the edge function :math:`h_\Theta`, e.g. ``Sequential(Linear(2C, C'), ReLU())``.
        aggr: ``"max"`` (default), ``"sum"`` (alias ``"add"``) or ``"mean"``.

    Shapes:
        x: ``[N, C]``, or a pair ``(x_src [N_src, C], x_dst [N_dst, C])`` for a bipartite graph;
        edge_index: ``[2, E]``; output: ``[N, C']`` (``[N_dst, C']``).
    """

    def __init__(self, nn: Callable[[Tensor], Tensor], *, aggr: str = "max") -> None:
        super().__init__()
        if aggr not in AGGREGATIONS:
            raise ValueError(f"aggr must be one of {AGGREGATIONS}, got {aggr!r}")
        self.nn = nn
        self.aggr = aggr
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_module(self.nn)

    def forward(self, x: Tensor | tuple[Tensor, Tensor], edge_index: Tensor) -> Tensor:
        x_src, x_dst = (x, x) if isinstance(x, Tensor) else x
        for name, value in (("x", x_src), ("x_dst", x_dst)):
            if value.dim() != 2:
                raise ValueError(f"{name} must have shape [N, C], got {list(value.shape)}")
        if x_src.shape[1] != x_dst.shape[1]:
            raise ValueError(f"source and target features must have the same width, got {x_src.shape[1]} and {x_dst.shape[1]}")
        check_edge_index(edge_index)
        check_dtype_device("EdgeConv", self.nn, x=x_src, x_dst=x_dst, edge_index=edge_index)
        src, dst = edge_index
        # Host sync: eager mode only (torch.compile traces without it).
        if src.numel() and not torch.compiler.is_compiling() and (int(src.max()) >= x_src.shape[0] or int(dst.max()) >= x_dst.shape[0]):
            raise ValueError(
                f"edge_index points past the nodes: max source {int(src.max())} (N_src = {x_src.shape[0]}), "
                f"max target {int(dst.max())} (N_dst = {x_dst.shape[0]})"
            )
        if uses_linear_block(self.nn, self.aggr, src.numel()):
            # Edges grouped by target for embedding_bag; the counts by scatter (no data-dependent shape).
            # A kNN graph comes grouped already: one comparison pass instead of a sort (eager mode only).
            grouped = not torch.compiler.is_compiling() and bool((dst[1:] >= dst[:-1]).all())
            grouped_src = src if grouped else src[torch.argsort(dst, stable=True)]
            ones = torch.ones_like(dst)
            in_degree = torch.zeros(x_dst.shape[0], dtype=dst.dtype, device=dst.device).scatter_add_(0, dst, ones)
            out_degree = torch.zeros(x_src.shape[0], dtype=src.dtype, device=src.device).scatter_add_(0, src, ones)
            return linear_block_max(
                self.nn, x_src, x_dst, grouped_src, offsets=torch.cumsum(in_degree, 0) - in_degree,
                in_degree=in_degree, out_degree=out_degree, num_edges=src.numel(),
            )
        messages = edge_messages(self.nn, x_dst, x_src, dst, src)
        return scatter(messages, dst, 0, x_dst.shape[0], self.aggr)

    def extra_repr(self) -> str:
        return f"aggr={self.aggr!r}"
