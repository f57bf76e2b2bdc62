r"""MeshCNN's edge-collapse pooling, vectorised: rounds of independent collapses.

MeshCNN pools a mesh by collapsing edges in order of increasing feature
magnitude :math:`\lVert x_e \rVert^2` until a target edge count is reached.
Collapsing an interior edge :math:`e = (p, q)` with faces :math:`(p, q, w)` and
:math:`(q, p, x)` merges :math:`q` into :math:`p` (placed at the midpoint),
deletes the two faces and merges the edges :math:`(q, w), (p, w)` into one,
likewise :math:`(q, x), (p, x)`: three edges, two faces and one vertex
disappear, so the Euler characteristic :math:`V - E + F` is unchanged.  The
features of a merged edge are the mean over the input edges it absorbed
(``e`` is absorbed by both merged edges, as in MeshCNN's ``MeshUnion``).

The reference code pops edges from a heap one at a time in Python.  Here each
round

1. builds the edge/face incidence of the current mesh with sort/unique/scatter;
2. marks the collapsible edges: interior, not both end points on the boundary,
   not merging two boundary edges, not the two valence-3 vertices of a
   tetrahedron, and (checked only for the edges about to be collapsed) the
   *link condition*: :math:`p` and :math:`q` have exactly the two common
   neighbours :math:`w, x`.  Together these are the conditions of Dey et al.
   (1999) under which a collapse keeps a 2-manifold (with boundary) a manifold
   of the same topology;
3. picks a set of collapsible edges no two of which are within one edge of each
   other (end points at graph distance >= 2): an edge is picked when its rank
   is the smallest among the candidates in that neighbourhood (the parallel
   greedy rule), repeated until the set is maximal.  Such collapses touch
   disjoint stars, so applying them at once equals applying them one by one;
4. collapses them all with tensor ops.

Only the ``needed`` lowest-ranked candidates of each mesh compete in a round
(``needed`` = collapses still to do), so collapses follow the feature order
closely; the last round keeps exactly as many as needed.

**Exact counts.** Interior collapses remove 3 edges.  On a closed mesh the edge
count is always a multiple of 3 (:math:`2E = 3F` gives :math:`E = 3(V - \chi)`),
so a target :math:`T` is reachable iff :math:`M - T \equiv 0 \pmod 3`; other
targets raise a :class:`MeshPoolError` naming the nearest valid ones.  A mesh
with boundary first collapses one or two boundary edges (2 edges each: one
face, one vertex) to fix :math:`M - T \bmod 3`, then interior edges.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from geoconv.ops.mesh import MeshTopology, _next_prev, _topology_from_half_edges, edge_keys
from geoconv.ops.scatter import scatter

__all__ = ["MeshPoolError", "MeshPoolResult", "mesh_pool", "mesh_unpool", "collapse_priority"]


class MeshPoolError(ValueError):
    """The target edge count cannot be reached (names the mesh, its edge count and the target)."""


class MeshPoolResult(NamedTuple):
    """Output of :func:`mesh_pool`.

    Fields:
        x: ``[M', C]`` pooled edge features (mean over each output edge's input edges).
        pos: ``[V', 3]`` vertices (merged vertices sit at the midpoint of the collapsed edge).
        face: ``[F', 3]`` triangles.
        topology: :class:`~geoconv.ops.mesh.MeshTopology` of the pooled mesh (edges, neighbours).
        node_ptr: ``[G + 1]`` vertex offsets per mesh.
        edge_ptr: ``[G + 1]`` edge offsets per mesh (edges of mesh ``g`` are contiguous).
        assignment: ``[2, P]`` int64 pairs (output edge, input edge); a pair may repeat
            (an edge absorbed twice counts twice in the mean, as in MeshCNN).
        num_input_edges: ``M``.
    """

    x: Tensor
    pos: Tensor
    face: Tensor
    topology: MeshTopology
    node_ptr: Tensor
    edge_ptr: Tensor
    assignment: Tensor
    num_input_edges: int


def collapse_priority(x: Tensor) -> Tensor:
    """MeshCNN's collapse order: squared feature norm per edge ``[M]`` (smallest collapses first)."""
    return x.detach().pow(2).sum(dim=1)


class _Incidence(NamedTuple):
    first: Tensor            # [M] first half-edge of each edge
    last: Tensor             # [M] last half-edge (== first on the boundary)
    interior: Tensor         # [M] bool
    side: Tensor             # [M, 4] the two other edges of the first face, then of the last face
    degree: Tensor           # [V]
    boundary_vertex: Tensor  # [V] bool


def _take(values: Tensor, index: Tensor) -> Tensor:
    """``values[index]`` along dim 0 (index_select is several times faster than ``[]`` on CPU)."""
    return values.index_select(0, index)


def _where(mask: Tensor) -> Tensor:
    return mask.nonzero().view(-1)


def _spread(flag: Tensor, lo: Tensor, hi: Tensor) -> Tensor:
    """``flag`` on vertices, extended to their neighbours (uint8)."""
    out = flag.clone()
    out.scatter_reduce_(0, lo, _take(flag, hi), "amax")
    out.scatter_reduce_(0, hi, _take(flag, lo), "amax")
    return out


def _incidence(lo: Tensor, hi: Tensor, face: Tensor, edge_of_half: Tensor, num_nodes: int) -> _Incidence:
    num_edges, num_half = lo.numel(), edge_of_half.numel()
    device = lo.device
    half = torch.arange(num_half, device=device)
    first = torch.full((num_edges,), num_half, dtype=torch.long, device=device)
    first.scatter_reduce_(0, edge_of_half, half, "amin")
    last = torch.full((num_edges,), -1, dtype=torch.long, device=device)
    last.scatter_reduce_(0, edge_of_half, half, "amax")
    interior = first != last
    next_of, prev_of = _next_prev(face.shape[0], device)
    side = torch.stack([_take(edge_of_half, _take(next_of, first)), _take(edge_of_half, _take(prev_of, first)),
                        _take(edge_of_half, _take(next_of, last)), _take(edge_of_half, _take(prev_of, last))], dim=1)
    degree = torch.bincount(torch.cat([lo, hi]), minlength=num_nodes)
    on_boundary = (~interior).to(torch.uint8)
    boundary_vertex = torch.zeros(num_nodes, dtype=torch.uint8, device=device)
    boundary_vertex.scatter_reduce_(0, lo, on_boundary, "amax")
    boundary_vertex.scatter_reduce_(0, hi, on_boundary, "amax")
    return _Incidence(first, last, interior, side, degree, boundary_vertex.bool())


def _collapsible(inc: _Incidence, lo: Tensor, hi: Tensor, boundary: bool) -> Tensor:
    """The local conditions; the link condition is checked later, for picked edges only."""
    side_boundary = ~_take(inc.interior, inc.side.reshape(-1)).view(-1, 4)
    no_ear = ~(side_boundary[:, 0] & side_boundary[:, 1])
    if boundary:
        # a boundary edge whose face does not have its two other edges on the boundary too
        return ~inc.interior & no_ear
    bv_lo, bv_hi = _take(inc.boundary_vertex, lo), _take(inc.boundary_vertex, hi)
    # the two valence-3 end points of a tetrahedron would leave a double face behind
    tetrahedron = (_take(inc.degree, lo) == 3) & (_take(inc.degree, hi) == 3) & ~bv_lo & ~bv_hi
    return inc.interior & ~(bv_lo & bv_hi) & ~tetrahedron & no_ear & ~(side_boundary[:, 2] & side_boundary[:, 3])


def _local_minima(candidate: Tensor, lo: Tensor, hi: Tensor, num_nodes: int) -> Tensor:
    """Candidates that come first among the candidates with an end point within one edge of theirs.

    Edges are stored in priority order, so an edge's rank is its position.
    """
    big = lo.numel()
    rank = torch.arange(big, device=lo.device)
    value = torch.where(candidate, rank, big)
    m1 = torch.full((num_nodes,), big, dtype=torch.long, device=lo.device)
    m1.scatter_reduce_(0, lo, value, "amin")
    m1.scatter_reduce_(0, hi, value, "amin")
    m2 = m1.clone()
    m2.scatter_reduce_(0, lo, _take(m1, hi), "amin")
    m2.scatter_reduce_(0, hi, _take(m1, lo), "amin")
    return candidate & (rank == torch.minimum(_take(m2, lo), _take(m2, hi)))


def _link_ok(chosen: Tensor, lo: Tensor, hi: Tensor, interior: Tensor, num_nodes: int) -> Tensor:
    """Link condition for pairwise independent edges (p, q): as many common neighbours as faces.

    The end points of independent edges are distinct, so each one names its edge.
    """
    device = lo.device
    owner = torch.full((num_nodes,), -1, dtype=torch.long, device=device)
    ids = torch.arange(chosen.numel(), device=device)
    owner[_take(lo, chosen)] = ids
    owner[_take(hi, chosen)] = ids
    src, dst = torch.cat([lo, hi]), torch.cat([hi, lo])
    owner_of_src = _take(owner, src)
    owned = _where(owner_of_src >= 0)
    pair = _take(owner_of_src, owned) * num_nodes + _take(dst, owned)
    # a neighbour listed from both end points of the same edge appears twice
    pair = torch.sort(pair).values
    repeated = pair[1:][pair[1:] == pair[:-1]]
    common = torch.bincount(torch.div(repeated, num_nodes, rounding_mode="floor"), minlength=chosen.numel())
    return common == torch.where(_take(interior, chosen), 2, 1)


def _first_per_graph(mask: Tensor, graph_ptr: Tensor, graph: Tensor, size: Tensor) -> Tensor:
    """The first ``size[g]`` entries of ``mask`` within each graph's contiguous block."""
    total = torch.cumsum(mask.long(), 0)
    before = _take(torch.cat([total.new_zeros(1), total]), graph_ptr[:-1])
    position = total - 1 - _take(before, graph)
    return mask & (position < _take(size, graph))


def _pick(candidate: Tensor, valid: Tensor, failed: Tensor, inc: _Incidence, lo: Tensor, hi: Tensor,
          num_nodes: int, graph: Tensor, graph_ptr: Tensor, size: Tensor, allowed: Tensor) -> Tensor:
    """A maximal set of independent collapsible edges of the window, at most ``allowed[g]`` per mesh."""
    picked = torch.zeros_like(candidate)
    blocked = torch.zeros_like(candidate)
    while True:
        pool = candidate & ~blocked & ~picked
        if not bool(pool.any()):
            break
        chosen = _where(_local_minima(pool, lo, hi, num_nodes))
        ok = _link_ok(chosen, lo, hi, inc.interior, num_nodes)
        if not bool(ok.all()):
            # drop the failures and refill the window (the passing edges stay local minima)
            bad = chosen[~ok]
            failed[bad] = True
            valid[bad] = False
            candidate = _first_per_graph(valid, graph_ptr, graph, size)
            chosen = chosen[ok]
        picked[chosen] = True
        near = torch.zeros(num_nodes, dtype=torch.uint8, device=lo.device)
        near[_take(lo, chosen)] = 1
        near[_take(hi, chosen)] = 1
        near = _spread(near, lo, hi).bool()
        blocked |= _take(near, lo) | _take(near, hi)
    return _first_per_graph(picked, graph_ptr, graph, allowed)


def mesh_pool(
    x: Tensor,
    edge_index: Tensor,
    face: Tensor,
    pos: Tensor,
    target: int | Tensor,
    *,
    node_ptr: Tensor | None = None,
    face_edge: Tensor | None = None,
    priority: Tensor | None = None,
    window_factor: int = 8,
) -> MeshPoolResult:
    """Collapse edges of (a batch of) manifold triangle meshes down to ``target`` edges each.

    Args:
        x: ``[M, C]`` edge features, row ``i`` belonging to edge ``edge_index[:, i]``.
        edge_index: ``[2, M]`` int64 the mesh's edges, each undirected edge once (any order and direction).
        face: ``[F, 3]`` int64 triangles of a manifold mesh (as accepted by
            :func:`~geoconv.ops.mesh.check_mesh`).
        pos: ``[V, 3]`` vertices.
        target: edge count after pooling, one int for every mesh or ``[G]``.
        node_ptr: ``[G + 1]`` vertex offsets of the meshes of a batch (default: one mesh).
            Faces and edges must not connect different meshes.
        face_edge: ``[F, 3]`` optional index into the edges of each face side
            (:attr:`MeshTopology.face_edge`); found by matching vertex pairs when omitted.
        priority: ``[M]`` collapse order (smallest first); default :func:`collapse_priority`.
        window_factor: each round only the ``window_factor * needed`` first collapsible
            edges of a mesh compete (``needed`` = collapses still to do): 1 follows the
            priority order most closely, larger values need fewer rounds.

    Returns:
        :class:`MeshPoolResult`; gradients flow to ``x`` through the means.

    Raises:
        MeshPoolError: a target above the current count, a target no sequence of
            manifold-preserving collapses reaches (see the module docstring), or a mesh
            that runs out of collapsible edges (e.g. a tetrahedron).
    """
    device = x.device
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise MeshPoolError(f"edge_index must have shape [2, M], got {list(edge_index.shape)}")
    edge = edge_index.t()
    num_nodes = pos.shape[0]
    num_input = edge.shape[0]
    if x.shape[0] != num_input:
        raise MeshPoolError(f"x has {x.shape[0]} rows but there are {num_input} edges")
    if node_ptr is None:
        node_ptr = torch.tensor([0, num_nodes], device=device)
    num_graphs = node_ptr.numel() - 1
    vertex_graph = torch.repeat_interleave(torch.arange(num_graphs, device=device), node_ptr[1:] - node_ptr[:-1])
    if face_edge is None:
        face_edge = _match_face_edges(face, edge, num_nodes)
    # store the edges sorted by (mesh, priority): then an edge's rank is its position
    if priority is None:
        priority = collapse_priority(x)
    order = torch.argsort(priority.detach(), stable=True)
    order = order[torch.argsort(vertex_graph[edge[order, 0]], stable=True)]
    position = torch.empty_like(order)
    position[order] = torch.arange(num_input, device=device)
    lo = torch.minimum(edge[order, 0], edge[order, 1])
    hi = torch.maximum(edge[order, 0], edge[order, 1])
    graph = vertex_graph[lo]
    edge_of_half = position[face_edge.reshape(-1)]
    faces_per_edge = torch.bincount(edge_of_half, minlength=num_input)
    if num_input and int(faces_per_edge.min()) == 0:
        bad = int(order[(faces_per_edge == 0).nonzero()[0, 0]])
        raise MeshPoolError(f"edge {bad} = {edge[bad].tolist()} belongs to no face")
    if num_input and int(faces_per_edge.max()) > 2:
        bad = int(order[(faces_per_edge > 2).nonzero()[0, 0]])
        raise MeshPoolError(f"edge {bad} = {edge[bad].tolist()} is shared by more than two faces (non-manifold)")
    member_out = torch.arange(num_input, device=device)
    member_in = order

    target = torch.as_tensor(target, dtype=torch.long, device=device).expand(num_graphs).clone()
    counts = torch.bincount(graph, minlength=num_graphs)
    need = counts - target
    has_boundary = torch.zeros(num_graphs, dtype=torch.bool, device=device)
    has_boundary[graph[faces_per_edge == 1]] = True
    _check_targets(need, target, has_boundary)
    # one or two boundary collapses (2 edges each) make the remaining count a multiple of 3
    quota = torch.tensor([0, 2, 1], device=device)[need % 3]

    pos = pos.detach().clone()
    alive = torch.ones(num_nodes, dtype=torch.bool, device=device)
    failed = torch.zeros(num_input, dtype=torch.bool, device=device)
    while True:
        boundary_phase = bool((quota > 0).any())
        allowed = quota if boundary_phase else torch.div(need, 3, rounding_mode="floor")
        if not bool((allowed > 0).any()):
            break
        inc = _incidence(lo, hi, face, edge_of_half, num_nodes)
        graph_ptr = torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)])
        valid = _collapsible(inc, lo, hi, boundary_phase) & (allowed[graph] > 0) & ~failed
        size = allowed * window_factor
        candidate = _first_per_graph(valid, graph_ptr, graph, size)
        picked = _pick(candidate, valid, failed, inc, lo, hi, num_nodes, graph, graph_ptr, size, allowed)
        done = torch.bincount(graph[picked], minlength=num_graphs)
        stuck = (allowed > 0) & (done == 0)
        if bool(stuck.any()):
            g = int(stuck.nonzero()[0, 0])
            kind = "boundary" if boundary_phase else "interior"
            raise MeshPoolError(
                f"mesh {g} of the batch has {int(counts[g])} edges and no collapsible {kind} edge is left "
                f"to reach {int(target[g])} edges without breaking manifoldness"
            )
        lo, hi, graph, face, edge_of_half, member_out, member_in, failed = _collapse(
            picked, inc, lo, hi, graph, face, edge_of_half, member_out, member_in, failed, pos, alive, num_nodes)
        counts = torch.bincount(graph, minlength=num_graphs)
        if boundary_phase:
            quota = quota - done
        need = counts - target
    return _finish(x, pos, face, edge_of_half, member_out, member_in, alive, vertex_graph, num_graphs, num_input)


