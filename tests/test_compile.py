"""torch.compile(fullgraph=True, dynamic=True) of every layer and model: no graph break, no recompilation
for a second size, and the eager outputs and gradients.

The graph-break checks use the ``eager`` backend (dynamo only, no code generation: seconds per case);
a representative set is also compiled with inductor and compared with eager.
"""

from __future__ import annotations

import pytest
import torch
import torch._dynamo
from torch import nn

import geoconv.nn as gnn
from geoconv import models
from geoconv.data import Batch
from module_cases import LAYERS, MODELS, ONE_LAYER, mesh

# many small tensor ops and compilation itself: one thread is faster on a shared CPU
pytestmark = pytest.mark.usefixtures("single_thread")


def _tensors(value) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _tensors(item)]
    return []


def _run(module: nn.Module, inputs: tuple) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Outputs and the gradients of a fixed random projection of them w.r.t. the parameters."""
    outputs = _tensors(module(*inputs))
    generator = torch.Generator().manual_seed(0)
    loss = sum((out * torch.randn(out.shape, generator=generator, dtype=out.dtype)).sum()
               for out in outputs if out.is_floating_point())
    parameters = [p for p in module.parameters() if p.requires_grad]
    parameters += [t for t in inputs if isinstance(t, torch.Tensor) and t.requires_grad]
    grads = torch.autograd.grad(loss, parameters, allow_unused=True)
    return [out.detach() for out in outputs], [g for g in grads if g is not None]


def check_compiles(module: nn.Module, make_inputs, backend: str, sizes=(7, 12), atol=1e-5, rtol=1e-4) -> None:
    """fullgraph + dynamic compilation: one graph for both sizes (a recompilation raises) and eager's numbers."""
    module = module.eval()
    torch._dynamo.reset()
    compiled = torch.compile(module, backend=backend, fullgraph=True, dynamic=True)
    for i, n in enumerate(sizes):
        inputs = tuple(t.requires_grad_() if isinstance(t, torch.Tensor) and t.is_floating_point() else t
                       for t in make_inputs(n, i))
        torch.manual_seed(i)
        expected_out, expected_grad = _run(module, inputs)
        torch.manual_seed(i)
        with torch._dynamo.config.patch(error_on_recompile=i > 0):
            out, grad = _run(compiled, inputs)
        assert len(out) == len(expected_out) and len(grad) == len(expected_grad)
        for a, b in zip(out, expected_out):
            torch.testing.assert_close(a, b, atol=atol, rtol=rtol)
        for a, b in zip(grad, expected_grad):
            torch.testing.assert_close(a, b, atol=atol, rtol=rtol)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_compiles_without_graph_breaks(name):
    torch.manual_seed(0)
    module, make_inputs = LAYERS[name]()
    check_compiles(module, make_inputs, "eager")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_compiles_without_graph_breaks(name):
    torch.manual_seed(0)
    module, make_inputs = MODELS[name]()
    check_compiles(module, make_inputs, "eager")


# Data-dependent by nature: compiled with one graph break per pooling (MeshPool runs eagerly).
UNCOMPILABLE = {"MeshPool", "MeshCNNClassifier", "MeshCNNSegmenter"}


@pytest.mark.parametrize("name", ["MeshCNNClassifier", "MeshCNNSegmenter"])
def test_mesh_models_compile_around_the_pooling(name):
    torch.manual_seed(0)
    if name == "MeshCNNClassifier":
        model = models.MeshCNNClassifier(5, (8, 8), 3, pool_targets=(90, 60), head_channels=8, norm="group", groups=4)
    else:
        model = models.MeshCNNSegmenter(5, (8, 8, 8), 3, pool_targets=(90, 60), norm="group", groups=4)
    model = model.double().eval()
    torch._dynamo.reset()
    compiled = torch.compile(model, backend="eager", dynamic=True)
    batch = Batch.from_graphs([mesh(1), mesh(1)])
    expected_out, expected_grad = _run(model, (batch,))
    out, grad = _run(compiled, (batch,))
    torch.testing.assert_close(out[0], expected_out[0], atol=1e-5, rtol=1e-4)
    for a, b in zip(grad, expected_grad, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_every_layer_and_model_is_covered():
    layers = {name for name in gnn.__all__ if isinstance(getattr(gnn, name), type)
              and issubclass(getattr(gnn, name), nn.Module)}
    covered = {name.split("-")[0] for name in LAYERS} | set(MODELS) | set(UNCOMPILABLE)
    model_names = {name for name in models.__all__ if issubclass(getattr(models, name), nn.Module)}
    assert (layers | model_names) - covered == set()


# Code generation costs 3-15 s per layer on a CPU (and about 9 s once, for the first): the representative
# set of the issue, one size each (the recompilation check is the eager-backend test's job), the
# multi-layer ones with one layer (measured with cold caches: SheafDiffusion 16 -> 10 s, NeuralFingerprint 9 -> 5 s).
INDUCTOR_SET = ["GCNConv", "DynamicEdgeConv", "SO2Convolution", "SheafDiffusion-diag", "NeuralFingerprint", "MeshConv"]


@pytest.mark.parametrize("name", INDUCTOR_SET)
def test_inductor_matches_eager(name):
    torch.manual_seed(0)
    module, make_inputs = ONE_LAYER.get(name, LAYERS[name])()
    check_compiles(module, make_inputs, "inductor", sizes=(9,))
