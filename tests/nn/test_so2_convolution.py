"""SO2Convolution: roll equivariance (with SO2BottleneckConvolution's), and equality with e3nn's full SO(3) tensor product."""


import pytest
import torch
from e3nn import o3

from geoconv.nn import SO2BottleneckConvolution, SO2Convolution
from geoconv.ops import edge_frame, frame_layout, spherical_harmonics, wigner_D
from geoconv.ops.so3 import default_dtype

F64 = torch.float64


def roll_matrix(gamma: float, lmax: int, mmax: int) -> torch.Tensor:
    """The rotation by gamma about the edge (y) axis, in the frame layout."""
    full = torch.block_diag(*[wigner_D(l, torch.tensor(0.0, dtype=F64), torch.tensor(0.0, dtype=F64),
                                       torch.tensor(gamma, dtype=F64)) for l in range(lmax + 1)])
    keep = [l * l + l + m for l, m in frame_layout(lmax, mmax)]
    return full[keep][:, keep]


@pytest.mark.parametrize("bottleneck", [False, True], ids=["SO2Convolution", "SO2BottleneckConvolution"])
@pytest.mark.parametrize("lmax,mmax", [(2, 2), (3, 1), (4, 3)])
def test_commutes_with_rolls_about_the_edge(lmax, mmax, bottleneck):
    torch.manual_seed(0)
    x = torch.randn(6, len(frame_layout(lmax, mmax)), 3, dtype=F64)
    embedding = torch.randn(6, 5, dtype=F64)
    if bottleneck:  # SO2BottleneckConvolution (eSCN's release) works on the blocks of one order
        layer = SO2BottleneckConvolution(3, 4, lmax=lmax, mmax=mmax, edge_channels=5).double()
        sizes = [lmax + 1] + [lmax - m + 1 for m in range(1, mmax + 1) for _ in range(2)]

        def conv(features, edge_embedding):
            return torch.cat(layer(features.split(sizes, dim=1), edge_embedding), dim=1)
    else:
        conv = SO2Convolution(3, 4, lmax=lmax, mmax=mmax, edge_channels=5).double()
    roll = roll_matrix(0.7, lmax, mmax)
    torch.testing.assert_close(conv(roll @ x, embedding), roll @ conv(x, embedding), atol=1e-12, rtol=0)
    # The roll really moves the m != 0 coefficients (the test is not vacuous).
    assert (roll @ x - x).abs().max() > 0.1


def to_e3nn(x: torch.Tensor, lmax: int) -> torch.Tensor:
    """[E, L, C] -> e3nn's flat layout of C x (0e + 1e + ... ) (multiplicity-major within each degree)."""
    return torch.cat([x[:, l * l:(l + 1) ** 2].transpose(1, 2).reshape(x.shape[0], -1) for l in range(lmax + 1)], dim=1)


def from_e3nn(flat: torch.Tensor, lmax: int, channels: int) -> torch.Tensor:
    parts, start = [], 0
    for l in range(lmax + 1):
        size = channels * (2 * l + 1)
        parts.append(flat[:, start:start + size].view(-1, channels, 2 * l + 1).transpose(1, 2))
        start += size
    return torch.cat(parts, dim=1)


def full_tensor_product(lmax: int, in_channels: int, out_channels: int) -> o3.FullyConnectedTensorProduct:
    """x (degrees <= lmax) (x) Y(r) (degrees <= 2 lmax) -> degrees <= lmax, every path allowed (all parities even)."""
    with default_dtype(F64):
        return o3.FullyConnectedTensorProduct(
            o3.Irreps([(in_channels, (l, 1)) for l in range(lmax + 1)]),
            o3.Irreps([(1, (l, 1)) for l in range(2 * lmax + 1)]),
            o3.Irreps([(out_channels, (l, 1)) for l in range(lmax + 1)]),
            shared_weights=True, internal_weights=False,
        )


