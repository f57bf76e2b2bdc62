"""Graph sampling for minibatch training: the GraphSAINT samplers, and multi-process training helpers.

See :mod:`geoconv.sampling.saint` for the samplers and their normalisation,
:mod:`geoconv.sampling.distributed` for running under ``torchrun``.
"""

from geoconv.sampling.distributed import DistributedContext, barrier, init_distributed, shutdown
from geoconv.sampling.saint import (
    GraphSAINTEdgeSampler,
    GraphSAINTNodeSampler,
    GraphSAINTRandomWalkSampler,
    GraphSAINTSampler,
)

__all__ = [
    "GraphSAINTSampler", "GraphSAINTNodeSampler", "GraphSAINTEdgeSampler", "GraphSAINTRandomWalkSampler",
    "DistributedContext", "init_distributed", "shutdown", "barrier",
]
