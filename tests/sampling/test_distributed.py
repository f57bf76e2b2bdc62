"""Two processes on localhost (gloo) run the graphsaint task unchanged under torchrun with DistributedDataParallel."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

from geoconv.sampling import init_distributed

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as handle:
        handle.bind(("127.0.0.1", 0))
        return handle.getsockname()[1]


def test_torchrun_two_processes_keep_identical_parameters_and_reduce_the_loss(shared_data, tmp_path):
    params = tmp_path / "params"
    out = tmp_path / "record.json"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--nnodes=1",
        "--master_addr=127.0.0.1", f"--master_port={free_port()}",
        "-m", "geoconv.tasks.graphsaint",
        "--dataset", "fb100-Reed98", "--sampler", "rw", "--roots", "100", "--sample-coverage", "200",
        "--epochs", "3", "--lr", "0.01", "--seeds", "1", "--no-full-batch", "--eval-every", "100",
        "--no-progress", "--data-root", str(shared_data), "--save-params", str(params), "--out", str(out),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GEOCONV_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads(out.read_text())
    assert record["world_size"] == 2
    mode = record["modes"]["saint_rw"]
    # Gradients were all-reduced: both ranks end with the same parameters (checked in-process and from the files).
    assert mode["parameters_identical_across_ranks"] is True
    rank0 = torch.load(params / "rw_seed0_rank0.pt")
    rank1 = torch.load(params / "rw_seed0_rank1.pt")
    assert rank0.keys() == rank1.keys()
    for name in rank0:
        assert_close(rank0[name], rank1[name], rtol=0, atol=0)
    # Training made progress: the full-graph training loss went down.
    assert mode["train_loss_end"][0] < mode["train_loss_start"][0] - 0.02
    # The JSON line printed last by rank 0 is the record.
    assert json.loads(result.stdout.strip().splitlines()[-1])["modes"]["saint_rw"] == mode


def test_without_torchrun_environment_training_is_single_process(monkeypatch):
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    context = init_distributed("cpu")
    assert (context.rank, context.world_size, context.is_distributed, context.is_main) == (0, 1, False, True)
    assert context.device == torch.device("cpu")


def test_init_distributed_errors():
    with pytest.raises(ValueError, match="device must be 'cpu' or 'cuda'"):
        init_distributed("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            init_distributed("cuda")
