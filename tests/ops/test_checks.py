"""The shared input checks (geoconv/ops/checks.py) where ops and layers use them: each bad input of
issue 25 raises an error naming the problem instead of a raw torch error or a silently wrong result."""

from __future__ import annotations

import builtins
import sys

import pytest
import torch

from geoconv.nn import AtomEncoder, BondEncoder, BondGCNConv, EdgeConv, GCNConv
from geoconv.ops.knn import knn_graph, radius_graph
from geoconv.ops.scatter import scatter

EDGES = torch.tensor([[0, 1, 2], [1, 2, 0]])


@pytest.mark.parametrize("backend", ["brute", "kdtree"])
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_knn_and_radius_graph_reject_non_finite_points(backend, bad):
    # With a NaN point the search gave that point 1 neighbour instead of k, without a word.
    pos = torch.randn(8, 3, generator=torch.Generator().manual_seed(0))
    pos[5, 1] = bad
    with pytest.raises(ValueError, match=r"1 non-finite value\(s\).*first at row 5"):
        knn_graph(pos, 3, backend=backend)
    with pytest.raises(ValueError, match=r"first at row 5"):
        radius_graph(pos, 1.0, backend=backend)
    assert knn_graph(pos[[0, 1, 2, 3, 4, 6, 7]], 3, backend=backend).shape == (2, 21)


def test_kdtree_without_scipy_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def without_scipy(name, *args, **kwargs):
        if name == "scipy" or name.startswith("scipy."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    for name in [n for n in sys.modules if n == "scipy" or n.startswith("scipy.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(builtins, "__import__", without_scipy)
    with pytest.raises(ImportError, match=r"knn with backend='kdtree'.*pip install 'geoconv\[graph\]'"):
        knn_graph(torch.randn(6, 3), 2, backend="kdtree")
    assert knn_graph(torch.randn(6, 3), 2, backend="brute").shape == (2, 12)  # brute force needs no scipy


@pytest.mark.parametrize("encoder, column, value", [(AtomEncoder, 0, 119), (AtomEncoder, 4, -1), (BondEncoder, 2, 2)])
def test_encoders_name_an_out_of_vocabulary_category(encoder, column, value):
    layer = encoder(8)
    x = torch.zeros(5, len(layer.vocabulary_sizes), dtype=torch.long)
    x[3, column] = value
    size = layer.vocabulary_sizes[column]
    with pytest.raises(ValueError, match=rf"column {column} holds category {value} \(first at row 3\) outside its "
                                         rf"vocabulary 0..{size - 1}"):
        layer(x)
    x[3, column] = size - 1  # the last category of the vocabulary is accepted
    assert layer(x).shape == (5, 8)


def test_bond_gcn_conv_checks_edge_attr_rows():
    conv = BondGCNConv(4)
    with pytest.raises(ValueError, match=r"edge_attr has shape \[2, 3\] but needs one row per edge of edge_index \(3\)"):
        conv(torch.randn(3, 4), EDGES, torch.zeros(2, 3, dtype=torch.long))


@pytest.mark.parametrize("make", [
    lambda: (GCNConv(4, 2), (torch.randn(3, 4, dtype=torch.float64), EDGES)),
    lambda: (EdgeConv(torch.nn.Linear(8, 2)), (torch.randn(3, 4, dtype=torch.float64), EDGES)),
    lambda: (BondGCNConv(4), (torch.randn(3, 4, dtype=torch.float64), EDGES, torch.zeros(3, 3, dtype=torch.long))),
])
def test_layers_name_mixed_float_dtypes(make):
    layer, inputs = make()
    with pytest.raises(TypeError, match=r"floating-point inputs must share one dtype, got x float64.*float32"):
        layer(*inputs)


def test_tensors_on_different_devices_are_named():
    # The meta device stands in for a second device on a CPU-only machine.
    with pytest.raises(TypeError, match=r"GCNConv: all tensors must be on one device, got x on meta, edge_index on cpu"):
        GCNConv(4, 2)(torch.randn(3, 4, device="meta"), EDGES)
    with pytest.raises(TypeError, match=r"src is on meta but index on cpu"):
        scatter(torch.ones(3, device="meta"), torch.tensor([0, 1, 1]), 0, 2)


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min", "mul"])
@pytest.mark.parametrize("bad", [3, -1])
def test_scatter_names_an_index_outside_dim_size(reduce, bad):
    src = torch.arange(4.0).view(4, 1)
    index = torch.tensor([0, 1, bad, 1])
    with pytest.raises(ValueError, match=rf"scatter: index holds {bad} \(entry 2\), outside 0..2"):
        scatter(src, index, 0, 3, reduce)
    from geoconv.ops.scatter import softmax

    with pytest.raises(ValueError, match=rf"index holds {bad} \(entry 2\), outside 0..2"):
        softmax(src, index, 3)


def test_scatter_rejects_a_dim_past_the_last_and_a_negative_dim_size():
    # dim=2 of a 2-d tensor was wrapped to dim 0 and reduced the wrong axis without a word.
    src = torch.arange(4.0).view(4, 1)
    with pytest.raises(ValueError, match=r"dim must be in -2..1 for src of shape \[4, 1\], got 2"):
        scatter(src, torch.tensor([0, 1, 1, 1]), 2, 3)
    with pytest.raises(ValueError, match="dim_size must be >= 0, got -1"):
        scatter(src, torch.tensor([0, 1, 1, 1]), 0, -1)
    torch.testing.assert_close(scatter(src, torch.tensor([0, 1, 1, 1]), -2, 2), torch.tensor([[0.0], [6.0]]))


def test_segment_of_integers_and_ptr_on_another_device():
    from geoconv.ops.scatter import segment

    # torch.segment_reduce has no integer kernels: max/min/mul of int64 rows raised NotImplementedError.
    src = torch.tensor([[3], [-1], [7], [2]])
    ptr = torch.tensor([0, 2, 2, 4])
    assert segment(src, ptr, "max").tolist() == [[3], [0], [7]]
    assert segment(src, ptr, "min").tolist() == [[-1], [0], [2]]
    assert segment(src, ptr, "mul").tolist() == [[-3], [0], [14]]
    with pytest.raises(TypeError, match="src is on meta but ptr on cpu"):
        segment(src.float().to("meta"), ptr, "max")


def test_scatter_into_an_empty_output_with_entries_is_refused():
    # torch wrote nothing and checked nothing: three values were dropped without a word.
    with pytest.raises(ValueError, match="dim_size is 0 but index has 3 entries"):
        scatter(torch.ones(3, 2), torch.tensor([1, 9, 2]), 0, 0)
    assert scatter(torch.ones(0, 2), torch.zeros(0, dtype=torch.long), 0, 0).shape == (0, 2)
