"""Bad input at the data layer: a clear error naming the problem, nothing stored that is wrong."""

from __future__ import annotations

import pytest
import torch

from geoconv.data import Graph
from geoconv.data.graph import GraphValidationError


def test_assigning_a_builtin_field_is_checked_against_its_level():
    graph = Graph(x=torch.randn(4, 8), y=torch.tensor([0, 1, 1, 0]))
    with pytest.raises(GraphValidationError, match=r"cannot set x \[9, 8\]: y has 4 rows but num_nodes is 9"):
        graph.x = torch.randn(9, 8)
    assert graph.x.shape == (4, 8)  # the graph is left as it was
    with_edges = Graph(x=torch.randn(4, 2), edge_index=torch.tensor([[0, 3], [1, 2]]))
    with pytest.raises(GraphValidationError, match="edge_index contains index 3 but num_nodes is 2"):
        with_edges.x = torch.randn(2, 2)
    with pytest.raises(GraphValidationError, match="train_mask has 3 rows but num_nodes is 4"):
        graph.set("train_mask", torch.ones(3, dtype=torch.bool), "node")
    graph.x = torch.randn(4, 3)  # same rows: accepted
    assert graph.x.shape == (4, 3)
