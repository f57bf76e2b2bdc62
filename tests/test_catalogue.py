"""The catalogue is consistent: with the scripts it names, with itself, and with datasets/README.md."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from geoconv.catalogue import DATASETS, PUBLISHED, SUITES, TASKS, published_for, task_for_record
from geoconv.tasks import load as load_task

REPO = Path(__file__).resolve().parent.parent
# Options every benchmark gets from geoconv.benchmarking.add_arguments.
BENCHMARK_OPTIONS = {"--device", "--threads", "--repeats", "--warmup", "--out"}


def script_options(path: Path) -> set[str]:
    """The long options a script declares with add_argument (read from its source, without running it)."""
    return set(re.findall(r"add_argument\(\s*\"(--[\w-]+)\"", path.read_text()))


@pytest.mark.parametrize("name", sorted(TASKS))
def test_task_profiles_parse_with_the_task_module(name):
    task = TASKS[name]
    module = load_task(name)
    parser = module.build_parser()
    for profile in (task.quick, task.full):
        parser.parse_args([*task.args, *profile])  # exits (SystemExit) on an option the task does not have
    # the record names the task as the catalogue says
    assert f'"task": "{task.record_task}"' in inspect.getsource(module)
    assert all(dataset in DATASETS for dataset in task.datasets)


@pytest.mark.parametrize("name", sorted(SUITES))
def test_suite_profiles_use_options_of_the_benchmark(name):
    suite = SUITES[name]
    assert suite.script.startswith("benchmarks/")
    path = REPO / suite.script
    assert path.is_file(), f"{suite.script} is missing"
    used = {arg for arg in (*suite.quick, *suite.full) if arg.startswith("--")}
    assert used <= script_options(path) | BENCHMARK_OPTIONS
    assert "benchmarking.add_arguments(parser" in path.read_text()  # the shared flags: every ratio measured one way
    assert all(dataset in DATASETS for dataset in suite.datasets)


def test_published_numbers_are_those_of_the_datasets_readme():
    readme = (REPO / "datasets" / "README.md").read_text().splitlines()
    for (task, dataset, model), entry in PUBLISHED.items():
        forms = {str(entry.value), f"{entry.value:g}", f"{entry.value:.2f}"}
        name = dataset.split("/")[0].split("_")[0].lower()  # qm9/u0 -> qm9, modelnet40_hdf5 -> modelnet40
        names = {name, re.sub(r"\d+$", "", name)}  # shrec10 -> shrec (one README row for both splits)
        rows = [line for line in readme if line.startswith("|") and any(n in line.lower() for n in names)]
        assert any(form in row for row in rows for form in forms), (task, dataset, model, entry.value)


def test_lookups():
    assert published_for("NODE_CLASSIFICATION", "Cora", "GCN").value == 81.5
    assert published_for("node_classification", "cora", "gat") is None
    assert task_for_record("node_classification").name == "node-classification"
    assert task_for_record("unknown") is None
