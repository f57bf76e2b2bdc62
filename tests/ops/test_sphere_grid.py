"""Sphere grids: the sampling matrix is the harmonics at e3nn's grid points, the projection inverts it on the
band-limited functions it resolves (and not beyond), and the spiral readout points."""

import math

import pytest
import torch

from geoconv.ops import escn_grid_resolution, frame_layout, spherical_harmonics, sphere_grid_matrices
from geoconv.ops import spiral_points, spiral_sampling_matrix

F64 = torch.float64


def test_sampling_is_the_harmonics_at_the_grid_points():
    lmax, res_beta, res_alpha = 3, 8, 9
    to_grid, _ = sphere_grid_matrices(lmax, res_beta, res_alpha)
    beta = (torch.arange(res_beta, dtype=F64) + 0.5) / res_beta * math.pi
    alpha = torch.arange(res_alpha, dtype=F64) / res_alpha * 2 * math.pi
    b, a = torch.meshgrid(beta, alpha, indexing="ij")  # point g = b * A + a; y is the polar axis
    points = torch.stack([b.sin() * a.sin(), b.cos(), b.sin() * a.cos()], dim=-1).reshape(-1, 3)
    expected = spherical_harmonics(lmax, points, normalization="integral")
    torch.testing.assert_close(to_grid, expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("lmax,mmax", [(3, 3), (4, 2), (6, 2), (6, 6), (5, 0)])
def test_round_trip_is_the_identity_on_the_orders_the_grid_resolves(lmax, mmax):
    to_grid, from_grid = sphere_grid_matrices(lmax, *escn_grid_resolution(lmax, mmax))
    keep = [l * l + l + m for l, m in frame_layout(lmax, mmax)]
    round_trip = from_grid[:, keep].T @ to_grid[:, keep]
    torch.testing.assert_close(round_trip, torch.eye(len(keep), dtype=F64), atol=1e-12, rtol=0)
    if mmax < lmax:
        # Orders above mmax alias onto lower ones with 2 mmax + 1 longitudes: the grid cannot carry them.
        full = from_grid.T @ to_grid
        assert (full - torch.eye(full.shape[0], dtype=F64)).abs().max() > 0.5


def test_bad_resolution_is_an_error():
    with pytest.raises(ValueError, match="res_beta"):
        sphere_grid_matrices(3, 7, 9)


def test_spiral_points_and_readout_matrix():
    points, weights = spiral_points(64)
    torch.testing.assert_close(points.norm(dim=1), torch.ones(64, dtype=F64))
    torch.testing.assert_close(weights.mean(), torch.tensor(1.0, dtype=F64))
    # Evenly spread: the centroid is near 0 and no two points coincide.
    assert points.mean(dim=0).norm() < 0.05
    distances = torch.cdist(points, points) + 10 * torch.eye(64, dtype=F64)
    assert distances.min() > 0.2
    samples = spiral_sampling_matrix(2, 64)
    degrees = torch.tensor([0, 1, 1, 1, 2, 2, 2, 2, 2])
    expected = spherical_harmonics(2, points, normalization="integral") * weights.unsqueeze(1) ** degrees
    torch.testing.assert_close(samples, expected, atol=1e-12, rtol=0)
