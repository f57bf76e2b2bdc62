"""BondGCNConv and the OGB atom / bond encoders: OGB equality, dense reference, permutation, batching, errors."""

from __future__ import annotations

import pytest
import torch
from ogb.graphproppred.mol_encoder import AtomEncoder as OgbAtomEncoder
from ogb.graphproppred.mol_encoder import BondEncoder as OgbBondEncoder
from ogb.utils.features import get_atom_feature_dims, get_bond_feature_dims

from geoconv.chem import ATOM_FEATURE_DIMS, BOND_FEATURE_DIMS, from_smiles
from geoconv.data import Batch
from geoconv.nn import AtomEncoder, BondEncoder, BondGCNConv, CategoricalEncoder
from geoconv.testing import assert_permutation_equivariant


def _molecules():
    return [from_smiles(s) for s in ("CC(=O)Oc1ccccc1C(=O)O", "C[C@H](N)C(=O)O", "[Na+].[Cl-]", "C")]


def test_feature_dims_agree_with_ogb():
    assert tuple(get_atom_feature_dims()) == ATOM_FEATURE_DIMS
    assert tuple(get_bond_feature_dims()) == BOND_FEATURE_DIMS


def test_encoders_equal_ogb_for_copied_weights():
    graph = _molecules()[0]
    for ours, theirs, features in ((AtomEncoder(16), OgbAtomEncoder(16), graph.x),
                                   (BondEncoder(16), OgbBondEncoder(16), graph.edge_attr)):
        theirs_tables = theirs.atom_embedding_list if hasattr(theirs, "atom_embedding_list") else theirs.bond_embedding_list
        for mine, other in zip(ours.embeddings, theirs_tables):
            mine.weight.data.copy_(other.weight.data)
        torch.testing.assert_close(ours(features), theirs(features))


def test_matches_dense_reference():
    torch.manual_seed(0)
    graph = _molecules()[0]
    conv = BondGCNConv(8).double()
    x = torch.randn(graph.num_nodes, 8, dtype=torch.float64)
    out = conv(x, graph.edge_index, graph.edge_attr)
    h = conv.linear(x)
    bond = conv.bond_encoder(graph.edge_attr)
    src, dst = graph.edge_index
    deg = torch.bincount(src, minlength=graph.num_nodes).double() + 1
    for i in range(graph.num_nodes):
        expected = torch.relu(h[i] + conv.root[0]) / deg[i]
        for e in (dst == i).nonzero().view(-1).tolist():
            j = int(src[e])
            expected = expected + torch.relu(h[j] + bond[e]) / (deg[i] * deg[j]).sqrt()
        torch.testing.assert_close(out[i], expected)


def test_permutation_equivariance_and_batching():
    torch.manual_seed(1)
    graphs = _molecules()
    conv = BondGCNConv(8).double()
    features = [torch.randn(g.num_nodes, 8, dtype=torch.float64) for g in graphs]
    graph = graphs[0].replace(x=features[0])
    assert_permutation_equivariant(lambda g: conv(g.x, g.edge_index, g.edge_attr), graph, atol=1e-12, rtol=1e-12)
    batch = Batch.from_graphs([g.replace(x=f) for g, f in zip(graphs, features)])
    torch.testing.assert_close(conv(batch.x, batch.edge_index, batch.edge_attr),
                               torch.cat([conv(f, g.edge_index, g.edge_attr) for g, f in zip(graphs, features)]))


def test_float_bond_features():
    conv = BondGCNConv(4, edge_channels=6)
    graph = from_smiles("CCO", features="duvenaud")
    assert conv(torch.randn(3, 4), graph.edge_index, graph.edge_attr).shape == (3, 4)


def test_encoder_errors():
    with pytest.raises(ValueError, match=r"\[M, 9\]"):
        AtomEncoder(4)(torch.zeros(3, 3, dtype=torch.long))
    with pytest.raises(TypeError, match="int64"):
        BondEncoder(4)(torch.zeros(3, 3))


@pytest.mark.parametrize("make_encoder", [lambda: AtomEncoder(5), lambda: BondEncoder(5),
                                          lambda: CategoricalEncoder([3, 1, 4], 5), lambda: CategoricalEncoder([2000, 3], 5)],
                         ids=["atoms (concatenated tables)", "bonds (table of every combination)", "3 columns (combinations)",
                              "2000 x 3 (concatenated tables)"])
def test_encoder_is_the_sum_of_column_embeddings_with_their_gradients(make_encoder):
    torch.manual_seed(0)
    encoder = make_encoder().double()
    for weight in encoder.parameters():  # distinct rows everywhere, so a wrong row cannot go unnoticed
        torch.nn.init.normal_(weight)
    x = torch.stack([torch.randint(0, v, (40,)) for v in encoder.vocabulary_sizes], 1)
    x[0] = torch.tensor(encoder.vocabulary_sizes) - 1  # the last row of every table
    weights = [embedding.weight for embedding in encoder.embeddings]
    expected = sum(weight[x[:, k]] for k, weight in enumerate(weights))
    out = encoder(x)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)
    upstream = torch.randn_like(out)
    grads = torch.autograd.grad(out, weights, upstream)
    expected_grads = torch.autograd.grad(expected, weights, upstream)
    for grad, expected_grad in zip(grads, expected_grads):
        torch.testing.assert_close(grad, expected_grad, rtol=0, atol=1e-12)
    assert encoder(x[:0]).shape == (0, 5)
