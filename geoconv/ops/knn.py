r"""Exact k-nearest-neighbour and radius graphs of point sets, batched and chunked.

For every query point :math:`y_i` the :math:`k` points :math:`x_j` of the same
graph with the smallest squared Euclidean distance

.. math::
    d(y_i, x_j) = \lVert y_i - x_j \rVert^2 = \lVert y_i \rVert^2 - 2\, y_i^\top x_j + \lVert x_j \rVert^2

are found by brute force.  Graphs of a batch are padded to a dense block
``[G', N'_y, N'_x]`` of distances (one batched matmul per block, then
``topk``); consecutive graphs are grouped into blocks and a large graph's
queries are split into row chunks, so that no block has more than
``max_block`` entries.  Memory therefore grows with chunk x N, not N^2 (the
reference DGCNN code builds the dense ``B x N x N`` matrix and runs out of
memory beyond ~50k points).  Everything runs on the input's device with
native torch kernels; no torch_cluster is needed.

On the CPU, low-dimensional inputs (``C <= 8``) whose largest graph would need
more than one block are searched with scipy's k-d tree when scipy is installed
(``backend="auto"``): the same exact neighbours (distances in float64) in
O(N log N) instead of O(N^2) time, e.g. 100,000 points with k = 16 in seconds
rather than minutes.  ``backend="brute"`` or ``"kdtree"`` forces one method.

Ties between equal distances are broken arbitrarily (by ``topk`` or the tree).
"""

from __future__ import annotations

import torch
from torch import Tensor

from geoconv.ops.checks import check_dtype_device, check_finite

# Default number of distance entries per block: 2^24 floats = 64 MiB in float32.
MAX_BLOCK = 1 << 24
BACKENDS = ("auto", "brute", "kdtree")
KDTREE_MAX_DIM = 8


def _counts(batch: Tensor | None, num_points: int, name: str, num_graphs: int | None) -> Tensor:
    """Points per graph ``[G]`` on the CPU (``batch`` must be sorted)."""
    if batch is None:
        return torch.tensor([num_points], dtype=torch.long)
    if batch.dtype != torch.long or batch.dim() != 1:
        raise ValueError(f"{name} must be a 1-d int64 tensor, got dtype {batch.dtype}, shape {list(batch.shape)}")
    if batch.numel() != num_points:
        raise ValueError(f"{name} has {batch.numel()} entries but there are {num_points} points")
    if num_points == 0:
        return torch.zeros(num_graphs or 0, dtype=torch.long)
    if num_points > 1 and bool((batch[1:] < batch[:-1]).any()):
        raise ValueError(f"{name} must be sorted (points of one graph stored contiguously, as in a Batch)")
    if int(batch[0]) < 0:
        raise ValueError(f"{name} contains a negative graph index {int(batch[0])}")
    size = int(batch[-1]) + 1 if num_graphs is None else num_graphs
    return torch.bincount(batch.cpu(), minlength=size)