def so2_weights_from_tensor_product(tp, weight: torch.Tensor, lmax: int, in_channels: int, out_channels: int):
    """Map the tensor product's weights onto an SO2Convolution with mmax = lmax.

    In the edge frame Y(r) = Y(e_y), so the tensor product is a fixed linear map A of x; the
    SO(2) weights are read off A: W0 from the m = 0 rows/columns, W1 (W2) from the +m -> +m
    (+m -> -m) blocks.  Also returns A for structural checks.
    """
    size = (lmax + 1) ** 2
    basis = torch.eye(size * in_channels, dtype=F64).view(-1, size, in_channels)
    axis = spherical_harmonics(2 * lmax, torch.tensor([[0.0, 1.0, 0.0]], dtype=F64)).expand(basis.shape[0], -1)
    images = from_e3nn(tp(to_e3nn(basis, lmax), axis, weight), lmax, out_channels)  # [L*Cin, L, Cout]
    operator = images.reshape(size, in_channels, size, out_channels)  # [l_i m_i, c_i, l_o m_o, c_o]

    def block(m_in: int, m_out: int, m: int) -> torch.Tensor:
        rows = [l * l + l + m_in for l in range(m, lmax + 1)]
        cols = [l * l + l + m_out for l in range(m, lmax + 1)]
        return operator[rows][:, :, cols].reshape(len(rows) * in_channels, len(cols) * out_channels)

    conv = SO2Convolution(in_channels, out_channels, lmax=lmax, mmax=lmax, bias=False).double()
    with torch.no_grad():
        conv.weight_0.copy_(block(0, 0, 0))
        for m in range(1, lmax + 1):
            conv.weights[m - 1].copy_(torch.cat([block(m, m, m), block(m, -m, m)], dim=1))
    return conv, operator, block


@pytest.mark.parametrize("lmax", [1, 2])
def test_reproduces_the_full_so3_tensor_product(lmax):
    in_channels, out_channels = 2, 3
    tp = full_tensor_product(lmax, in_channels, out_channels)
    generator = torch.Generator().manual_seed(lmax)
    weight = torch.randn(tp.weight_numel, generator=generator, dtype=F64)
    conv, operator, block = so2_weights_from_tensor_product(tp, weight, lmax, in_channels, out_channels)

    # The frame operator has the complex structure of an SO(2)-equivariant map...
    for m in range(1, lmax + 1):
        torch.testing.assert_close(block(-m, -m, m), block(m, m, m), atol=1e-12, rtol=0)
        torch.testing.assert_close(block(-m, m, m), -block(m, -m, m), atol=1e-12, rtol=0)
    # ...and never couples different |m|.
    size = (lmax + 1) ** 2
    orders = torch.tensor([m for l in range(lmax + 1) for m in range(-l, l + 1)])
    uncoupled = orders.abs().view(-1, 1) != orders.abs().view(1, -1)
    assert operator.permute(0, 2, 1, 3).reshape(size, size, -1)[uncoupled].abs().max() < 1e-12

    # Both give the same messages for random edges and features.
    vectors = torch.randn(20, 3, generator=generator, dtype=F64)
    x = torch.randn(20, size, in_channels, generator=generator, dtype=F64)
    frame = edge_frame(vectors, lmax, lmax)
    ours = frame.from_frame(conv(frame.to_frame(x)))
    theirs = from_e3nn(tp(to_e3nn(x, lmax), spherical_harmonics(2 * lmax, vectors), weight), lmax, out_channels)
    torch.testing.assert_close(ours, theirs, atol=1e-10, rtol=0)


def test_the_weight_map_is_a_bijection():
    # One channel, lmax = 2: the tensor product has 19 paths (l_i, l_f, l_o) and the SO(2)
    # convolution 19 weights (9 for m = 0, 2 x 4 for m = 1, 2 x 1 for m = 2); the linear map
    # between them has full rank, so the two families of layers are the same.
    lmax = 2
    tp = full_tensor_product(lmax, 1, 1)
    conv = SO2Convolution(1, 1, lmax=lmax, bias=False)
    assert tp.weight_numel == sum(p.numel() for p in conv.parameters()) == 19
    images = []
    for i in range(tp.weight_numel):
        weight = torch.zeros(tp.weight_numel, dtype=F64)
        weight[i] = 1.0
        mapped, _, _ = so2_weights_from_tensor_product(tp, weight, lmax, 1, 1)
        images.append(torch.cat([p.detach().flatten() for p in mapped.parameters()]))
    assert torch.linalg.matrix_rank(torch.stack(images)) == 19


