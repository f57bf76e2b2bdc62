import math

import pytest
import torch
import torch.nn.functional as F

from geoconv.ops.dropout import dropout


def test_keep_rate_scale_and_gradient():
    torch.manual_seed(0)
    x = torch.ones(200_000, dtype=torch.float64, requires_grad=True)
    p = 0.3
    y = dropout(x, p)
    kept = y != 0
    # Bernoulli(1 - p) keep rate within 5 standard errors
    rate = kept.double().mean().item()
    assert abs(rate - (1 - p)) < 5 * math.sqrt(p * (1 - p) / x.numel())
    assert torch.allclose(y[kept], torch.full_like(y[kept], 1 / (1 - p)))
    y.sum().backward()
    torch.testing.assert_close(x.grad, y.detach())  # d y_i / d x_i = m_i / (1 - p)


def test_identity_and_limits():
    x = torch.randn(4, 3)
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0) is x
    assert torch.equal(dropout(x, 1.0), torch.zeros_like(x))
    with pytest.raises(ValueError, match="probability"):
        dropout(x, 1.5)


def test_same_statistics_as_torch_dropout():
    torch.manual_seed(1)
    x = torch.randn(50_000)
    ours, reference = dropout(x, 0.5), F.dropout(x, 0.5)
    assert abs((ours == 0).float().mean() - (reference == 0).float().mean()) < 0.02
    assert abs(ours.pow(2).mean() - reference.pow(2).mean()) < 0.05  # E[y^2] = x^2 / (1 - p)


def test_sparse_dropout_keeps_zeros_and_rescales():
    torch.manual_seed(0)
    x = (torch.rand(200, 50) < 0.1).float()
    dropped = dropout(x.to_sparse(), 0.5, True).to_dense()
    assert ((x == 0) <= (dropped == 0)).all()  # zeros stay zero
    kept = dropped[x != 0]
    assert set(kept.unique().tolist()) <= {0.0, 2.0}  # kept entries scaled by 1 / (1 - p)
    assert 0.4 < (kept == 2.0).float().mean().item() < 0.6
    assert dropout(x.to_sparse(), 0.5, False).to_dense().equal(x)
