"""The OGB node-property recipes of geoconv.tasks.ogbn: end to end on fixture files in OGB's layout,
on a real graph of this machine through the same code, under torchrun, and through `geoconv train`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from geoconv import cli
from geoconv.datasets.ogb_node import write_ogb_node_fixture
from geoconv.tasks import ogbn

REPO = Path(__file__).resolve().parents[1]


def last_record(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.parametrize("recipe, metric, model", [
    ("arxiv", "test_acc", "gcn-bn"), ("products", "test_acc", "sage-graphsaint-rw"), ("proteins", "test_roc_auc", "gcn"),
])
def test_each_recipe_runs_on_fixture_files(recipe, metric, model, capsys):
    assert ogbn.main(["--recipe", recipe, "--quick", "--epochs", "8", "--no-progress", "--threads", "1"]) == 0
    record = last_record(capsys)
    assert record["dataset"] == f"ogbn-{recipe} (fixture)" and record["model"] == model and record["task"] == "ogbn"
    assert record["metric"] == metric and 0.0 <= record["mean"] <= 100.0 and len(record["values"]) == 1
    curve = record["curves"]["train_loss"][0]
    assert len(curve) == 8 and curve[-1] < curve[0]  # training reduced the loss
    assert record["hyperparameters"]["hidden_channels"] == ogbn.QUICK["hidden_channels"]


def test_profiles_fill_the_reference_setting_and_explicit_options_win():
    args = ogbn.build_parser().parse_args(["--recipe", "products", "--full", "--lr", "0.001"])
    ogbn.resolve(args)
    assert (args.hidden_channels, args.num_layers, args.dropout, args.epochs, args.seeds) == (256, 3, 0.5, 20, 10)
    assert (args.roots, args.walk_length, args.steps_per_epoch, args.eval_every, args.eval_start) == (20000, 3, 30, 2, 10)
    assert args.lr == 0.001 and args.dataset == "ogbn-products" and not args.fixture
    args = ogbn.build_parser().parse_args(["--recipe", "arxiv"])
    ogbn.resolve(args)
    assert (args.epochs, args.seeds, args.lr, args.dropout) == (500, 1, 0.01, 0.5)


def test_proteins_node_features_are_the_mean_of_incoming_edge_features():
    edge_index = torch.tensor([[0, 1, 2, 2, 1], [1, 0, 1, 0, 2]])
    edge_attr = torch.arange(10, dtype=torch.float32).view(5, 2)
    expected = torch.tensor([[(2 + 6) / 2, (3 + 7) / 2], [(0 + 4) / 2, (1 + 5) / 2], [8.0, 9.0], [0.0, 0.0]])
    torch.testing.assert_close(ogbn.edge_feature_mean(edge_index, edge_attr, 4), expected)


def test_proteins_recipe_reads_edge_features_into_x(tmp_path):
    write_ogb_node_fixture("ogbn-proteins", tmp_path, num_nodes=30, num_edges=50)
    task = ogbn.load_ogb("ogbn-proteins", str(tmp_path), "proteins")
    from geoconv.datasets import OGBNodeDataset

    raw = OGBNodeDataset("ogbn-proteins", root=tmp_path, download=False)
    torch.testing.assert_close(task.graph.x, ogbn.edge_feature_mean(raw.edge_index, raw.edge_attr, 30))
    assert task.multilabel and task.num_outputs == 112 and task.metric == "rocauc"


def test_same_code_on_a_real_graph_tolokers(shared_data, capsys):
    code = ogbn.main(["--recipe", "arxiv", "--dataset", "tolokers", "--epochs", "3", "--hidden-channels", "16",
                      "--data-root", str(shared_data), "--no-progress", "--threads", "1"])
    assert code == 0
    record = last_record(capsys)
    assert record["dataset"] == "tolokers" and record["num_nodes"] == 11758 and record["num_edges"] == 1038000
    assert record["metric"] == "test_roc_auc" and 50.0 < record["mean"] <= 100.0  # ROC-AUC above chance after 3 epochs


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as handle:
        handle.bind(("127.0.0.1", 0))
        return handle.getsockname()[1]


def test_products_recipe_under_torchrun_two_processes(tmp_path):
    out = tmp_path / "record.json"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--nnodes=1",
        "--master_addr=127.0.0.1", f"--master_port={free_port()}", "-m", "geoconv.tasks.ogbn",
        "--recipe", "products", "--quick", "--epochs", "3", "--no-progress", "--out", str(out),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GEOCONV_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads(out.read_text())
    assert record["world_size"] == 2 and record["parameters_identical_across_ranks"] is True


def test_full_batch_recipes_refuse_several_processes(monkeypatch):
    monkeypatch.setattr(ogbn, "init_distributed", lambda device: type("C", (), {"is_distributed": True})())
    with pytest.raises(SystemExit, match="only products"):
        ogbn.main(["--recipe", "arxiv", "--quick"])


def test_geoconv_train_ogbn_arxiv_quick(tmp_path, capsys):
    results = tmp_path / "results"
    code = cli.main(["train", "ogbn-arxiv", "--quick", "--results-dir", str(results), "--threads", "1", "--no-progress"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    records = list((results / "train" / "ogbn-arxiv").glob("*-quick-*.json"))
    assert len(records) == 1
    record = json.loads(records[0].read_text())
    assert record["recipe"] == "arxiv" and record["dataset"] == "ogbn-arxiv (fixture)" and record["profile"] == "quick"
    assert record["command"][:5] == ["python", "-m", "geoconv.tasks.ogbn", "--recipe", "arxiv"]
