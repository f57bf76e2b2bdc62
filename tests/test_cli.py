"""The geoconv command line: help everywhere, a tiny real run, and each documented error with its exit code."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from geoconv import cli, records
from geoconv.catalogue import SUITES, TASKS
from geoconv.tasks import TASKS as TASK_MODULES

REPO = Path(__file__).resolve().parent.parent


def run_main(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def fake_repo(tmp_path: Path, script: str, body: str) -> Path:
    """A repository folder holding one example/benchmark script with ``body``."""
    repo = tmp_path / "repo"
    path = repo / script
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body))
    return repo


@pytest.mark.parametrize("command", [[], ["train"], ["bench"], ["suite"], ["datasets"], ["info"], ["report"]])
def test_help_of_every_command(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: geoconv")
    if command in (["train"], ["suite"]):
        for name, task in TASKS.items():
            assert name in out and " ".join(task.quick) in out  # every task and its --quick profile are documented
    if command == ["bench"]:
        assert all(name in out for name in SUITES)
    if command == []:
        assert "Exit codes" in out and all(name in out for name in ("train", "bench", "datasets", "info", "report"))


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "geoconv", "report", "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: geoconv report") and "--results-dir" in result.stdout


def test_no_command_prints_help_and_exits_2(capsys):
    code, out, _ = run_main(capsys)
    assert code == cli.EXIT_USAGE and "COMMAND" in out


def test_unknown_task_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "no-such-task"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'no-such-task'" in capsys.readouterr().err


def test_unknown_option_of_a_non_runner_command_is_rejected(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["datasets", "--bogus"])
    assert exit_info.value.code == 2


def test_train_node_classification_quick_writes_a_record(tmp_path, shared_data, capsys):
    results = tmp_path / "results"
    code, out, err = run_main(
        capsys, "train", "node-classification", "--quick", "--results-dir", str(results), "--data-root", str(shared_data),
        "--threads", "1", "--no-progress", "--epochs", "10", "--seeds", "1",
    )
    assert code == 0, err
    paths = list((results / "train" / "node-classification").glob("cora-gcn-quick-*.json"))
    assert len(paths) == 1
    records.load(paths[0])  # a valid schema record
    record = json.loads(paths[0].read_text())
    # The user's options come after the profile's, so they win: 10 epochs, 1 seed.
    assert record["task"] == "node_classification" and record["dataset"] == "cora" and record["model"] == "gcn"
    assert record["hyperparameters"]["epochs"] == 10 and record["seeds"] == [0] and record["num_seeds"] == 1
    assert record["metric"] == "test_acc" and record["higher_is_better"] and record["mean"] == pytest.approx(record["test_acc_mean"], abs=0.01)
    assert record["data_root"] == str(shared_data)
    assert record["profile"] == "quick" and record["command"][:3] == ["python", "-m", "geoconv.tasks.node_classification"]
    assert 30.0 < record["test_acc_mean"] <= 100.0  # well above the 7-class majority rate after 10 epochs
    assert json.loads(out.strip().splitlines()[-1])["test_acc_mean"] == record["test_acc_mean"]  # the script's line is echoed


def test_dry_run_shows_profile_then_user_options(capsys):
    code, out, _ = run_main(capsys, "train", "node-classification", "--quick", "--dry-run", "--threads", "1", "--dataset", "cora")
    assert code == 0
    command = out.strip()
    quick = " ".join(TASKS["node-classification"].quick)
    assert command.index(quick) < command.index("--dataset cora")
    assert "--threads 1" in command


def test_missing_dataset_offline_says_where_from_and_where_to(tmp_path, capsys):
    code, _, err = run_main(capsys, "train", "node-classification", "--offline", "--data-root", str(tmp_path))
    assert code == cli.EXIT_DATASET
    assert "dataset 'cora' is not under the data root" in err
    assert "https://github.com/kimiyoung/planetoid" in err  # where it is downloaded from
    assert f"{tmp_path}/<path above>" in err and "planetoid/ind.cora.x" in err  # where a manual copy goes
    for part in ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index"):  # every missing file, not the first few
        assert f"planetoid/ind.cora.{part}" in err, part


def fake_task(tmp_path: Path, monkeypatch, task: str, body: str) -> None:
    """Point ``task`` of the registry at a module in ``tmp_path`` holding ``body`` (found through PYTHONPATH)."""
    (tmp_path / "fake_task_module.py").write_text(textwrap.dedent(body))
    monkeypatch.setitem(TASK_MODULES, task, "fake_task_module")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))


def test_dataset_error_inside_the_task_exits_3(tmp_path, monkeypatch, capsys):
    fake_task(tmp_path, monkeypatch, "node-classification", """
        from geoconv.datasets.base import DatasetError
        raise DatasetError("planetoid/ind.cora.x is not under the data root /nowhere. Download it from https://example.org/x")
    """)
    code, _, err = run_main(capsys, "train", "node-classification", "--data-root", str(REPO.parent / "shared" / "data"),
                            "--results-dir", str(tmp_path / "results"))
    assert code == cli.EXIT_DATASET
    # printed once, as its message: no traceback, no chained or repeated copies
    assert err.count("planetoid/ind.cora.x is not under the data root /nowhere") == 1, err
    assert "Traceback" not in err and "a dataset is missing or corrupt" in err
    assert "geoconv datasets" in err
    assert not (tmp_path / "results").exists()  # a failed run leaves no record


def test_offline_reaches_the_loaders_inside_the_script(tmp_path, capsys):
    # The script downloads a file the pre-flight check does not know about; --offline must stop that download.
    # (A benchmark script of the repository: tasks run the installed package's modules, the same way.)
    source = tmp_path / "server" / "extra.csv"
    source.parent.mkdir()
    source.write_text("a,b\n")
    repo = fake_repo(tmp_path, "benchmarks/gcn.py", f"""
        import json
        from geoconv.datasets.base import RemoteFile, fetch
        fetch(RemoteFile("extra/extra.csv", {source.as_uri()!r}), {str(tmp_path / "root")!r})
        print(json.dumps({{"dataset": "extra", "model": "none"}}))
    """)
    shared = str(REPO.parent / "shared" / "data")
    code, _, err = run_main(capsys, "--repo", str(repo), "bench", "gcn", "--offline",
                            "--data-root", shared, "--results-dir", str(tmp_path / "results"))
    assert code == cli.EXIT_DATASET, err
    assert err.count("extra/extra.csv is not under the data root") == 1 and "downloads are off" in err
    assert not (tmp_path / "root" / "extra").exists() and not (tmp_path / "results").exists()
    # without --offline the same script downloads the file (its toy JSON line is then refused as a record: not our concern)
    code, _, err = run_main(capsys, "--repo", str(repo), "bench", "gcn",
                            "--data-root", shared, "--results-dir", str(tmp_path / "results"))
    assert code != cli.EXIT_DATASET and "downloads are off" not in err, err
    assert (tmp_path / "root" / "extra" / "extra.csv").read_text() == "a,b\n"


def test_molecules_bbbp_offline_never_downloads_and_says_so_once(tmp_path):
    # The finding: `geoconv train molecules --dataset bbbp --offline` still tried to download BBBP.csv.
    result = subprocess.run(
        [sys.executable, "-m", "geoconv", "train", "molecules", "--dataset", "bbbp", "--offline", "--quick",
         "--data-root", str(tmp_path), "--results-dir", str(tmp_path / "results")],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    assert result.returncode == cli.EXIT_DATASET, result.stderr
    assert "downloads are off" in result.stderr and "could not download" not in result.stderr
    assert result.stderr.count("moleculenet/BBBP.csv is not under the data root") == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_missing_optional_package_inside_the_script_exits_4_with_pip_command(tmp_path, capsys):
    repo = fake_repo(tmp_path, "benchmarks/gcn.py", """
        from geoconv._optional import require
        require("trimesh_that_does_not_exist", "reading meshes")
    """)
    code, _, err = run_main(capsys, "--repo", str(repo), "bench", "gcn", "--results-dir", str(tmp_path / "results"))
    assert code == cli.EXIT_EXTRA
    assert "needs a package that is not installed" in err and "pip install" in err


def test_missing_optional_package_before_running_exits_4(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "installed", lambda module: module != "e3nn")  # as if e3nn were not installed
    code, _, err = run_main(capsys, "train", "qm9", "--dry-run")
    assert code == cli.EXIT_EXTRA
    assert "needs the optional package(s) e3nn" in err and "pip install 'geoconv[equivariant]'" in err


def test_missing_benchmark_script_says_the_repository_is_needed(tmp_path, capsys):
    code, _, err = run_main(capsys, "--repo", str(tmp_path), "bench", "gcn", "--dry-run")
    assert code == cli.EXIT_NO_SCRIPT
    assert "benchmarks/gcn.py was not found" in err and "--repo" in err and "pip install -e ." in err
    assert "`geoconv train` needs no clone" in err


@pytest.mark.parametrize("name", sorted(TASKS))
def test_train_quick_resolves_every_task_to_its_package_module(tmp_path, capsys, name):
    # Run from a folder without examples/ (and with --repo pointing at it): the task comes from the package.
    code, out, err = run_main(capsys, "--repo", str(tmp_path), "train", name, "--quick", "--dry-run")
    assert code == 0, err
    command = out.split()
    module = TASK_MODULES[name]
    assert command[command.index("-m") + 1] == module and module.startswith("geoconv.tasks.")
    assert command[command.index(module) + 1:] == [*TASKS[name].args, *TASKS[name].quick]
    spec = importlib.util.find_spec(module)
    assert spec is not None and Path(spec.origin).parent == Path(cli.__file__).parent / "tasks"


def test_script_without_json_record_exits_1(tmp_path, capsys):
    repo = fake_repo(tmp_path, "benchmarks/gcn.py", "print('no json here')\n")
    code, out, err = run_main(capsys, "--repo", str(repo), "bench", "gcn", "--results-dir", str(tmp_path / "results"))
    assert code == cli.EXIT_FAILED
    assert "no json here" in out and "printed no JSON record" in err


def test_failing_script_exits_1_and_points_at_its_error(tmp_path, capsys):
    repo = fake_repo(tmp_path, "benchmarks/gcn.py", "raise ValueError('boom')\n")
    code, _, err = run_main(capsys, "--repo", str(repo), "bench", "gcn", "--results-dir", str(tmp_path / "results"))
    assert code == cli.EXIT_FAILED
    assert "ValueError: boom" in err and "failed with exit code 1" in err


def test_bench_stores_the_schema_record_of_the_benchmark(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # the fake script imports this checkout's geoconv
    repo = fake_repo(tmp_path, "benchmarks/gcn.py", """
        import sys
        from geoconv import records
        from geoconv.records import Comparison
        print("warming up")
        record = records.make(kind="benchmark", task="gcn", dataset="random", model="GCNConv", extra={"args": sys.argv[1:]},
                              comparisons=[Comparison("forward+backward", "geoconv", "torch_geometric", 0.4, 1.6, 4.0)])
        print(records.dumps(record))
    """)
    code, _, err = run_main(capsys, "--repo", str(repo), "bench", "gcn", "--quick", "--results-dir", str(tmp_path / "results"))
    assert code == 0, err
    (path,) = (tmp_path / "results" / "bench").glob("gcn-quick-*.json")
    record = records.load(path)
    assert record.kind == "benchmark" and record.task == "gcn" and record.profile == "quick"
    assert record.command == ["python", "benchmarks/gcn.py", *SUITES["gcn"].quick]
    assert record.extra["args"] == list(SUITES["gcn"].quick) and record.extra["process_cpu_time_s"] >= 0
    assert record.comparisons[0].ratio == 4.0 and "torch" in record.versions


def test_script_whose_last_line_is_not_a_schema_record_exits_1(tmp_path, capsys):
    repo = fake_repo(tmp_path, "benchmarks/gcn.py", """
        import json
        print(json.dumps({"benchmark": "gcn", "ratio_geoconv_over_pyg": 0.25}))
    """)
    code, _, err = run_main(capsys, "--repo", str(repo), "bench", "gcn", "--results-dir", str(tmp_path / "results"))
    assert code == cli.EXIT_FAILED
    assert "not a schema record" in err and "missing field(s) kind, task" in err
    assert not (tmp_path / "results").exists()  # nothing recorded


def test_datasets_lists_present_and_missing(tmp_path, shared_data, capsys):
    code, out, _ = run_main(capsys, "datasets", "--json", "--data-root", str(shared_data))
    assert code == 0
    listing = {row["name"]: row for row in json.loads(out)["datasets"]}
    assert listing["cora"]["status"] == "present" and listing["cora"]["bytes_on_disk"] > 500_000
    assert listing["pubmed"]["status"] == "partial (7/8 files)" and listing["pubmed"]["missing"] == ["planetoid/ind.pubmed.allx"]
    assert listing["qm9"]["status"] == "present"  # found as qm9.csv.xz
    code, out, _ = run_main(capsys, "datasets", "--data-root", str(tmp_path))
    assert code == 0
    assert "cora" in out and "missing" in out and f"{tmp_path}/planetoid/ind.cora.x" in out


def test_info_reports_optional_packages_and_pip_commands(monkeypatch, capsys):
    code, out, _ = run_main(capsys, "info", "--json")
    assert code == 0
    info = json.loads(out)
    assert info["optional_packages"]["torch_geometric"]  # installed here: a version string
    assert info["scripts_found"] >= 2
    monkeypatch.setitem(sys.modules, "rdkit", None)  # importing rdkit now raises ImportError, as if not installed
    code, out, _ = run_main(capsys, "info")
    assert "rdkit            missing -> pip install 'geoconv[chem]'" in out


def test_report_without_records_exits_6(tmp_path, capsys):
    code, _, err = run_main(capsys, "report", "--results-dir", str(tmp_path))
    assert code == cli.EXIT_NO_RECORDS and "geoconv train" in err
    code, _, err = run_main(capsys, "report", str(tmp_path / "absent"))
    assert code == cli.EXIT_NO_RECORDS and "does not exist" in err


def test_dataset_chosen_by_the_profile_is_checked(tmp_path, capsys):
    # --full of point-cloud selects ModelNet40 (HDF5), which is not stored here: offline, that is exit 3 before running.
    code, _, err = run_main(capsys, "train", "point-cloud", "--full", "--offline", "--dry-run", "--data-root", str(tmp_path))
    assert code == cli.EXIT_DATASET
    assert "dataset 'modelnet40_hdf5'" in err and "modelnet/modelnet40_ply_hdf5_2048.zip" in err


def test_run_script_prints_a_dataset_error_once_for_scripts_and_modules(tmp_path):
    (tmp_path / "failing_task.py").write_text(
        "from geoconv.datasets.base import DatasetError\n"
        "try:\n    raise DatasetError('inner: qm9/qm9.csv is missing')\n"
        "except DatasetError as error:\n    raise DatasetError(f'QM9 needs it: {error}') from error\n"
    )
    (tmp_path / "broken_task.py").write_text("raise ValueError('not a dataset problem')\n")
    env = {**__import__("os").environ, "PYTHONPATH": f"{tmp_path}:{REPO}"}
    for target in (["failing_task.py"], ["-m", "failing_task"]):
        result = subprocess.run([sys.executable, "-m", "geoconv._run_script", *target], capture_output=True, text=True,
                                cwd=tmp_path, env=env, timeout=120)
        assert result.returncode == cli.EXIT_DATASET, result.stderr
        assert result.stderr.count("qm9/qm9.csv is missing") == 1 and "Traceback" not in result.stderr, result.stderr
    result = subprocess.run([sys.executable, "-m", "geoconv._run_script", "broken_task.py"], capture_output=True,
                            text=True, cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 1 and "Traceback" in result.stderr and "ValueError: not a dataset problem" in result.stderr