def _match_face_edges(face: Tensor, edge: Tensor, num_nodes: int) -> Tensor:
    """Index into ``edge`` of every face side ``[F, 3]``."""
    keys, perm = torch.sort(edge_keys(edge[:, 0], edge[:, 1], num_nodes))
    if keys.numel() > 1 and bool((keys[1:] == keys[:-1]).any()):
        raise MeshPoolError("edge lists an undirected edge twice")
    half_keys = edge_keys(face.reshape(-1), face[:, [1, 2, 0]].reshape(-1), num_nodes)
    if half_keys.numel() == 0:
        return face.new_zeros(face.shape)
    found = torch.searchsorted(keys, half_keys).clamp(max=max(keys.numel() - 1, 0))
    if keys.numel() == 0 or not bool((keys[found] == half_keys).all()):
        bad = int((keys[found] != half_keys).nonzero()[0, 0]) if keys.numel() else 0
        raise MeshPoolError(f"face {bad // 3} = {face[bad // 3].tolist()} has an edge that is missing from edge")
    return perm[found].view(-1, 3)


def _check_targets(need: Tensor, target: Tensor, has_boundary: Tensor) -> None:
    current = need + target
    for g in (need < 0).nonzero().view(-1).tolist():
        raise MeshPoolError(f"mesh {g} of the batch has {int(current[g])} edges, fewer than the target {int(target[g])}")
    for g in ((need % 3 != 0) & ~has_boundary).nonzero().view(-1).tolist():
        m, t = int(current[g]), int(target[g])
        below, above = t - (t - m) % 3, t + (m - t) % 3
        raise MeshPoolError(
            f"mesh {g} of the batch is closed with {m} edges: a closed triangle mesh always has a multiple of 3 "
            f"edges (E = 3(V - chi)), so the target {t} is unreachable; use {below} or {min(above, m)}"
        )
    for g in ((need == 1) & has_boundary).nonzero().view(-1).tolist():
        raise MeshPoolError(
            f"mesh {g} of the batch has {int(current[g])} edges: removing exactly one edge is impossible "
            f"(a collapse removes 2 or 3); use target {int(target[g]) - 1}"
        )


