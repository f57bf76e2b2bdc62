"""Mixed precision: every layer and model under ``torch.autocast`` against float32 (bfloat16 on the CPU;
float16 and bfloat16 with ``pytest --device cuda``).

bfloat16 keeps 8 significant bits (relative rounding 2^-9 ~ 0.2%); a few layers of matmuls and sums
compound it.  Stated tolerance: the largest error of an output is at most 5% of that output's largest
magnitude (plus 1e-2 absolute), and the sums inside scatter/segment/softmax accumulate in float32
(checked exactly below, where a bfloat16 accumulator would be far off).
"""

from __future__ import annotations

import pytest
import torch

from geoconv.ops import scatter, segment, softmax
from geoconv import models
from geoconv.data import Batch
from module_cases import LAYERS, MODELS, mesh

pytestmark = pytest.mark.usefixtures("single_thread")

def _outputs(value) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value] if value.is_floating_point() else []
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _outputs(item)]
    return []


def pytest_generate_tests(metafunc):
    # float16 autocast is a CUDA feature; the CPU runs bfloat16 only.
    if "low_precision" in metafunc.fixturenames:
        on_cpu = torch.device(metafunc.config.getoption("--device")).type == "cpu"
        dtypes = [torch.bfloat16] if on_cpu else [torch.bfloat16, torch.float16]
        metafunc.parametrize("low_precision", dtypes, ids=[str(d).removeprefix("torch.") for d in dtypes])


def _check_close_to_float32(module, inputs, device, dtype):
    module = module.eval()
    with torch.no_grad():
        expected = _outputs(module(*inputs))
        with torch.autocast(device.type, dtype=dtype):
            mixed = _outputs(module(*inputs))
    assert len(mixed) == len(expected)
    for low, high in zip(mixed, expected):
        assert torch.isfinite(low).all()
        scale = high.abs().max().item() if high.numel() else 0.0
        torch.testing.assert_close(low.float(), high, atol=0.05 * scale + 1e-2, rtol=0)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_runs_under_autocast(name, device, low_precision):
    torch.manual_seed(0)
    module, make_inputs = LAYERS[name]()
    _check_close_to_float32(module, make_inputs(12, 0), device, low_precision)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_runs_under_autocast(name, device, low_precision):
    torch.manual_seed(0)
    module, make_inputs = MODELS[name]()
    _check_close_to_float32(module, make_inputs(12, 0), device, low_precision)


@pytest.mark.parametrize("name", ["MeshCNNClassifier", "MeshCNNSegmenter"])
def test_mesh_models_with_pooling_run_under_autocast(name, device, low_precision):
    torch.manual_seed(0)
    if name == "MeshCNNClassifier":
        model = models.MeshCNNClassifier(5, (8, 8), 3, pool_targets=(90, 60), head_channels=8, norm="group", groups=4)
    else:
        model = models.MeshCNNSegmenter(5, (8, 8, 8), 3, pool_targets=(90, 60), norm="group", groups=4)
    batch = Batch.from_graphs([mesh(1), mesh(1)])
    batch.edge_attr = batch.edge_attr.float()
    model.eval()
    with torch.no_grad():
        expected = model(batch)
        with torch.autocast(device.type, dtype=low_precision):
            out = model(batch)
    # Not compared value by value: pooling ranks edges by feature norm, and rounded features
    # collapse other edges where norms are close (a different, equally valid pooled mesh).
    assert out.shape == expected.shape and torch.isfinite(out).all()


def test_layer_trains_a_step_under_autocast(device, low_precision):
    torch.manual_seed(0)
    module, make_inputs = LAYERS["GCNConv"]()
    x, edge_index = make_inputs(12, 0)
    with torch.autocast(device.type, dtype=low_precision):
        loss = module(x, edge_index).float().square().mean()
    loss.backward()
    assert module.weight.grad is not None and module.weight.grad.dtype == torch.float32
    assert torch.isfinite(module.weight.grad).all()


@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_scatter_accumulates_bfloat16_in_float32(reduce):
    # 4096 ones plus 0.0078125 each: a bfloat16 accumulator stops growing at 256 (its spacing there is 2).
    src = torch.full((4096, 2), 1.0078125, dtype=torch.bfloat16)
    index = torch.zeros(4096, dtype=torch.long)
    out = scatter(src, index, 0, 1, reduce)
    assert out.dtype == torch.bfloat16
    expected = torch.full((1, 2), 4128.0 if reduce == "sum" else 1.0078125)
    torch.testing.assert_close(out.float(), expected.to(torch.bfloat16).float(), atol=0, rtol=0)


def test_segment_and_softmax_in_bfloat16():
    src = torch.full((4096, 1), 1.0078125, dtype=torch.bfloat16)
    ptr = torch.tensor([0, 4096])
    torch.testing.assert_close(segment(src, ptr, "sum").float(), torch.tensor([[4128.0]]).to(torch.bfloat16).float())
    logits = torch.zeros(4096, dtype=torch.bfloat16)
    probabilities = softmax(logits, torch.zeros(4096, dtype=torch.long), 1)
    assert probabilities.dtype == torch.bfloat16
    # a bfloat16 sum of 4096 ones stops at 256, which would give 1/256 instead of 1/4096
    torch.testing.assert_close(probabilities.float(), torch.full((4096,), 1 / 4096), atol=1e-6, rtol=1e-2)
