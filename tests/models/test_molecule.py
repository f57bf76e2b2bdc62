"""Molecule models: shapes, batch == separate graphs (eval mode), invariance to atom renumbering, training step."""

from __future__ import annotations

import pytest
import torch

from geoconv.chem import from_smiles, morgan_fingerprints
from geoconv.data import Batch
from geoconv.models import FingerprintMLP, NeuralFingerprintNet, OGBMolGNN
from geoconv.testing import permute_graph

SMILES = ["CC(=O)Oc1ccccc1C(=O)O", "C[C@H](N)C(=O)O", "[Na+].[Cl-]", "C", "c1ccncc1"]


def _models():
    torch.manual_seed(0)
    return [OGBMolGNN(9, 16, 2, num_layers=3), OGBMolGNN(9, 16, 2, num_layers=3, virtual_node=True),
            NeuralFingerprintNet(9, 8, 2, edge_channels=3, fingerprint_length=6, categorical=True,
                                 embedding_channels=8)]


@pytest.mark.parametrize("index", [0, 1, 2])
def test_batch_equals_separate_graphs_and_invariance(index):
    model = _models()[index].double().eval()
    graphs = [from_smiles(s) for s in SMILES]
    out = model(Batch.from_graphs(graphs))
    assert out.shape == (5, 2)
    separate = torch.cat([model(Batch.from_graphs([g])) for g in graphs])
    torch.testing.assert_close(out, separate, atol=1e-10, rtol=1e-10)
    permutation = torch.randperm(graphs[0].num_nodes, generator=torch.Generator().manual_seed(0))
    permuted = permute_graph(graphs[0], permutation)
    torch.testing.assert_close(model(Batch.from_graphs([permuted])), separate[:1], atol=1e-10, rtol=1e-10)


def test_training_step_reduces_loss():
    torch.manual_seed(0)
    model = OGBMolGNN(9, 16, 1, num_layers=2, dropout=0.0, virtual_node=True)
    batch = Batch.from_graphs([from_smiles(s) for s in SMILES])
    target = torch.tensor([[1.0], [0.0], [1.0], [0.0], [1.0]])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(10):
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(batch), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_fingerprint_mlp_on_tensor_and_graph():
    torch.manual_seed(0)
    model = FingerprintMLP(64, 8, 3).eval()
    fingerprints = morgan_fingerprints(SMILES, size=64)
    graph = from_smiles(SMILES[0])
    graph.set("fingerprint", fingerprints[:1], "graph")
    torch.testing.assert_close(model(graph), model.forward_tensors(fingerprints)[:1])


def test_model_errors():
    with pytest.raises(ValueError, match="num_layers"):
        OGBMolGNN(9, 16, 1, num_layers=0)
    with pytest.raises(ValueError, match="pooling"):
        OGBMolGNN(9, 16, 1, pooling="attention")
    with pytest.raises(ValueError, match="in_channels must be 9"):
        OGBMolGNN(5, 16, 1)
