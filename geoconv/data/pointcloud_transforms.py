"""Point-cloud transforms: functions Graph -> Graph on ``pos`` (and the node tensor ``normal``).

Random transforms take an optional ``generator`` (default: torch's global RNG) so
that a pipeline can be made reproducible.  Compose them with
:func:`geoconv.data.transforms.compose` and :func:`functools.partial`::

    augment = compose([partial(random_scale, low=2 / 3, high=3 / 2), partial(jitter, sigma=0.01)])

Normals are transformed as normals: rotated with the points, and multiplied by
the inverse scale (then renormalised) under anisotropic scaling, so that they stay
perpendicular to the scaled surface.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from geoconv.data.graph import Graph


def _pos(graph: Graph, what: str) -> Tensor:
    if graph.pos is None:
        raise ValueError(f"{what} needs node positions pos [N, 3]")
    return graph.pos


def _with(graph: Graph, pos: Tensor, normal: Tensor | None) -> Graph:
    new = graph.replace(pos=pos)
    if normal is not None:
        new.set("normal", normal, "node")
    return new


def _normal(graph: Graph) -> Tensor | None:
    return graph.normal if "normal" in graph else None


def normalize_to_unit_sphere(graph: Graph) -> Graph:
    r"""Centre the points at their centroid and scale them into the unit ball.

    .. math::
        p'_i = \frac{p_i - \bar p}{\max_j \lVert p_j - \bar p \rVert}

    (a single point maps to the origin).  Normals are unchanged.
    """
    pos = _pos(graph, "normalize_to_unit_sphere")
    if pos.shape[0] == 0:
        return graph
    centred = pos - pos.mean(dim=0, keepdim=True)
    radius = centred.norm(dim=1).max()
    return graph.replace(pos=centred / radius.clamp(min=torch.finfo(pos.dtype).tiny))


def random_rotation_matrix(
    axis: int | None = None, *, dtype: torch.dtype = torch.float32, generator: torch.Generator | None = None
) -> Tensor:
    """A uniformly random rotation ``[3, 3]``: of SO(3), or about coordinate ``axis`` (0, 1, 2)."""
    if axis is None:
        matrix = torch.randn(3, 3, dtype=torch.float64, generator=generator)
        q, r = torch.linalg.qr(matrix)
        q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)
        if torch.det(q) < 0:
            q[:, 0] = -q[:, 0]
        return q.to(dtype)
    if axis not in (0, 1, 2):
        raise ValueError(f"axis must be 0, 1, 2 or None, got {axis!r}")
    angle = 2 * math.pi * float(torch.rand((), dtype=torch.float64, generator=generator))
    c, s = math.cos(angle), math.sin(angle)
    i, j = [a for a in range(3) if a != axis]
    rotation = torch.eye(3, dtype=torch.float64)
    rotation[i, i], rotation[i, j], rotation[j, i], rotation[j, j] = c, -s, s, c
    return rotation.to(dtype)


def random_rotate(graph: Graph, *, axis: int | None = None, generator: torch.Generator | None = None) -> Graph:
    r"""Rotate points (and normals) by a random rotation :math:`R`: :math:`p'_i = R p_i`.

    Args:
        axis: None for a uniform rotation of SO(3), or 0/1/2 for a uniform angle about that axis
            (e.g. the up axis of ModelNet, ``axis=1`` for the HDF5 release).
    """
    pos = _pos(graph, "random_rotate")
    rotation = random_rotation_matrix(axis, dtype=pos.dtype, generator=generator).to(pos.device)
    normal = _normal(graph)
    return _with(graph, pos @ rotation.T, None if normal is None else normal @ rotation.T)


def random_scale(
    graph: Graph,
    *,
    low: float = 2 / 3,
    high: float = 3 / 2,
    translate: float = 0.0,
    generator: torch.Generator | None = None,
) -> Graph:
    r"""Anisotropic scaling (and optional translation): :math:`p'_i = s \odot p_i + t`.

    :math:`s_a \sim U(\mathrm{low}, \mathrm{high})` per axis, :math:`t_a \sim U(-\mathrm{translate}, \mathrm{translate})`
    (DGCNN's augmentation: ``low=2/3, high=3/2, translate=0.2``).  Normals become
    :math:`n / s` renormalised (the inverse transpose of the scaling).
    """
    pos = _pos(graph, "random_scale")
    if not 0 < low <= high:
        raise ValueError(f"need 0 < low <= high, got low={low}, high={high}")
    dim = pos.shape[1]
    scale = low + (high - low) * torch.rand(dim, dtype=pos.dtype, generator=generator).to(pos.device)
    shift = translate * (2 * torch.rand(dim, dtype=pos.dtype, generator=generator).to(pos.device) - 1)
    normal = _normal(graph)
    if normal is not None:
        normal = normal / scale
        normal = normal / normal.norm(dim=1, keepdim=True).clamp(min=torch.finfo(normal.dtype).tiny)
    return _with(graph, pos * scale + shift, normal)


def jitter(graph: Graph, *, sigma: float = 0.01, clip: float = 0.05, generator: torch.Generator | None = None) -> Graph:
    r"""Add clipped Gaussian noise to every coordinate: :math:`p'_i = p_i + \mathrm{clip}(\varepsilon_i, -c, c)`,
    :math:`\varepsilon_i \sim \mathcal{N}(0, \sigma^2 I)`.  Normals are unchanged."""
    pos = _pos(graph, "jitter")
    if sigma < 0 or clip < 0:
        raise ValueError(f"sigma and clip must be >= 0, got sigma={sigma}, clip={clip}")
    noise = torch.randn(pos.shape, dtype=pos.dtype, generator=generator).to(pos.device)
    return graph.replace(pos=pos + (sigma * noise).clamp(-clip, clip))


def sample_points(
    graph: Graph, num_points: int, *, include_normals: bool = True, generator: torch.Generator | None = None
) -> Graph:
    r"""Sample ``num_points`` points uniformly by area from the triangle mesh ``(pos, face)``.

    A triangle :math:`(a, b, c)` is chosen with probability proportional to its area
    :math:`\tfrac12 \lVert (b - a) \times (c - a) \rVert`, and a point on it as
    :math:`a + u (b - a) + v (c - a)` with :math:`(u, v)` uniform on the unit triangle
    (reflected when :math:`u + v > 1`).  The normal of a point is its triangle's unit
    normal (orientation from the corner order).

    Returns:
        a Graph with ``pos [num_points, 3]``, the node tensor ``normal [num_points, 3]``
        (if ``include_normals``) and the input's graph-level tensors (e.g. ``y``).
    """
    pos = _pos(graph, "sample_points")
    if graph.face is None or graph.face.shape[0] == 0:
        raise ValueError("sample_points needs a triangle mesh: face [F, 3] with at least one face")
    if num_points < 1:
        raise ValueError(f"num_points must be positive, got {num_points}")
    a, b, c = (pos[graph.face[:, corner]] for corner in range(3))
    cross = torch.linalg.cross(b - a, c - a)
    area = cross.norm(dim=1)
    if not bool((area > 0).any()):
        raise ValueError("sample_points: every face of the mesh has zero area")
    face = torch.multinomial(area.double().cpu(), num_points, replacement=True, generator=generator).to(pos.device)
    uv = torch.rand(num_points, 2, dtype=pos.dtype, generator=generator).to(pos.device)
    flip = uv.sum(dim=1) > 1
    uv[flip] = 1 - uv[flip]
    u, v = uv[:, :1], uv[:, 1:]
    points = a[face] + u * (b[face] - a[face]) + v * (c[face] - a[face])
    node_data = {}
    if include_normals:
        node_data["normal"] = cross[face] / area[face].unsqueeze(1)
    graph_data = {name: value for name, value in graph.items() if graph.level_of(name) == "graph"}
    return Graph(pos=points, node_data=node_data, graph_data=graph_data)
