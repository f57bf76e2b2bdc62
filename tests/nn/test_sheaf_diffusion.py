"""SheafLearner, SheafDiffusion / NSD models and SheafConv: shapes, equivariance, batching, references."""

import pytest
import torch
from torch.testing import assert_close

import geoconv.models
import geoconv.nn
from geoconv.data import Batch, Graph
from geoconv.models import BundleSheafDiffusion, DiagSheafDiffusion, GeneralSheafDiffusion, SheafDiffusion
from geoconv.nn import SheafConv, SheafLearner
from geoconv.ops import reverse_edge_pairing, to_undirected
from geoconv.testing import assert_permutation_equivariant, graph_cases

F64 = torch.float64
MODELS = {"diag": DiagSheafDiffusion, "orthogonal": BundleSheafDiffusion, "general": GeneralSheafDiffusion}


def undirected(graph: Graph) -> Graph:
    edge_index, _ = to_undirected(graph.edge_index, None, graph.num_nodes)
    return graph.replace(edge_index=edge_index)


def corner_graphs(num_features=4, dtype=F64):
    return [undirected(g) for g in graph_cases(num_features, dtype=dtype)]


def random_undirected(num_nodes=9, num_edges=16, num_features=4, seed=0):
    generator = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, num_nodes, (2, num_edges), generator=generator)
    edge_index, _ = to_undirected(edge_index, None, num_nodes)
    return Graph(x=torch.randn(num_nodes, num_features, generator=generator, dtype=F64), edge_index=edge_index)


def make_model(restriction, **options):
    torch.manual_seed(0)
    return MODELS[restriction](4, 3, 2, stalk_dim=3, num_layers=2, add_low_pass=True, add_high_pass=True,
                               **options).to(F64).eval()


def test_public_names():
    # Models live in geoconv.models only: geoconv.nn holds layers (and must not import models).
    assert not hasattr(geoconv.nn, "SheafDiffusion") and not hasattr(geoconv.nn, "DiagSheafDiffusion")
    assert geoconv.models.SheafDiffusion is SheafDiffusion
    assert issubclass(geoconv.models.DiagSheafDiffusion, SheafDiffusion)


@pytest.mark.parametrize("kind", ["diag", "orthogonal", "general"])
def test_learner_shapes_and_orthogonality(kind):
    graph = random_undirected()
    reverse = reverse_edge_pairing(graph.edge_index, graph.num_nodes)
    for orthogonal_map in ("householder", "cayley"):
        learner = SheafLearner(4, 3, restriction=kind, orthogonal_map=orthogonal_map, edge_weights=True).to(F64)
        maps, weights = learner(graph.x, graph.edge_index, reverse)
        assert maps.shape == ((graph.num_edges, 3) if kind == "diag" else (graph.num_edges, 3, 3))
        assert_close(weights, weights[reverse])  # symmetric edge weights
        if kind == "orthogonal":
            assert (maps.transpose(1, 2) @ maps - torch.eye(3, dtype=F64)).abs().max() < 1e-6
    # The two ends of an edge generally get different maps (ordered concatenation).
    assert not torch.allclose(maps, maps[reverse])


@pytest.mark.parametrize("restriction", ["diag", "orthogonal", "general"])
def test_corner_case_batch_shapes_and_batch_consistency(restriction):
    model = make_model(restriction)
    graphs = corner_graphs()
    batch = Batch.from_graphs(graphs)
    out = model(batch)
    assert out.shape == (batch.num_nodes, 2) and torch.isfinite(out).all()
    separate = torch.cat([model(g) for g in graphs])
    assert_close(out, separate, atol=1e-12, rtol=0)


@pytest.mark.parametrize("restriction", ["diag", "orthogonal", "general"])
def test_permutation_equivariance(restriction):
    model = make_model(restriction)
    assert_permutation_equivariant(model, random_undirected(seed=1), atol=1e-10, rtol=0)


