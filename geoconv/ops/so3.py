r"""SO(3) tools for equivariant networks: spherical harmonics, Wigner-D matrices, edge frames.

Conventions are e3nn's (``e3nn.o3``), so features built here interoperate with e3nn:

* Spherical features are ``[..., L, C]`` with ``L = (lmax+1)^2`` coefficients ordered by degree
  ``l`` and, inside a degree, by order ``m = -l..l`` (coefficient ``l^2 + l + m``).
* The real spherical harmonics treat **y as the polar axis**: :math:`Y^l(\hat e_y)` is zero except
  at ``m = 0``, and :math:`Y^1(\vec r) \propto (x, y, z)`.
* :math:`D^l(R)` satisfies :math:`Y^l(R\vec r) = D^l(R)\,Y^l(\vec r)` and
  :math:`D(R_1R_2) = D(R_1)D(R_2)`; with Euler angles
  :math:`R(\alpha,\beta,\gamma) = R_y(\alpha)R_x(\beta)R_y(\gamma)`.

Wigner matrices are built for a whole batch without matrix exponentials: a rotation about y
by :math:`\theta` only mixes the pair :math:`(m, -m)` of each degree with :math:`\cos m\theta,
\sin m\theta`, and a rotation about x is one about y conjugated by the fixed matrix
:math:`J^l = D^l(Q)` of a rotation :math:`Q` taking y to x (computed once per degree with e3nn).

The *edge frame* of an edge vector :math:`\vec r` is a rotation :math:`R_e` with
:math:`R_e\hat r = \hat e_y` (the primary axis).  It is fixed up to a roll about y; the reference
eSCN code draws that roll at random, here it is deterministic (``gamma = 0`` in one of two
charts), so outputs are reproducible.  Two charts are used so that the angles, and hence the
gradients with respect to positions, stay smooth for every direction: edges within
:math:`\approx 25^\circ` of :math:`\pm y` are first turned by a fixed 90 degree rotation about x.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from typing import Iterator, Sequence

import torch
from torch import Tensor

_E3NN_PURPOSE = "spherical harmonics and Wigner matrices (geoconv.ops.so3)"

# |cos| of the angle to the y axis above which the second chart is used.
_CHART_THRESHOLD = 0.9
# Rotation by +90 degrees about x: (x, y, z) -> (x, -z, y); maps the y axis to the z axis.
_CHART_ROTATION = ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0), (0.0, 1.0, 0.0))
# Rotation by -90 degrees about z: maps the y axis to the x axis.
_Y_TO_X_ROTATION = ((0.0, 1.0, 0.0), (-1.0, 0.0, 0.0), (0.0, 0.0, 1.0))


def _e3nn_o3():
    from geoconv._optional import require

    return require("e3nn.o3", _E3NN_PURPOSE)


def _check_lmax(lmax: int, name: str = "lmax") -> None:
    if not isinstance(lmax, int) or lmax < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {lmax!r}")


def num_coefficients(lmax: int) -> int:
    """``L = (lmax+1)^2``, the number of spherical coefficients of degrees ``0..lmax``."""
    _check_lmax(lmax)
    return (lmax + 1) ** 2


def degree_index(lmax: int, device: torch.device | str | None = None) -> Tensor:
    """``[L]`` int64: the degree ``l`` of every coefficient (``0, 1, 1, 1, 2, ...``)."""
    _check_lmax(lmax)
    return torch.repeat_interleave(torch.arange(lmax + 1, device=device), 2 * torch.arange(lmax + 1, device=device) + 1)


def spherical_harmonics(lmax: int, vectors: Tensor, *, normalize: bool = True, normalization: str = "component") -> Tensor:
    r"""Real spherical harmonics :math:`Y^l_m(\vec r)` for ``l = 0..lmax`` (e3nn's).

    ``normalization="component"`` gives :math:`\|Y^l(\hat r)\|^2 = 2l+1`; ``"norm"`` gives
    :math:`\|Y^l\| = 1`; ``"integral"`` integrates to 1 over the sphere.

    Shapes:
        vectors: ``[..., 3]``; output ``[..., (lmax+1)^2]``.
    """
    _check_lmax(lmax)
    if vectors.shape[-1:] != (3,):
        raise ValueError(f"vectors must have shape [..., 3], got {list(vectors.shape)}")
    o3 = _e3nn_o3()
    return o3.spherical_harmonics(list(range(lmax + 1)), vectors, normalize=normalize, normalization=normalization)


@contextlib.contextmanager
def default_dtype(dtype: torch.dtype) -> Iterator[None]:
    """Temporarily set torch's default dtype (e3nn builds its generators in the default dtype)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


# (l, which) -> D^l of a fixed rotation, float64 on the CPU.  A plain dict rather than lru_cache:
# torch.compile reads a filled entry as a constant (see precompute_fixed_wigner).
_FIXED_WIGNER: dict[tuple[int, str], Tensor] = {}


def precompute_fixed_wigner(lmax: int) -> None:
    """Fill the cache of the fixed Wigner matrices :func:`edge_frame` uses, for degrees ``0..lmax``.

    Layers call it at construction, so that ``torch.compile`` finds constants instead of
    tracing their computation (which imports e3nn and breaks the graph).
    """
    for l in range(lmax + 1):
        for which in ("y_to_x", "chart"):
            _fixed_wigner(l, which)


def _fixed_wigner(l: int, which: str) -> Tensor:
    """``D^l`` (float64, CPU) of one of the fixed rotations above, from e3nn."""
    cached = _FIXED_WIGNER.get((l, which))
    if cached is not None:
        return cached
    o3 = _e3nn_o3()
    matrix = torch.tensor(_Y_TO_X_ROTATION if which == "y_to_x" else _CHART_ROTATION, dtype=torch.float64)
    # Computed in float64 so that the matrices are exact to ~1e-15 whatever the caller's default
    # dtype (they are cached and cast on use).
    with default_dtype(torch.float64):
        _FIXED_WIGNER[(l, which)] = o3.Irrep(l, 1).D_from_matrix(matrix).to(torch.float64).contiguous()
    return _FIXED_WIGNER[(l, which)]


def _fixed(l: int, which: str, like: Tensor) -> Tensor:
    return _fixed_wigner(l, which).to(device=like.device, dtype=like.dtype)


def _rotate_rows_y(matrix: Tensor, angle: Tensor, l: int) -> Tensor:
    r"""``D^l(R_y(angle)) @ matrix``: row ``k`` (order ``m = k - l``) becomes
    :math:`\cos(m\theta) M_k - \sin(m\theta) M_{2l-k}`.  ``matrix [..., 2l+1, n]``, ``angle [...]``."""
    orders = torch.arange(-l, l + 1, device=matrix.device, dtype=matrix.dtype)
    phase = angle.unsqueeze(-1) * orders
    return torch.cos(phase).unsqueeze(-1) * matrix - torch.sin(phase).unsqueeze(-1) * matrix.flip(-2)


def _rotate_columns_y(matrix: Tensor, angle: Tensor, l: int) -> Tensor:
    r"""``matrix @ D^l(R_y(angle))``: column ``j`` becomes :math:`\cos(m\theta) M_{:,j} + \sin(m\theta) M_{:,2l-j}`."""
    orders = torch.arange(-l, l + 1, device=matrix.device, dtype=matrix.dtype)
    phase = angle.unsqueeze(-1) * orders
    return torch.cos(phase).unsqueeze(-2) * matrix + torch.sin(phase).unsqueeze(-2) * matrix.flip(-1)


def wigner_D(l: int, alpha: Tensor, beta: Tensor, gamma: Tensor) -> Tensor:
    r"""Wigner-D matrices :math:`D^l(R_y(\alpha)R_x(\beta)R_y(\gamma))` for a batch of angles (as ``e3nn.o3.wigner_D``).

    .. math::
        D^l(\alpha,\beta,\gamma) = Y(\alpha)\, J\, Y(\beta)\, J^\top\, Y(\gamma),
        \qquad J = D^l(Q),\ Q\hat e_y = \hat e_x

    with :math:`Y(\theta) = D^l(R_y(\theta))` applied as a sparse (cos, sin) mixing of orders ``m, -m``.

    Shapes:
        alpha, beta, gamma: broadcastable ``[...]``; output ``[..., 2l+1, 2l+1]``.
    """
    _check_lmax(l, "l")
    alpha, beta, gamma = torch.broadcast_tensors(alpha, beta, gamma)
    change = _fixed(l, "y_to_x", alpha)
    inner = _rotate_rows_y(change.T.expand(*beta.shape, -1, -1), beta, l)
    matrix = _rotate_rows_y(change @ inner, alpha, l)
    return _rotate_columns_y(matrix, gamma, l)


def xyz_to_angles(vectors: Tensor) -> tuple[Tensor, Tensor]:
    r"""Angles :math:`(\alpha, \beta)` with :math:`\hat r = R(\alpha, \beta, 0)\,\hat e_y` (e3nn's ``xyz_to_angles``)."""
    unit = torch.nn.functional.normalize(vectors, dim=-1).clamp(-1.0, 1.0)
    return torch.atan2(unit[..., 0], unit[..., 2]), torch.acos(unit[..., 1])


def angles_to_matrix(alpha: Tensor, beta: Tensor, gamma: Tensor) -> Tensor:
    r"""The rotation matrix :math:`R_y(\alpha) R_x(\beta) R_y(\gamma)`, ``[..., 3, 3]``."""
    alpha, beta, gamma = torch.broadcast_tensors(alpha, beta, gamma)

    def about_y(angle: Tensor) -> Tensor:
        c, s, o, z = torch.cos(angle), torch.sin(angle), torch.ones_like(angle), torch.zeros_like(angle)
        return torch.stack([c, z, s, z, o, z, -s, z, c], dim=-1).unflatten(-1, (3, 3))

    def about_x(angle: Tensor) -> Tensor:
        c, s, o, z = torch.cos(angle), torch.sin(angle), torch.ones_like(angle), torch.zeros_like(angle)
        return torch.stack([o, z, z, z, c, -s, z, s, c], dim=-1).unflatten(-1, (3, 3))

    return about_y(alpha) @ about_x(beta) @ about_y(gamma)


def matrix_to_angles(rotation: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    r"""Euler angles :math:`(\alpha, \beta, \gamma)` of rotation matrices ``[..., 3, 3]`` (inverse of :func:`angles_to_matrix`)."""
    if rotation.shape[-2:] != (3, 3):
        raise ValueError(f"rotation must have shape [..., 3, 3], got {list(rotation.shape)}")
    alpha, beta = xyz_to_angles(rotation[..., :, 1])
    rest = angles_to_matrix(alpha, beta, torch.zeros_like(alpha)).transpose(-1, -2) @ rotation
    gamma = torch.atan2(rest[..., 0, 2], rest[..., 0, 0])
    return alpha, beta, gamma


def wigner_D_from_matrix(rotation: Tensor, lmax: int) -> Tensor:
    r"""Block-diagonal :math:`\bigoplus_{l \le lmax} D^l(R)`, ``[..., L, L]``: rotates ``[..., L, C]`` features by ``D @ x``."""
    _check_lmax(lmax)
    alpha, beta, gamma = matrix_to_angles(rotation)
    size = num_coefficients(lmax)
    out = rotation.new_zeros(*rotation.shape[:-2], size, size)
    for l in range(lmax + 1):
        out[..., l * l:(l + 1) ** 2, l * l:(l + 1) ** 2] = wigner_D(l, alpha, beta, gamma)
    return out


# ---------------------------------------------------------------------------------------- edge frames


@functools.lru_cache(maxsize=None)
def frame_layout(lmax: int, mmax: int) -> tuple[tuple[int, int], ...]:
    r"""The ``(l, m)`` of each coefficient kept in the edge frame, in *m-major* order.

    Order ``m = 0`` first (``l = 0..lmax``), then for ``m = 1..mmax`` the ``+m`` coefficients of
    ``l = m..lmax`` followed by the ``-m`` ones: the layout :class:`~geoconv.nn.SO2Convolution`
    works on.  Its length is ``Lm = (lmax+1) + 2 * sum_{m=1..mmax} (lmax-m+1)``.
    """
    _check_lmax(lmax)
    if not isinstance(mmax, int) or not 0 <= mmax <= lmax:
        raise ValueError(f"mmax must be an integer in [0, lmax={lmax}], got {mmax!r}")
    layout = [(l, 0) for l in range(lmax + 1)]
    for m in range(1, mmax + 1):
        layout += [(l, m) for l in range(m, lmax + 1)]
        layout += [(l, -m) for l in range(m, lmax + 1)]
    return tuple(layout)


@functools.lru_cache(maxsize=None)
def _frame_rows(lmax: int, mmax: int) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, ...], ...]]:
    """Where the m-major layout meets the per-degree blocks.

    ``rows[i] = (l, r)``: coefficient ``i`` of :func:`frame_layout` is row ``r`` (order ``m = r - k``)
    of degree ``l``'s block; ``positions[l]`` lists, for the rows of degree ``l`` in order, their
    index in the m-major layout.
    """
    layout = frame_layout(lmax, mmax)
    rows = tuple((l, m + min(l, mmax)) for l, m in layout)
    index = {key: i for i, key in enumerate(layout)}
    positions = tuple(
        tuple(index[(l, m)] for m in range(-min(l, mmax), min(l, mmax) + 1)) for l in range(lmax + 1)
    )
    return rows, positions


