"""SO2BottleneckConvolution: equality with the complex product it stands for (roll equivariance: test_so2_convolution.py)."""

import pytest
import torch
import torch.nn.functional as F

from geoconv.nn import SO2BottleneckConvolution

F64 = torch.float64


def sizes(lmax: int, mmax: int) -> list[int]:
    return [lmax + 1] + [lmax - m + 1 for m in range(1, mmax + 1) for _ in range(2)]


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
