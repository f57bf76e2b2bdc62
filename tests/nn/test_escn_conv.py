"""ESCNConv: rotation equivariance per degree, permutation equivariance, batching, corner cases."""

import pytest
import torch

from geoconv.data import Batch
from geoconv.nn import ESCNConv, FrameGate
from geoconv.ops import frame_layout, spherical_harmonics, wigner_D, wigner_D_from_matrix
from geoconv.testing import graph_cases, random_rotation

F64 = torch.float64


def make_conv(lmax=2, mmax=None, channels=4, dtype=F64, seed=0):
    torch.manual_seed(seed)
    return ESCNConv(channels, lmax=lmax, mmax=mmax, edge_channels=3).to(dtype)


def inputs(num_nodes=6, num_edges=20, lmax=2, channels=4, dtype=F64, seed=1):
    generator = torch.Generator().manual_seed(seed)
    pos = torch.randn(num_nodes, 3, generator=generator, dtype=dtype)
    edge_index = torch.randint(0, num_nodes, (2, num_edges), generator=generator)
    x = torch.randn(num_nodes, (lmax + 1) ** 2, channels, generator=generator, dtype=dtype)
    embedding = torch.randn(num_edges, 3, generator=generator, dtype=dtype)
    return x, pos, edge_index, embedding


def run(conv, x, pos, edge_index, embedding, weight=None):
    return conv(x, edge_index, pos[edge_index[1]] - pos[edge_index[0]], embedding, weight)


@pytest.mark.parametrize("lmax,mmax", [(2, 2), (3, 1), (2, 0)])
def test_rotating_inputs_rotates_every_degree(lmax, mmax):
    conv = make_conv(lmax, mmax)
    x, pos, edge_index, embedding = inputs(lmax=lmax)
    rotation = random_rotation(F64, torch.Generator().manual_seed(2))
    wigner = wigner_D_from_matrix(rotation, lmax)
    out = run(conv, x, pos, edge_index, embedding)
    rotated = run(conv, wigner @ x, pos @ rotation.T + torch.tensor([1.0, -2.0, 0.5], dtype=F64), edge_index, embedding)
    for l in range(lmax + 1):
        block = slice(l * l, (l + 1) ** 2)
        torch.testing.assert_close(rotated[:, block], wigner[block, block] @ out[:, block], atol=1e-9, rtol=0)
    assert out[:, 1:].abs().max() > 1e-3  # the higher degrees are not trivially zero


def test_equivariance_in_float32():
    conv = make_conv(dtype=torch.float32)
    x, pos, edge_index, embedding = inputs(dtype=torch.float32)
    rotation = random_rotation(torch.float32, torch.Generator().manual_seed(3))
    wigner = wigner_D_from_matrix(rotation, 2)
    out = run(conv, x, pos, edge_index, embedding)
    torch.testing.assert_close(run(conv, wigner @ x, pos @ rotation.T, edge_index, embedding), wigner @ out,
                               atol=1e-4, rtol=0)


def test_message_matches_a_dense_reference():
    # One edge 0 -> 1 with mmax = lmax: the message is D^T SO2_2(gate(SO2_1(D [x_0 | x_1]))) at node 1.
    conv = make_conv(lmax=1, mmax=1)
    x, pos, _, _ = inputs(num_nodes=2, lmax=1)
    edge_index = torch.tensor([[0], [1]])
    embedding = torch.randn(1, 3, dtype=F64)
    out = run(conv, x, pos, edge_index, embedding)
    vector = pos[1] - pos[0]
    # Reference frame from scratch: any rotation with R r = |r| e_y; use Rodrigues' formula.
    unit = vector / vector.norm()
    axis = torch.linalg.cross(unit, torch.tensor([0.0, 1.0, 0.0], dtype=F64))
    sine, cosine = axis.norm(), unit[1]
    k = axis / sine
    skew = torch.tensor([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]], dtype=F64)
    rotation = torch.eye(3, dtype=F64) + sine * skew + (1 - cosine) * skew @ skew
    torch.testing.assert_close(rotation @ unit, torch.tensor([0.0, 1.0, 0.0], dtype=F64))
    wigner = wigner_D_from_matrix(rotation, 1)
    keep = [l * l + l + m for l, m in frame_layout(1, 1)]
    features = (wigner @ torch.cat([x[0], x[1]], dim=-1))[keep].unsqueeze(0)
    hidden = conv.conv2(conv.gate(conv.conv1(features, embedding)), embedding)[0]
    full = torch.zeros(4, 4, dtype=F64)
    full[keep] = hidden
    expected = torch.stack([torch.zeros(4, 4, dtype=F64), wigner.T @ full])
    torch.testing.assert_close(out, expected, atol=1e-12, rtol=0)