@dataclass(frozen=True)
class EdgeFrame:
    r"""Truncated Wigner matrices of the edge frames, to move ``[E, L, C]`` features in and out of them.

    ``blocks[l]`` is ``[E, 2k+1, 2l+1]`` with ``k = min(l, mmax)``: the rows ``m = -k..k`` of
    :math:`D^l(R_e)`, where :math:`R_e` rotates the edge vector onto :math:`+\hat e_y`.
    Only orders ``|m| <= mmax`` are kept: the eSCN truncation.

    Attributes:
        blocks: one tensor per degree.
        valid: ``[E]`` bool, False for zero-length edges (their frame is arbitrary; callers should
            drop their messages).
        lmax, mmax: the degrees and orders kept.
    """

    blocks: tuple[Tensor, ...]
    valid: Tensor
    lmax: int
    mmax: int

    @property
    def num_frame_coefficients(self) -> int:
        return len(frame_layout(self.lmax, self.mmax))

    def to_frame(self, x: Tensor) -> Tensor:
        r"""Rotate ``x [E, L, C]`` into the edge frames: ``[E, Lm, C]`` in :func:`frame_layout` order."""
        # One concatenation both joins the degrees and reorders rows into the m-major layout
        # (split views, so the backward pass is one concatenation per group, not a scatter).
        return torch.cat(self._rotated_rows(x), dim=1)

    def to_frame_blocks(self, x: Tensor) -> list[Tensor]:
        r""":meth:`to_frame` cut into its blocks of one order: ``[m = 0, +1, -1, +2, -2, ...]``.

        Block ``m = 0`` is ``[E, lmax+1, C]`` (degrees ``0..lmax``), blocks ``+m`` and ``-m`` are
        ``[E, lmax-m+1, C]`` (degrees ``m..lmax``): what :meth:`SO2Convolution.forward_blocks
        <geoconv.nn.SO2Convolution.forward_blocks>` takes, without joining the blocks only to split them again.
        """
        rows = self._rotated_rows(x)
        sizes = [self.lmax + 1] + [self.lmax - m + 1 for m in range(1, self.mmax + 1) for _ in range(2)]
        blocks, start = [], 0
        for size in sizes:
            blocks.append(torch.cat(rows[start:start + size], dim=1))
            start += size
        return blocks

    def _rotated_rows(self, x: Tensor) -> list[Tensor]:
        """The rows ``[E, 1, C]`` of ``x`` rotated into the frames, in :func:`frame_layout` order (views)."""
        size = num_coefficients(self.lmax)
        if x.dim() != 3 or x.shape[1] != size or x.shape[0] != self.valid.shape[0]:
            raise ValueError(
                f"features must have shape [E={self.valid.shape[0]}, L={size}, C], got {list(x.shape)}"
            )
        groups = self._degree_groups
        # split, not slicing: the backward pass then concatenates instead of zero-filling per slice
        pieces = x.split([(degrees[-1] + 1) ** 2 - degrees[0] ** 2 for degrees, _ in groups], dim=1)
        rows = []
        for (degrees, matrix), piece in zip(groups, pieces):
            rotated = piece if matrix is None else torch.bmm(matrix, piece)
            # One split into single rows per group (not per degree and then per row): the backward
            # pass then concatenates each group's gradient once.
            group_rows = rotated.split(1, dim=1)
            start = 0
            for l in degrees:
                size = self.blocks[l].shape[1]
                rows.append(group_rows[start:start + size])
                start += size
        return [rows[l][r] for l, r in _frame_rows(self.lmax, self.mmax)[0]]

    def from_frame(self, y: Tensor | Sequence[Tensor]) -> Tensor:
        r"""Rotate frame features ``y [E, Lm, C]`` back: :math:`D^l(R_e)^\top y`, ``[E, L, C]`` (orders above mmax are 0).

        ``y`` may also be given as consecutive blocks ``[E, n_i, C]`` that concatenate to it along
        dimension 1 (e.g. from :meth:`to_frame_blocks`): they are not joined first.
        """
        pieces = (y,) if isinstance(y, Tensor) else tuple(y)
        if (
            not pieces
            or any(piece.dim() != 3 or piece.shape[0] != self.valid.shape[0] for piece in pieces)
            or sum(piece.shape[1] for piece in pieces) != self.num_frame_coefficients
        ):
            got = [list(piece.shape) for piece in pieces]
            raise ValueError(
                f"frame features must have shape [E={self.valid.shape[0]}, Lm={self.num_frame_coefficients}, C], "
                f"got {got[0] if len(got) == 1 else got}"
            )
        rows = [row for piece in pieces for row in piece.split(1, dim=1)]
        positions = _frame_rows(self.lmax, self.mmax)[1]
        out = []
        for degrees, matrix in self._degree_groups:
            piece = torch.cat([rows[i] for l in degrees for i in positions[l]], dim=1)
            out.append(piece if matrix is None else torch.bmm(matrix.transpose(1, 2), piece))
        return torch.cat(out, dim=1)

    def from_frame_order_zero(self, y: Tensor) -> Tensor:
        r""":meth:`from_frame` of frame features whose orders :math:`|m| \ge 1` are zero.

        ``y [E, lmax+1, C]`` holds the ``m = 0`` coefficient of each degree; degree ``l`` comes back as
        the outer product of the ``m = 0`` row of :math:`D^l(R_e)` with it (no matrix products).

        Shapes:
            y: ``[E, lmax+1, C]``; output ``[E, L, C]``.
        """
        if y.dim() != 3 or y.shape[1] != self.lmax + 1 or y.shape[0] != self.valid.shape[0]:
            raise ValueError(
                f"m = 0 frame features must have shape [E={self.valid.shape[0]}, lmax+1={self.lmax + 1}, C], "
                f"got {list(y.shape)}"
            )
        # Row min(l, mmax) of the truncated block is m = 0: [E, L] with every degree's row side by side.
        rows = torch.cat([block[:, min(l, self.mmax)] for l, block in enumerate(self.blocks)], dim=1)
        degrees = torch.tensor([l for l in range(self.lmax + 1) for _ in range(2 * l + 1)], device=y.device)
        return rows.unsqueeze(-1) * y.index_select(1, degrees)

    @property
    def _degree_groups(self) -> tuple[tuple[tuple[int, ...], Tensor | None], ...]:
        # Built once per frame in eager mode (cached on the frozen instance); torch.compile does not
        # trace the caching and builds them in the graph, where common subexpressions are merged anyway.
        if torch.compiler.is_compiling():
            return self._build_degree_groups()
        groups = self.__dict__.get("_cached_degree_groups")
        if groups is None:
            groups = self._build_degree_groups()
            object.__setattr__(self, "_cached_degree_groups", groups)
        return groups

    def _build_degree_groups(self) -> tuple[tuple[tuple[int, ...], Tensor | None], ...]:
        """Consecutive degrees rotated by one batched product, with its matrix (None: identity).

        ``D^0 = 1``, so degree 0 needs no product; degrees 1 and 2 share one block-diagonal
        ``[E, r1 + r2, 8]`` matrix (3x3 and 5x5 batched products are slow on CPU, one 8x8 is
        several times faster); every higher degree has its own block.
        """
        groups: list[tuple[tuple[int, ...], Tensor | None]] = [((0,), None)]
        if self.lmax >= 2:
            one, two = self.blocks[1], self.blocks[2]
            pad = torch.nn.functional.pad
            groups.append(((1, 2), torch.cat([pad(one, (0, two.shape[2])), pad(two, (one.shape[2], 0))], dim=1)))
        first = groups[-1][0][-1] + 1
        groups += [((l,), self.blocks[l]) for l in range(first, self.lmax + 1)]
        return tuple(groups)


