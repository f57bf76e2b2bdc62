r"""Radial functions of edge lengths: a Gaussian basis and a smooth cutoff envelope."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def gaussian_basis(distance: Tensor, *, start: float = 0.0, stop: float = 5.0, num_basis: int = 32) -> Tensor:
    r"""Gaussians on evenly spaced centres :math:`\mu_k` (SchNet's radial basis).

    .. math::
        \phi_k(d) = \exp\!\big(-(d - \mu_k)^2 / (2\sigma^2)\big),\quad
        \mu_k = \mathrm{start} + k\,\sigma,\quad \sigma = (\mathrm{stop}-\mathrm{start})/(K-1)

    Shapes:
        distance: ``[E]``; output ``[E, K]``.
    """
    if num_basis < 2:
        raise ValueError(f"num_basis must be at least 2, got {num_basis}")
    if not stop > start:
        raise ValueError(f"stop must be larger than start, got start={start}, stop={stop}")
    centres = torch.linspace(start, stop, num_basis, device=distance.device, dtype=distance.dtype)
    width = (stop - start) / (num_basis - 1)
    return torch.exp(-0.5 * ((distance.unsqueeze(-1) - centres) / width) ** 2)


def cosine_cutoff(distance: Tensor, cutoff: float) -> Tensor:
    r"""The envelope :math:`\tfrac12(\cos(\pi d / r_c) + 1)` for :math:`d < r_c`, else 0.

    It goes to 0 with zero slope at :math:`r_c`, so that a model's output stays smooth when an
    atom crosses the cutoff.  Shapes: ``distance [...]`` -> same shape.
    """
    if not cutoff > 0:
        raise ValueError(f"cutoff must be positive, got {cutoff}")
    envelope = 0.5 * (torch.cos(distance * (math.pi / cutoff)) + 1.0)
    return torch.where(distance < cutoff, envelope, torch.zeros_like(envelope))