def test_frame_gate_commutes_with_rolls():
    gate = FrameGate(3, lmax=3, mmax=2).double()
    layout = frame_layout(3, 2)
    full = torch.block_diag(*[wigner_D(l, *torch.tensor([0.0, 0.0, 1.3], dtype=F64)) for l in range(4)])
    keep = [l * l + l + m for l, m in layout]
    roll = full[keep][:, keep]
    x = torch.randn(5, len(layout), 3, dtype=F64)
    torch.testing.assert_close(gate(roll @ x), roll @ gate(x), atol=1e-12, rtol=0)


def test_permutation_equivariance():
    conv = make_conv()
    x, pos, edge_index, embedding = inputs()
    permutation = torch.randperm(6, generator=torch.Generator().manual_seed(4))
    inverse = torch.empty_like(permutation)
    inverse[permutation] = torch.arange(6)
    out = run(conv, x, pos, edge_index, embedding)
    out_permuted = run(conv, x[inverse], pos[inverse], permutation[edge_index], embedding)
    torch.testing.assert_close(out_permuted, out[inverse], atol=1e-12, rtol=0)


def test_corner_case_batch_equals_graph_by_graph():
    conv = make_conv()
    graphs = graph_cases(with_pos=True, dtype=F64)  # self-loop, duplicate edge, empty graphs
    generator = torch.Generator().manual_seed(5)
    features = [torch.randn(g.num_nodes, 9, 4, generator=generator, dtype=F64) for g in graphs]
    embeddings = [torch.randn(g.num_edges, 3, generator=generator, dtype=F64) for g in graphs]
    batch = Batch.from_graphs(graphs)
    out = run(conv, torch.cat(features), batch.pos, batch.edge_index, torch.cat(embeddings))
    assert out.shape == (batch.num_nodes, 9, 4)
    separate = [run(conv, f, g.pos, g.edge_index, e) for f, g, e in zip(features, graphs, embeddings)]
    torch.testing.assert_close(out, torch.cat(separate), atol=1e-12, rtol=0)


def test_zero_length_edges_and_edge_weights():
    conv = make_conv()
    x, pos, _, _ = inputs(num_nodes=3)
    edge_index = torch.tensor([[0, 1, 2], [1, 1, 1]])  # 1 -> 1 is a self-loop: no direction, no message
    embedding = torch.randn(3, 3, dtype=F64)
    with_loop = run(conv, x, pos, edge_index, embedding)
    without = run(conv, x, pos, edge_index[:, [0, 2]], embedding[[0, 2]])
    torch.testing.assert_close(with_loop, without)
    weighted = run(conv, x, pos, edge_index, embedding, torch.tensor([0.0, 1.0, 2.0], dtype=F64))
    only_third = run(conv, x, pos, edge_index[:, [2]], embedding[[2]])
    torch.testing.assert_close(weighted, 2 * only_third)
    # The messages point along the edges: a single edge's l = 1 message is parallel... to nothing
    # in general, but its m = 0 content in the frame is Y(r): check it is not identically zero.
    assert only_third[1].abs().max() > 1e-3


