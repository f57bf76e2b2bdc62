"""Sheaf Laplacian ops: algebraic properties in float64, sparse == dense reference, errors."""

import pytest
import torch
from torch.testing import assert_close

from geoconv.ops import to_undirected
from geoconv.ops.sheaf import (
    append_fixed_stalk_dims,
    cayley_orthogonal,
    dense_sheaf_laplacian,
    householder_orthogonal,
    normalize_sheaf_laplacian,
    reverse_edge_pairing,
    sheaf_laplacian,
    sheaf_laplacian_matmul,
    sheaf_laplacian_to_dense,
    symmetrize_sheaf,
)

F64 = torch.float64


def undirected_graph(num_nodes=7, num_edges=12, seed=0, self_loops=True):
    generator = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, num_nodes, (2, num_edges), generator=generator)
    if self_loops:
        edge_index = torch.cat([edge_index, torch.tensor([[2], [2]])], dim=1)
    edge_index, _ = to_undirected(edge_index, None, num_nodes)
    return edge_index


def connected_graph():
    # A path 0-1-2-3-4 plus a chord 0-3 and an extra node 5 attached to 4.
    edge_index = torch.tensor([[0, 1, 2, 3, 0, 4], [1, 2, 3, 4, 3, 5]])
    return to_undirected(edge_index, None, 6)[0], 6