def test_sheaf_diffusion_step_matches_dense_formula():
    """One layer of SheafDiffusion equals X <- (1 + tanh eps) X - elu(Delta (I x W1) X W2) with dense matrices."""
    from geoconv.ops.sheaf import dense_sheaf_laplacian

    graph = random_undirected(seed=2)
    torch.manual_seed(0)
    model = SheafDiffusion(4, 3, 2, stalk_dim=2, restriction="general", num_layers=1).to(F64).eval()
    with torch.no_grad():
        model.epsilons[0].copy_(torch.tensor([0.3, -0.2]))
        model.left_weights[0].copy_(torch.randn(2, 2))
    n = graph.num_nodes
    h = torch.nn.functional.elu(model.lin_in(graph.x)).view(n, 2, 3)
    maps, _ = model.sheaf_learners[0](h.reshape(n, -1), graph.edge_index)
    delta = dense_sheaf_laplacian(graph.edge_index, maps, n, normalize=True, augmented=True)
    z = torch.einsum("ij,njc->nic", model.left_weights[0], h) @ model.right_weights[0].T
    z = torch.nn.functional.elu((delta @ z.reshape(n * 2, 3)).view(n, 2, 3))
    expected = (1 + torch.tanh(model.epsilons[0])).view(1, 2, 1) * h - z
    assert_close(model.forward_tensors(graph.x, graph.edge_index), model.lin_out(expected.reshape(n, -1)), atol=1e-10, rtol=0)


def test_training_step_has_finite_gradients_and_parameter_groups():
    graph = random_undirected(seed=3)
    for restriction in ("diag", "orthogonal", "general"):
        model = make_model(restriction, dropout=0.5, input_dropout=0.2).train()
        model(graph).sum().backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
        sheaf, other = model.sheaf_parameters(), model.other_parameters()
        assert len(sheaf) + len(other) == len(list(model.parameters())) and sheaf
        learners = list(model.sheaf_learners)
        assert {id(p) for p in sheaf} == {id(learner.linear.weight) for learner in learners}
        weight_maps = [learner.weight_linear.weight for learner in learners if learner.weight_linear is not None]
        assert all(any(w is p for p in other) for w in weight_maps)  # ordinary weight decay, as the official code


def test_learn_once_and_cached_reverse():
    graph = random_undirected(seed=4)
    model = make_model("diag", learn_every_layer=False, cached=True)
    assert len(model.sheaf_learners) == 1
    first = model(graph)
    assert_close(model(graph), first)
    assert model._cache is not None and model._cache[0] is graph.edge_index


def test_sheaf_diffusion_errors():
    with pytest.raises(ValueError, match="restriction must be one of"):
        SheafDiffusion(4, 3, 2, restriction="bundle")
    with pytest.raises(ValueError, match="num_layers must be >= 1"):
        SheafDiffusion(4, 3, 2, num_layers=0)
    with pytest.raises(ValueError, match="stalk_dim must be >= 2 for restriction 'orthogonal'"):
        BundleSheafDiffusion(4, 3, 2, stalk_dim=1)
    with pytest.raises(ValueError, match="DiagSheafDiffusion uses restriction 'diag', got 'general'"):
        DiagSheafDiffusion(4, 3, 2, restriction="general")
    assert SheafDiffusion(4, 3, 2).restriction == "diag" and BundleSheafDiffusion(4, 3, 2).restriction == "orthogonal"
    with pytest.raises(ValueError, match="restriction must be one of"):
        SheafLearner(4, 2, restriction="bundle")
    with pytest.raises(ValueError, match="orthogonal_map must be one of"):
        SheafLearner(4, 2, restriction="orthogonal", orthogonal_map="expm")
    model = make_model("diag")
    with pytest.raises(ValueError, match="not symmetric"):
        model.forward_tensors(torch.zeros(3, 4, dtype=F64), torch.tensor([[0], [1]]))
    with pytest.raises(ValueError, match=r"x must be \[N, 4\]"):
        model.forward_tensors(torch.zeros(3, 5, dtype=F64), torch.tensor([[0, 1], [1, 0]]))
    learner = SheafLearner(4, 2, edge_weights=True)
    with pytest.raises(ValueError, match="needs the reverse edge pairing"):
        learner(torch.zeros(2, 4), torch.tensor([[0, 1], [1, 0]]))


def test_sheaf_conv_d1_is_normalised_adjacency_propagation():
    """d = 1, maps 1: X' = D^-1/2 A D^-1/2 X W + b on nodes with neighbours (a GCN without self-loops)."""
    graph = random_undirected(seed=5)
    conv = SheafConv(4, 3, 1).to(F64)
    with torch.no_grad():
        conv.bias.copy_(torch.randn(3))
    maps = torch.ones(graph.num_edges, 1, dtype=F64)
    out = conv(graph.x.unsqueeze(1), graph.edge_index, maps).squeeze(1)
    n = graph.num_nodes
    src, dst = graph.edge_index[:, graph.edge_index[0] != graph.edge_index[1]]
    adjacency = torch.zeros(n, n, dtype=F64)
    adjacency[src, dst] = 1.0
    degree = adjacency.sum(1)
    keep = degree > 0
    scale = torch.where(keep, degree.clamp(min=1).rsqrt(), torch.zeros_like(degree))
    expected = (scale[:, None] * adjacency * scale[None, :]) @ graph.x @ conv.weight.T + conv.bias
    assert_close(out[keep], expected[keep], atol=1e-10, rtol=0)
    # An isolated node keeps its own features: (I - 0) x W + b.
    assert_close(out[~keep], (graph.x @ conv.weight.T + conv.bias)[~keep], atol=1e-10, rtol=0)


