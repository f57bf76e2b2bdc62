r"""Spherical functions sampled on points of the sphere: a latitude-longitude grid and a spiral of points.

A feature ``x [..., L, C]`` (``L = (lmax+1)^2`` coefficients, e3nn's order, see :mod:`geoconv.ops.so3`) is
the function :math:`f(\hat r) = \sum_i x_i\, Y_i(\hat r)`.  Sampling it at ``G`` points is the product by
a fixed ``[G, L]`` matrix, and a pointwise nonlinearity on the samples followed by a projection back
(a quadrature) is an activation that, up to the sampling error, commutes with rotations (eSCN's
sphere-grid nonlinearities).  The matrices are built once in float64 with e3nn and cached; callers cast
them to their tensors' dtype and device.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from geoconv.ops.so3 import _check_lmax, _e3nn_o3, default_dtype, spherical_harmonics

# (lmax, res_beta, res_alpha) -> (to_grid, from_grid), float64 on the CPU.  A plain dict: torch.compile
# reads a filled entry as a constant (as for the fixed Wigner matrices of geoconv.ops.so3).
_GRIDS: dict[tuple[int, int, int], tuple[Tensor, Tensor]] = {}
_SPIRALS: dict[tuple[int, int], Tensor] = {}


def escn_grid_resolution(lmax: int, mmax: int) -> tuple[int, int]:
    """``(res_beta, res_alpha)`` of eSCN's grids for features of degrees ``<= lmax`` and orders ``<= mmax``:
    ``2 (lmax+1)`` latitudes and ``2 mmax + 1`` longitudes (``2 (lmax+1) + 1`` when ``mmax = lmax``)."""
    return 2 * (lmax + 1), (2 * (lmax + 1) + 1 if mmax == lmax else 2 * mmax + 1)


def sphere_grid_matrices(lmax: int, res_beta: int, res_alpha: int) -> tuple[Tensor, Tensor]:
    r"""The sampling and projection matrices of a ``res_beta x res_alpha`` latitude-longitude grid.

    The grid has polar angles :math:`\beta_b = \pi (b + \tfrac12)/B` measured from the y axis (the
    polar axis of :mod:`geoconv.ops.so3`) and azimuths :math:`\alpha_a = 2\pi a / A` about it
    (e3nn's ``s2_grid``); point ``g = b A + a``.  With ``to_grid``, ``from_grid`` ``[B A, L]``:

    .. math::
        f(\beta_b, \alpha_a) = \sum_i \mathrm{to\_grid}_{g i}\, x_i,\qquad
        x_i = \sum_g \mathrm{from\_grid}_{g i}\, f_g

    (``"integral"`` normalisation of the harmonics).  The projection is a quadrature, exact for
    functions of degrees ``<= lmax`` when ``res_beta >= 2 (lmax + 1)`` and for orders :math:`|m| \le k`
    when ``res_alpha >= 2 k + 1``: on those the round trip ``from_grid^T to_grid`` is the identity.

    Returns:
        ``(to_grid, from_grid)``, both ``[res_beta * res_alpha, L]`` float64 on the CPU (cached).
    """
    _check_lmax(lmax)
    if res_beta < 2 or res_beta % 2 or res_beta < lmax + 1 or res_alpha < 1:
        raise ValueError(f"the grid needs an even res_beta >= max(2, lmax+1) and res_alpha >= 1, got "
                         f"res_beta={res_beta}, res_alpha={res_alpha} for lmax={lmax}")
    key = (lmax, res_beta, res_alpha)
    cached = _GRIDS.get(key)
    if cached is not None:
        return cached
    o3 = _e3nn_o3()
    with default_dtype(torch.float64):
        to_grid = o3.ToS2Grid(lmax, (res_beta, res_alpha), normalization="integral")
        from_grid = o3.FromS2Grid((res_beta, res_alpha), lmax, normalization="integral")
        # ToS2Grid holds f = sha[a, m] shb[m, b, i] x_i as two factors; one [B, A, L] matrix each way.
        sample = torch.einsum("am,mbi->bai", to_grid.sha, to_grid.shb).reshape(res_beta * res_alpha, -1)
        project = torch.einsum("am,mbi->bai", from_grid.sha, from_grid.shb).reshape(res_beta * res_alpha, -1)
    _GRIDS[key] = (sample.to(torch.float64).contiguous(), project.to(torch.float64).contiguous())
    return _GRIDS[key]


def spiral_points(num_points: int) -> tuple[Tensor, Tensor]:
    r"""A golden-angle spiral of ``P`` unit vectors and a weight per point that evens out their density.

    Point ``k`` has polar angle :math:`\arccos(1 - 2(k+\tfrac12)/P)` from z and azimuth
    :math:`2\pi k/\varphi` (:math:`\varphi` the golden ratio).  Its weight is the inverse of a Gaussian
    kernel estimate of the point density, :math:`w_k \propto 1 / \sum_j \exp(-\|p_k - p_j\|^2 / 0.15)`,
    scaled to mean 1 (eSCN's output points).

    Returns:
        ``(points [P, 3], weights [P])`` float64 on the CPU.
    """
    if num_points < 1:
        raise ValueError(f"num_points must be positive, got {num_points}")
    k = torch.arange(num_points, dtype=torch.float64)
    azimuth = 2.0 * math.pi * k / ((1.0 + math.sqrt(5.0)) / 2.0)
    polar = torch.acos(1.0 - 2.0 * (k + 0.5) / num_points)
    points = torch.stack([azimuth.cos() * polar.sin(), azimuth.sin() * polar.sin(), polar.cos()], dim=1)
    density = torch.exp(-torch.cdist(points, points).square() / 0.15).sum(dim=1)
    weights = 1.0 / density
    return points, weights * (num_points / weights.sum())


def spiral_sampling_matrix(lmax: int, num_points: int) -> Tensor:
    r"""``[P, L]``: the values at the :func:`spiral_points` of the harmonics scaled by the weights, degree by degree.

    Row ``k`` is :math:`w_k^{\,l}\, Y^l(p_k)`, i.e. the unnormalised harmonics (homogeneous polynomials
    of degree ``l``, ``"integral"`` normalisation) at the point :math:`w_k p_k`: eSCN's readout evaluates
    the node features there.  float64 on the CPU (cached).
    """
    _check_lmax(lmax)
    key = (lmax, num_points)
    if key not in _SPIRALS:
        points, weights = spiral_points(num_points)
        _SPIRALS[key] = spherical_harmonics(lmax, points * weights.unsqueeze(1), normalize=False,
                                            normalization="integral").to(torch.float64).contiguous()
    return _SPIRALS[key]