def _collapse(picked, inc, lo, hi, graph, face, edge_of_half, member_out, member_in, failed, pos, alive, num_nodes):
    """Apply the independent collapses ``picked``: ``hi`` merges into ``lo`` at the midpoint."""
    device = lo.device
    index = _where(picked)
    p, q = _take(lo, index), _take(hi, index)
    vertex_map = torch.arange(num_nodes, device=device)
    vertex_map[q] = p
    pos[p] = 0.5 * (pos[p] + pos[q])
    alive[q] = False
    # vertices whose neighbourhood changes: their edges get a fresh link test
    near = torch.zeros(num_nodes, dtype=torch.uint8, device=device)
    near[p] = 1
    near[q] = 1
    near = _spread(near, lo, hi).bool()
    dead_face = torch.zeros(face.shape[0], dtype=torch.bool, device=device)
    dead_face[torch.div(_take(inc.first, index), 3, rounding_mode="floor")] = True
    dead_face[torch.div(_take(inc.last, index), 3, rounding_mode="floor")] = True
    live_face = _where(~dead_face)
    # the two other edges of each deleted face merge; the higher-priority one (smaller position) survives,
    # which keeps the edge array sorted by priority
    side = _take(inc.side, index)
    survivor = torch.cat([torch.minimum(side[:, 0], side[:, 1]), torch.minimum(side[:, 2], side[:, 3])])
    dropped = torch.cat([torch.maximum(side[:, 0], side[:, 1]), torch.maximum(side[:, 2], side[:, 3])])
    redirect = torch.arange(lo.numel(), device=device)
    redirect[dropped] = survivor
    keep = ~picked
    keep[dropped] = False
    kept = _where(keep)
    old_to_new = _take(torch.cumsum(keep.long(), 0) - 1, redirect)
    a, b = _take(vertex_map, _take(lo, kept)), _take(vertex_map, _take(hi, kept))
    new_lo, new_hi = torch.minimum(a, b), torch.maximum(a, b)
    face = _take(vertex_map, _take(face, live_face).view(-1)).view(-1, 3)
    edge_of_half = _take(old_to_new, _take(edge_of_half.view(-1, 3), live_face).view(-1))
    # a collapsed edge is absorbed by the merged edge of each of its faces
    collapsed = _take(picked, member_out)
    stay = _where(~collapsed)
    gone_at = _where(collapsed)
    gone = _take(member_out, gone_at)
    gone_in = _take(member_in, gone_at)
    two_sided = _where(_take(inc.interior, gone))
    member_out = torch.cat([_take(old_to_new, _take(member_out, stay)),
                            _take(old_to_new, _take(inc.side[:, 0], gone)),
                            _take(old_to_new, _take(inc.side[:, 2], _take(gone, two_sided)))])
    member_in = torch.cat([_take(member_in, stay), gone_in, _take(gone_in, two_sided)])
    failed = _take(failed, kept) & ~(_take(near, new_lo) | _take(near, new_hi))
    return new_lo, new_hi, _take(graph, kept), face, edge_of_half, member_out, member_in, failed


