"""SO(3) ops: Wigner matrices and spherical harmonics against e3nn, edge frames, layouts."""

import math

import pytest
import torch
from e3nn import o3

from geoconv.ops import so3
from geoconv.ops.so3 import default_dtype
from geoconv.testing import random_rotation

F64 = torch.float64


def e3nn_block_diagonal(rotation: torch.Tensor, lmax: int) -> torch.Tensor:
    """D(R) assembled from e3nn's irreps (independent of geoconv's construction)."""
    with default_dtype(F64):
        return torch.block_diag(*[o3.Irrep(l, 1).D_from_matrix(rotation) for l in range(lmax + 1)])


def test_wigner_D_matches_e3nn():
    generator = torch.Generator().manual_seed(0)
    alpha, beta, gamma = (torch.rand(6, generator=generator, dtype=F64) * 2 * math.pi for _ in range(3))
    for l in range(7):
        ours = so3.wigner_D(l, alpha, beta, gamma)
        assert ours.shape == (6, 2 * l + 1, 2 * l + 1)
        with default_dtype(F64):
            reference = o3.wigner_D(l, alpha, beta, gamma)
        torch.testing.assert_close(ours, reference, atol=1e-12, rtol=0)


def test_wigner_D_from_matrix_matches_e3nn_and_is_a_representation():
    generator = torch.Generator().manual_seed(1)
    first, second = random_rotation(F64, generator), random_rotation(F64, generator)
    lmax = 4
    ours = so3.wigner_D_from_matrix(torch.stack([first, second]), lmax)
    torch.testing.assert_close(ours[0], e3nn_block_diagonal(first, lmax), atol=1e-12, rtol=0)
    product = so3.wigner_D_from_matrix(first @ second, lmax)
    torch.testing.assert_close(product, ours[0] @ ours[1], atol=1e-12, rtol=0)
    torch.testing.assert_close(ours[0] @ ours[0].T, torch.eye(25, dtype=F64), atol=1e-12, rtol=0)
    torch.testing.assert_close(so3.wigner_D_from_matrix(torch.eye(3, dtype=F64), lmax), torch.eye(25, dtype=F64))


def test_spherical_harmonics_rotate_with_wigner_D():
    generator = torch.Generator().manual_seed(2)
    vectors = torch.randn(10, 3, generator=generator, dtype=F64)
    rotation = random_rotation(F64, generator)
    lmax = 5
    rotated = so3.spherical_harmonics(lmax, vectors @ rotation.T)
    expected = so3.spherical_harmonics(lmax, vectors) @ so3.wigner_D_from_matrix(rotation, lmax).T
    torch.testing.assert_close(rotated, expected, atol=1e-11, rtol=0)


def test_y_is_the_polar_axis():
    values = so3.spherical_harmonics(3, torch.tensor([[0.0, 2.0, 0.0]], dtype=F64))[0]
    # component normalisation: Y^l_0(e_y) = sqrt(2l+1), every m != 0 vanishes.
    expected = torch.zeros(16, dtype=F64)
    for l in range(4):
        expected[l * l + l] = math.sqrt(2 * l + 1)
    torch.testing.assert_close(values, expected, atol=1e-12, rtol=0)
    # l = 1 is (x, y, z) up to the normalisation.
    vector = torch.tensor([[0.3, -0.5, 0.8]], dtype=F64)
    torch.testing.assert_close(so3.spherical_harmonics(1, vector, normalize=False)[0, 1:], math.sqrt(3) * vector[0])


def test_matrix_angles_round_trip():
    generator = torch.Generator().manual_seed(3)
    rotations = torch.stack([random_rotation(F64, generator) for _ in range(5)])
    torch.testing.assert_close(so3.angles_to_matrix(*so3.matrix_to_angles(rotations)), rotations, atol=1e-12, rtol=0)
    alpha, beta = so3.xyz_to_angles(rotations[:, :, 1])
    y_axis = torch.tensor([0.0, 1.0, 0.0], dtype=F64)
    torch.testing.assert_close(so3.angles_to_matrix(alpha, beta, torch.zeros_like(alpha)) @ y_axis, rotations[:, :, 1])


