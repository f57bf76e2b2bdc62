"""Point-cloud transforms: geometric properties checked numerically."""

from __future__ import annotations

import math

import pytest
import torch

from geoconv.data import Graph
from geoconv.data.pointcloud_transforms import (
    jitter, normalize_to_unit_sphere, random_rotate, random_rotation_matrix, random_scale, sample_points,
)


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _cube() -> Graph:
    """The cube [-1, 1]^3 as 12 outward-oriented triangles."""
    corners = torch.tensor([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=torch.float64)
    quads = [[0, 1, 3, 2], [4, 6, 7, 5], [0, 4, 5, 1], [2, 3, 7, 6], [0, 2, 6, 4], [1, 5, 7, 3]]
    faces = []
    for a, b, c, d in quads:
        faces += [[a, b, c], [a, c, d]]
    return Graph(pos=corners, face=torch.tensor(faces), y=torch.tensor([3]), y_level="graph")


def test_sample_points_on_surface_with_outward_normals():
    cloud = sample_points(_cube(), 2000, generator=_generator())
    pos, normal = cloud.pos, cloud.normal
    assert pos.shape == (2000, 3) and normal.shape == (2000, 3)
    # Every point lies on a face: its largest |coordinate| is 1, on the axis of its normal.
    torch.testing.assert_close(pos.abs().max(dim=1).values, torch.ones(2000, dtype=torch.float64))
    torch.testing.assert_close(normal.norm(dim=1), torch.ones(2000, dtype=torch.float64))
    torch.testing.assert_close((pos * normal).sum(dim=1), torch.ones(2000, dtype=torch.float64))
    assert int(cloud.y) == 3  # graph-level tensors are kept


def test_sample_points_is_area_weighted():
    # Two disjoint triangles with areas 3 : 1.
    pos = torch.tensor([[0, 0, 0], [3, 0, 0], [0, 2, 0], [10, 0, 0], [11, 0, 0], [10, 2, 0]], dtype=torch.float64)
    mesh = Graph(pos=pos, face=torch.tensor([[0, 1, 2], [3, 4, 5]]))
    n = 20000
    cloud = sample_points(mesh, n, include_normals=False, generator=_generator(1))
    fraction = (cloud.pos[:, 0] < 5).double().mean().item()
    assert abs(fraction - 0.75) < 4 * math.sqrt(0.75 * 0.25 / n)
    assert "normal" not in cloud
    # Uniform within a triangle: the mean of the points is the centroid.
    first = cloud.pos[cloud.pos[:, 0] < 5]
    torch.testing.assert_close(first.mean(0), pos[:3].mean(0), atol=0.03, rtol=0)


def test_normalize_to_unit_sphere():
    graph = Graph(pos=torch.randn(50, 3, dtype=torch.float64, generator=_generator()) * 7 + 3)
    pos = normalize_to_unit_sphere(graph).pos
    torch.testing.assert_close(pos.mean(0), torch.zeros(3, dtype=torch.float64), atol=1e-12, rtol=0)
    assert abs(pos.norm(dim=1).max().item() - 1.0) < 1e-12


@pytest.mark.parametrize("axis", [None, 1])
def test_random_rotate_is_a_rotation_of_points_and_normals(axis):
    cloud = sample_points(_cube(), 100, generator=_generator())
    rotated = random_rotate(cloud, axis=axis, generator=_generator(2))
    torch.testing.assert_close(torch.cdist(rotated.pos, rotated.pos), torch.cdist(cloud.pos, cloud.pos))
    torch.testing.assert_close((rotated.pos * rotated.normal).sum(1), (cloud.pos * cloud.normal).sum(1))
    if axis is not None:
        torch.testing.assert_close(rotated.pos[:, axis], cloud.pos[:, axis])
    matrix = random_rotation_matrix(axis, dtype=torch.float64, generator=_generator(3))
    torch.testing.assert_close(matrix @ matrix.T, torch.eye(3, dtype=torch.float64))
    assert abs(torch.det(matrix).item() - 1) < 1e-12


def test_random_scale_keeps_normals_perpendicular():
    cloud = sample_points(_cube(), 200, generator=_generator())
    rotation = random_rotation_matrix(dtype=torch.float64, generator=_generator(4))
    # A rotated cube: its faces are not axis-aligned, so the normals really change.
    cloud = cloud.replace(pos=cloud.pos @ rotation.T)
    cloud.set("normal", cloud.normal @ rotation.T, "node")
    scaled = random_scale(cloud, low=0.5, high=2.0, translate=0.0, generator=_generator(5))
    ratio = scaled.pos / cloud.pos
    scale = ratio.median(dim=0).values
    assert bool(((scale >= 0.5) & (scale <= 2.0)).all())
    torch.testing.assert_close(scaled.pos, cloud.pos * scale)
    # Plane n . p = 1 maps to n' . p' = const with n' = n / s (normalised).
    offset = (scaled.pos * scaled.normal).sum(1) * (cloud.normal / scale).norm(dim=1)
    torch.testing.assert_close(offset, torch.ones(200, dtype=torch.float64))
    with pytest.raises(ValueError, match="low <= high"):
        random_scale(cloud, low=2.0, high=1.0)


def test_jitter_is_clipped():
    graph = Graph(pos=torch.zeros(5000, 3, dtype=torch.float64))
    moved = jitter(graph, sigma=0.01, clip=0.02, generator=_generator()).pos
    assert moved.abs().max().item() <= 0.02
    assert abs(moved.std().item() - 0.01) < 0.001  # ~5% of the mass is clipped at 2 sigma


def test_transform_errors():
    with pytest.raises(ValueError, match="needs node positions"):
        jitter(Graph(x=torch.zeros(3, 1)))
    with pytest.raises(ValueError, match="needs a triangle mesh"):
        sample_points(Graph(pos=torch.zeros(3, 3)), 10)
    with pytest.raises(ValueError, match="axis must be"):
        random_rotation_matrix(3)


@pytest.mark.parametrize("axis", [None, 0, 2])
def test_random_rotate_moves_points_by_the_drawn_rotation(axis):
    # A no-op (or a transposed matrix, or normals left alone) fails here: the points move
    # exactly by R, the normals by the same R, and R differs from the identity.
    cloud = sample_points(_cube(), 50, generator=_generator())
    rotated = random_rotate(cloud, axis=axis, generator=_generator(8))
    matrix = random_rotation_matrix(axis, dtype=torch.float64, generator=_generator(8))
    assert (matrix - torch.eye(3, dtype=torch.float64)).abs().max().item() > 0.1
    torch.testing.assert_close(rotated.pos, cloud.pos @ matrix.T)
    torch.testing.assert_close(rotated.normal, cloud.normal @ matrix.T)


def test_random_rotation_matrix_is_uniform():
    # Haar measure on SO(3): E[R] = 0 and E[R_ij^2] = 1/3; about an axis, E[cos] = E[sin] = 0.
    generator = _generator(9)
    matrices = torch.stack([random_rotation_matrix(dtype=torch.float64, generator=generator) for _ in range(2000)])
    tolerance = 4 / math.sqrt(2000)
    assert matrices.mean(0).abs().max().item() < tolerance
    torch.testing.assert_close(matrices.pow(2).mean(0), torch.full((3, 3), 1 / 3, dtype=torch.float64), atol=tolerance, rtol=0)
    about_y = torch.stack([random_rotation_matrix(1, dtype=torch.float64, generator=generator) for _ in range(2000)])
    assert about_y[:, 0, 0].mean().abs().item() < tolerance and about_y[:, 0, 2].mean().abs().item() < tolerance
    assert about_y[:, 0, 0].abs().max().item() > 0.99 and about_y[:, 0, 2].abs().max().item() > 0.99


def test_random_scale_draws_uniform_per_axis_scales_and_shifts():
    # A no-op (scale 1, no shift), an isotropic scale or a shift ignoring `translate` fails here.
    graph = Graph(pos=torch.ones(1, 3, dtype=torch.float64))
    generator = _generator(10)
    draws = torch.cat([random_scale(graph, low=0.5, high=2.0, generator=generator).pos for _ in range(1000)])
    assert bool(((draws >= 0.5) & (draws <= 2.0)).all())
    torch.testing.assert_close(draws.mean(0), torch.full((3,), 1.25, dtype=torch.float64), atol=0.05, rtol=0)
    assert draws.min().item() < 0.52 and draws.max().item() > 1.98
    assert (draws[:, 0] - draws[:, 1]).abs().mean().item() > 0.3  # each axis draws its own scale
    origin = Graph(pos=torch.zeros(1, 3, dtype=torch.float64))
    shifts = torch.cat([random_scale(origin, translate=0.2, generator=generator).pos for _ in range(1000)])
    assert shifts.abs().max().item() <= 0.2 and shifts.abs().max().item() > 0.19
    torch.testing.assert_close(shifts.mean(0), torch.zeros(3, dtype=torch.float64), atol=0.02, rtol=0)
