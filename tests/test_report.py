"""geoconv report: schema records -> markdown table (exact rows) and PNG plots; malformed records are refused."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import pytest

from geoconv import cli, records, report
from geoconv.experiment import finish
from geoconv.records import Comparison, Series

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def task_record(path: Path, *, finished_at: str = "2026-01-02T00:00:00+00:00", **fields) -> records.Record:
    fields.setdefault("hyperparameters", {"epochs": 3})
    record = replace(records.make(**fields), finished_at=finished_at, wall_time_s=12.0, cpu_time_s=3.0)
    records.write(path, record)
    return record


def make_records(root: Path) -> None:
    # An older and a newer record of the same setting: only the newer is reported.
    task_record(root / "old.json", task="node_classification", dataset="cora", model="gcn", metric="test_acc",
                higher_is_better=True, values=[70.0, 72.0], seeds=2, finished_at="2026-01-01T00:00:00+00:00")
    task_record(root / "train" / "cora.json", task="node_classification", dataset="cora", model="gcn", metric="test_acc",
                higher_is_better=True, values=[80.5, 79.5], seeds=2,
                curves={"train_loss": [[1.9, 1.2, 0.8], [2.0, 1.0, 0.6]], "val_acc": [50.0, 70.0, 78.0]})
    # The catalogue has a number for this setting but of another metric: no comparison.
    task_record(root / "train" / "esol.json", task="molecular_property", dataset="esol", model="nfp", metric="test_mae",
                higher_is_better=False, values=[0.5], seeds=[3])
    # Several results in one record, split-major runs.
    task_record(root / "train" / "saint.json", task="node_classification_graphsaint", dataset="tolokers", model="gcn/full_batch",
                metric="test_roc_auc", higher_is_better=True, values=[72.0, 74.0], seeds=1, splits=2,
                variants=[{"model": "gcn/saint_rw", "values": [71.0, 71.0]}])
    # A task record without a single result (a search before its first trial): valid, no row.
    task_record(root / "train" / "search.json", task="search", dataset="texas", model="diag")
    records.write(root / "bench" / "gcn.json", replace(records.make(
        kind="benchmark", task="gcn", dataset="random", model="GCNConv", profile="quick",
        comparisons=[Comparison("forward+backward", "geoconv", "torch_geometric", 0.4, 1.6, 4.0)],
        figures={"geoconv_nodes_per_s": 250000.0},
    ), finished_at="2026-01-02T00:00:00+00:00"))
    records.write(root / "bench" / "so2.json", records.make(
        kind="benchmark", task="so2-conv", dataset="random", model="SO2Convolution",
        series=[Series("eSCN cost vs lmax", "lmax", [2, 4], {"SO(2) conv (s)": [0.01, 0.05], "e3nn (s)": [0.16, None]})],
    ))


def rows_of(table: str) -> list[str]:
    """The data rows of every table (not the header rows)."""
    headers = ("| task ", "| benchmark ", "| lmax ")
    return [line for line in table.splitlines() if line.startswith("| ") and not line.startswith(headers)]


def test_report_writes_exact_rows_and_plots(tmp_path, capsys):
    make_records(tmp_path / "records")
    out = tmp_path / "out"
    code = cli.main(["report", "--results-dir", str(tmp_path / "records"), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    table = (out / "results.md").read_text()
    assert captured.out == table
    assert rows_of(table)[:4] == [
        "| molecular_property | esol | nfp | test_mae | lower | 0.5000 ± 0.0000 | 1 | - | - | no published number for this setting | - | 3 | 12 (CPU 3) |",
        "| node_classification | cora | gcn | test_acc | higher | 80.00 ± 0.71 | 2 | 81.50 | -1.50 | Kipf & Welling, ICLR 2017, Table 2 | - | 3 | 12 (CPU 3) |",
        "| node_classification_graphsaint | tolokers | gcn/full_batch | test_roc_auc | higher | 73.00 ± 1.41 | 2 splits | - | - | no published number for this setting | - | 3 | 12 (CPU 3) |",
        "| node_classification_graphsaint | tolokers | gcn/saint_rw | test_roc_auc | higher | 71.00 ± 0.00 | 2 splits | - | - | no published number for this setting | - | 3 | 12 (CPU 3) |",
    ]
    assert "| gcn | forward+backward | geoconv | torch_geometric | 0.4000 | 1.600 | 4.00x |" in table
    assert "| gcn | geoconv_nodes_per_s | 250000.00 |" in table
    assert "| lmax | SO(2) conv (s) | e3nn (s) |" in table and "| 2 | 0.0100 | 0.1600 |" in table and "| 4 | 0.0500 | - |" in table
    assert len(rows_of(table)) == 4 + 1 + 1 + 2  # the older cora record is superseded; the search has no row
    assert "search.json: a task record without a result" in captured.err
    for name in ("accuracy_vs_published.png", "speed_ratios.png", "escn_cost_vs_lmax.png", "training_curves.png"):
        data = (out / name).read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 5_000, name


def test_keep_all_reports_every_record(tmp_path):
    make_records(tmp_path)
    cora = [r for r in report.collect([tmp_path], keep_all=True).training if r.dataset == "cora"]
    assert sorted(r.mean for r in cora) == [71.0, 80.0]


@pytest.mark.parametrize("damage, message", [
    (lambda r: r.pop("metric"), "missing field(s) metric"),
    (lambda r: r.update(values="80.0"), "values: expected a list of numbers"),
    (lambda r: r.update(num_seeds=3), "num_seeds is 3 but seeds lists 2"),
    (lambda r: r.update(mean=90.0), "mean/std 90.0"),
])
def test_a_malformed_record_stops_the_report_and_is_named(tmp_path, capsys, damage, message):
    make_records(tmp_path / "records")
    path = tmp_path / "records" / "train" / "cora.json"
    data = json.loads(path.read_text())
    damage(data)
    path.write_text(json.dumps(data))
    code = cli.main(["report", "--results-dir", str(tmp_path / "records"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == cli.EXIT_NO_RECORDS
    assert f"{path}: " in err and message in err and "--skip-invalid" in err
    assert not (tmp_path / "out" / "results.md").exists()  # no table without the record
    # With --skip-invalid the table is written without it and the file is named.
    code = cli.main(["report", "--results-dir", str(tmp_path / "records"), "--out", str(tmp_path / "out"), "--skip-invalid", "--no-plots"])
    captured = capsys.readouterr()
    assert code == 0 and message in captured.err
    assert "| node_classification | cora | gcn | test_acc | higher | 71.00 ± 1.41 |" in captured.out  # the older record remains


def test_a_file_that_is_not_json_is_named(tmp_path):
    (tmp_path / "notes.json").write_text("[1, 2")
    with pytest.raises(report.ReportError, match="notes.json: not JSON"):
        report.collect([tmp_path])


def test_finish_writes_a_record_the_report_reads(tmp_path, capsys):
    # The examples' path: finish(args, dict) with the catalogue's metric for the task, extra keys kept.
    args = argparse.Namespace(epochs=5, seeds=2, data_root=None, out=str(tmp_path / "r.json"), device="cpu", threads=1, no_progress=True)
    full = finish(args, {"task": "node_classification", "dataset": "citeseer", "model": "gcn", "seeds": 2,
                         "values": [70.0, 71.0], "test_acc_mean": 70.5, "test_acc_std": 0.71})
    printed = capsys.readouterr().out.strip().splitlines()
    line = json.loads(printed[-1])
    assert line == full == json.loads((tmp_path / "r.json").read_text())
    assert (line["metric"], line["higher_is_better"], line["seeds"], line["test_acc_mean"]) == ("test_acc", True, [0, 1], 70.5)
    # a line for people just before the record: the result beside the published figure
    assert printed[-2] == "citeseer / gcn: test_acc 70.5 ± 0.71 over 2 run(s) (published 70.3, Kipf & Welling, ICLR 2017, Table 2)"
    (row,) = report.collect([tmp_path]).training
    assert (row.task, row.dataset, row.mean, row.published.value) == ("node_classification", "citeseer", 70.5, 70.3)


def test_data_variant_keeps_its_own_row(tmp_path):
    common = dict(task="node_classification_heterophily", dataset="cornell", model="gcn", metric="test_acc",
                  higher_is_better=True, seeds=1)
    task_record(tmp_path / "standard.json", values=[48.0], finished_at="2026-01-01T00:00:00+00:00", **common)
    task_record(tmp_path / "legacy.json", values=[57.0], data_variant="old feature file", **common)
    rows = {(r.dataset, r.model): r.mean for r in report.collect([tmp_path]).training}
    assert rows == {("cornell", "gcn"): 48.0, ("cornell [old feature file]", "gcn"): 57.0}


def test_reproduce_command_parses_back_to_the_recorded_setting():
    from geoconv.tasks import load as load_task

    hyper = {"epochs": 500, "seeds": 5, "data_root": "/somewhere", "threads": 1, "dataset": "wisconsin", "model": "bundle",
             "hidden": 32, "lr": 0.0123456789, "low_pass": True, "high_pass": False, "task_type": "derived, not an option"}
    record = records.make(task="node_classification_heterophily", dataset="wisconsin", model="bundle", metric="test_acc",
                          higher_is_better=True, values=[88.0], seeds=[0], hyperparameters=hyper)
    command = report.reproduce_command(record)
    words = command.split()
    assert words[:3] == ["geoconv", "train", "sheaf-diffusion"]
    assert "--hidden-channels" in words and "--hidden" not in words  # the current spelling of an older key
    assert "--data-root" not in words and "--threads" not in words and "--task-type" not in words
    parsed = load_task("sheaf-diffusion").build_parser().parse_args(words[3:])
    assert (parsed.epochs, parsed.seeds, parsed.dataset, parsed.model) == (500, 5, "wisconsin", "bundle")
    assert parsed.hidden_channels == 32 and parsed.lr == 0.0123456789 and parsed.low_pass and not parsed.high_pass


def test_summary_keeps_published_comparisons_only(tmp_path):
    common = dict(task="node_classification", dataset="cora", model="gcn", metric="test_acc", higher_is_better=True,
                  seeds=[0, 1], hyperparameters={"epochs": 200, "seeds": 2})
    records.write(tmp_path / "full.json", records.make(values=[81.0, 82.0], **common))
    records.write(tmp_path / "quick.json", records.make(values=[50.0, 50.0], profile="quick", **common))
    records.write(tmp_path / "other.json", records.make(**{**common, "dataset": "nowhere"}, values=[1.0, 1.0]))
    summary = report.summary_markdown(report.collect([tmp_path]))
    rows = summary.strip().splitlines()[2:]
    assert len(rows) == 1 and "81.50 ± 0.71 (2)" in rows[0] and "81.50 |" in rows[0]
    assert "`geoconv train node-classification --seeds 2`" in rows[0]
