"""examples/sheaf_diffusion.py runs end to end on a real split and ends with its JSON record."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "examples" / "sheaf_diffusion.py"


def test_sheaf_diffusion_example_one_split(tmp_path, shared_data):
    out = tmp_path / "record.json"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--dataset", "texas", "--model", "diag", "--splits", "1", "--epochs", "40",
         "--num-layers", "2", "--data-root", str(shared_data), "--threads", "1", "--no-progress", "--out", str(out)],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert json.loads(out.read_text()) == record
    assert record["dataset"] == "texas" and record["model"] == "diag" and record["splits"] == 1
    # Model selection defaults to the validation loss, as the official NSD code (stop_strategy="loss").
    assert record["stop_on"] == "loss" and "validation loss" in record["metric_description"]
    # Texas defaults from the released script, with the command-line override applied.
    assert record["config"]["stalk_dim"] == 3 and record["config"]["num_layers"] == 2
    assert 0 <= record["best_epochs"][0] < 40
    # Patience 200 cannot end a 40-epoch run early.
    assert record["epochs_run"] == [40]
    # 40 epochs already beat the 5-class chance level (20%) by far.
    assert record["test_acc_mean"] > 45.0 and record["metric"] == "test_acc"


def test_sheaf_diffusion_example_per_seed_means(shared_data):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--dataset", "wisconsin", "--model", "gcn", "--splits", "2", "--seeds", "2",
         "--epochs", "15", "--data-root", str(shared_data), "--threads", "1", "--no-progress"],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads(result.stdout.strip().splitlines()[-1])
    runs = record["test_acc_per_run"]
    assert record["seeds_per_split"] == 2 and len(runs) == 4 and "x 2 seeds" in record["metric_description"]
    # Runs are split-major: seed s of every split sits at positions s, s + seeds, ...
    expected = [(runs[0] + runs[2]) / 2, (runs[1] + runs[3]) / 2]
    # (the record rounds each run to 0.01, hence the tolerance)
    assert len(record["test_acc_mean_per_seed"]) == 2
    assert all(abs(a - b) < 0.011 for a, b in zip(record["test_acc_mean_per_seed"], expected))
    # The mean of the per-seed means is the overall mean (equal numbers of runs per seed).
    assert abs(sum(record["test_acc_mean_per_seed"]) / 2 - record["test_acc_mean"]) < 0.02


def test_sheaf_diffusion_example_help():
    result = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for option in ("--dataset", "--model", "--stop-on", "--splits", "--seeds", "--out"):
        assert option in result.stdout


def test_sheaf_diffusion_example_rejects_empty_budgets():
    for flag in ("--epochs", "--patience"):
        result = subprocess.run([sys.executable, str(SCRIPT), flag, "-1", "--no-progress"],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode != 0 and "--epochs and --patience must be at least 1" in result.stderr