def random_maps(kind, num_edges, d, seed=0, dtype=F64):
    generator = torch.Generator().manual_seed(seed)
    if kind == "diag":
        return torch.randn(num_edges, d, generator=generator, dtype=dtype)
    if kind == "general":
        return torch.randn(num_edges, d, d, generator=generator, dtype=dtype)
    params = torch.randn(num_edges, d * (d - 1) // 2, generator=generator, dtype=dtype)
    return householder_orthogonal(params, d)


def graph_laplacian(edge_index, num_nodes):
    adjacency = torch.zeros(num_nodes, num_nodes, dtype=F64)
    keep = edge_index[0] != edge_index[1]
    adjacency[edge_index[0, keep], edge_index[1, keep]] = 1.0
    degree = adjacency.sum(1)
    return torch.diag(degree) - adjacency, adjacency, degree


def test_reverse_edge_pairing_table():
    edge_index = torch.tensor([[0, 1, 1, 2, 3, 1], [1, 0, 2, 1, 3, 2]])  # duplicate 1->2 needs two reverses
    with pytest.raises(ValueError, match="not symmetric.*no reverse"):
        reverse_edge_pairing(edge_index, 4)
    edge_index = torch.tensor([[0, 1, 1, 2, 3], [1, 0, 2, 1, 3]])
    assert reverse_edge_pairing(edge_index, 4).tolist() == [1, 0, 3, 2, 4]
    assert reverse_edge_pairing(torch.zeros(2, 0, dtype=torch.long), 3).tolist() == []


def test_identity_maps_d1_give_graph_laplacian_and_normalised_form():
    edge_index = undirected_graph()
    num_nodes = 7
    laplacian_ref, adjacency, degree = graph_laplacian(edge_index, num_nodes)
    maps = torch.ones(edge_index.shape[1], 1, dtype=F64)
    laplacian = sheaf_laplacian(edge_index, maps, num_nodes)
    assert_close(sheaf_laplacian_to_dense(laplacian), laplacian_ref, atol=1e-12, rtol=0)
    inverse_sqrt = torch.where(degree > 0, degree.clamp(min=1).rsqrt(), torch.zeros_like(degree))
    # Isolated nodes have a zero row (D^{-1/2} pseudo-inverted), i.e. I - D^-1/2 A D^-1/2 on the non-isolated ones.
    expected = torch.diag((degree > 0).to(F64)) - inverse_sqrt[:, None] * adjacency * inverse_sqrt[None, :]
    normalised = normalize_sheaf_laplacian(laplacian)
    assert_close(sheaf_laplacian_to_dense(normalised), expected, atol=1e-12, rtol=0)
    # The same through the matrix (general) path with 1x1 identity matrices.
    general = normalize_sheaf_laplacian(sheaf_laplacian(edge_index, maps.unsqueeze(-1), num_nodes))
    assert_close(sheaf_laplacian_to_dense(general), expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("kind", ["diag", "general", "orthogonal"])
@pytest.mark.parametrize("normalised,augmented", [(False, False), (True, False), (True, True)])
def test_sparse_equals_dense_reference_symmetric_psd(kind, normalised, augmented):
    edge_index = undirected_graph(seed=1)
    num_nodes, d = 7, 3
    maps = random_maps(kind, edge_index.shape[1], d, seed=2)
    laplacian = sheaf_laplacian(edge_index, maps, num_nodes)
    if normalised:
        laplacian = normalize_sheaf_laplacian(laplacian, augmented=augmented,
                                              diagonal_blocks=kind == "orthogonal")
    dense = sheaf_laplacian_to_dense(laplacian)
    reference = dense_sheaf_laplacian(edge_index, maps, num_nodes, normalize=normalised, augmented=augmented)
    assert_close(dense, reference, atol=1e-10, rtol=0)
    assert_close(dense, dense.T, atol=1e-12, rtol=0)
    eigenvalues = torch.linalg.eigvalsh(dense)
    assert eigenvalues.min() > -1e-10
    if normalised:
        assert eigenvalues.max() < 2 + 1e-10
    x = torch.randn(num_nodes, d, 4, dtype=F64, generator=torch.Generator().manual_seed(3))
    applied = sheaf_laplacian_matmul(laplacian, x)
    assert_close(applied.reshape(num_nodes * d, 4), reference @ x.reshape(num_nodes * d, 4), atol=1e-10, rtol=0)


def test_orthogonal_closed_form_equals_eigh_path():
    edge_index = undirected_graph(seed=4)
    maps = random_maps("orthogonal", edge_index.shape[1], 4, seed=5)
    weights = torch.rand(edge_index.shape[1], dtype=F64, generator=torch.Generator().manual_seed(6))
    weights = weights * weights[reverse_edge_pairing(edge_index, 7)]
    laplacian = sheaf_laplacian(edge_index, maps, 7, edge_weight=weights)
    closed = normalize_sheaf_laplacian(laplacian, augmented=True, diagonal_blocks=True)
    eigh = normalize_sheaf_laplacian(laplacian, augmented=True)
    assert_close(sheaf_laplacian_to_dense(closed), sheaf_laplacian_to_dense(eigh), atol=1e-12, rtol=0)


@pytest.mark.parametrize("kind", ["diag", "general", "orthogonal"])
def test_global_sections_are_in_the_kernel(kind):
    edge_index, num_nodes = connected_graph()
    d = 3
    if kind == "diag":
        maps = torch.ones(edge_index.shape[1], d, dtype=F64)
        x = torch.randn(1, d, 2, dtype=F64).expand(num_nodes, d, 2)
    else:
        # A consistent sheaf: F_{u<e} = R_e Q_u^T for node frames Q_u; its global sections are x_u = Q_u c.
        generator = torch.Generator().manual_seed(7)
        frames = householder_orthogonal(torch.randn(num_nodes, 3, dtype=F64, generator=generator), d)
        edge_frames = random_maps("orthogonal" if kind == "orthogonal" else "general", edge_index.shape[1], d, seed=8)
        reverse = reverse_edge_pairing(edge_index, num_nodes)
        canonical = torch.minimum(torch.arange(edge_index.shape[1]), reverse)
        maps = edge_frames[canonical] @ frames[edge_index[0]].transpose(1, 2)
        x = frames @ torch.randn(1, d, 2, dtype=F64, generator=generator)
    laplacian = sheaf_laplacian(edge_index, maps, num_nodes)
    assert_close(sheaf_laplacian_matmul(laplacian, x), torch.zeros_like(x), atol=1e-10, rtol=0)
    if kind != "general":
        # D is a multiple of I per node here, and ker(D^-1/2 L D^-1/2) = D^{1/2} ker(L).
        normalised = normalize_sheaf_laplacian(laplacian, diagonal_blocks=kind == "orthogonal")
        x_normalised = x * laplacian_degree(edge_index, num_nodes).sqrt().view(-1, 1, 1)
        assert_close(sheaf_laplacian_matmul(normalised, x_normalised), torch.zeros_like(x), atol=1e-10, rtol=0)


def laplacian_degree(edge_index, num_nodes):
    return torch.bincount(edge_index[0], minlength=num_nodes).to(F64)


@pytest.mark.parametrize("construct", [householder_orthogonal, cayley_orthogonal])
@pytest.mark.parametrize("d", [2, 3, 5])
def test_orthogonal_maps_are_orthogonal(construct, d):
    generator = torch.Generator().manual_seed(d)
    for dtype, tolerance in ((torch.float32, 1e-6), (F64, 1e-12)):
        params = 3 * torch.randn(200, d * (d - 1) // 2, generator=generator).to(dtype)
        maps = construct(params, d)
        identity = torch.eye(d, dtype=dtype).expand(200, d, d)
        assert (maps.transpose(1, 2) @ maps - identity).abs().max() < tolerance
        assert (maps @ maps.transpose(1, 2) - identity).abs().max() < tolerance
    if construct is cayley_orthogonal:
        assert_close(torch.linalg.det(maps), torch.ones(200, dtype=F64))
    else:
        assert_close(torch.linalg.det(maps), torch.full((200,), (-1.0) ** d, dtype=F64))
    with pytest.raises(ValueError, match=r"d\(d-1\)/2"):
        construct(torch.zeros(4, d * (d - 1) // 2 + 1), d)


def test_signed_and_asymmetric_sheaves_from_one_direction_edges():
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 0]])  # a triangle, each edge once
    _, adjacency, degree = graph_laplacian(to_undirected(edge_index, None, 3)[0], 3)
    ones = torch.ones(3, 1, dtype=F64)
    both, maps, reverse = symmetrize_sheaf(edge_index, ones, -ones)  # signed edges
    assert torch.equal(reverse, reverse_edge_pairing(both, 3))
    signed = sheaf_laplacian(both, maps, 3, reverse=reverse)
    assert_close(sheaf_laplacian_to_dense(signed), torch.diag(degree) + adjacency)  # signless Laplacian D + A
    # Asymmetric relation: F_u = [[1, 0]], F_v = [[0, 2]] style maps given as d x d matrices.
    source = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]], dtype=F64).expand(3, 2, 2)
    target = torch.tensor([[[0.0, 2.0], [0.0, 0.0]]], dtype=F64).expand(3, 2, 2)
    both, maps, reverse = symmetrize_sheaf(edge_index, source, target)
    dense = sheaf_laplacian_to_dense(sheaf_laplacian(both, maps, 3, reverse=reverse))
    assert_close(dense, dense_sheaf_laplacian(both, maps, 3))
    x = torch.zeros(3, 2, dtype=F64)
    x[:, 0] = 2.0
    x[:, 1] = 1.0  # F_u x_u = 2 = F_v x_v on every edge: a global section
    assert_close(dense @ x.reshape(-1), torch.zeros(6, dtype=F64))
    with pytest.raises(ValueError, match="same shape"):
        symmetrize_sheaf(edge_index, ones, torch.ones(3, 2, dtype=F64))


