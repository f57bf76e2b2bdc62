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
    "training_references.py": ["--nsd-dataset", "texas"],  # no reference given: recorded as not available
    "sheaf_diffusion.py": ["--dataset", "texas", "--hidden", "4"],
    "graphsaint.py": ["--no-ego-twitter", "--synthetic-sizes", "2000", "--steps", "2", "--roots", "50"],
    "training.py": ["--nodes", "500", "--edges", "3000", "--channels", "8", "--clouds", "2", "--points", "64", "--k", "4",
                    "--molecules", "80", "--batch-size", "8", "--molhiv-batches", "2", "--molhiv-steps", "2",
                    "--cora-steps", "2", "--saint-roots", "100", "--saint-coverage", "2", "--saint-subgraphs", "2",
                    "--saint-steps", "2", "--copy-mb", "8", "--matmul-size", "128", "--so2-edges", "50",
                    "--only", "gcn-cora", "gcn-random", "saint", "dgcnn", "molhiv", "bound"],
}
STABLE = {"so2_conv.py": ("lmax", "speedup", "so2_growth_exponent"),
          "mesh_pool.py": ("pool_seconds", "edges_before", "edges_after"),
          "training.py": ("training_step_ratio", "references", "bound")}


def test_every_benchmark_is_listed():
    assert set(TINY) == {p.name for p in (REPO / "benchmarks").glob("*.py")}


def test_training_references_says_when_a_reference_is_missing(tmp_path, shared_data):
    out = tmp_path / "record.json"
    command = [sys.executable, str(REPO / "benchmarks" / "training_references.py"), "--only", "nsd-diag", "--nsd-dataset",
               "texas", "--nsd-repo", str(tmp_path), "--repeats", "1", "--warmup", "0", "--data-root", str(shared_data),
               "--out", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    record = records.load(out).to_dict()
    assert record["training_step_ratio"] == {"nsd-diag": None} and not record["comparisons"]
    assert record["references"]["nsd-diag"].startswith("not available")
    status = {entry["name"]: entry["status"] for entry in record["declared_comparisons"]}
    assert status["nsd-diag training step"] == record["references"]["nsd-diag"]
    assert status["meshcnn training step"] == "not run (not selected with --only)"
    assert record["figures"]["nsd-diag geoconv step s"] > 0


@pytest.mark.parametrize("script", sorted(TINY))
def test_benchmark_runs_tiny_and_writes_its_record(script, tmp_path, shared_data, device):
    out = tmp_path / "record.json"
    command = [sys.executable, str(REPO / "benchmarks" / script), *TINY[script], "--repeats", "1", "--warmup", "0",
               "--threads", "1", "--out", str(out), "--device", str(device)]
    if script in ("featurize.py", "sheaf_diffusion.py", "mesh_pool.py", "training.py"):
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
    if script == "training.py":
        _check_training_record(line)


def _check_training_record(line: dict) -> None:
    """Every workload ran; a missing reference is said, not silently skipped; the bound figures are fractions."""
    assert set(line["training_step_ratio"]) == {"gcn-cora", "gcn-random", "saint", "dgcnn", "molhiv"}
    for workload, ratio in line["training_step_ratio"].items():
        reference = line["references"][workload]
        assert (ratio is None) == reference.startswith("not available"), (workload, ratio, reference)
        assert f"{workload} geoconv step s" in line["figures"]
    names = {c["name"] for c in line["comparisons"]}
    assert {f"{w} training step" for w, r in line["training_step_ratio"].items() if r is not None} <= names
    for workload in ("gcn-cora", "gcn-random", "saint", "dgcnn", "molhiv"):
        if line["training_step_ratio"][workload] is not None:  # same weights: same outputs
            assert line["workloads"][workload]["max_relative_output_difference"] < 1e-4
    assert line["figures"]["memory bandwidth GB/s"] > 0 and line["figures"]["matmul GFLOP/s"] > 0
    for kernel in ("GCNConv", "GCNConv cached", "EdgeConv", "SO2Convolution mmax=2", "SO2Convolution mmax=6"):
        assert 0 < line["bound"]["kernels"][kernel]["fraction_of_bound"] == line["figures"][f"{kernel} fraction of bound"]
