"""The sheaf diffusion sweep task: the paper's search space, selection on validation accuracy, resumable."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from geoconv.experiment import git_commit

REPO = Path(__file__).resolve().parent.parent

from geoconv.tasks import sheaf_diffusion_sweep as sweep  # noqa: E402


def run(args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "geoconv.tasks.sheaf_diffusion_sweep", *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_sampled_options_are_reproducible_and_inside_the_space():
    first = [sweep.sample_options(0, "cornell", k) for k in range(40)]
    assert first == [sweep.sample_options(0, "cornell", k) for k in range(40)]
    assert first != [sweep.sample_options(1, "cornell", k) for k in range(40)]
    for options in first:
        for key in ("stalk_dim", "num_layers", "hidden_channels", "low_pass", "high_pass", "dropout", "input_dropout"):
            assert options[key] in sweep.SEARCH_SPACE[key]
        assert math.exp(-9.2) <= options["weight_decay"] <= math.exp(-6.8)
        assert math.exp(-11.0) <= options["sheaf_decay"] <= math.exp(-6.8)
        assert options["lr"] == 0.02 and options["epochs"] == 1000 and options["patience"] == 200
    # 40 draws cover every stalk dimension and depth.
    assert {o["stalk_dim"] for o in first} == {2, 3, 4} and {o["num_layers"] for o in first} == {2, 3, 4, 5, 6}


def test_selection_uses_validation_accuracy_only():
    trials = [{"val_acc_mean": 70.0, "test_acc_mean": 90.0}, {"val_acc_mean": 75.0, "test_acc_mean": 60.0},
              {"val_acc_mean": 75.0, "test_acc_mean": 80.0}]
    assert sweep.best_by_validation(trials) is trials[1]
    assert sweep.best_by_validation([]) is None


def test_sweep_runs_selects_and_resumes(tmp_path, shared_data):
    out = tmp_path / "search.json"
    common = ["--dataset", "texas", "--splits", "1", "--epochs", "5", "--data-root", str(shared_data),
              "--threads", "1", "--no-progress", "--out", str(out)]
    result = run(["--trials", "2", *common])
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert json.loads(out.read_text()) == record
    assert record["trials_run"] == 2 and [t["model"] for t in record["trials"]] == ["diag", "bundle"]
    best = max(record["trials"], key=lambda t: t["val_acc_mean"])
    assert record["selected"]["trial"] == best["trial"] and record["test_acc_mean"] == best["test_acc_mean"]
    assert set(record["selected_per_model"]) == {"diag", "bundle"}
    assert record["trials"][0]["options"] == {**sweep.sample_options(0, "texas", 0), "epochs": 5}

    resumed = run(["--trials", "3", "--resume", *common])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    again = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert again["trials_run"] == 3 and again["trials"][:2] == record["trials"]
    assert again["trials"][2]["model"] == "general"

    # A search file of another dataset is not silently mixed in.
    mismatch = run(["--trials", "3", "--resume", *common[:1], "cornell", *common[2:]])
    assert mismatch.returncode != 0 and "texas" in mismatch.stderr
    assert json.loads(out.read_text()) == again

    # Nor are trials run with another early-stopping budget.
    other_budget = run(["--trials", "3", "--resume", "--patience", "7", *common])
    assert other_budget.returncode != 0 and "--patience 200" in other_budget.stderr
    assert json.loads(out.read_text()) == again


def test_sweep_patience_is_applied_and_recorded(tmp_path, shared_data):
    out = tmp_path / "search.json"
    result = run(["--dataset", "texas", "--models", "diag", "--splits", "1", "--epochs", "40", "--patience", "2",
                  "--trials", "1", "--data-root", str(shared_data), "--threads", "1", "--no-progress",
                  "--out", str(out)])
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads(out.read_text())
    assert record["search_space"]["epochs"] == 40 and record["search_space"]["patience"] == 2
    trial = record["trials"][0]
    assert trial["options"]["patience"] == 2 and trial["options"]["epochs"] == 40
    assert trial["options"] == {**sweep.sample_options(0, "texas", 0), "epochs": 40, "patience": 2}
    # Early stopping after 2 epochs without a better validation loss: the run ends 2 epochs after its best
    # (or at the epoch budget).
    assert trial["epochs_run"][0] == min(trial["best_epochs"][0] + 1 + 2, 40)


def test_sweep_help_and_bad_arguments(tmp_path):
    result = run(["--help"])
    assert result.returncode == 0
    for option in ("--dataset", "--models", "--trials", "--resume", "--time-limit", "--out", "--seeds"):
        assert option in result.stdout
    assert run(["--trials", "0"]).returncode != 0
    missing = run(["--resume", "--out", str(tmp_path / "none.json")])
    assert missing.returncode != 0 and "--resume" in missing.stderr
    for flag in ("--patience", "--epochs"):
        empty = run([flag, "0"])
        assert empty.returncode != 0 and "--epochs and --patience must be at least 1" in empty.stderr


def test_sweep_stopped_by_hand_keeps_provenance(tmp_path, shared_data, monkeypatch):
    """The file written after each trial carries the commit and options, so a search killed mid-way is still traceable."""
    real_main = sweep.sheaf_diffusion.main
    calls = []

    def main_then_interrupt(argv):
        calls.append(argv)
        if len(calls) == 2:
            raise KeyboardInterrupt  # stands in for a kill during trial 1
        return real_main(argv)

    monkeypatch.setattr(sweep.sheaf_diffusion, "main", main_then_interrupt)
    out = tmp_path / "search.json"
    # No --threads: this runs inside the test process, whose torch thread count must stay as it is.
    with pytest.raises(KeyboardInterrupt):
        sweep.main(["--dataset", "texas", "--models", "diag", "--splits", "1", "--epochs", "3", "--trials", "3",
                    "--data-root", str(shared_data), "--no-progress", "--out", str(out)])
    record = json.loads(out.read_text())
    assert record["trials_run"] == 1 and [t["trial"] for t in record["trials"]] == [0]
    assert record["hyperparameters"]["sample_seed"] == 0 and record["hyperparameters"]["trials"] == 3
    assert record["commit"] == git_commit() and record["versions"]["torch"]
    assert record["search_space"]["epochs"] == 3