def test_shapes_gradcheck_and_empty_input():
    conv = SO2Convolution(2, 3, lmax=2, mmax=1, edge_channels=4).double()
    x = torch.randn(5, 7, 2, dtype=F64, requires_grad=True)
    embedding = torch.randn(5, 4, dtype=F64, requires_grad=True)
    assert conv(x, embedding).shape == (5, 7, 3)
    assert torch.autograd.gradcheck(lambda a, b: conv(a, b), (x, embedding))
    assert conv(torch.zeros(0, 7, 2, dtype=F64), torch.zeros(0, 4, dtype=F64)).shape == (0, 7, 3)
    assert "lmax=2, mmax=1, edge_channels=4" in repr(conv)


def test_bad_inputs_raise_clear_errors():
    conv = SO2Convolution(2, 3, lmax=2, mmax=1, edge_channels=4)
    with pytest.raises(ValueError, match=r"x must have shape \[E, Lm=7, C=2\]"):
        conv(torch.randn(5, 9, 2), torch.randn(5, 4))
    with pytest.raises(ValueError, match=r"edge_embedding must have shape \[E=5, D=4\]"):
        conv(torch.randn(5, 7, 2))
    with pytest.raises(ValueError, match="edge_channels=None"):
        SO2Convolution(2, 3, lmax=2)(torch.randn(5, 9, 2), torch.randn(5, 4))
    with pytest.raises(ValueError, match="mmax must be an integer"):
        SO2Convolution(2, 3, lmax=2, mmax=3)
    with pytest.raises(ValueError, match="channels must be positive"):
        SO2Convolution(0, 3, lmax=2)


@pytest.mark.parametrize("degrees", [1, 3, 4])
def test_order_zero_is_forward_on_inputs_zero_outside_the_lowest_m0_degrees(degrees):
    torch.manual_seed(0)
    lmax, mmax = 3, 2
    conv = SO2Convolution(3, 4, lmax=lmax, mmax=mmax, edge_channels=5).double()
    values = torch.randn(6, degrees, 3, dtype=F64)
    embedding = torch.randn(6, 5, dtype=F64)
    x = torch.zeros(6, len(frame_layout(lmax, mmax)), 3, dtype=F64)
    x[:, :degrees] = values  # the m = 0 coefficients come first in the layout
    full = conv(x, embedding)
    torch.testing.assert_close(conv.order_zero(values, embedding), full[:, :lmax + 1], atol=1e-12, rtol=0)
    assert full[:, lmax + 1:].abs().max() == 0
    with pytest.raises(ValueError, match=r"x must have shape \[E, d, C=3\]"):
        conv.order_zero(torch.randn(6, lmax + 2, 3, dtype=F64), embedding)


def test_forward_blocks_is_forward_cut_by_order():
    torch.manual_seed(0)
    conv = SO2Convolution(3, 4, lmax=3, mmax=2, edge_channels=5).double()
    x = torch.randn(6, len(frame_layout(3, 2)), 3, dtype=F64)
    embedding = torch.randn(6, 5, dtype=F64)
    blocks = conv.forward_blocks(x.split([4, 3, 3, 2, 2], dim=1), embedding)
    assert [tuple(block.shape) for block in blocks] == [(6, 4, 4), (6, 3, 4), (6, 3, 4), (6, 2, 4), (6, 2, 4)]
    torch.testing.assert_close(torch.cat(blocks, dim=1), conv(x, embedding), atol=0, rtol=0)
    with pytest.raises(ValueError, match=r"blocks must be 5 tensors"):
        conv.forward_blocks(x.split([4, 3, 3, 4], dim=1), embedding)
