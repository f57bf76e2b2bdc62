"""examples/sheaf_diffusion.py runs end to end on a real split and ends with its JSON record."""

import json
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

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


# The released scripts exp/scripts/run_chameleon.sh and run_squirrel.sh of twitter-research/neural-sheaf-diffusion,
# in our option names (--add_lp is our high_pass; sheaf_decay None means the weight decay).
RELEASED = {
    "chameleon": dict(model="diag", stalk_dim=4, num_layers=5, hidden_channels=32, lr=0.01, weight_decay=0.0002969905682317406,
                      sheaf_decay=0.0012638885974822734, dropout=0.0, input_dropout=0.7, low_pass=False, high_pass=True,
                      second_linear=True, epochs=1000, patience=100, stop_on="acc", splits=10,
                      orthogonal_map="householder", left_weights=True, right_weights=True, use_act=True,
                      normalised=True, edge_weights=True),
    "squirrel": dict(model="bundle", stalk_dim=3, num_layers=5, hidden_channels=32, lr=0.01, weight_decay=0.00011215791366362148,
                     sheaf_decay=None, dropout=0.0, input_dropout=0.7, low_pass=False, high_pass=True,
                     second_linear=True, epochs=1000, patience=100, stop_on="acc", splits=10,
                     orthogonal_map="householder", left_weights=True, right_weights=True, use_act=True,
                     normalised=True, edge_weights=True),
}


def _example_module():
    """The task module: its configurations and model building are what the tutorial uses."""
    from geoconv.tasks import sheaf_diffusion

    return sheaf_diffusion


@pytest.mark.parametrize("dataset", ["chameleon", "squirrel"])
def test_released_configuration_is_the_default(dataset):
    module = _example_module()
    args = module.parse_args(["--dataset", dataset])
    assert {key: vars(args)[key] for key in RELEASED[dataset]} == RELEASED[dataset]
    # ... and the model built from them has those options.
    model = module.build_model(args, 12, 5)
    assert type(model) is module.MODELS[RELEASED[dataset]["model"]]
    assert model.lin_second is not None and model.num_layers == 5 and model.hidden_channels == 32
    assert model.total_dim == RELEASED[dataset]["stalk_dim"] + 1 and model.add_high_pass and not model.add_low_pass
    assert (model.dropout, model.input_dropout) == (0.0, 0.7)
    # Learned edge weights: the O(d) model only, as in the official code.
    assert all((learner.weight_linear is not None) == (dataset == "squirrel") for learner in model.sheaf_learners)


def test_configuration_overrides_and_other_datasets():
    module = _example_module()
    args = module.parse_args(["--dataset", "chameleon", "--model", "bundle", "--second-linear", "0", "--patience", "7",
                              "--stop-on", "loss", "--stalk-dim", "2"])
    options = (args.model, args.second_linear, args.patience, args.stop_on, args.stalk_dim)
    assert options == ("bundle", False, 7, "loss", 2)
    assert args.num_layers == 5 and args.input_dropout == 0.7  # the rest stays released
    # The WebKB / film defaults are unchanged: bundle, loss selection, patience 200, no second linear map.
    args = module.parse_args(["--dataset", "wisconsin"])
    options = (args.model, args.stop_on, args.patience, args.second_linear, args.stalk_dim)
    assert options == ("bundle", "loss", 200, False, 3)


def write_geom_gcn_files(root: Path, name: str, num_nodes: int = 40, num_features: int = 12, seed: int = 0) -> None:
    """Synthetic files in the Geom-GCN release format (new_data/<name>/out1_*.txt, splits/<name>_split_*.npz).

    Dense 0/1 features as comma-separated values (as chameleon's and squirrel's), labels 0..4, an edge list with a
    header, a duplicate, a reverse pair and a self-loop (the released chameleon/squirrel lists are directed), and
    uint8 masks of 60/20/20 per split.
    """
    rng = np.random.default_rng(seed)
    labels = np.arange(num_nodes) % 5
    features = (rng.random((num_nodes, num_features)) < 0.3).astype(np.uint8)
    features[np.arange(num_nodes), labels] = 1  # a class signal to learn
    folder = root / "geom_gcn" / "new_data" / name
    folder.mkdir(parents=True)
    lines = ["node_id\tfeature\tlabel"]
    lines += [f"{i}\t{','.join(map(str, features[i]))}\t{labels[i]}" for i in range(num_nodes)]
    (folder / "out1_node_feature_label.txt").write_text("\n".join(lines) + "\n")
    edges = [(i, (i + 1) % num_nodes) for i in range(num_nodes)]
    edges += [(i, (i + 5) % num_nodes) for i in range(0, num_nodes, 3)]
    edges += [edges[0], edges[1][::-1], (3, 3)]
    (folder / "out1_graph_edges.txt").write_text("node_id\tnode_id\n" + "".join(f"{a}\t{b}\n" for a, b in edges))
    splits = root / "geom_gcn" / "splits"
    splits.mkdir(parents=True, exist_ok=True)
    for k in range(10):
        order = rng.permutation(num_nodes)
        masks = {key: np.zeros(num_nodes, dtype=np.uint8) for key in ("train_mask", "val_mask", "test_mask")}
        masks["train_mask"][order[:24]] = 1
        masks["val_mask"][order[24:32]] = 1
        masks["test_mask"][order[32:]] = 1
        np.savez(splits / f"{name}_split_0.6_0.2_{k}.npz", **masks)


@pytest.mark.parametrize("dataset", ["chameleon", "squirrel"])
def test_released_configuration_runs_on_synthetic_geom_gcn_files(tmp_path, dataset, single_thread, capsys):
    # The real chameleon / squirrel files are not in the offline data copy: synthetic ones in the same format.
    write_geom_gcn_files(tmp_path, dataset)
    out = tmp_path / "record.json"
    record = runpy.run_path(str(SCRIPT))["main"](["--dataset", dataset, "--splits", "2", "--epochs", "20", "--data-root",
                                     str(tmp_path), "--no-progress", "--out", str(out)])
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == record == json.loads(out.read_text())
    released = RELEASED[dataset]
    assert record["dataset"] == dataset and record["model"] == released["model"] and record["stop_on"] == "acc"
    assert "validation acc" in record["metric_description"]
    config = record["config"]
    assert config == {key: (20 if key == "epochs" else released[key]) for key in config}
    assert config["second_linear"] is True and config["patience"] == 100
    assert record["epochs_run"] == [20, 20] and all(0 <= epoch < 20 for epoch in record["best_epochs"])
    assert len(record["test_acc_per_run"]) == 2 and set(record) >= {"test_acc_mean", "test_acc_std"}