def _finish(x, pos, face, edge_of_half, member_out, member_in, alive, vertex_graph, num_graphs, num_input):
    device = x.device
    new_id = torch.cumsum(alive.long(), 0) - 1
    num_out_nodes = int(alive.sum())
    face = new_id[face]
    num_edges = int(edge_of_half.max()) + 1 if edge_of_half.numel() else 0
    topology = _topology_from_half_edges(face, edge_of_half, num_edges)
    mine_to_topology = torch.empty(num_edges, dtype=torch.long, device=device)
    mine_to_topology[edge_of_half] = topology.face_edge.reshape(-1)
    out = mine_to_topology[member_out]
    pooled = scatter(x[member_in], out, 0, num_edges, "mean")
    out_graph = vertex_graph[alive]
    node_counts = torch.bincount(out_graph, minlength=num_graphs)
    edge_counts = torch.bincount(out_graph[topology.edge_index[0]], minlength=num_graphs)
    zero = torch.zeros(1, dtype=torch.long, device=device)
    node_ptr = torch.cat([zero, torch.cumsum(node_counts, 0)])
    edge_ptr = torch.cat([zero, torch.cumsum(edge_counts, 0)])
    return MeshPoolResult(pooled, pos[alive], face, topology, node_ptr, edge_ptr,
                          torch.stack([out, member_in]), num_input)

def mesh_unpool(x: Tensor, assignment: Tensor, num_edges: int) -> Tensor:
    r"""Undo the resolution change of :func:`mesh_pool` (MeshCNN's ``MeshUnpool``).

    .. math::
        y_i = \frac{1}{|\{j : (j, i) \in A\}|} \sum_{(j, i) \in A} x_j

    every input edge ``i`` gets the mean of the pooled edges ``j`` that absorbed it.

    Shapes:
        x: ``[M', C]``; assignment: ``[2, P]`` from :class:`MeshPoolResult`; output: ``[num_edges, C]``.
    """
    return scatter(x[assignment[0]], assignment[1], 0, num_edges, "mean")
