"""Dropout with a uniform-threshold mask."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    r"""Inverted dropout: :math:`y = x \odot m / (1 - p)` with :math:`m_i = [u_i \ge p]`, :math:`u_i \sim U[0, 1)`.

    The same distribution as :func:`torch.nn.functional.dropout` (each entry
    kept with probability ``1 - p``, kept entries scaled by ``1 / (1 - p)``).
    On the CPU the mask is drawn with ``torch.rand`` and one in-place
    comparison, about 3x faster there than the ``bernoulli_`` kernel behind
    ``F.dropout`` (which was the largest single cost of a training step of
    OGB's molecule GCN); other devices use ``F.dropout``'s fused kernel.

    On a sparse COO ``x`` only the stored entries are drawn (zeros stay zero
    either way), which for bag-of-words features is ~100x fewer random numbers.

    Shapes:
        x: any floating-point shape, dense or sparse COO; output: the same.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if x.is_sparse:
        x = x.coalesce()
        # The indices come from a coalesced tensor, so they are valid: say so, which also keeps torch from
        # warning that its invariant checks are off.
        return torch.sparse_coo_tensor(x.indices(), dropout(x.values(), p, True), x.shape,
                                       is_coalesced=True, check_invariants=False)
    if x.device.type != "cpu" or p == 1.0 or not x.is_floating_point():
        return F.dropout(x, p, training)
    # rand >= p in place gives 1.0 / 0.0 in x's dtype; scaling in place avoids another temporary
    mask = torch.rand(x.shape, dtype=x.dtype, device=x.device).ge_(p).mul_(1.0 / (1.0 - p))
    return x * mask
