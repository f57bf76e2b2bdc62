"""Multi-process training with PyTorch's own engine (``torch.distributed`` + ``DistributedDataParallel``).

:func:`init_distributed` reads the environment that ``torchrun`` sets
(``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``)
and joins the process group: gloo on CPU, nccl when the process drives a
GPU.  Without that environment it returns a single-process context, so the
same script runs with ``python script.py`` and with
``torchrun --nproc_per_node=K script.py``.  On several machines, start
``torchrun --nnodes=M --node_rank=i --nproc_per_node=K --master_addr=HOST
--master_port=PORT script.py`` on each machine ``i`` (HOST = the address of
machine 0, reachable from the others).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands: ``rank`` of ``world_size`` processes, its ``device`` and ``backend``."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    backend: str | None

    @property
    def is_distributed(self) -> bool:
        return self.backend is not None

    @property
    def is_main(self) -> bool:
        """True on rank 0, which evaluates and writes results."""
        return self.rank == 0


def init_distributed(device: str = "cpu", backend: str | None = None) -> DistributedContext:
    """Join the process group described by torchrun's environment variables (or run alone).

    Args:
        device: ``"cpu"`` or ``"cuda"``; with CUDA each process takes GPU ``LOCAL_RANK``.
        backend: ``"gloo"`` or ``"nccl"`` (default: nccl for CUDA, gloo for CPU).
    """
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda' for distributed training, got {device!r}")
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("device='cuda' was requested but CUDA is not available")
        torch.cuda.set_device(local_rank)
        torch_device = torch.device("cuda", local_rank)
    else:
        torch_device = torch.device("cpu")
    if world_size == 1 and "MASTER_ADDR" not in os.environ:
        return DistributedContext(0, 1, 0, torch_device, None)
    backend = backend or ("nccl" if device == "cuda" else "gloo")
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    return DistributedContext(rank, world_size, local_rank, torch_device, backend)


def shutdown(context: DistributedContext) -> None:
    """Leave the process group (no-op for a single process)."""
    if context.is_distributed and dist.is_initialized():
        dist.destroy_process_group()


def barrier(context: DistributedContext) -> None:
    """Wait for every rank (no-op for a single process)."""
    if context.is_distributed:
        dist.barrier()