def test_gradcheck_through_positions():
    conv = make_conv(lmax=1, channels=2)
    x, pos, edge_index, embedding = inputs(num_nodes=4, num_edges=6, lmax=1, channels=2)
    pos.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p: run(conv, x, p, edge_index, embedding), (pos,))


def test_bad_inputs_raise_clear_errors():
    conv = make_conv()
    x, pos, edge_index, embedding = inputs()
    vectors = pos[edge_index[1]] - pos[edge_index[0]]
    with pytest.raises(ValueError, match=r"x must have shape \[N, L=9, C=4\] \(or \[N, 1, C=4\]"):
        conv(x[:, :4], edge_index, vectors, embedding)
    with pytest.raises(ValueError, match=r"edge_index must be an int64 tensor of shape \[2, E\]"):
        conv(x, edge_index.int(), vectors, embedding)
    with pytest.raises(ValueError, match=r"edge_vec must have shape \[E=20, 3\]"):
        conv(x, edge_index, vectors[:3], embedding)
    from geoconv.ops import edge_frame

    with pytest.raises(ValueError, match="frame is for lmax=3"):
        conv(x, edge_index, vectors, embedding, frame=edge_frame(vectors, 3, 2))


def test_spherical_harmonics_are_what_a_single_edge_writes_in_m0():
    # With x = 0 except a bias-free path, the message of one edge lies in span{Y^l(r)} per degree
    # when mmax = 0 (only m = 0 survives in the frame).
    conv = make_conv(lmax=2, mmax=0)
    x, pos, _, _ = inputs(num_nodes=2)
    edge_index = torch.tensor([[0], [1]])
    out = run(conv, x, pos, edge_index, torch.randn(1, 3, dtype=F64))[1]
    harmonics = spherical_harmonics(2, pos[1] - pos[0])
    for l in range(1, 3):
        block = slice(l * l, (l + 1) ** 2)
        direction = harmonics[block] / harmonics[block].norm()
        residual = out[block] - direction.unsqueeze(1) * (direction @ out[block])
        assert residual.abs().max() < 1e-12


@pytest.mark.parametrize("lmax,mmax", [(2, 2), (3, 1), (2, 0)])
def test_degree_zero_input_equals_the_zero_padded_one_with_the_same_gradients(lmax, mmax):
    conv = make_conv(lmax, mmax)
    x, pos, _, _ = inputs(num_nodes=4, lmax=lmax)
    edge_index = torch.tensor([[0, 1, 2, 3, 2, 1], [1, 1, 0, 0, 3, 2]])  # 1 -> 1: a zero-length edge
    embedding = torch.randn(6, 3, dtype=F64)
    weight = torch.rand(6, dtype=F64)
    scalars = x[:, :1].clone().requires_grad_(True)
    padded = torch.cat([scalars, torch.zeros_like(x[:, 1:])], dim=1)
    expected = run(conv, padded, pos, edge_index, embedding, weight)
    expected_grads = torch.autograd.grad(expected.square().sum(), [scalars, *conv.parameters()])
    out = run(conv, scalars, pos, edge_index, embedding, weight)
    grads = torch.autograd.grad(out.square().sum(), [scalars, *conv.parameters()])
    torch.testing.assert_close(out, expected, atol=1e-12, rtol=0)
    assert out[:, 1:].abs().max() > 1e-3
    # Every parameter gets a gradient, zero where the zero-padded input gives zero (not None).
    for grad, expected_grad in zip(grads, expected_grads):
        torch.testing.assert_close(grad, expected_grad, atol=1e-12, rtol=0)


def test_frame_gate_on_blocks_is_forward_cut_by_order():
    gate = FrameGate(3, lmax=3, mmax=2).double()
    x = torch.randn(5, len(frame_layout(3, 2)), 3, dtype=F64)
    blocks = gate.forward_blocks(x.split([4, 3, 3, 2, 2], dim=1))
    torch.testing.assert_close(torch.cat(blocks, dim=1), gate(x), atol=0, rtol=0)
