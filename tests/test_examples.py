"""The examples run end to end on real data (few epochs) and end with their JSON record."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run_example(script: str, *args: str, timeout: float = 300) -> dict:
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / script), *args],
        capture_output=True, text=True, timeout=timeout, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    last_line = result.stdout.strip().splitlines()[-1]
    return json.loads(last_line)


def test_node_classification_example(tmp_path, shared_data):
    out = tmp_path / "record.json"
    record = run_example(
        "node_classification.py", "--dataset", "cora", "--epochs", "30", "--seeds", "2",
        "--data-root", str(shared_data), "--no-progress", "--out", str(out),
    )
    for key in ("dataset", "model", "test_acc_mean", "test_acc_std", "seeds"):
        assert key in record
    assert record["dataset"] == "cora" and record["model"] == "gcn" and record["seeds"] == [0, 1] and record["num_seeds"] == 2
    # 30 epochs already learn Cora far above the 7-class chance level (~30% for the majority class).
    assert record["test_acc_mean"] > 60.0
    assert json.loads(out.read_text()) == record


def test_node_classification_help():
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "node_classification.py"), "--help"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0 and "--seeds" in result.stdout and "--dataset" in result.stdout


def test_molecular_property_example_ensemble_and_ema(tmp_path, shared_data):
    record = run_example(
        "molecular_property.py", "--dataset", "esol", "--model", "nfp", "--features", "ogb", "--epochs", "8",
        "--seeds", "1", "--ensemble", "2", "--ema", "0.9", "--threads", "1", "--data-root", str(shared_data),
        "--no-progress", "--out", str(tmp_path / "esol.json"),
    )
    assert record["dataset"] == "esol" and record["metric"] == "test_rmse" and record["higher_is_better"] is False and record["ensemble"] == 2
    members = record["member_test_per_seed"][0]
    assert len(members) == 2
    # RMSE is a norm, so the RMSE of the mean prediction is at most the mean of the members' RMSEs
    assert record["test_mean"] <= sum(members) / 2 + 1e-4
    # far below the spread of the targets (predicting the training mean gives an RMSE of about 2.1)
    assert record["test_mean"] < 1.3
    assert json.loads((tmp_path / "esol.json").read_text()) == record
