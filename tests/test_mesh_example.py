"""examples/mesh_classification.py runs end to end offline and ends with its JSON record."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_mesh_classification_example_offline(tmp_path, shared_data):
    out = tmp_path / "record.json"
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "mesh_classification.py"), "--dataset", "offline", "--per-class", "2",
         "--edges", "450", "--channels", "8,16", "--pool", "360,270", "--epochs", "1", "--threads", "1",
         "--data-root", str(shared_data), "--no-progress", "--out", str(out)],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert record["dataset"] == "offline" and record["model"] == "meshcnn"
    assert "generated" in record["dataset_description"] and record["metric"] == "test_acc"
    assert record["num_train"] + record["num_test"] == 2 * len(record["classes"]) == 16
    assert 0.0 <= record["test_acc_mean"] <= 100.0 and record["chance_acc"] == 12.5
    assert json.loads(out.read_text()) == record


def test_mesh_classification_help():
    result = subprocess.run([sys.executable, str(REPO / "examples" / "mesh_classification.py"), "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--dataset" in result.stdout and "GENERATED" in result.stdout
