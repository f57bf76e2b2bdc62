r"""Cellular sheaves on graphs: the sheaf Laplacian, its normalisation, and orthogonal maps.

A sheaf on a graph gives every node ``v`` a stalk :math:`\mathbb{R}^d` and
every incidence ``v ◁ e`` a restriction map :math:`F_{v \triangleleft e}`
from the stalk of ``v`` to the stalk of edge ``e``.  The coboundary of
``x [N, d]`` on ``e = {u, v}`` is
:math:`(\delta x)_e = F_{v \triangleleft e} x_v - F_{u \triangleleft e} x_u`
and the sheaf Laplacian :math:`L_F = \delta^\top \delta` has the blocks

.. math::
    L_{vv} = \sum_{e \ni v} F_{v \triangleleft e}^\top F_{v \triangleleft e},
    \qquad
    L_{vu} = -F_{v \triangleleft e}^\top F_{u \triangleleft e} \quad (e = \{u, v\}).

**Convention** (the one of Neural Sheaf Diffusion, Bodnar et al., NeurIPS 2022):
``edge_index [2, E]`` lists every undirected edge in *both* directions, and
``restriction_maps[k]`` is :math:`F_{u \triangleleft e}` for edge
``k = (u -> v)`` — the map of the edge's *source* ``u = edge_index[0, k]``.
The map of the other end, :math:`F_{v \triangleleft e}`, is the one stored on
the reverse edge ``(v -> u)``; :func:`reverse_edge_pairing` finds it.  So the
learner that reads ``(x_u || x_v)`` for edge ``u -> v`` produces ``u``'s map.
An edge list with each undirected edge once and *two* maps per edge (a
user-given sheaf, possibly signed or asymmetric) is converted with
:func:`symmetrize_sheaf`.

Maps are ``[E, d]`` (diagonal :math:`F = \mathrm{diag}(f)`) or ``[E, d, d]``
(general or orthogonal).  The Laplacian is kept as blocks: ``diagonal``
``[N, d]`` / ``[N, d, d]`` and ``off_diagonal`` ``[E, d]`` / ``[E, d, d]``
with ``off_diagonal[k] = L_{uv}`` for ``k = (u -> v)``;
:func:`sheaf_laplacian_matmul` applies it to ``x [N, d, C]`` by gather ->
block product -> scatter, never forming the ``Nd x Nd`` matrix.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from geoconv.ops.message_passing import gather
from geoconv.ops.scatter import scatter
from geoconv.ops.structure import check_edge_index


class SheafLaplacian(NamedTuple):
    """Block form of a sheaf Laplacian on ``edge_index``.

    ``diagonal``: ``[N, d]`` (diagonal maps) or ``[N, d, d]``;
    ``off_diagonal``: ``[E, d]`` or ``[E, d, d]``, block ``(u, v)`` for edge ``k = (u -> v)``.
    """

    edge_index: Tensor
    diagonal: Tensor
    off_diagonal: Tensor

    @property
    def is_diagonal(self) -> bool:
        """True when every block is a diagonal matrix stored as a vector."""
        return self.off_diagonal.dim() == 2

    @property
    def stalk_dim(self) -> int:
        return self.diagonal.shape[-1]

    @property
    def num_nodes(self) -> int:
        return self.diagonal.shape[0]


def reverse_edge_pairing(edge_index: Tensor, num_nodes: int) -> Tensor:
    """For every edge ``k = (u -> v)`` the position of its reverse ``(v -> u)``.

    Duplicate edges are paired in order of appearance.  Self-loops are their own reverse.

    Raises:
        ValueError: when some edge has no reverse (``edge_index`` is not symmetric).  The check
            reads values back to the host: eager mode only, skipped while ``torch.compile`` traces.

    Shapes:
        edge_index: ``[2, E]``; output: ``[E]`` int64 with ``out[out] == arange(E)``.
    """
    check_edge_index(edge_index, num_nodes)
    src, dst = edge_index
    key = src * num_nodes + dst
    reverse_key = dst * num_nodes + src
    order = torch.argsort(key, stable=True)
    reverse_order = torch.argsort(reverse_key, stable=True)
    if not torch.compiler.is_compiling() and not torch.equal(key[order], reverse_key[reverse_order]):
        missing = (~torch.isin(reverse_key, key)).nonzero().flatten()
        example = int(missing[0]) if missing.numel() else 0
        raise ValueError(
            "the sheaf Laplacian needs every edge in both directions: edge_index is not symmetric "
            f"(e.g. edge {example} = ({int(src[example])} -> {int(dst[example])}) has no reverse); "
            "use geoconv.ops.to_undirected or symmetrize_sheaf"
        )
    pairing = torch.empty_like(order)
    pairing[order] = reverse_order
    return pairing


def symmetrize_sheaf(edge_index: Tensor, source_maps: Tensor, target_maps: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    r"""A sheaf given on each undirected edge once as the two-direction form of this module.

    Edge ``k = (u, v)`` of ``edge_index`` carries :math:`F_{u \triangleleft e}` =
    ``source_maps[k]`` and :math:`F_{v \triangleleft e}` = ``target_maps[k]``
    (different maps model asymmetric relations; ``target = -source`` a signed edge).

    Returns:
        ``(edge_index [2, 2E], restriction_maps [2E, ...], reverse [2E])``: the
        edges followed by their reverses, each carrying its source's map.
    """
    if source_maps.shape != target_maps.shape:
        raise ValueError(
            f"source_maps {list(source_maps.shape)} and target_maps {list(target_maps.shape)} must have the same shape"
        )
    if source_maps.shape[0] != edge_index.shape[1]:
        raise ValueError(f"restriction maps have {source_maps.shape[0]} rows but edge_index has {edge_index.shape[1]} edges")
    num_edges = edge_index.shape[1]
    both = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    maps = torch.cat([source_maps, target_maps], dim=0)
    arange = torch.arange(num_edges, device=edge_index.device)
    reverse = torch.cat([arange + num_edges, arange])
    return both, maps, reverse


def _check_maps(edge_index: Tensor, restriction_maps: Tensor) -> None:
    if restriction_maps.dim() not in (2, 3):
        raise ValueError(
            f"restriction_maps must be [E, d] (diagonal) or [E, d, d], got shape {list(restriction_maps.shape)}"
        )
    if restriction_maps.dim() == 3 and restriction_maps.shape[1] != restriction_maps.shape[2]:
        raise ValueError(f"restriction_maps [E, d, d] must be square, got shape {list(restriction_maps.shape)}")
    if restriction_maps.shape[0] != edge_index.shape[1]:
        raise ValueError(
            f"restriction_maps has {restriction_maps.shape[0]} rows but edge_index has {edge_index.shape[1]} edges"
        )


def sheaf_laplacian(
    edge_index: Tensor,
    restriction_maps: Tensor,
    num_nodes: int,
    *,
    reverse: Tensor | None = None,
    edge_weight: Tensor | None = None,
) -> SheafLaplacian:
    r"""The sheaf Laplacian :math:`L_F = \delta^\top \delta` in block form.

    .. math::
        L_{uu} = \sum_{k:\, \mathrm{src}_k = u} F_k^\top F_k, \qquad
        L_{uv} = -F_k^\top F_{\bar k} \quad (k = (u \to v),\ \bar k = (v \to u))

    with :math:`F_k = w_k F_{u \triangleleft e}` (``edge_weight`` scales the
    map; give both directions the same weight for the usual weighted Laplacian).
    :math:`L_F` is symmetric positive semi-definite; with ``d = 1`` and all
    maps 1 it is the graph Laplacian ``D - A``.  Self-loops contribute nothing (their coboundary is 0).

    Args:
        edge_index: ``[2, E]``, every undirected edge in both directions.
        restriction_maps: ``[E, d]`` diagonal or ``[E, d, d]`` maps, ``[k]`` the map of edge ``k``'s source.
        num_nodes: ``N``.
        reverse: ``[E]`` reverse pairing (computed with :func:`reverse_edge_pairing` if omitted).
        edge_weight: ``[E]`` optional scalar weights multiplying the maps.

    Returns:
        :class:`SheafLaplacian` with ``diagonal [N, d(, d)]`` and ``off_diagonal [E, d(, d)]``.
    """
    check_edge_index(edge_index, num_nodes)
    _check_maps(edge_index, restriction_maps)
    if reverse is None:
        reverse = reverse_edge_pairing(edge_index, num_nodes)
    maps = restriction_maps
    # A self-loop has a zero coboundary (F x_v - F x_v); dropping it keeps ``diagonal`` the true block diagonal of L.
    weight = (edge_index[0] != edge_index[1]).to(maps.dtype)
    if edge_weight is not None:
        weight = weight * edge_weight
    maps = maps * weight.view([-1] + [1] * (maps.dim() - 1))
    src = edge_index[0]
    other = gather(maps, reverse)
    if maps.dim() == 2:
        diagonal = scatter(maps * maps, src, 0, num_nodes)
        off_diagonal = -maps * other
    else:
        diagonal = scatter(maps.transpose(1, 2) @ maps, src, 0, num_nodes)
        off_diagonal = -(maps.transpose(1, 2) @ other)
    return SheafLaplacian(edge_index, diagonal, off_diagonal)


class _InverseSqrtEigh(torch.autograd.Function):
    """``M^{-1/2}`` of symmetric PSD ``[N, d, d]`` through ``eigh``; zero eigenvalues give 0 (pseudo-inverse).

    The backward uses the Daleckii-Krein divided differences
    ``(f(l_i) - f(l_j)) / (l_i - l_j)`` (``f'(l_i)`` when ``l_i = l_j``), which
    stay finite for repeated eigenvalues, where ``eigh``'s own gradient does not.
    """

    @staticmethod
    def forward(ctx, matrices: Tensor) -> Tensor:
        values, vectors = torch.linalg.eigh(matrices)
        # Rounding leaves the zero eigenvalues of a singular block at ~1e-16: treat them as 0.
        tolerance = values.abs().amax(-1, keepdim=True) * values.shape[-1] * torch.finfo(values.dtype).eps
        values = torch.where(values > tolerance, values, torch.zeros_like(values))
        powered = _inverse_sqrt(values)
        ctx.save_for_backward(values, vectors, powered)
        return (vectors * powered.unsqueeze(-2)) @ vectors.transpose(-1, -2)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        values, vectors, powered = ctx.saved_tensors
        derivative = -0.5 * powered ** 3  # f'(l) = -l^{-3/2}/2, 0 where pseudo-inverted
        difference = values.unsqueeze(-1) - values.unsqueeze(-2)
        close = difference.abs() <= 1e-9 * values.abs().amax(-1, keepdim=True).unsqueeze(-1).clamp(min=1.0)
        divided = (powered.unsqueeze(-1) - powered.unsqueeze(-2)) / torch.where(close, torch.ones_like(difference), difference)
        mean_derivative = 0.5 * (derivative.unsqueeze(-1) + derivative.unsqueeze(-2))
        kernel = torch.where(close, mean_derivative, divided)
        symmetric = 0.5 * (grad + grad.transpose(-1, -2))
        inner = vectors.transpose(-1, -2) @ symmetric @ vectors
        return vectors @ (inner * kernel) @ vectors.transpose(-1, -2)


def _inverse_sqrt_eigh(matrices: Tensor) -> Tensor:
    """``M^{-1/2}`` with a gradient that is finite for repeated eigenvalues (see :class:`_InverseSqrtEigh`)."""
    return _InverseSqrtEigh.apply(matrices)


def _inverse_sqrt(values: Tensor) -> Tensor:
    """Elementwise ``v^{-1/2}`` with 0 where ``v <= 0`` (isolated nodes)."""
    positive = values > 0
    return torch.where(positive, values.clamp(min=torch.finfo(values.dtype).tiny).rsqrt(), torch.zeros_like(values))


def normalize_sheaf_laplacian(
    laplacian: SheafLaplacian,
    *,
    augmented: bool = False,
    diagonal_blocks: bool = False,
    eps: float | Tensor = 0.0,
) -> SheafLaplacian:
    r"""The normalised sheaf Laplacian :math:`D^{-1/2} L_F D^{-1/2}`.

    ``D`` is the block diagonal of :math:`L_F` (plus ``I`` when ``augmented``,
    as Neural Sheaf Diffusion does, which keeps the spectrum in ``[0, 2)`` and
    isolated nodes finite).  How :math:`D^{-1/2}` is computed:

    * diagonal maps (``[N, d]`` blocks): elementwise, in closed form;
    * ``diagonal_blocks=True``: the caller guarantees every ``D_v`` is diagonal,
      which holds for orthogonal maps (:math:`F^\top F = w^2 I`, so
      :math:`D_v = \sum_e w_e^2 I`) also after appending fixed diagonal
      dimensions; closed form from the diagonal of ``D``;
    * otherwise (general maps): a batched symmetric eigendecomposition of
      ``D_v + eps I``; eigenvalues ``<= 0`` (e.g. isolated nodes) are
      pseudo-inverted to 0.  ``eps`` may be a ``[d]`` tensor: a small random
      perturbation keeps eigenvalues distinct, which ``eigh``'s gradient needs.

    With ``d = 1`` and maps 1 the result is :math:`I - D^{-1/2} A D^{-1/2}`.
    """
    diagonal, off_diagonal = laplacian.diagonal, laplacian.off_diagonal
    src, dst = laplacian.edge_index
    if laplacian.is_diagonal or diagonal_blocks:
        degree = diagonal if laplacian.is_diagonal else torch.diagonal(diagonal, dim1=-2, dim2=-1)
        scale = _inverse_sqrt(degree + (1.0 if augmented else 0.0) + eps)  # [N, d]
        if laplacian.is_diagonal:
            return SheafLaplacian(laplacian.edge_index, scale * diagonal * scale,
                                  gather(scale, src) * off_diagonal * gather(scale, dst))
        new_diagonal = scale.unsqueeze(-1) * diagonal * scale.unsqueeze(-2)
        new_off = gather(scale, src).unsqueeze(-1) * off_diagonal * gather(scale, dst).unsqueeze(-2)
        return SheafLaplacian(laplacian.edge_index, new_diagonal, new_off)
    d = diagonal.shape[-1]
    shift = torch.as_tensor(eps, dtype=diagonal.dtype, device=diagonal.device) + (1.0 if augmented else 0.0)
    identity = torch.eye(d, dtype=diagonal.dtype, device=diagonal.device)
    shifted = diagonal + identity * shift  # scalar or [d] shift on the diagonal
    scale = _inverse_sqrt_eigh(shifted)  # [N, d, d], symmetric
    new_diagonal = scale @ diagonal @ scale
    new_off = gather(scale, src) @ off_diagonal @ gather(scale, dst)
    return SheafLaplacian(laplacian.edge_index, new_diagonal, new_off)


def sheaf_laplacian_matmul(laplacian: SheafLaplacian, x: Tensor) -> Tensor:
    r"""``L x`` for node features ``x [N, d, C]`` without the dense ``Nd x Nd`` matrix.

    .. math::
        (L x)_u = L_{uu} x_u + \sum_{k = (u \to v)} L_{uv} x_v

    Shapes:
        x: ``[N, d, C]``; output: ``[N, d, C]``.
    """
    if x.dim() != 3 or x.shape[0] != laplacian.num_nodes or x.shape[1] != laplacian.stalk_dim:
        raise ValueError(
            f"x must be [N={laplacian.num_nodes}, d={laplacian.stalk_dim}, C], got shape {list(x.shape)}"
        )
    src, dst = laplacian.edge_index
    neighbours = gather(x, dst)  # [E, d, C]
    if laplacian.is_diagonal:
        out = laplacian.diagonal.unsqueeze(-1) * x
        messages = laplacian.off_diagonal.unsqueeze(-1) * neighbours
    else:
        out = laplacian.diagonal @ x
        messages = laplacian.off_diagonal @ neighbours
    return out + scatter(messages, src, 0, x.shape[0])


def dense_sheaf_laplacian(
    edge_index: Tensor,
    restriction_maps: Tensor,
    num_nodes: int,
    *,
    normalize: bool = False,
    augmented: bool = False,
) -> Tensor:
    r"""Reference ``[N d, N d]`` dense Laplacian built from the coboundary, for tests.

    Builds :math:`\delta` row block by row block (one per undirected edge, a
    pair of reverse edges), :math:`L = \delta^\top \delta`, and for
    ``normalize`` :math:`D^{-1/2} L D^{-1/2}` with a dense matrix power.
    Python loops: small graphs only.
    """
    reverse = reverse_edge_pairing(edge_index, num_nodes)
    maps = restriction_maps if restriction_maps.dim() == 3 else torch.diag_embed(restriction_maps)
    d = maps.shape[-1]
    rows = []
    for k in range(edge_index.shape[1]):
        r = int(reverse[k])
        u, v = int(edge_index[0, k]), int(edge_index[1, k])
        if r < k or (r == k and u == v):  # each undirected edge once; self-loops have delta = 0
            continue
        row = maps.new_zeros(d, num_nodes * d)
        row[:, u * d:(u + 1) * d] -= maps[k]
        row[:, v * d:(v + 1) * d] += maps[r]
        rows.append(row)
    delta = torch.cat(rows) if rows else maps.new_zeros(0, num_nodes * d)
    laplacian = delta.T @ delta
    if not normalize:
        return laplacian
    blocks = torch.block_diag(*[laplacian[i * d:(i + 1) * d, i * d:(i + 1) * d] for i in range(num_nodes)])
    if augmented:
        blocks = blocks + torch.eye(num_nodes * d, dtype=blocks.dtype)
    values, vectors = torch.linalg.eigh(blocks)
    inverse_sqrt = torch.where(values > 1e-12, values.clamp(min=1e-12).rsqrt(), torch.zeros_like(values))
    scale = vectors @ torch.diag(inverse_sqrt) @ vectors.T
    return scale @ laplacian @ scale


def sheaf_laplacian_to_dense(laplacian: SheafLaplacian) -> Tensor:
    """The ``[N d, N d]`` matrix of a block Laplacian (for tests and inspection)."""
    n, d = laplacian.num_nodes, laplacian.stalk_dim
    diagonal, off = laplacian.diagonal, laplacian.off_diagonal
    if laplacian.is_diagonal:
        diagonal, off = torch.diag_embed(diagonal), torch.diag_embed(off)
    dense = diagonal.new_zeros(n, n, d, d)
    nodes = torch.arange(n, device=diagonal.device)
    dense.index_put_((nodes, nodes), diagonal, accumulate=True)
    dense.index_put_((laplacian.edge_index[0], laplacian.edge_index[1]), off, accumulate=True)
    return dense.permute(0, 2, 1, 3).reshape(n * d, n * d)


def householder_orthogonal(params: Tensor, d: int) -> Tensor:
    r"""Orthogonal ``[..., d, d]`` matrices as products of ``d`` Householder reflections.

    ``params [..., d(d-1)/2]`` fill the strictly lower triangle of a unit
    lower-triangular matrix whose columns :math:`v_i` define
    :math:`Q = \prod_i (I - 2 v_i v_i^\top / v_i^\top v_i)`: exactly orthogonal
    (to rounding) for every parameter value, covering the matrices of
    determinant :math:`(-1)^d`.
    """
    if params.shape[-1] != d * (d - 1) // 2:
        raise ValueError(f"householder parameters must have d(d-1)/2 = {d * (d - 1) // 2} entries, got {params.shape[-1]}")
    batch = params.shape[:-1]
    rows, cols = torch.tril_indices(d, d, offset=-1, device=params.device)
    vectors = torch.zeros(*batch, d, d, dtype=params.dtype, device=params.device)
    vectors = _fill_lower(vectors, params, rows, cols)
    vectors = vectors + torch.eye(d, dtype=params.dtype, device=params.device)
    q = torch.eye(d, dtype=params.dtype, device=params.device).expand(*batch, d, d)
    for i in range(d):
        v = vectors[..., :, i]  # [..., d]
        coefficient = 2.0 / (v * v).sum(-1, keepdim=True)
        # Q <- Q (I - c v v^T)
        q = q - (q @ v.unsqueeze(-1)) * (coefficient.unsqueeze(-1) * v.unsqueeze(-2))
    return q


def _fill_lower(vectors: Tensor, params: Tensor, rows: Tensor, cols: Tensor) -> Tensor:
    flat = vectors.reshape(-1, vectors.shape[-2], vectors.shape[-1]).clone()
    flat[:, rows, cols] = params.reshape(-1, params.shape[-1])
    return flat.reshape(vectors.shape)


def cayley_orthogonal(params: Tensor, d: int) -> Tensor:
    r"""Rotations ``[..., d, d]`` by the Cayley map :math:`Q = (I - S)(I + S)^{-1}`.

    ``params [..., d(d-1)/2]`` fill the strictly lower triangle of the
    skew-symmetric :math:`S` (:math:`I + S` is always invertible); ``det Q = +1``.
    """
    if params.shape[-1] != d * (d - 1) // 2:
        raise ValueError(f"cayley parameters must have d(d-1)/2 = {d * (d - 1) // 2} entries, got {params.shape[-1]}")
    batch = params.shape[:-1]
    rows, cols = torch.tril_indices(d, d, offset=-1, device=params.device)
    lower = _fill_lower(torch.zeros(*batch, d, d, dtype=params.dtype, device=params.device), params, rows, cols)
    skew = lower - lower.transpose(-1, -2)
    identity = torch.eye(d, dtype=params.dtype, device=params.device)
    # X (I + S) = I - S; I - S and (I + S)^{-1} commute, so X is orthogonal.
    return torch.linalg.solve(identity + skew, identity - skew, left=False)


def append_fixed_stalk_dims(maps: Tensor, edge_index: Tensor, *, low_pass: bool = False, high_pass: bool = False) -> Tensor:
    r"""Extend learned maps with stalk dimensions whose maps are fixed.

    * ``low_pass``: maps 1 at both ends, so that dimension diffuses with the
      graph Laplacian ``D - A``;
    * ``high_pass``: a signed edge, :math:`F_{u \triangleleft e} = +1` for the
      end with the smaller index and ``-1`` for the other, giving the signless
      Laplacian ``D + A`` on that dimension.

    Diagonal maps ``[E, d]`` get extra columns; matrix maps ``[E, d, d]`` are
    embedded block-diagonally (orthogonal maps stay orthogonal).

    Shapes:
        maps: ``[E, d]`` or ``[E, d, d]``; output: ``[E, d']`` or ``[E, d', d']``
        with ``d' = d + low_pass + high_pass``.
    """
    fixed = []
    if low_pass:
        fixed.append(torch.ones(edge_index.shape[1], dtype=maps.dtype, device=maps.device))
    if high_pass:
        fixed.append(torch.where(edge_index[0] < edge_index[1], 1.0, -1.0).to(maps.dtype))
    if not fixed:
        return maps
    fixed_values = torch.stack(fixed, dim=1)  # [E, extra]
    if maps.dim() == 2:
        return torch.cat([maps, fixed_values], dim=1)
    d, extra = maps.shape[-1], fixed_values.shape[1]
    out = maps.new_zeros(maps.shape[0], d + extra, d + extra)
    out[:, :d, :d] = maps
    out[:, d:, d:] = torch.diag_embed(fixed_values)
    return out
