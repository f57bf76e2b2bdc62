"""Radial basis and cutoff envelope: exact values and errors."""

import math

import pytest
import torch

from geoconv.ops import cosine_cutoff, gaussian_basis


def test_gaussian_basis_values():
    distance = torch.tensor([0.0, 1.0, 2.5], dtype=torch.float64)
    basis = gaussian_basis(distance, start=0.0, stop=2.0, num_basis=3)  # centres 0, 1, 2; width 1
    expected = torch.tensor([
        [1.0, math.exp(-0.5), math.exp(-2.0)],
        [math.exp(-0.5), 1.0, math.exp(-0.5)],
        [math.exp(-3.125), math.exp(-1.125), math.exp(-0.125)],
    ], dtype=torch.float64)
    torch.testing.assert_close(basis, expected)
    assert gaussian_basis(torch.zeros(0), num_basis=4).shape == (0, 4)


def test_cosine_cutoff_values_and_smoothness():
    distance = torch.tensor([0.0, 1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    envelope = cosine_cutoff(distance, 2.0)
    torch.testing.assert_close(envelope, torch.tensor([1.0, 0.5, 0.0, 0.0], dtype=torch.float64), atol=1e-15, rtol=0)
    (gradient,) = torch.autograd.grad(envelope.sum(), distance)
    # slope -pi/4 at the midpoint, 0 at both ends of the support
    torch.testing.assert_close(gradient, torch.tensor([0.0, -math.pi / 4, 0.0, 0.0], dtype=torch.float64),
                               atol=1e-12, rtol=0)


def test_radial_errors():
    with pytest.raises(ValueError, match="num_basis must be at least 2"):
        gaussian_basis(torch.ones(2), num_basis=1)
    with pytest.raises(ValueError, match="stop must be larger than start"):
        gaussian_basis(torch.ones(2), start=2.0, stop=1.0)
    with pytest.raises(ValueError, match="cutoff must be positive"):
        cosine_cutoff(torch.ones(2), 0.0)
