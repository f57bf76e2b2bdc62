"""GlobalPool: the module equals the op, concatenates several reductions in order, batch consistency."""

from __future__ import annotations

import pytest
import torch

from geoconv.data import Batch
from geoconv.nn import GlobalPool
from geoconv.ops import global_pool
from geoconv.testing import graph_cases


def test_module_is_the_op_and_concatenates_in_order():
    batch = Batch.from_graphs(graph_cases(num_features=3, dtype=torch.float64))
    x, index, g = batch.x, batch.batch, batch.num_graphs
    torch.testing.assert_close(GlobalPool("sum")(x, index, g), global_pool(x, index, g, "sum"))
    both = GlobalPool(("max", "mean"))(x, index, g)
    assert both.shape == (7, 6)
    torch.testing.assert_close(both[:, :3], global_pool(x, index, g, "max"))
    torch.testing.assert_close(both[:, 3:], global_pool(x, index, g, "mean"))
    # The corner-case batch has empty graphs 3, 5, 6: zeros.
    assert both[[3, 5, 6]].abs().sum() == 0
    assert "reduce=('max', 'mean')" in repr(GlobalPool(("max", "mean")))


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_batch_equals_graphs_one_by_one(reduce):
    graphs = graph_cases(num_features=3, dtype=torch.float64)
    batch = Batch.from_graphs(graphs)
    pool = GlobalPool(reduce)
    out = pool(batch.x, batch.batch, batch.num_graphs)
    separate = torch.cat([pool(g.x, None) for g in graphs])
    torch.testing.assert_close(out, separate)


def test_bad_reduce():
    with pytest.raises(ValueError, match="reduce must be one of"):
        GlobalPool("median")
    with pytest.raises(ValueError, match="reduce must be one of"):
        GlobalPool(())