def edge_frame(edge_vec: Tensor, lmax: int, mmax: int | None = None, *, eps: float = 1e-9) -> EdgeFrame:
    r"""The deterministic edge frames of ``edge_vec [E, 3]`` as an :class:`EdgeFrame`.

    For each edge, :math:`R_e = R(\alpha, \beta, 0)^\top` with :math:`(\alpha, \beta)` the angles of
    :math:`\hat r`, so :math:`R_e \hat r = \hat e_y`; edges with :math:`|\hat r_y| > 0.9` use
    :math:`R_e = R(\alpha', \beta', 0)^\top P` with :math:`P` the 90 degree rotation about x and
    :math:`(\alpha', \beta')` the angles of :math:`P\hat r`.  Either way
    :math:`D(R_e)\,Y(\hat r) = Y(\hat e_y)`.  The two charts differ by a roll about y, which
    SO(2)-equivariant maps in the frame do not see.

    Args:
        edge_vec: edge vectors (e.g. ``pos[dst] - pos[src]``).
        lmax: largest degree.
        mmax: largest order kept (default ``lmax``).
        eps: edges shorter than this are marked invalid (and given the frame of ``+y``).
    """
    if mmax is None:
        mmax = lmax
    frame_layout(lmax, mmax)  # validates lmax and mmax
    if edge_vec.dim() != 2 or edge_vec.shape[1] != 3:
        raise ValueError(f"edge_vec must have shape [E, 3], got {list(edge_vec.shape)}")
    if not edge_vec.is_floating_point():
        raise TypeError(f"edge_vec must be floating point, got {edge_vec.dtype}")
    length = edge_vec.norm(dim=1)
    valid = length > eps
    unit_y = torch.tensor([0.0, 1.0, 0.0], dtype=edge_vec.dtype, device=edge_vec.device)
    safe = torch.where(valid.unsqueeze(1), edge_vec, unit_y)
    unit = safe / safe.norm(dim=1, keepdim=True)
    second_chart = unit[:, 1].abs() > _CHART_THRESHOLD
    chart = torch.tensor(_CHART_ROTATION, dtype=edge_vec.dtype, device=edge_vec.device)
    unit = torch.where(second_chart.unsqueeze(1), unit @ chart.T, unit)
    alpha = torch.atan2(unit[:, 0], unit[:, 2])
    beta = torch.acos(unit[:, 1].clamp(-1.0, 1.0))
    # Compiled, the edge count of the second chart would be data-dependent: all edges take the product.
    compiling = torch.compiler.is_compiling()
    chart_edges = None if compiling else second_chart.nonzero().flatten()
    blocks = []
    for l in range(lmax + 1):
        k = min(l, mmax)
        change = _fixed(l, "y_to_x", edge_vec)
        # D(alpha, beta, 0)^T = J Y(-beta) J^T Y(-alpha); only rows m = -k..k are kept.  Computed
        # transposed, (J Y(beta)) @ J[rows]^T, so that the fixed factor is one large matrix product.
        left = _rotate_columns_y(change.expand(edge_vec.shape[0], -1, -1), beta, l)
        block = (left @ change[l - k:l + k + 1].T).transpose(1, 2)
        block = _rotate_columns_y(block, -alpha, l)
        if l > 0 and compiling:
            block = torch.where(second_chart.view(-1, 1, 1), block @ _fixed(l, "chart", edge_vec), block)
        elif l > 0 and chart_edges.numel() > 0:
            # Only the edges of the second chart (about a tenth of random directions) take the product.
            block = block.index_copy(0, chart_edges, block.index_select(0, chart_edges) @ _fixed(l, "chart", edge_vec))
        blocks.append(block)
    return EdgeFrame(tuple(blocks), valid, lmax, mmax)
