"""DegreeLinear, DegreeNorm, NodeFeedForward: equivariance under Wigner-D rotations, normalisation."""

import torch

from geoconv.nn import DegreeLinear, DegreeNorm, NodeFeedForward
from geoconv.ops import wigner_D_from_matrix
from geoconv.testing import random_rotation

F64 = torch.float64


def test_node_blocks_are_equivariant():
    rotation = random_rotation(F64, torch.Generator().manual_seed(9))
    wigner = wigner_D_from_matrix(rotation, 3)
    x = torch.randn(4, 16, 5, dtype=F64)
    for block in (DegreeLinear(5, 5, lmax=3), DegreeNorm(5, lmax=3), NodeFeedForward(5, 7, lmax=3)):
        block = block.double()
        torch.testing.assert_close(block(wigner @ x), wigner @ block(x), atol=1e-12, rtol=0)
    # DegreeNorm: unit mean square per degree (with unit weights).
    normed = DegreeNorm(5, lmax=3).double()(x)
    torch.testing.assert_close(normed[:, 4:9].square().mean(dim=(1, 2)), torch.ones(4, dtype=F64), atol=1e-5, rtol=0)
