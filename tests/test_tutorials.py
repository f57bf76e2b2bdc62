"""Every tutorial of examples/ runs at a tiny setting and gives the record of its task module, value for value.

The tutorials write the training loop out for a reader; the tasks in geoconv.tasks are what ``geoconv train``
runs.  Both must give the same numbers for the same options (the committed results were made with the
examples), so each tutorial is run beside its task here, in-process, and the records compared.
"""

from __future__ import annotations

import importlib
import json
import runpy
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Fields that differ between two identical runs (time) or that only the task records (per-epoch extras).
VOLATILE = {"wall_time_s", "cpu_time_s", "finished_at", "peak_memory_mb", "command", "prepare_time_s",
            "train_time_s_per_seed", "hyperparameters", "git_commit", "versions"}

CASES = {
    "node_classification.py": ("node_classification", ["--dataset", "cora", "--epochs", "5", "--seeds", "2"]),
    "molecular_property.py": ("molecules", ["--dataset", "esol", "--model", "gcn", "--split", "scaffold", "--seeds", "1",
                                            "--epochs", "1", "--hidden-channels", "16", "--num-layers", "2"]),
    "point_cloud_classification.py": ("point_cloud", ["--dataset", "shapes", "--num-points", "64", "--k", "5",
                                                      "--embedding-channels", "32", "--epochs", "2", "--batch-size", "8",
                                                      "--shapes-per-class", "3"]),
    "mesh_classification.py": ("mesh", ["--dataset", "offline", "--per-class", "2", "--edges", "450", "--channels", "8,16",
                                        "--pool", "360,270", "--epochs", "2"]),
    "qm9.py": ("qm9", ["--max-molecules", "120", "--train-size", "24", "--val-size", "8", "--test-size", "8", "--epochs",
                       "1", "--hidden-channels", "4", "--num-layers", "1", "--batch-size", "8", "--target", "gap"]),
    "sheaf_diffusion.py": ("sheaf_diffusion", ["--dataset", "texas", "--model", "diag", "--splits", "2", "--epochs", "15",
                                               "--num-layers", "2"]),
    "graphsaint.py": ("graphsaint", ["--dataset", "fb100-Reed98", "--epochs", "2", "--seeds", "1", "--roots", "100",
                                     "--node-budget", "300", "--edge-budget", "200", "--sample-coverage", "20",
                                     "--eval-every", "1", "--hidden-channels", "8"]),
}


def rounded(value):
    """Floats to 9 significant digits (a sum over the same batches may differ in its last bit), recursively."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [rounded(item) for item in value]
    return value


def comparable(record: dict) -> dict:
    record = {key: value for key, value in record.items() if key not in VOLATILE}
    if "results" in record:  # qm9: the task also keeps each run's curve and timings
        for result in record["results"].values():
            result["runs"] = [{k: run[k] for k in ("test_mae", "best_val_mae", "lmax", "mmax", "parameters")}
                              for run in result["runs"]]
    return rounded(record)


@pytest.mark.parametrize("script", sorted(CASES))
def test_tutorial_gives_the_record_of_its_task(script, shared_data, single_thread, capsys):
    task_name, options = CASES[script]
    argv = [*options, "--data-root", str(shared_data), "--no-progress"]
    tutorial = runpy.run_path(str(REPO / "examples" / script))["main"](argv)
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed == json.loads(json.dumps(tutorial, default=str))  # the record is the last line printed
    task = importlib.import_module(f"geoconv.tasks.{task_name}").main(argv)
    assert comparable(json.loads(json.dumps(tutorial, default=str))) == comparable(json.loads(json.dumps(task, default=str)))


def test_every_tutorial_is_covered_and_short():
    tutorials = {path.name for path in (REPO / "examples").glob("*.py")}
    covered = set(CASES) | {"graph_classification.py"}
    assert tutorials <= covered, f"tutorials without a test: {sorted(tutorials - covered)}"
    for path in (REPO / "examples").glob("*.py"):
        assert len(path.read_text().splitlines()) <= 160, f"{path.name} is longer than a tutorial should be"