def edge_vectors() -> torch.Tensor:
    generator = torch.Generator().manual_seed(4)
    special = torch.tensor([
        [0.0, 1.0, 0.0], [0.0, -3.0, 0.0],  # exactly on the polar axis
        [0.1, 0.95, 0.0], [0.0, 0.9, 0.4358898943540674],  # at / near the chart boundary |y| = 0.9
        [1.0, 0.0, 0.0], [0.0, 0.0, -2.0], [0.0, 0.0, 0.0],  # axes and a zero vector
    ], dtype=F64)
    return torch.cat([special, torch.randn(40, 3, generator=generator, dtype=F64)])


@pytest.mark.parametrize("lmax,mmax", [(3, 3), (4, 2), (2, 0)])
def test_edge_frame_maps_the_edge_to_the_y_axis(lmax, mmax):
    vectors = edge_vectors()
    frame = so3.edge_frame(vectors, lmax, mmax)
    assert frame.valid.tolist() == [True] * 6 + [False] + [True] * 40
    harmonics = so3.spherical_harmonics(lmax, vectors).unsqueeze(-1)
    in_frame = frame.to_frame(harmonics)[frame.valid]
    axis = so3.spherical_harmonics(lmax, torch.tensor([0.0, 1.0, 0.0], dtype=F64))
    expected = torch.stack([axis[l * l + l + m] for l, m in so3.frame_layout(lmax, mmax)])
    torch.testing.assert_close(in_frame[..., 0], expected.expand_as(in_frame[..., 0]), atol=1e-12, rtol=0)


def test_edge_frame_blocks_are_rows_of_a_rotation():
    vectors = edge_vectors()
    lmax = 3
    full = so3.edge_frame(vectors, lmax)
    for l, block in enumerate(full.blocks):
        torch.testing.assert_close(block @ block.transpose(1, 2), torch.eye(2 * l + 1, dtype=F64).expand_as(block),
                                   atol=1e-12, rtol=0)
    x = torch.randn(len(vectors), 16, 5, dtype=F64)
    torch.testing.assert_close(full.from_frame(full.to_frame(x)), x, atol=1e-12, rtol=0)
    # Truncating orders is a projection.
    truncated = so3.edge_frame(vectors, lmax, 1)
    once = truncated.from_frame(truncated.to_frame(x))
    torch.testing.assert_close(truncated.from_frame(truncated.to_frame(once)), once, atol=1e-12, rtol=0)


@pytest.mark.parametrize("mmax", [0, 1, 3])
def test_from_frame_order_zero_is_from_frame_of_the_m0_coefficients(mmax):
    vectors = edge_vectors()
    lmax = 3
    frame = so3.edge_frame(vectors, lmax, mmax)
    y = torch.randn(len(vectors), lmax + 1, 5, dtype=F64)
    padded = torch.zeros(len(vectors), frame.num_frame_coefficients, 5, dtype=F64)
    padded[:, :lmax + 1] = y  # the m = 0 coefficients come first in the layout
    torch.testing.assert_close(frame.from_frame_order_zero(y), frame.from_frame(padded), atol=1e-12, rtol=0)


def test_edge_frame_is_deterministic_and_frames_differ_by_a_roll():
    vectors = edge_vectors()[7:]
    rotation = random_rotation(F64, torch.Generator().manual_seed(5))
    first = so3.edge_frame(vectors, 2)
    again = so3.edge_frame(vectors, 2)
    for a, b in zip(first.blocks, again.blocks):
        assert torch.equal(a, b)
    rotated = so3.edge_frame(vectors @ rotation.T, 2)
    wigner = so3.wigner_D_from_matrix(rotation, 2)
    for l in range(3):
        # D(R_e') D(R) D(R_e)^T is a rotation about y: it only couples orders m and -m.
        roll = rotated.blocks[l] @ wigner[l * l:(l + 1) ** 2, l * l:(l + 1) ** 2] @ first.blocks[l].transpose(1, 2)
        orders = torch.arange(-l, l + 1)
        coupled = (orders.view(-1, 1).abs() == orders.view(1, -1).abs())
        if l > 0:
            assert roll[:, ~coupled].abs().max() < 1e-12
        torch.testing.assert_close(roll[:, l, l], torch.ones(len(vectors), dtype=F64), atol=1e-12, rtol=0)


