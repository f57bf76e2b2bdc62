"""SO2BottleneckConvolution: roll equivariance, and equality with the complex product it stands for."""

import pytest
import torch
import torch.nn.functional as F

from geoconv.nn import SO2BottleneckConvolution
from geoconv.ops import frame_layout, wigner_D

F64 = torch.float64


def roll_matrix(gamma: float, lmax: int, mmax: int) -> torch.Tensor:
    """The rotation by gamma about the edge (y) axis, in the frame layout."""
    zero = torch.tensor(0.0, dtype=F64)
    full = torch.block_diag(*[wigner_D(l, zero, zero, torch.tensor(gamma, dtype=F64)) for l in range(lmax + 1)])
    keep = [l * l + l + m for l, m in frame_layout(lmax, mmax)]
    return full[keep][:, keep]


def sizes(lmax: int, mmax: int) -> list[int]:
    return [lmax + 1] + [lmax - m + 1 for m in range(1, mmax + 1) for _ in range(2)]


@pytest.mark.parametrize("lmax,mmax", [(2, 2), (3, 1), (4, 3)])
def test_commutes_with_rolls_about_the_edge(lmax, mmax):
    torch.manual_seed(0)
    conv = SO2BottleneckConvolution(3, 4, lmax=lmax, mmax=mmax, edge_channels=5).double()
    x = torch.randn(6, len(frame_layout(lmax, mmax)), 3, dtype=F64)
    embedding = torch.randn(6, 5, dtype=F64)
    roll = roll_matrix(0.7, lmax, mmax)

    def apply(features):
        return torch.cat(conv(features.split(sizes(lmax, mmax), dim=1), embedding), dim=1)

    torch.testing.assert_close(apply(roll @ x), roll @ apply(x), atol=1e-12, rtol=0)
    assert (roll @ x - x).abs().max() > 0.1  # the roll moves the m != 0 coefficients


def test_equals_the_complex_bottleneck_product():
    torch.manual_seed(1)
    lmax, mmax, channels, hidden = 3, 2, 2, 5
    conv = SO2BottleneckConvolution(channels, hidden, lmax=lmax, mmax=mmax, edge_channels=4).double()
    blocks = [torch.randn(7, n, channels, dtype=F64) for n in sizes(lmax, mmax)]
    embedding = torch.randn(7, 4, dtype=F64)
    out = conv(blocks, embedding)
    # m = 0: U0 (SiLU(A0 h) * D0 x0).
    expected = (F.silu(embedding @ conv.radial[0].weight.T + conv.radial[0].bias)
                * (blocks[0].flatten(1) @ conv.down_real[0].weight.T)) @ conv.up_real[0].weight.T
    torch.testing.assert_close(out[0].flatten(1), expected)
    for m in range(1, mmax + 1):
        z = torch.complex(blocks[2 * m - 1].flatten(1), blocks[2 * m].flatten(1))  # x_{+m} + i x_{-m}
        gates = F.silu(embedding @ conv.radial[m].weight.T + conv.radial[m].bias)
        gate_real, gate_imag = gates[:, :hidden], gates[:, hidden:]
        real_map = (z @ conv.down_real[m].weight.T.to(z.dtype)) * gate_real @ conv.up_real[m].weight.T.to(z.dtype)
        imag_map = (z @ conv.down_imag[m - 1].weight.T.to(z.dtype)) * gate_imag @ conv.up_imag[m - 1].weight.T.to(z.dtype)
        y = real_map + 1j * imag_map
        torch.testing.assert_close(out[2 * m - 1].flatten(1), y.real)
        torch.testing.assert_close(out[2 * m].flatten(1), y.imag)


def test_wrong_blocks_are_an_error():
    conv = SO2BottleneckConvolution(3, 4, lmax=2, mmax=1, edge_channels=5)
    with pytest.raises(ValueError, match="blocks must be 3 tensors"):
        conv([torch.randn(2, 3, 3)], torch.randn(2, 5))