def test_fixed_stalk_dims():
    edge_index = undirected_graph(seed=9, self_loops=False)
    laplacian_ref, adjacency, degree = graph_laplacian(edge_index, 7)
    learned = torch.randn(edge_index.shape[1], 2, 2, dtype=F64)
    maps = append_fixed_stalk_dims(learned, edge_index, low_pass=True, high_pass=True)
    assert maps.shape == (edge_index.shape[1], 4, 4)
    dense = sheaf_laplacian_to_dense(sheaf_laplacian(edge_index, maps, 7)).reshape(7, 4, 7, 4)
    assert_close(dense[:, 2, :, 2], laplacian_ref)
    assert_close(dense[:, 3, :, 3], torch.diag(degree) + adjacency)
    assert_close(dense[:, :2, :, 2:], torch.zeros(7, 2, 7, 2, dtype=F64))
    diagonal = append_fixed_stalk_dims(torch.randn(edge_index.shape[1], 2, dtype=F64), edge_index, low_pass=True)
    assert diagonal.shape == (edge_index.shape[1], 3) and bool((diagonal[:, 2] == 1).all())


def test_self_loops_and_empty_graphs():
    edge_index = torch.tensor([[0, 0, 1, 1], [0, 1, 0, 1]])
    maps = torch.randn(4, 2, 2, dtype=F64)
    laplacian = sheaf_laplacian(edge_index, maps, 3)
    without = sheaf_laplacian(edge_index[:, 1:3], maps[1:3], 3)
    assert_close(sheaf_laplacian_to_dense(laplacian), sheaf_laplacian_to_dense(without))
    empty = sheaf_laplacian(torch.zeros(2, 0, dtype=torch.long), torch.zeros(0, 2, dtype=F64), 3)
    normalised = normalize_sheaf_laplacian(empty)
    assert_close(sheaf_laplacian_to_dense(normalised), torch.zeros(6, 6, dtype=F64))
    x = torch.randn(3, 2, 5, dtype=F64)
    assert_close(sheaf_laplacian_matmul(normalised, x), torch.zeros_like(x))


