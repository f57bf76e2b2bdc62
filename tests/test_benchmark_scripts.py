"""Every script of benchmarks/ runs at a tiny size and ends with a schema record (stable keys kept)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from geoconv import records

REPO = Path(__file__).resolve().parent.parent
TINY = {
    "compile.py": ["--quick", "--only", "gcn"],
    "ogbn_epoch.py": ["--recipe", "arxiv", "--scale", "0.001", "--epochs", "1"],
    "gcn.py": ["--nodes", "200", "--edges", "1000", "--channels", "8"],
    "scatter.py": ["--messages", "1000", "--nodes", "100", "--channels", "4"],
    "so2_conv.py": ["--lmax", "1", "2", "--edges", "50", "--channels", "4"],
    "mesh_pool.py": ["--meshes", "armadillo_T54"],
    "edge_conv.py": ["--clouds", "2", "--points", "32", "--k", "4", "--channels", "8", "--large-points", "500", "--large-k", "4"],
    "featurize.py": ["--limit", "40", "--chunk", "20"],
    "sheaf_diffusion.py": ["--dataset", "texas", "--hidden", "4"],
    "graphsaint.py": ["--no-ego-twitter", "--synthetic-sizes", "2000", "--steps", "2", "--roots", "50"],
}
STABLE = {"so2_conv.py": ("lmax", "speedup", "so2_growth_exponent"), "mesh_pool.py": ("pool_seconds", "edges_before", "edges_after")}


def test_every_benchmark_is_listed():
    assert set(TINY) == {p.name for p in (REPO / "benchmarks").glob("*.py")}


@pytest.mark.parametrize("script", sorted(TINY))
def test_benchmark_runs_tiny_and_writes_its_record(script, tmp_path, shared_data, device):
    out = tmp_path / "record.json"
    command = [sys.executable, str(REPO / "benchmarks" / script), *TINY[script], "--repeats", "1", "--warmup", "0",
               "--threads", "1", "--out", str(out), "--device", str(device)]
    if script in ("featurize.py", "sheaf_diffusion.py", "mesh_pool.py"):
        command += ["--data-root", str(shared_data)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    line = json.loads(result.stdout.strip().splitlines()[-1])
    record = records.load(out)
    assert record.kind == "benchmark" and line == record.to_dict()
    assert record.hyperparameters["repeats"] == 1 and record.hyperparameters["threads"] == 1
    assert record.comparisons or record.figures
    # RDKit featurisation is host work: its record says where it ran and what was asked for
    assert record.device == ("cpu" if script == "featurize.py" else str(device))
    assert record.hyperparameters.get("requested_device", record.device) == str(device)
    for key in STABLE.get(script, ()):
        assert key in line
