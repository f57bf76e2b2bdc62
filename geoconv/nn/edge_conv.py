"""Edge convolution of DGCNN, https://arxiv.org/abs/1801.07829."""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from geoconv.ops import check_edge_index, gather, scatter
from geoconv.ops.checks import check_dtype_device

AGGREGATIONS = ("max", "sum", "add", "mean")


def _split_first_linear(mlp: Callable[[Tensor], Tensor]) -> tuple[nn.Linear | None, Callable[[Tensor], Tensor]]:
    """``(first, rest)`` with ``mlp = rest o first`` when ``mlp`` starts with a plain ``nn.Linear``."""
    if type(mlp) is nn.Linear:
        return mlp, nn.Identity()
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
    :func:`edge_messages`), which computes the same function faster.

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
        messages = edge_messages(self.nn, x_dst, x_src, dst, src)
        return scatter(messages, dst, 0, x_dst.shape[0], self.aggr)

    def extra_repr(self) -> str:
        return f"aggr={self.aggr!r}"