@pytest.mark.parametrize("kind", ["diag", "general"])
def test_gradcheck(kind):
    edge_index = undirected_graph(num_nodes=4, num_edges=4, seed=10, self_loops=False)
    maps = random_maps(kind, edge_index.shape[1], 2, seed=11).requires_grad_()
    x = torch.randn(4, 2, 3, dtype=F64, requires_grad=True)

    def fn(maps, x):
        laplacian = normalize_sheaf_laplacian(sheaf_laplacian(edge_index, maps, 4), augmented=True,
                                              eps=torch.tensor([1e-3, -1e-3], dtype=F64))
        return sheaf_laplacian_matmul(laplacian, x)

    assert torch.autograd.gradcheck(fn, (maps, x))


def test_errors():
    edge_index = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match=r"restriction_maps must be \[E, d\]"):
        sheaf_laplacian(edge_index, torch.zeros(2), 2)
    with pytest.raises(ValueError, match="must be square"):
        sheaf_laplacian(edge_index, torch.zeros(2, 2, 3), 2)
    with pytest.raises(ValueError, match="has 3 rows but edge_index has 2 edges"):
        sheaf_laplacian(edge_index, torch.zeros(3, 2), 2)
    with pytest.raises(ValueError, match="not symmetric"):
        sheaf_laplacian(torch.tensor([[0], [1]]), torch.zeros(1, 2), 2)
    laplacian = sheaf_laplacian(edge_index, torch.ones(2, 2), 2)
    with pytest.raises(ValueError, match=r"x must be \[N=2, d=2, C\]"):
        sheaf_laplacian_matmul(laplacian, torch.zeros(2, 3, 1))


def test_eigh_normalisation_gradient_is_finite_for_repeated_eigenvalues():
    # Orthogonal maps make every D_v a multiple of I (all eigenvalues repeated): the eigh path's
    # gradient must still be finite and equal the closed form's.
    edge_index = undirected_graph(num_nodes=5, num_edges=8, seed=12, self_loops=False)
    params = torch.randn(edge_index.shape[1], 3, dtype=F64, generator=torch.Generator().manual_seed(13))
    x = torch.randn(5, 3, 2, dtype=F64, generator=torch.Generator().manual_seed(14))
    gradients = []
    for diagonal_blocks in (True, False):
        leaf = params.clone().requires_grad_()
        laplacian = sheaf_laplacian(edge_index, householder_orthogonal(leaf, 3), 5)
        normalised = normalize_sheaf_laplacian(laplacian, augmented=True, diagonal_blocks=diagonal_blocks)
        sheaf_laplacian_matmul(normalised, x).square().sum().backward()
        gradients.append(leaf.grad)
    assert torch.isfinite(gradients[1]).all()
    assert_close(gradients[1], gradients[0], atol=1e-9, rtol=1e-7)
