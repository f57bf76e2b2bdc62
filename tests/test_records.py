"""The record schema: what validates, what fails (naming the field), and the atomic writer."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from geoconv import records
from geoconv.records import SCHEMA_FIELDS, Comparison, RecordError, Series


def good() -> dict:
    record = records.make(task="node_classification", dataset="cora", model="gcn", metric="test_acc", higher_is_better=True,
                          values=[80.0, 82.0], seeds=[0, 1], hyperparameters={"epochs": 200}, extra={"test_acc_mean": 81.0})
    return record.to_dict()


def test_make_fills_the_derived_fields_and_round_trips(tmp_path):
    data = good()
    assert set(SCHEMA_FIELDS) <= set(data) and data["schema"] == records.SCHEMA
    assert (data["mean"], data["std"], data["num_seeds"]) == (81.0, pytest.approx(2 ** 0.5), 2)
    assert data["test_acc_mean"] == 81.0 and "torch" in data["versions"] and data["finished_at"].endswith("+00:00")
    path = records.write(tmp_path / "sub" / "r.json", records.validate(data))
    assert records.load(path).to_dict() == data
    assert records.load(path).extra == {"test_acc_mean": 81.0}


def test_seed_count_tensors_and_flat_curves_are_normalised():
    record = records.make(task="t", dataset="d", model="m", metric="loss", higher_is_better=False,
                          values=torch.tensor([1.0, 3.0]), seeds=2, curves={"loss": [3.0, 2.0]},
                          variants=[{"model": "m2", "values": [2.0, 2.0]}])
    assert record.seeds == [0, 1] and record.values == [1.0, 3.0] and record.curves == {"loss": [[3.0, 2.0]]}
    assert (record.variants[0].mean, record.variants[0].std) == (2.0, 0.0)


@pytest.mark.parametrize("name", SCHEMA_FIELDS)
def test_every_missing_field_fails_and_is_named(name):
    data = good()
    del data[name]
    with pytest.raises(RecordError, match=f"missing field\\(s\\) {name}"):
        records.validate(data)


@pytest.mark.parametrize("name, value, expected", [
    ("task", 3, "task: expected a non-empty string"),
    ("task", "", "task: expected a non-empty string"),
    ("higher_is_better", "yes", "higher_is_better: expected true or false"),
    ("values", [80.0, "82"], r"values\[1\]: expected a finite number"),
    ("values", [80.0, float("nan")], r"values\[1\]: expected a finite number"),
    ("num_seeds", True, "num_seeds: expected a count"),
    ("seeds", [0, 1.5], r"seeds\[1\]: expected an integer"),
    ("command", "python x.py", "command: expected a list of strings"),
    ("versions", {"torch": 2}, "versions.torch: expected a version string"),
    ("comparisons", [{"name": "x", "ours": "a", "reference": "b", "ratio": 2.0}],
     r"comparisons\[0\]: missing field\(s\) seconds_ours, seconds_reference"),
    ("figures", {"x": "fast"}, "figures.x: expected a finite number"),
    ("kind", "training", "kind 'training' is not one of"),
    ("schema", "geoconv.record/0", "is not 'geoconv.record/1'"),
])
def test_a_wrong_type_fails_and_is_named(name, value, expected):
    data = good()
    data[name] = value
    with pytest.raises(RecordError, match=expected):
        records.validate(data, source="r.json")


@pytest.mark.parametrize("change, expected", [
    ({"values": [80.0]}, "values has 1 entries, expected num_seeds x splits = 2"),
    ({"splits": 2}, "values has 2 entries, expected num_seeds x splits = 4"),
    ({"std": 0.0}, "are not those of the values"),
    ({"higher_is_better": None}, "without higher_is_better"),
    ({"metric": None}, "given without a metric"),
    ({"seeds": [0]}, "num_seeds is 2 but seeds lists 1"),
    ({"series": [{"name": "s", "x_name": "lmax", "x": [2, 4], "y": {"a": [1.0]}}]}, r"series\[0\]\.y\.a: expected 2 values"),
])
def test_an_inconsistent_record_fails(change, expected):
    data = {**good(), **change}
    with pytest.raises(RecordError, match=expected):
        records.validate(data)


def test_rounded_values_still_match_their_mean():
    data = good()
    data.update(values=[81.67, 82.33], mean=82.0, std=0.4667)  # the mean of unrounded values, as stored by older runs
    assert records.validate(data).mean == 82.0


def test_benchmark_record_with_comparisons_and_series():
    record = records.make(kind="benchmark", task="so2-conv", dataset="random", model="SO2Convolution",
                          comparisons=[Comparison("fwd+bwd", "geoconv", "e3nn", 0.1, 0.8, 8.0)],
                          series=[Series("cost", "lmax", [2, 4], {"geoconv": [0.1, 0.2], "e3nn": [0.8, None]})],
                          extra={"speedup": [8.0]})
    back = records.validate(json.loads(records.dumps(record)))
    assert back == record and back.comparisons[0].ratio == 8.0 and back.series[0].y["e3nn"] == [0.8, None]


def test_extra_keys_may_not_shadow_schema_fields():
    with pytest.raises(RecordError, match="clash with schema fields"):
        records.make(task="t", dataset="d", model="m", extra={"mean": 1.0})


def test_write_is_atomic_and_keeps_the_previous_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    first = records.validate(good())
    records.write(path, first)
    before = path.read_text()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        records.write(path, records.validate({**good(), "dataset": "citeseer"}))
    assert path.read_text() == before  # the old record is intact
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # and no temporary file is left behind


def test_load_names_the_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(RecordError, match="bad.json: not JSON"):
        records.load(path)
    path.write_text(json.dumps({"task": "x"}))
    with pytest.raises(RecordError, match="bad.json: missing field"):
        records.load(path)


def test_every_committed_record_is_a_schema_record():
    # `geoconv report` reads only schema records: a committed result file in another form would be dropped.
    repo = Path(__file__).resolve().parent.parent
    files = sorted([*(repo / "examples" / "results").rglob("*.json"), *(repo / "benchmarks" / "results").rglob("*.json")])
    assert len(files) > 20
    bad = []
    for path in files:
        try:
            records.load(path)
        except records.RecordError as error:
            bad.append(f"{path.relative_to(repo)}: {error}")
    assert not bad, "\n".join(bad)