def test_sheaf_conv_signed_asymmetric_dense_reference_and_batching():
    from geoconv.ops.sheaf import dense_sheaf_laplacian, symmetrize_sheaf

    edge_index = torch.tensor([[0, 1, 2, 3], [1, 2, 0, 0]])  # each undirected edge once
    generator = torch.Generator().manual_seed(6)
    source = torch.randn(4, 2, 2, generator=generator, dtype=F64)
    target = -source.flip(-1)  # asymmetric, sign-flipping relations
    conv = SheafConv(3, 5, 2).to(F64)
    with torch.no_grad():
        conv.left_weight.copy_(torch.randn(2, 2, generator=generator))
    x = torch.randn(4, 2, 3, generator=generator, dtype=F64)
    out = conv(x, edge_index, source, target)
    both, maps, _ = symmetrize_sheaf(edge_index, source, target)
    delta = dense_sheaf_laplacian(both, maps, 4, normalize=True)
    y = torch.einsum("ij,njc->nic", conv.left_weight, x @ conv.weight.T).reshape(8, 5)
    assert_close(out, ((torch.eye(8, dtype=F64) - delta) @ y).view(4, 2, 5) + conv.bias, atol=1e-10, rtol=0)
    # Two-direction form gives the same; a batch of two copies equals the two outputs.
    assert_close(conv(x, both, maps), out, atol=1e-12, rtol=0)
    batch_index = torch.cat([both, both + 4], dim=1)
    batched = conv(torch.cat([x, x]), batch_index, torch.cat([maps, maps]))
    assert_close(batched, torch.cat([out, out]), atol=1e-12, rtol=0)
    # Permutation equivariance of the layer with maps attached to edges.
    permutation = torch.tensor([2, 0, 3, 1])
    inverse = torch.argsort(permutation)
    permuted = conv(x[inverse], permutation[edge_index], source, target)
    assert_close(permuted, out[inverse], atol=1e-12, rtol=0)
    with pytest.raises(ValueError, match=r"x must be \[N, d=2, C=3\]"):
        conv(x[:, :1], edge_index, source, target)
    with pytest.raises(ValueError, match="stalk dimension 3, expected 2"):
        conv(x, edge_index, torch.ones(4, 3, dtype=F64))


def test_sheaf_conv_cached():
    graph = random_undirected(seed=7)
    conv = SheafConv(4, 2, 1, cached=True).to(F64)
    x = graph.x.unsqueeze(1)
    first = conv(x, graph.edge_index, torch.ones(graph.num_edges, 1, dtype=F64))
    # The cached Laplacian is reused even when other maps are passed.
    assert_close(conv(x, graph.edge_index, 2 * torch.ones(graph.num_edges, 1, dtype=F64)), first)


@pytest.mark.parametrize("kind", ["diag", "general"])
def test_learner_is_the_linear_map_of_the_ordered_pair(kind):
    # The learner computes W [x_u || x_v] node-wise; it must equal the explicit concatenation.
    graph = random_undirected()
    reverse = reverse_edge_pairing(graph.edge_index, graph.num_nodes)
    learner = SheafLearner(4, 2, restriction=kind, edge_weights=True).to(F64)
    maps, weights = learner(graph.x, graph.edge_index, reverse)
    src, dst = graph.edge_index
    pair = torch.cat([graph.x[src], graph.x[dst]], dim=-1)
    assert_close(maps.reshape(graph.num_edges, -1), torch.tanh(learner.linear(pair)))
    half = torch.sigmoid(learner.weight_linear(pair)).squeeze(-1)
    assert_close(weights, half * half[reverse])


