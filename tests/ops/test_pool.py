"""global_pool: a table of exact values for every reduction (with empty graphs), dtypes, gradcheck, errors."""

from __future__ import annotations

import pytest
import torch

from geoconv.ops import global_pool

# Five rows in graphs [0, 0, 2, 2, 2] of four graphs: graphs 1 and 3 are empty (3 is trailing).
X = [[1.0, -2.0], [3.0, 4.0], [-1.0, 0.0], [5.0, 2.0], [2.0, -7.0]]
BATCH = [0, 0, 2, 2, 2]
TABLE = {
    "sum": [[4.0, 2.0], [0.0, 0.0], [6.0, -5.0], [0.0, 0.0]],
    "mean": [[2.0, 1.0], [0.0, 0.0], [2.0, -5.0 / 3.0], [0.0, 0.0]],
    "max": [[3.0, 4.0], [0.0, 0.0], [5.0, 2.0], [0.0, 0.0]],
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("reduce", sorted(TABLE))
def test_table_with_empty_graphs(reduce, dtype):
    x = torch.tensor(X, dtype=dtype)
    out = global_pool(x, torch.tensor(BATCH), 4, reduce)
    torch.testing.assert_close(out, torch.tensor(TABLE[reduce], dtype=dtype))


@pytest.mark.parametrize("reduce", sorted(TABLE))
def test_no_batch_is_one_graph_and_no_rows_give_zeros(reduce):
    x = torch.tensor(X)
    expected = {"sum": x.sum(0), "mean": x.mean(0), "max": x.max(0).values}[reduce]
    torch.testing.assert_close(global_pool(x, None, reduce=reduce), expected.unsqueeze(0))
    # No rows at all: every graph is empty.
    empty = global_pool(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long), 3, reduce)
    torch.testing.assert_close(empty, torch.zeros(3, 2))
    # Trailing feature dimensions are kept.
    cube = torch.arange(24.0).view(4, 3, 2)
    pooled = global_pool(cube, torch.tensor([1, 1, 0, 0]), 2, reduce)
    assert pooled.shape == (2, 3, 2)
    torch.testing.assert_close(pooled[1], global_pool(cube[:2], None, reduce=reduce)[0])


@pytest.mark.parametrize("reduce", sorted(TABLE))
def test_gradcheck_float64(reduce):
    # Distinct values: max has a unique argmax per graph and column, so it is differentiable here.
    x = (torch.arange(10, dtype=torch.float64).view(5, 2) * 0.37).sin().requires_grad_(True)
    batch = torch.tensor(BATCH)
    assert torch.autograd.gradcheck(lambda t: global_pool(t, batch, 4, reduce), (x,))


def test_errors():
    x, batch = torch.tensor(X), torch.tensor(BATCH)
    with pytest.raises(ValueError, match="reduce must be one of"):
        global_pool(x, batch, 4, "min")
    with pytest.raises(ValueError, match="needs num_graphs"):
        global_pool(x, batch)
    with pytest.raises(ValueError, match="without batch all rows form one graph"):
        global_pool(x, None, 3)
    with pytest.raises(ValueError, match="index has 4 entries but src has 5"):
        global_pool(x, batch[:4], 4)
