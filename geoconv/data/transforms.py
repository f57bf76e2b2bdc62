"""Graph transforms: functions Graph -> Graph (composable with :func:`compose`)."""

from __future__ import annotations

from typing import Callable, Sequence

from geoconv.data.graph import Graph


def normalize_features(graph: Graph) -> Graph:
    """Row-normalise ``x`` to sum 1 (rows of zeros stay zero), as in Kipf & Welling's preprocessing."""
    x = graph.x
    if x is None:
        raise ValueError("normalize_features needs node features x")
    row_sum = x.sum(dim=-1, keepdim=True)
    return graph.replace(x=x / row_sum.masked_fill(row_sum == 0, 1))


def compose(transforms: Sequence[Callable[[Graph], Graph]]) -> Callable[[Graph], Graph]:
    """Apply ``transforms`` left to right."""
    transforms = list(transforms)

    def apply(graph: Graph) -> Graph:
        for transform in transforms:
            graph = transform(graph)
        return graph

    return apply