def test_edge_frame_gradients_are_finite_and_correct():
    vectors = edge_vectors().requires_grad_(True)
    frame = so3.edge_frame(vectors, 3, 2)
    sum(block.sum() for block in frame.blocks).backward()
    assert torch.isfinite(vectors.grad).all()

    # A frame-independent quantity: Y(r) rotated into the frame and back, which is Y(r) itself.
    def round_trip(v: torch.Tensor) -> torch.Tensor:
        harmonics = so3.spherical_harmonics(2, v).unsqueeze(-1)
        return so3.edge_frame(v, 2).from_frame(so3.edge_frame(v, 2).to_frame(harmonics * v.norm(dim=1).view(-1, 1, 1)))

    sample = torch.tensor([[0.3, 0.2, -0.7], [0.1, 0.99, 0.05], [0.0, -1.0, 0.0]], dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(round_trip, (sample,))


def test_layout_tables():
    assert so3.num_coefficients(3) == 16
    assert so3.degree_index(2).tolist() == [0, 1, 1, 1, 2, 2, 2, 2, 2]
    assert so3.frame_layout(2, 1) == ((0, 0), (1, 0), (2, 0), (1, 1), (2, 1), (1, -1), (2, -1))
    assert len(so3.frame_layout(6, 6)) == 49
    assert len(so3.frame_layout(6, 2)) == 7 + 2 * 6 + 2 * 5


def test_wigner_D_works_in_float32_and_on_empty_batches():
    angles = torch.rand(3, 4)
    ours = so3.wigner_D(2, *angles)
    assert ours.dtype == torch.float32
    torch.testing.assert_close(ours, o3.wigner_D(2, *angles.double()).float(), atol=1e-5, rtol=0)
    frame = so3.edge_frame(torch.zeros(0, 3), 2, 1)
    assert frame.to_frame(torch.zeros(0, 9, 4)).shape == (0, 7, 4)
    assert frame.from_frame(torch.zeros(0, 7, 4)).shape == (0, 9, 4)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="mmax must be an integer in"):
        so3.edge_frame(torch.randn(3, 3), 2, 3)
    with pytest.raises(ValueError, match="lmax must be a non-negative integer"):
        so3.frame_layout(-1, 0)
    with pytest.raises(ValueError, match=r"edge_vec must have shape \[E, 3\]"):
        so3.edge_frame(torch.randn(3, 2), 2)
    with pytest.raises(TypeError, match="edge_vec must be floating point"):
        so3.edge_frame(torch.ones(3, 3, dtype=torch.long), 2)
    with pytest.raises(ValueError, match=r"vectors must have shape \[..., 3\]"):
        so3.spherical_harmonics(2, torch.randn(4, 2))
    with pytest.raises(ValueError, match=r"rotation must have shape \[..., 3, 3\]"):
        so3.matrix_to_angles(torch.randn(2, 3))
    frame = so3.edge_frame(torch.randn(5, 3), 2, 1)
    with pytest.raises(ValueError, match=r"features must have shape \[E=5, L=9, C\]"):
        frame.to_frame(torch.randn(5, 4, 2))
    with pytest.raises(ValueError, match=r"frame features must have shape \[E=5, Lm=7, C\]"):
        frame.from_frame(torch.randn(5, 9, 2))


def test_frame_blocks_are_the_frame_features_cut_by_order():
    vectors = edge_vectors()
    frame = so3.edge_frame(vectors, 3, 2)
    x = torch.randn(len(vectors), 16, 5, dtype=F64)
    blocks = frame.to_frame_blocks(x)
    assert [block.shape[1] for block in blocks] == [4, 3, 3, 2, 2]
    y = frame.to_frame(x)
    torch.testing.assert_close(torch.cat(blocks, dim=1), y, atol=0, rtol=0)
    torch.testing.assert_close(frame.from_frame(blocks), frame.from_frame(y), atol=0, rtol=0)
    with pytest.raises(ValueError, match=r"frame features must have shape"):
        frame.from_frame(blocks[:-1])