def _check_points(x: Tensor, y: Tensor, k: int) -> None:
    if x.dim() != 2 or y.dim() != 2:
        raise ValueError(f"points must have shape [N, C], got x {list(x.shape)} and y {list(y.shape)}")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same number of channels, got {x.shape[1]} and {y.shape[1]}")
    if not x.is_floating_point() or x.dtype != y.dtype:
        raise ValueError(f"x and y must be floating point of the same dtype, got {x.dtype} and {y.dtype}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    check_dtype_device("knn", x=x, y=y)
    # A NaN distance sorts last: the point would silently get fewer than k neighbours.
    check_finite(x, "the points (x / pos)", "knn")
    if y is not x:
        check_finite(y, "the query points (y)", "knn")


def _blocks(count_x: list[int], count_y: list[int], max_block: int) -> list[tuple[int, int]]:
    """Greedy runs ``[g0, g1)`` of consecutive graphs whose padded block fits ``max_block``."""
    blocks, start = [], 0
    max_x = max_y = 0
    for g in range(len(count_x)):
        new_x, new_y = max(max_x, count_x[g]), max(max_y, count_y[g])
        if g > start and (g + 1 - start) * new_x * new_y > max_block:
            blocks.append((start, g))
            start, new_x, new_y = g, count_x[g], count_y[g]
        max_x, max_y = new_x, new_y
    if len(count_x) > start:
        blocks.append((start, len(count_x)))
    return blocks


def _dense(points: Tensor, start: int, counts: list[int], width: int) -> Tensor:
    """Rows ``start..`` of ``points`` for consecutive graphs as ``[G', width, C]`` (zero padded)."""
    num_graphs = len(counts)
    device = points.device
    count = torch.tensor(counts, dtype=torch.long, device=device)
    offset = torch.cumsum(count, 0) - count
    graph = torch.repeat_interleave(torch.arange(num_graphs, device=device), count)
    rows = torch.arange(int(count.sum()), device=device)
    local = rows - offset[graph]
    dense = points.new_zeros(num_graphs, width, points.shape[1])
    dense[graph, local] = points[start + rows]
    return dense


def _kdtree_search(
    x: Tensor, y: Tensor, k: int, count_x: list[int], count_y: list[int], exclude_self: bool
) -> tuple[Tensor, Tensor, Tensor]:
    """The exact search of :func:`_knn_search` with one scipy k-d tree per graph (CPU)."""
    from scipy.spatial import cKDTree

    x_np, y_np = x.detach().cpu().double().numpy(), y.detach().cpu().double().numpy()
    y_parts, x_parts, d_parts = [], [], []
    start_x = start_y = 0
    for nx, ny in zip(count_x, count_y):
        kk = min(k + (1 if exclude_self else 0), nx)
        if kk > 0 and ny > 0 and nx - (1 if exclude_self else 0) > 0:
            tree = cKDTree(x_np[start_x:start_x + nx])
            distance, local = tree.query(y_np[start_y:start_y + ny], k=kk)
            distance = torch.from_numpy(distance.reshape(ny, kk))
            local = torch.from_numpy(local.reshape(ny, kk)).long()
            # on the host beside the tree's answer, whatever torch's default device
            query = torch.arange(ny, device="cpu").view(-1, 1).expand(ny, kk)
            if exclude_self:
                # Drop the query itself; when duplicates pushed it out of the k + 1, drop the farthest.
                is_self = local == query
                is_self[:, -1] |= ~is_self.any(dim=1)
                keep = ~is_self
            else:
                keep = torch.ones_like(local, dtype=torch.bool)
            y_parts.append(start_y + query[keep])
            x_parts.append(start_x + local[keep])
            d_parts.append(distance[keep] ** 2)
        start_x += nx
        start_y += ny
    if not y_parts:
        empty = torch.empty(0, dtype=torch.long, device=x.device)
        return empty, empty.clone(), x.new_empty(0)
    return (torch.cat(y_parts).to(x.device), torch.cat(x_parts).to(x.device),
            torch.cat(d_parts).to(device=x.device, dtype=x.dtype))


def _use_kdtree(backend: str, x: Tensor, count_x: list[int], count_y: list[int], max_block: int) -> bool:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "kdtree":
        from geoconv._optional import require

        require("scipy.spatial", "knn with backend='kdtree'")  # an ImportError naming the pip extra
        return True
    if backend != "auto":
        return False
    if x.device.type != "cpu" or x.shape[1] > KDTREE_MAX_DIM or x.requires_grad:
        return False
    largest = max((a * b for a, b in zip(count_x, count_y)), default=0)
    if largest <= max_block:
        return False
    try:
        import scipy.spatial  # noqa: F401
    except ImportError:
        return False
    return True


def _knn_search(x: Tensor, y: Tensor, k: int, batch_x: Tensor | None, batch_y: Tensor | None,
                **options) -> tuple[Tensor, Tensor, Tensor]:
    """:func:`_search` with autocast off: distances rounded to bfloat16 would pick other neighbours."""
    with torch.autocast(x.device.type, enabled=False):
        return _search(x, y, k, batch_x, batch_y, **options)


def _search(
    x: Tensor,
    y: Tensor,
    k: int,
    batch_x: Tensor | None,
    batch_y: Tensor | None,
    *,
    exclude_self: bool = False,
    max_block: int = MAX_BLOCK,
    batch_names: tuple[str, str] = ("batch_x", "batch_y"),
    backend: str = "auto",
) -> tuple[Tensor, Tensor, Tensor]:
    """``(y_index, x_index, squared_distance)`` of the k nearest x of every y, sorted by y then distance."""
    _check_points(x, y, k)
    if (batch_x is None) != (batch_y is None):
        raise ValueError("give both batch_x and batch_y, or neither")
    num_graphs = None
    if batch_x is not None:
        last = [int(b[-1]) for b in (batch_x, batch_y) if b.numel() > 0]
        num_graphs = max(last) + 1 if last else 0
    count_x = _counts(batch_x, x.shape[0], batch_names[0], num_graphs).tolist()
    count_y = _counts(batch_y, y.shape[0], batch_names[1], num_graphs).tolist()
    if _use_kdtree(backend, x, count_x, count_y, max_block):
        return _kdtree_search(x, y, k, count_x, count_y, exclude_self)
    device = x.device
    y_parts, x_parts, d_parts = [], [], []
    start_x = [0] * (len(count_x) + 1)
    start_y = [0] * (len(count_y) + 1)
    for g in range(len(count_x)):
        start_x[g + 1] = start_x[g] + count_x[g]
        start_y[g + 1] = start_y[g] + count_y[g]
    x_norm = (x * x).sum(dim=1)
    y_norm = (y * y).sum(dim=1)
    for g0, g1 in _blocks(count_x, count_y, max_block):
        cx, cy = count_x[g0:g1], count_y[g0:g1]
        width_x, width_y = max(cx), max(cy)
        kk = min(k, width_x - (1 if exclude_self else 0))
        if kk <= 0 or width_y == 0:
            continue
        count_x_block = torch.tensor(cx, device=device)
        count_y_block = torch.tensor(cy, device=device)
        dense_x = _dense(x, start_x[g0], cx, width_x)
        dense_y = _dense(y, start_y[g0], cy, width_y)
        norm_x = _dense(x_norm.view(-1, 1), start_x[g0], cx, width_x)
        norm_y = _dense(y_norm.view(-1, 1), start_y[g0], cy, width_y)
        # Padding columns get +inf so that topk takes them last.
        padding = torch.arange(width_x, device=device).view(1, -1) >= count_x_block.view(-1, 1)
        norm_x = norm_x.view(g1 - g0, 1, width_x).masked_fill(padding.unsqueeze(1), float("inf"))
        rows = max(1, max_block // ((g1 - g0) * width_x))
        for r0 in range(0, width_y, rows):
            r1 = min(width_y, r0 + rows)
            # ||y||^2 - 2 y.x + ||x||^2 as one batched matmul: [G', r, N'_x].
            dist = torch.baddbmm(norm_x, dense_y[:, r0:r1], dense_x.transpose(1, 2), alpha=-2.0)
            dist += norm_y[:, r0:r1]
            if exclude_self:
                diag = torch.arange(r0, min(r1, width_x), device=device)
                dist[:, diag - r0, diag] = float("inf")
            values, local = torch.topk(dist, kk, dim=2, largest=False, sorted=True)
            # Keep real query rows and real neighbours (padding and self are +inf and may fill up a short graph).
            query = torch.arange(r0, r1, device=device).view(1, -1, 1)
            valid = (local < count_x_block.view(-1, 1, 1)) & (query < count_y_block.view(-1, 1, 1))
            if exclude_self:
                valid &= local != query
            y_parts.append((torch.tensor(start_y[g0:g1], device=device).view(-1, 1, 1) + query).expand_as(local)[valid])
            x_parts.append((torch.tensor(start_x[g0:g1], device=device).view(-1, 1, 1) + local)[valid])
            d_parts.append(values[valid].clamp(min=0))
    if not y_parts:
        empty = torch.empty(0, dtype=torch.long, device=device)
        return empty, empty.clone(), x.new_empty(0)
    y_index, x_index, distance = torch.cat(y_parts), torch.cat(x_parts), torch.cat(d_parts)
    if len(y_parts) > 1:
        # Row chunks of different blocks interleave query ids: restore (query, distance) order.
        order = torch.argsort(y_index, stable=True)
        y_index, x_index, distance = y_index[order], x_index[order], distance[order]
    return y_index, x_index, distance


def _normalize(points: Tensor) -> Tensor:
    return points / points.norm(dim=1, keepdim=True).clamp(min=torch.finfo(points.dtype).tiny)


def knn(
    x: Tensor,
    y: Tensor,
    k: int,
    batch_x: Tensor | None = None,
    batch_y: Tensor | None = None,
    *,
    cosine: bool = False,
    max_block: int = MAX_BLOCK,
    backend: str = "auto",
) -> Tensor:
    r"""For every point of ``y``, its ``k`` nearest points of ``x`` in the same graph.

    .. math::
        \mathcal{N}(i) = \operatorname{arg\,min}^{(k)}_{j \,:\, b^x_j = b^y_i} \lVert y_i - x_j \rVert

    (fewer than ``k`` when the graph has fewer points).

    Args:
        x: ``[N_x, C]`` points searched.
        y: ``[N_y, C]`` query points.
        k: number of neighbours.
        batch_x: sorted graph index of every point of ``x`` (``Batch.batch``); give both or neither.
        batch_y: sorted graph index of every point of ``y``.
        cosine: use the cosine distance :math:`1 - \cos(y_i, x_j)` instead.
        max_block: largest number of distance entries computed at once (memory bound).
        backend: ``"auto"``, ``"brute"`` (chunked matmul + topk, any device) or
            ``"kdtree"`` (scipy, CPU); see the module docstring.

    Shapes:
        output: ``[2, E]`` int64; row 0 indexes ``y``, row 1 indexes ``x`` (PyG's
        ``knn`` convention), sorted by query and then by increasing distance.
    """
    if cosine:
        x, y = _normalize(x), _normalize(y)
    y_index, x_index, _ = _knn_search(x, y, k, batch_x, batch_y, max_block=max_block, backend=backend)
    return torch.stack([y_index, x_index])


def knn_graph(
    x: Tensor,
    k: int,
    batch: Tensor | None = None,
    loop: bool = False,
    cosine: bool = False,
    *,
    max_block: int = MAX_BLOCK,
    backend: str = "auto",
) -> Tensor:
    r"""The k-nearest-neighbour graph: an edge ``j -> i`` from each of the ``k``
    points nearest to ``x_i`` (in its graph) to ``i``.

    .. math::
        \mathcal{E} = \{(j, i) : j \in \operatorname{arg\,min}^{(k)}_{j' \ne i,\ b_{j'} = b_i} \lVert x_i - x_{j'} \rVert\}

    With ``loop=True`` the point itself is a candidate (it is then always one
    of its own neighbours, at distance 0).

    Args:
        x: ``[N, C]`` points or features.
        k: neighbours per point.
        batch: ``[N]`` sorted graph index (``Batch.batch``); None for one graph.
        loop: allow self-loops.
        cosine: use the cosine distance.
        max_block: largest number of distance entries computed at once.
        backend: ``"auto"``, ``"brute"`` or ``"kdtree"`` (see the module docstring).

    Shapes:
        output: ``edge_index [2, N * k]`` (fewer for graphs with <= k points);
        row 0 = neighbour (source j), row 1 = centre (target i), so that messages
        flow neighbour -> centre (PyG's ``flow="source_to_target"``); sorted by
        centre, then by distance.
    """
    if cosine:
        x = _normalize(x)
    centre, neighbour, _ = _knn_search(x, x, k, batch, batch, exclude_self=not loop, max_block=max_block,
                                           batch_names=("batch", "batch"), backend=backend)
    return torch.stack([neighbour, centre])


def radius_graph(
    pos: Tensor,
    r: float,
    batch: Tensor | None = None,
    loop: bool = False,
    max_num_neighbors: int = 32,
    *,
    max_block: int = MAX_BLOCK,
    backend: str = "auto",
) -> Tensor:
    r"""Edges ``j -> i`` between points of the same graph closer than ``r``.

    .. math::
        \mathcal{E} = \{(j, i) : \lVert p_i - p_j \rVert \le r,\ b_i = b_j,\ j \ne i\}

    keeping, for every centre ``i``, only its ``max_num_neighbors`` nearest
    neighbours (torch_cluster keeps an arbitrary subset instead; here the choice is
    deterministic up to ties).

    Args:
        pos: ``[N, D]`` positions.
        r: radius (> 0).
        batch: ``[N]`` sorted graph index; None for one graph.
        loop: include self-loops.
        max_num_neighbors: neighbours kept per centre.
        max_block: largest number of distance entries computed at once.
        backend: ``"auto"``, ``"brute"`` or ``"kdtree"`` (see the module docstring).

    Shapes:
        output: ``edge_index [2, E]``, row 0 = neighbour (source), row 1 = centre (target),
        sorted by centre then distance.
    """
    if not r > 0:
        raise ValueError(f"r must be positive, got {r}")
    centre, neighbour, distance = _knn_search(
        pos, pos, max_num_neighbors, batch, batch, exclude_self=not loop, max_block=max_block,
        batch_names=("batch", "batch"), backend=backend,
    )
    inside = distance <= r * r
    return torch.stack([neighbour[inside], centre[inside]])


def _knn_neighbours(x: Tensor, batch: Tensor | None, k: int, cosine: bool) -> Tensor:
    edge_index = knn_graph(x, k, batch, loop=True, cosine=cosine)
    neighbour, centre = edge_index
    num_points = x.shape[0]
    # Edges come sorted by centre, at most k each: the slot of an edge is its rank within its centre.
    start = torch.cumsum(torch.bincount(centre, minlength=num_points), 0) - torch.bincount(centre, minlength=num_points)
    slot = torch.arange(centre.numel(), device=x.device) - start[centre]
    out = torch.full((num_points, k), -1, dtype=torch.long, device=x.device)
    out[centre, slot] = neighbour
    return out


# An opaque operator for torch.compile: the search itself is data-dependent (per-graph sizes decide the
# blocks), its result has the static shape [N, k].
@torch.library.custom_op("geoconv::knn_neighbours", mutates_args=())
def _knn_neighbours_op(x: Tensor, batch: Tensor | None, k: int, cosine: bool) -> Tensor:
    return _knn_neighbours(x, batch, k, cosine)


@_knn_neighbours_op.register_fake
def _(x: Tensor, batch: Tensor | None, k: int, cosine: bool) -> Tensor:
    return x.new_empty((x.shape[0], k), dtype=torch.long)


def knn_neighbours(x: Tensor, k: int, batch: Tensor | None = None, *, cosine: bool = False) -> Tensor:
    r"""The :func:`knn_graph` with ``loop=True`` as a dense table: row ``i`` lists the ``k`` points of
    ``i``'s graph nearest to ``x_i`` (``i`` itself first up to ties), ``-1`` past the size of a graph
    with fewer than ``k`` points.

    Its output shape does not depend on the data, so ``torch.compile(fullgraph=True)`` can call it: it
    is a custom operator (``geoconv::knn_neighbours``) that the compiler does not trace into.  ``x``
    needs no gradient (the selection is piecewise constant).

    Shapes:
        x: ``[N, C]``; batch: ``[N]`` sorted graph index or None; output: ``[N, k]`` int64.
    """
    if x.dim() != 2:
        raise ValueError(f"x must have shape [N, C], got {list(x.shape)}")
    return _knn_neighbours_op(x.detach(), batch, k, cosine)
