import sys
import types

import pytest
import torch
import torch_geometric.utils as pyg_utils

from geoconv.ops import scatter, segment, softmax, use_torch_scatter

SRC = [1.0, 3.0, 2.0, 4.0, 5.0, 6.0]
INDEX = [0, 0, 1, 1, 1, 3]  # row 2 and row 4 receive nothing
# Hand-computed tables: rows 0..4 (dim_size 5); empty rows give 0 for every reduction.
EXPECTED = {
    "sum": [4.0, 11.0, 0.0, 6.0, 0.0],
    "add": [4.0, 11.0, 0.0, 6.0, 0.0],
    "mean": [2.0, 11.0 / 3.0, 0.0, 6.0, 0.0],
    "max": [3.0, 5.0, 0.0, 6.0, 0.0],
    "min": [1.0, 2.0, 0.0, 6.0, 0.0],
    "mul": [3.0, 40.0, 0.0, 6.0, 0.0],
}


@pytest.mark.parametrize("reduce", sorted(EXPECTED))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64])
def test_scatter_table(reduce, dtype):
    src = torch.tensor(SRC).to(dtype)
    out = scatter(src, torch.tensor(INDEX), 0, 5, reduce)
    expected = torch.tensor(EXPECTED[reduce], dtype=torch.float64)
    if dtype == torch.int64 and reduce == "mean":
        expected = torch.tensor([2.0, 3.0, 0.0, 6.0, 0.0], dtype=torch.float64)  # integer division
    torch.testing.assert_close(out.to(torch.float64), expected)
    assert out.dtype == dtype


@pytest.mark.parametrize("reduce", sorted(EXPECTED))
def test_scatter_along_dim1_and_broadcast_channels(reduce):
    src = torch.tensor(SRC).view(1, -1, 1).expand(2, -1, 3).contiguous()
    out = scatter(src, torch.tensor(INDEX), dim=1, dim_size=5, reduce=reduce)
    assert out.shape == (2, 5, 3)
    torch.testing.assert_close(out[1, :, 2], torch.tensor(EXPECTED[reduce]))


def test_negative_values_and_empty_rows_for_max():
    src = torch.tensor([-3.0, -1.0, -2.0])
    out = scatter(src, torch.tensor([0, 0, 2]), 0, 3, "max")
    torch.testing.assert_close(out, torch.tensor([-1.0, 0.0, -2.0]))


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min", "mul"])
def test_scatter_matches_torch_geometric(reduce):
    generator = torch.Generator().manual_seed(0)
    src = torch.randn(200, 7, generator=generator)
    index = torch.randint(0, 40, (200,), generator=generator)
    ours = scatter(src, index, 0, 50, reduce)
    theirs = pyg_utils.scatter(src, index, 0, dim_size=50, reduce=reduce)
    # PyG leaves empty rows at 1 for "mul"; ours are 0 (one rule for every reduction).
    nonempty = torch.bincount(index, minlength=50) > 0
    torch.testing.assert_close(ours[nonempty], theirs[nonempty])
    assert (ours[~nonempty] == 0).all()


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min", "mul"])
def test_scatter_gradcheck(reduce):
    generator = torch.Generator().manual_seed(1)
    src = torch.randn(12, 3, dtype=torch.float64, generator=generator, requires_grad=True)
    index = torch.tensor([0, 0, 1, 1, 1, 3, 3, 0, 1, 3, 3, 0])
    assert torch.autograd.gradcheck(lambda s: scatter(s, index, 0, 5, reduce), (src,))


@pytest.mark.parametrize("reduce", sorted(EXPECTED))
def test_scatter_empty_input(reduce):
    out = scatter(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long), 0, 3, reduce)
    torch.testing.assert_close(out, torch.zeros(3, 4))
    assert scatter(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long), 0, None, reduce).shape == (0, 4)


def test_scatter_bad_input():
    with pytest.raises(TypeError, match="index must have dtype torch.int64, got torch.int32"):
        scatter(torch.ones(3), torch.tensor([0, 1, 2], dtype=torch.int32), 0, 3)
    with pytest.raises(ValueError, match="index has 2 entries but src has 3 along dim 0"):
        scatter(torch.ones(3), torch.tensor([0, 1]), 0, 3)
    with pytest.raises(ValueError, match="reduce must be one of"):
        scatter(torch.ones(3), torch.tensor([0, 1, 2]), 0, 3, "median")
    with pytest.raises(ValueError, match="index must be 1-dimensional"):
        scatter(torch.ones(3), torch.tensor([[0, 1, 2]]), 0, 3)


