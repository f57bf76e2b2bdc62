"""geoconv report: records written exactly as the examples write them -> markdown table and PNG plots."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from geoconv import cli, report
from geoconv.experiment import finish

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_record(path: Path, record: dict, *, epochs: int, seeds: int, mtime: float | None = None) -> None:
    """A record file in the exact format of geoconv.experiment.finish (the examples' --out)."""
    args = argparse.Namespace(epochs=epochs, seeds=seeds, data_root=None, out=str(path), device="cpu", threads=1, no_progress=True)
    finish(args, {**record, "seeds": seeds})
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def make_records(root: Path) -> None:
    # An older and a newer record of the same setting: only the newer is reported.
    write_record(root / "old.json", {"task": "node_classification", "dataset": "cora", "model": "gcn",
                                     "test_acc_mean": 70.0, "test_acc_std": 1.0}, epochs=200, seeds=2, mtime=1_000_000)
    write_record(root / "train" / "cora.json", {
        "task": "node_classification", "dataset": "cora", "model": "gcn", "test_acc_mean": 80.0, "test_acc_std": 0.5,
        "val_acc_mean": 79.0, "curves": {"train_loss": [[1.9, 1.2, 0.8], [2.0, 1.0, 0.6]], "val_acc": [50.0, 70.0, 78.0]},
    }, epochs=3, seeds=2)
    # No catalogue entry: the record's own "published" number is used and marked as such.
    write_record(root / "train" / "qm9.json", {"task": "qm9", "dataset": "qm9_homo", "model": "escn", "published": 25.0,
                                               "metrics": {"test_mae": {"mean": 40.0, "std": 2.0}}}, epochs=1, seeds=1)
    # Nothing to compare against.
    write_record(root / "train" / "mesh.json", {"task": "mesh_classification", "dataset": "procedural", "model": "meshcnn",
                                                "test_acc_mean": 95.0, "test_acc_std": 0.0}, epochs=2, seeds=1)
    (root / "bench").mkdir()
    (root / "bench" / "gcn.json").write_text(json.dumps({
        "kind": "benchmark", "suite": "gcn", "profile": "quick",
        "result": {"benchmark": "gcn_conv_forward_backward", "geoconv_median_s": 0.4, "pyg_median_s": 1.6, "ratio_geoconv_over_pyg": 0.25},
    }))
    (root / "bench" / "so2.json").write_text(json.dumps({
        "benchmark": "so2_conv", "lmax": [2, 4, 6], "so2_seconds": [0.01, 0.05, 0.2], "e3nn_seconds": [0.16, 2.0, 17.8],
        "speedup": [16.0, 40.0, 89.0], "so2_growth_exponent": 2.9,
    }))
    (root / "notes.json").write_text("[1, 2, 3]")  # not a record: skipped, reported as such


def test_report_writes_table_and_plots(tmp_path, capsys):
    records = tmp_path / "records"
    make_records(records)
    capsys.readouterr()  # finish() printed each record
    out = tmp_path / "out"
    code = cli.main(["report", "--results-dir", str(records), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    table = (out / "results.md").read_text()
    assert captured.out == table
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    training = [r for r in rows if r.split(" | ")[0] in ("| node_classification", "| qm9", "| mesh_classification")]
    assert len(training) == 3  # the older cora record is superseded
    cora = next(r for r in training if "| cora |" in r)
    cells = [c.strip() for c in cora.strip("|").split("|")]
    assert cells[:8] == ["node_classification", "cora", "gcn", "test_acc", "80.00 ± 0.50", "2", "81.50", "-1.50"]
    assert "Kipf & Welling" in cells[8] and cells[10] == "3"
    qm9 = [c.strip() for c in next(r for r in training if "| qm9 |" in r).strip("|").split("|")]
    assert qm9[3:9] == ["test_mae", "40.00 ± 2.00", "1", "25.00", "+15.00", "record"]
    mesh = [c.strip() for c in next(r for r in training if "mesh_classification" in r).strip("|").split("|")]
    assert mesh[6] == "-" and mesh[8] == "no published number for this setting"
    assert "| gcn | geoconv vs pyg | 4.00x |" in table
    assert "| so2_conv | speedup (lmax=6) | 89.00x |" in table
    assert "| 6 | 0.2000 | 17.80 |" in table
    assert "| so2_conv | so2_growth_exponent | 2.900 |" in table
    assert "notes.json" in captured.err  # the non-record is reported as skipped
    for name in ("accuracy_vs_published.png", "speed_ratios.png", "escn_cost_vs_lmax.png", "training_curves.png"):
        data = (out / name).read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 5_000, name


def test_curves_are_averaged_over_seeds_and_metrics_read_from_both_layouts():
    record = {"test_acc_mean": 80.0, "test_acc_std": 1.0, "metrics": {"val_acc_mean": 79.0, "test_loss": {"mean": 0.5, "std": 0.1}},
              "curves": {"loss": [[1.0, 3.0], [3.0, 5.0, 7.0]], "acc": [1, 2], "bad": "x"}}
    metrics = {m.name: (m.mean, m.std) for m in report.metrics_of(record)}
    assert metrics == {"test_acc": (80.0, 1.0), "val_acc": (79.0, None), "test_loss": (0.5, 0.1)}
    assert report.curves_of(record) == {"loss": [2.0, 4.0], "acc": [1.0, 2.0]}
    assert report.primary_metric(report.metrics_of(record)).name == "test_acc"


def test_speedups_direction():
    result = {"ratio_geoconv_over_pyg": 0.5, "ratio_pyg_over_geoconv": 3.0, "nested": {"speedup": 2.0},
              "knn_graph_ratio_vs_reference": 0.25, "max_abs_output_difference": 1e-6,
              "seconds": {"max": {"geoconv": 0.1, "torch_scatter": 1.7}},
              "speedups_per_repeat": [5.0, 6.0], "lmax": [2, 8], "speedup_vs_e3nn": [3.0, None]}
    rows = report.speedups_of("x", result, Path("r.json"))
    assert sorted(round(r.speedup, 6) for r in rows) == [2.0, 2.0, 3.0, 3.0, 4.0, 17.0]
    assert any(r.comparison == "speedup_vs_e3nn (lmax=2)" for r in rows)
    assert any(r.comparison == "seconds.max (vs torch_scatter)" for r in rows)
    assert any(r.comparison == "knn_graph vs reference" for r in rows)


def test_records_with_several_models_or_modes_give_one_row_each(tmp_path, capsys):
    # The layouts of examples/qm9.py (results per model, a target) and examples/graphsaint.py (modes, curves per seed).
    write_record(tmp_path / "qm9.json", {
        "task": "qm9_regression", "dataset": "QM9", "target": "U0", "metric": "test MAE (meV) at the best epoch",
        "results": {"escn": {"test_mae_mean": 30.0, "test_mae_std": 1.0, "runs": []},
                    "invariant": {"test_mae_mean": 45.0, "test_mae_std": 2.0, "runs": []}},
    }, epochs=2, seeds=1)
    write_record(tmp_path / "saint.json", {
        "task": "node_classification_graphsaint", "dataset": "tolokers", "model": "gcn",
        "metric": "test roc_auc (%) at the best validation epoch",
        "modes": {"full_batch": {"test_mean": 72.0, "test_std": 0.5}, "saint_rw": {"test_mean": 71.5, "test_std": 0.7}},
        "curves": {"full_batch_train_loss": [[0.9, 0.5]], "saint_rw_train_loss": [[0.9, 0.6]]},
    }, epochs=2, seeds=1)
    capsys.readouterr()
    result = report.collect([tmp_path])
    rows = {(r.task, r.dataset, r.model): r for r in result.training}
    assert set(rows) == {
        ("qm9_regression", "QM9/U0", "escn"), ("qm9_regression", "QM9/U0", "invariant"),
        ("node_classification_graphsaint", "tolokers", "gcn/full_batch"), ("node_classification_graphsaint", "tolokers", "gcn/saint_rw"),
    }
    escn = rows[("qm9_regression", "QM9/U0", "escn")]
    assert (escn.metric.name, escn.metric.mean, escn.metric.std) == ("test_mae", 30.0, 1.0)
    assert escn.published is not None and not escn.higher_is_better  # the catalogue's full-split number, lower is better
    rw = rows[("node_classification_graphsaint", "tolokers", "gcn/saint_rw")]
    assert (rw.metric.name, rw.metric.mean) == ("test_roc_auc", 71.5)
    assert rw.curves == {"saint_rw_train_loss": [0.9, 0.6]}
    written = report.plot(result, tmp_path / "plots")
    assert {p.name for p in written} == {"accuracy_vs_published.png", "training_curves.png"}


def test_records_on_another_copy_of_the_data_keep_their_own_row(tmp_path, capsys):
    # A newer record on a modified copy of a dataset (data_variant) must not replace the standard one.
    write_record(tmp_path / "standard.json", {"task": "node_classification_heterophily", "dataset": "cornell", "model": "gcn",
                                              "test_acc_mean": 48.0, "test_acc_std": 7.0}, epochs=5, seeds=1, mtime=1_000_000)
    write_record(tmp_path / "legacy.json", {"task": "node_classification_heterophily", "dataset": "cornell", "model": "gcn",
                                            "data_variant": "old feature file", "test_acc_mean": 57.0, "test_acc_std": 6.0},
                 epochs=5, seeds=1)
    capsys.readouterr()
    rows = {(r.dataset, r.model): r for r in report.collect([tmp_path]).training}
    assert set(rows) == {("cornell", "gcn"), ("cornell [old feature file]", "gcn")}
    assert rows[("cornell", "gcn")].metric.mean == 48.0
    assert rows[("cornell [old feature file]", "gcn")].metric.mean == 57.0