def test_input_dropout_on_sparse_features_keeps_zeros_and_rescales():
    from geoconv.models.sheaf_diffusion import _input_dropout

    generator = torch.Generator().manual_seed(0)
    x = (torch.rand(300, 200, generator=generator) < 0.02).to(F64) * (1 + torch.rand(300, 200, generator=generator, dtype=F64))
    torch.manual_seed(0)
    out = _input_dropout(x, 0.4, True)
    nonzero = x != 0
    assert (out[~nonzero] == 0).all()
    kept = out[nonzero] != 0
    assert_close(out[nonzero][kept], x[nonzero][kept] / 0.6)
    assert abs(kept.double().mean().item() - 0.6) < 0.05  # ~1,200 non-zeros: 4 standard deviations
    assert torch.equal(_input_dropout(x, 0.4, False), x)


def _dense_diag_nsd_forward(model, x, edge_index):
    """Diag-NSD with second_linear and a fixed signed stalk dim, written densely from the paper's formulas.

    h = W_2nd elu(W_in x + b_in) + b_2nd, viewed [N, d', C']; per layer: maps f_k = tanh(W_l [h_u || h_v]) for
    edge k = (u -> v), then the signed column (+1 if u < v else -1); per stalk dim j the N x N Laplacian
    L_j = diag(sum_k f_kj^2) - (f_kj f_rj) (r = reverse of k), normalised by (diag + 1)^(-1/2);
    h <- (1 + tanh eps) h - elu(L (W1 h W2^T)); logits = W_out flat(h) + b_out.
    """
    n, d_total, c = x.shape[0], model.total_dim, model.hidden_channels
    src, dst = edge_index.tolist()
    pairs = {(u, v): k for k, (u, v) in enumerate(zip(src, dst))}
    h = torch.nn.functional.elu(x @ model.lin_in.weight.T + model.lin_in.bias)
    h = (h @ model.lin_second.weight.T + model.lin_second.bias).view(n, d_total, c)
    for layer in range(model.num_layers):
        learner = model.sheaf_learners[layer].linear
        flat = h.reshape(n, -1)
        # The learner has no bias, as the paper's.
        maps = torch.tanh(torch.cat([flat[src], flat[dst]], dim=1) @ learner.weight.T)
        signed = torch.tensor([1.0 if u < v else -1.0 for u, v in zip(src, dst)], dtype=x.dtype)
        maps = torch.cat([maps, signed[:, None]], dim=1)
        z = torch.einsum("ij,njc->nic", model.left_weights[layer], h) @ model.right_weights[layer].T
        out = torch.zeros_like(z)
        for j in range(d_total):
            lap = torch.zeros(n, n, dtype=x.dtype)
            for k, (u, v) in enumerate(zip(src, dst)):
                lap[u, u] += maps[k, j] ** 2
                lap[u, v] -= maps[k, j] * maps[pairs[(v, u)], j]
            scale = torch.diag((torch.diagonal(lap) + 1).rsqrt())
            out[:, j] = scale @ lap @ scale @ z[:, j]
        h = (1 + torch.tanh(model.epsilons[layer])).view(1, -1, 1) * h - torch.nn.functional.elu(out)
    return h.reshape(n, -1) @ model.lin_out.weight.T + model.lin_out.bias


def test_second_linear_matches_dense_forward():
    graph = random_undirected(seed=8)
    torch.manual_seed(0)
    model = DiagSheafDiffusion(4, 3, 2, stalk_dim=2, num_layers=2, add_high_pass=True, second_linear=True)
    model = model.to(F64).eval()
    with torch.no_grad():  # move W1 and eps away from their initial identity / zero
        for weight, epsilon in zip(model.left_weights, model.epsilons):
            weight.add_(0.3 * torch.randn_like(weight))
            epsilon.copy_(torch.randn_like(epsilon))
    assert model.lin_second.weight.shape == (9, 9)
    assert_close(model(graph), _dense_diag_nsd_forward(model, graph.x, graph.edge_index), atol=1e-10, rtol=0)
    # The extra map is an ordinary (not a sheaf-learner) parameter, trained like the others.
    assert any(p is model.lin_second.weight for p in model.other_parameters())
    model.train()(graph).sum().backward()
    assert model.lin_second.weight.grad is not None and model.lin_second.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("restriction", ["diag", "orthogonal", "general"])
def test_second_linear_default_off_and_in_every_model(restriction):
    assert make_model(restriction).lin_second is None
    model = make_model(restriction, second_linear=True)
    total = model.total_dim * model.hidden_channels
    assert model.lin_second.weight.shape == (total, total) and "second_linear=True" in repr(model)
    graph = random_undirected(seed=9)
    with torch.no_grad():
        before = model(graph)
        model.lin_second.weight.mul_(2.0)
    assert not torch.allclose(model(graph), before)  # the map is on the forward path of every model