@pytest.mark.parametrize("reduce", sorted(EXPECTED))
def test_segment_matches_scatter_on_sorted_index(reduce):
    src = torch.tensor(SRC).view(-1, 1)
    ptr = torch.tensor([0, 2, 5, 5, 6, 6])  # the same groups as INDEX, CSR form
    out = segment(src, ptr, reduce)
    torch.testing.assert_close(out.view(-1), torch.tensor(EXPECTED[reduce]))


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min", "mul"])
def test_segment_gradcheck_and_pyg(reduce):
    generator = torch.Generator().manual_seed(2)
    src = torch.randn(9, 2, dtype=torch.float64, generator=generator, requires_grad=True)
    ptr = torch.tensor([0, 3, 3, 7, 9])
    assert torch.autograd.gradcheck(lambda s: segment(s, ptr, reduce), (src,))
    if reduce in ("sum", "mean", "max", "min"):
        theirs = pyg_utils.segment(src.detach(), ptr, reduce=reduce)
        nonempty = torch.tensor([True, False, True, True])
        torch.testing.assert_close(segment(src.detach(), ptr, reduce)[nonempty], theirs[nonempty])


def test_segment_bad_input():
    with pytest.raises(ValueError, match="ptr must start at 0 and end at src.shape\\[0\\] = 3"):
        segment(torch.ones(3), torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="non-decreasing"):
        segment(torch.ones(3), torch.tensor([0, 2, 1, 3]), "max")
    with pytest.raises(ValueError, match="ptr must be a non-empty 1-d int64 tensor"):
        segment(torch.ones(3), torch.tensor([0.0, 3.0]))
    assert segment(torch.zeros(0, 2), torch.tensor([0, 0, 0]), "max").shape == (2, 2)


def test_softmax_table_and_normalisation():
    src = torch.tensor([0.0, 0.0, 1.0, 1.0, 1.0, 5.0])
    out = softmax(src, torch.tensor(INDEX), 5)
    expected = torch.tensor([0.5, 0.5, 1 / 3, 1 / 3, 1 / 3, 1.0])
    torch.testing.assert_close(out, expected)
    big = softmax(torch.tensor([1000.0, 1001.0]), torch.tensor([0, 0]), 1)  # stable for large logits
    torch.testing.assert_close(big, torch.softmax(torch.tensor([1000.0, 1001.0]), 0))


def test_softmax_matches_pyg_and_gradcheck():
    generator = torch.Generator().manual_seed(3)
    src = torch.randn(30, 4, dtype=torch.float64, generator=generator, requires_grad=True)
    index = torch.randint(0, 6, (30,), generator=generator)
    torch.testing.assert_close(softmax(src, index, 8), pyg_utils.softmax(src, index, num_nodes=8))
    sums = scatter(softmax(src, index, 8), index, 0, 8)
    torch.testing.assert_close(sums[index.unique()], torch.ones(index.unique().numel(), 4, dtype=torch.float64))
    assert torch.autograd.gradcheck(lambda s: softmax(s, index, 8), (src,))


@pytest.fixture
def native_kernels_after():
    yield
    use_torch_scatter([])


def test_use_torch_scatter_routes_the_listed_reductions(monkeypatch, native_kernels_after):
    # A stand-in torch_scatter records its calls: the routing is tested where the package is absent too.
    calls = []

    def fake_scatter(src, index, dim, dim_size, reduce):
        calls.append(reduce)
        return torch.full((dim_size,), 7.0)

    monkeypatch.setitem(sys.modules, "torch_scatter", types.SimpleNamespace(scatter=fake_scatter))
    use_torch_scatter(["max", "add"])
    src, index = torch.tensor(SRC), torch.tensor(INDEX)
    torch.testing.assert_close(scatter(src, index, 0, 5, "max"), torch.full((5,), 7.0))
    torch.testing.assert_close(scatter(src, index, 0, 5, "add"), torch.full((5,), 7.0))
    torch.testing.assert_close(scatter(src, index, 0, 5, "mean"), torch.tensor(EXPECTED["mean"]))
    assert calls == ["max", "sum"]
    use_torch_scatter([])
    torch.testing.assert_close(scatter(src, index, 0, 5, "max"), torch.tensor(EXPECTED["max"]))
    with pytest.raises(ValueError, match="unknown reductions"):
        use_torch_scatter(["median"])


@pytest.mark.parametrize("reduce", sorted(EXPECTED))
def test_torch_scatter_path_matches_the_table(reduce, native_kernels_after):
    # Runs where geoconv[scatter] is installed (CI does not build it); skipped only here.
    pytest.importorskip("torch_scatter")
    use_torch_scatter([reduce])
    src, index = torch.tensor(SRC, dtype=torch.float64), torch.tensor(INDEX)
    torch.testing.assert_close(scatter(src, index, 0, 5, reduce), torch.tensor(EXPECTED[reduce], dtype=torch.float64))
