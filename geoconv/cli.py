"""The ``geoconv`` command line: train, bench, datasets, info, report, suite.

    geoconv train node-classification --quick          # a small run, record under results/
    geoconv train sheaf-diffusion --dataset wisconsin  # options after TASK go to the task
    geoconv bench gcn --quick                          # speed vs torch_geometric, record under results/
    geoconv datasets                                   # supported / present under the data root
    geoconv info                                       # versions, optional packages, device
    geoconv report                                     # results/results.md and PNG plots
    geoconv suite --quick                              # every task and benchmark, then the report

``train`` runs a task module of the installed package (``python -m
geoconv.tasks.<name>``, see :mod:`geoconv.tasks`) as a subprocess, so it needs
no clone of the repository; ``bench`` runs the scripts of the repository's
``benchmarks/`` folder, which a clone has and an installed wheel has not.  The
command line only chooses their arguments and keeps their records.  Profiles,
suites, datasets and published numbers come from :mod:`geoconv.catalogue`.

Exit codes: 0 success; 1 the script failed (its error is printed above);
2 usage error; 3 a dataset is missing; 4 an optional package is missing;
5 the benchmark script is not found (installed without the repository);
6 no records to report, or a file under the results folder that is not a schema record.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Sequence

import geoconv
from geoconv.catalogue import DATASETS, SUITES, TASKS, DatasetInfo, Suite, Task

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DATASET, EXIT_EXTRA, EXIT_NO_SCRIPT, EXIT_NO_RECORDS = 0, 1, 2, 3, 4, 5, 6


class CLIError(Exception):
    """An error with a message for the user and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------- locations


def default_repo() -> Path:
    """The folder that holds this package: a clone's root (benchmarks/ beside geoconv/), or site-packages."""
    import geoconv

    return Path(geoconv.__file__).resolve().parent.parent


def repo_of(args: argparse.Namespace) -> Path:
    return Path(args.repo).expanduser().resolve() if getattr(args, "repo", None) else default_repo()


def script_path(repo: Path, relative: str) -> Path:
    """The benchmark script, or a :class:`CLIError` saying how to get it."""
    path = repo / relative
    if not path.is_file():
        raise CLIError(
            f"{relative} was not found under {repo}. `geoconv bench` runs the scripts of the repository's "
            f"benchmarks/ folder, which is not part of the installed package (`geoconv train` needs no clone): "
            f"clone the geoconv repository, install it with `pip install -e .` from the clone, or pass "
            f"--repo PATH_TO_CLONE.",
            EXIT_NO_SCRIPT,
        )
    return path


# ---------------------------------------------------------------- checks before running


def installed(module: str) -> bool:
    """True when ``module`` can be found (without importing it: a pre-flight check must stay fast)."""
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_extras(modules: Sequence[str]) -> list[str]:
    return [module for module in modules if not installed(module)]


def pip_command(module: str) -> str:
    from geoconv._optional import EXTRAS

    extra, package = EXTRAS.get(module, ("all", module))
    return f"pip install 'geoconv[{extra}]'  (or: pip install {package})"


def dataset_status(info: DatasetInfo, root: Path) -> tuple[list[Path], list[str], int]:
    """(local files found, relative paths missing, bytes on disk) of one catalogue dataset under ``root``."""
    from geoconv.datasets.base import RemoteFile, locate

    found, missing, size = [], [], 0
    for relative in info.files:
        local = locate(RemoteFile(relative, info.source), root)
        if local is None:
            missing.append(relative)
            continue
        found.append(local)
        size += _disk_size(local)
    return found, missing, size


def missing_dataset_message(info: DatasetInfo, missing: Sequence[str], root: Path) -> str:
    shown = ", ".join(missing)  # every file: a user copying them by hand needs the whole list
    return (
        f"dataset '{info.name}' is not under the data root {root} (missing: {shown}). It is downloaded from "
        f"{info.source}. To use a manual copy, place the files at {root}/<path above> (a .gz/.xz compressed copy "
        f"works too), or point --data-root / $GEOCONV_DATA at a folder that holds them. `geoconv datasets` lists "
        f"every source."
    )


def selected_datasets(item: Task | Suite, passthrough: Sequence[str]) -> list[DatasetInfo]:
    """The catalogue datasets a run will read: the last ``--dataset X`` of the profile and the user's options
    when the catalogue knows it, else the defaults."""
    chosen = _option_value(passthrough, "--dataset")
    if chosen is not None:
        info = DATASETS.get(chosen.lower())
        return [info] if info is not None else []
    return [DATASETS[name] for name in item.datasets if name in DATASETS]


# ---------------------------------------------------------------- running a script


def run_script(command: list[str], *, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run ``command``, echoing its stdout and stderr live; return (exit code, stdout, stderr tail)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []

    def pump(stream: IO[bytes], sink: IO[bytes], chunks: list[bytes], keep_all: bool) -> None:
        for chunk in iter(lambda: os.read(stream.fileno(), 1 << 14), b""):
            sink.write(chunk)
            sink.flush()
            chunks.append(chunk)
            if not keep_all and len(chunks) > 64:
                del chunks[:-64]

    threads = [
        threading.Thread(target=pump, args=(process.stdout, _binary(sys.stdout), out_chunks, True), daemon=True),
        threading.Thread(target=pump, args=(process.stderr, _binary(sys.stderr), err_chunks, False), daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        code = process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait()
        raise
    for thread in threads:
        thread.join()
    return code, b"".join(out_chunks).decode(errors="replace"), b"".join(err_chunks).decode(errors="replace")


def last_json_line(text: str) -> dict | None:
    """The last line of ``text`` that parses as a JSON object."""
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None


def explain_failure(code: int, stderr: str, what: str) -> CLIError:
    """Turn a failed script's stderr into a message that says what to do."""
    if code == EXIT_DATASET:  # geoconv._run_script printed the DatasetError's message once, above
        return CLIError(f"{what} stopped because a dataset is missing or corrupt (see the message above). "
                        f"`geoconv datasets` lists sources and local paths.", EXIT_DATASET)
    dataset = re.findall(r"DatasetError: (.+)", stderr)
    if dataset:
        return CLIError(
            f"{what} stopped because a dataset is missing or corrupt: {dataset[-1].strip()}\n"
            f"See `geoconv datasets` for sources and local paths.", EXIT_DATASET,
        )
    optional = re.findall(r"(?:Import|ModuleNotFound)Error: (.+)", stderr)
    if optional:
        message = optional[-1].strip()
        module = re.search(r"No module named '([\w.]+)'", message)
        hint = f" Install it with: {pip_command(module.group(1).split('.')[0])}" if module else ""
        return CLIError(f"{what} needs a package that is not installed: {message}{hint}", EXIT_EXTRA)
    return CLIError(f"{what} failed with exit code {code}; its error is printed above.", EXIT_FAILED)


def _execute(item: Task | Suite, kind: str, args: argparse.Namespace, passthrough: list[str]) -> Path | None:
    """Check, run and record one task or suite; return the record path (None for --dry-run)."""
    if kind == "task":
        from geoconv.tasks import module_name

        # A module of the installed package: no clone needed. -P (Python 3.11+) keeps the working directory off
        # sys.path, so a geoconv/ folder there cannot shadow the package this command line runs from.
        module = module_name(item.name)
        launcher = [sys.executable, *(["-P"] if sys.version_info >= (3, 11) else []), "-m", module]
        shown, what, cwd = ["python", "-m", module], f"task {module}", Path.cwd()
    else:
        repo = repo_of(args)
        script = script_path(repo, item.script)
        launcher, shown, what, cwd = [sys.executable, str(script)], ["python", item.script], f"benchmark {item.script}", repo
    absent = missing_extras(item.extras)
    if absent:
        raise CLIError(
            f"{kind} '{item.name}' needs the optional package(s) {', '.join(absent)}. Install with: "
            + "; ".join(pip_command(module) for module in absent), EXIT_EXTRA,
        )
    from geoconv.datasets.base import data_root

    profile = "quick" if args.quick else ("full" if getattr(args, "full", False) else "default")
    profile_args = list(item.quick if args.quick else (item.full if getattr(args, "full", False) else ()))
    root = data_root(args.data_root)
    for info in selected_datasets(item, [*profile_args, *passthrough]):
        _, missing, _ = dataset_status(info, root)
        if missing:
            message = missing_dataset_message(info, missing, root)
            if args.offline:
                raise CLIError(message, EXIT_DATASET)
            print(f"geoconv: note: {message} The script will try to download it.", file=sys.stderr)

    command = [*launcher, *getattr(item, "args", ()), *profile_args]
    if args.data_root and kind == "task":
        command += ["--data-root", str(args.data_root)]
    if args.threads and kind == "task":
        command += ["--threads", str(args.threads)]
    if kind == "task" and args.no_progress:
        command.append("--no-progress")
    command += passthrough
    if args.dry_run:
        print(" ".join(_quote(part) for part in command))
        return None

    env = dict(os.environ)
    # The subprocess imports the same geoconv as this process (a clone's, or the installed wheel's);
    # a benchmark also needs the repository it lives in.
    package_parent = str(Path(__file__).resolve().parent.parent)
    paths = [package_parent, *([] if kind == "task" else [str(repo)]), *filter(None, [env.get("PYTHONPATH")])]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    if args.offline:
        from geoconv.datasets.base import OFFLINE_VARIABLE

        env[OFFLINE_VARIABLE] = "1"  # every loader's download (geoconv.datasets.base.fetch) honours it
    if args.data_root:
        env["GEOCONV_DATA"] = str(Path(args.data_root).expanduser())
    if args.threads:
        env.setdefault("OMP_NUM_THREADS", str(args.threads))
    print(f"geoconv: running {kind} '{item.name}' ({profile} profile): {' '.join(_quote(p) for p in [*shown, *command[len(launcher):]])}", file=sys.stderr)
    start, cpu_start = time.perf_counter(), _children_cpu_seconds()
    # through geoconv._run_script: a DatasetError is printed once, as its message, with exit code 3
    interpreter = launcher[:2] if launcher[1:2] == ["-P"] else launcher[:1]
    wrapped = [*interpreter, "-m", "geoconv._run_script", *command[len(interpreter):]]
    code, stdout, stderr = run_script(wrapped, env=env, cwd=cwd)
    elapsed, cpu = time.perf_counter() - start, _children_cpu_seconds() - cpu_start
    if code != 0:
        raise explain_failure(code, stderr, what)
    result = last_json_line(stdout)
    if result is None:
        raise CLIError(f"{what} finished but printed no JSON record as its last line; nothing was recorded.", EXIT_FAILED)
    from dataclasses import replace

    from geoconv import records

    try:
        record = records.validate(result, source=f"the last line of {' '.join(shown)}")
    except records.RecordError as error:
        raise CLIError(f"{what} printed a last line that is not a schema record ({error}); nothing was recorded.",
                       EXIT_FAILED) from None

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    results_dir = Path(args.results_dir)
    name = f"{_slug(record.dataset)}-{_slug(record.model)}" if kind == "task" else item.name
    target = results_dir / ("train" if kind == "task" else "bench") / (item.name if kind == "task" else "") / f"{name}-{profile}-{stamp}.json"
    record = replace(
        record, profile=profile, command=[*shown, *command[len(launcher):]],
        # The whole script (interpreter start and imports included), beside the record's own run time.
        extra={**record.extra, "process_wall_time_s": round(elapsed, 2), "process_cpu_time_s": round(cpu, 2)},
    )
    records.write(target, record)
    print(f"geoconv: record written to {target}", file=sys.stderr)
    return target


# ---------------------------------------------------------------- commands


def cmd_train(args: argparse.Namespace, passthrough: list[str]) -> int:
    names = list(TASKS) if args.task == "all" else [args.task]
    return _run_many([TASKS[name] for name in names], "task", args, passthrough)


def cmd_bench(args: argparse.Namespace, passthrough: list[str]) -> int:
    names = list(SUITES) if args.suite == "all" else [args.suite]
    return _run_many([SUITES[name] for name in names], "suite", args, passthrough)


def _run_many(items: list[Task | Suite], kind: str, args: argparse.Namespace, passthrough: list[str]) -> int:
    if len(items) == 1:
        _execute(items[0], kind, args, passthrough)
        return EXIT_OK
    # "all": keep going after a failure, then say what failed (one missing family must not hide the others).
    failures: list[tuple[str, CLIError]] = []
    for item in items:
        try:
            _execute(item, kind, args, passthrough)
        except CLIError as error:
            print(f"geoconv: {item.name}: {error}", file=sys.stderr)
            failures.append((item.name, error))
    if failures:
        print("geoconv: failed: " + ", ".join(name for name, _ in failures), file=sys.stderr)
        return max(error.code for _, error in failures)
    return EXIT_OK


def cmd_suite(args: argparse.Namespace, passthrough: list[str]) -> int:
    if passthrough:
        raise CLIError(f"`geoconv suite` takes no script options (got {' '.join(passthrough)})", EXIT_USAGE)
    args.task, args.suite = "all", "all"
    code_train = cmd_train(args, [])
    code_bench = cmd_bench(args, [])
    if args.dry_run:
        return max(code_train, code_bench)
    args.out = None
    args.keep_all = False
    args.no_plots = False
    args.skip_invalid = False
    code_report = cmd_report(args, [])
    return max(code_train, code_bench, code_report)


def cmd_datasets(args: argparse.Namespace, passthrough: list[str]) -> int:
    _no_passthrough("datasets", passthrough)
    from geoconv.datasets.base import data_root

    root = data_root(args.data_root)
    rows = []
    for info in DATASETS.values():
        found, missing, size = dataset_status(info, root)
        status = "present" if not missing else ("missing" if not found else f"partial ({len(found)}/{len(info.files)} files)")
        rows.append({
            "name": info.name, "task": info.task, "status": status, "bytes_on_disk": size, "size": info.size,
            "source": info.source, "licence": info.licence, "citation": info.citation, "files": list(info.files),
            "missing": missing, "notes": info.notes,
        })
    if args.json:
        print(json.dumps({"data_root": str(root), "datasets": rows}, indent=1))
        return EXIT_OK
    print(f"data root: {root}  ({'exists' if root.is_dir() else 'does not exist yet'}; set by --data-root, $GEOCONV_DATA, else ~/.cache/geoconv)")
    print()
    header = ("dataset", "task", "status", "on disk", "size", "source")
    table = [header] + [
        (r["name"], r["task"], r["status"], _human(r["bytes_on_disk"]) if r["bytes_on_disk"] else "-", r["size"], r["source"])
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header) - 1)]
    for row in table:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row[:-1], widths)) + "  " + str(row[-1]))
    absent = [r for r in rows if r["status"] != "present"]
    if absent:
        print()
        print("Missing files are downloaded by the loaders on first use; for a manual copy put them at")
        for r in absent:
            print(f"  {root}/{r['missing'][0]}" + (f"  (+{len(r['missing']) - 1} more)" if len(r["missing"]) > 1 else "") + (f"   [{r['notes']}]" if r["notes"] else ""))
    return EXIT_OK


def cmd_info(args: argparse.Namespace, passthrough: list[str]) -> int:
    _no_passthrough("info", passthrough)
    import importlib
    import platform

    import torch

    import geoconv
    from geoconv._optional import EXTRAS
    from geoconv.datasets.base import cache_dir, data_root

    optional: dict[str, str | None] = {}
    for module in EXTRAS:
        try:
            optional[module] = str(getattr(importlib.import_module(module), "__version__", "installed"))
        except ImportError:
            optional[module] = None
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i} ({torch.cuda.get_device_name(i)})" for i in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    repo = repo_of(args)
    scripts = {item.script: (repo / item.script).is_file() for item in SUITES.values()}
    info = {
        "geoconv": geoconv.__version__, "python": platform.python_version(), "platform": platform.platform(),
        "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "devices": devices,
        "optional_packages": optional, "data_root": str(data_root(args.data_root)), "cache_dir": str(cache_dir()),
        "repository": str(repo), "scripts_found": sum(scripts.values()), "scripts_expected": len(scripts),
    }
    if args.json:
        print(json.dumps(info, indent=1))
        return EXIT_OK
    print(f"geoconv {info['geoconv']}  (python {info['python']}, {info['platform']})")
    print(f"torch {info['torch']}, {info['torch_threads']} CPU threads; devices: {', '.join(devices)}")
    print("optional packages:")
    for module, version in optional.items():
        print(f"  {module:16s} {version}" if version else f"  {module:16s} missing -> {pip_command(module)}")
    print(f"data root: {info['data_root']}")
    print(f"processed cache: {info['cache_dir']}")
    print(f"repository: {repo}  ({info['scripts_found']}/{info['scripts_expected']} benchmark scripts found; tasks need none)")
    for script, present in scripts.items():
        if not present:
            print(f"  missing: {script}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace, passthrough: list[str]) -> int:
    _no_passthrough("report", passthrough)
    from geoconv import report as reporting

    sources = args.records or [args.results_dir]
    out = Path(args.out) if args.out else Path(args.results_dir)
    try:
        report, table, images = reporting.write(sources, out, keep_all=args.keep_all, plots=not args.no_plots,
                                                skip_invalid=args.skip_invalid)
    except reporting.ReportError as error:
        raise CLIError(str(error), EXIT_NO_RECORDS) from error
    print(table.read_text(), end="")
    print(f"\ngeoconv: table written to {table}", file=sys.stderr)
    for image in images:
        print(f"geoconv: plot written to {image}", file=sys.stderr)
    for skipped in report.skipped:
        print(f"geoconv: skipped {skipped}", file=sys.stderr)
    return EXIT_OK


# ---------------------------------------------------------------- parser


def _profile_epilog(items: dict[str, Task | Suite], title: str = "profiles") -> str:
    lines = [f"{title} (arguments added before yours; --quick: CPU time measured with 1 thread on a 2-core machine, "
             f"--full: estimated):"]
    total_quick = total_full = 0.0
    for item in items.values():
        quick = " ".join(item.quick) or "(script defaults)"
        full = " ".join(item.full) or "(script defaults)"
        lines.append(f"  {item.name:20s} --quick: {quick}  [~{item.quick_minutes:g} min]")
        lines.append(f"  {'':20s} --full:  {full}  [~{_duration(item.full_minutes)}]")
        total_quick += item.quick_minutes
        total_full += item.full_minutes
    lines.append(f"  all: --quick ~{total_quick:.3g} min, --full ~{_duration(total_full)}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="geoconv", description=__doc__.split("\n\n")[0] + "\n\n" + __doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False,
        epilog=__doc__.split("\n\n", 3)[3],
    )
    parser.add_argument("--version", action="version", version=f"geoconv {geoconv.__version__}")
    parser.add_argument("--repo", default=None, help="repository holding benchmarks/ for `geoconv bench` (default: the one this package is in)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def runner(name: str, help_text: str, epilog: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, epilog=epilog,
                                  formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
        profile = sub.add_mutually_exclusive_group()
        profile.add_argument("--quick", action="store_true", help="small smoke-test profile (see below)")
        profile.add_argument("--full", action="store_true", help="the published setting (see below; may take hours)")
        sub.add_argument("--results-dir", default="results", help="where records are written (default results/)")
        sub.add_argument("--data-root", default=None, help="data root (default $GEOCONV_DATA, else ~/.cache/geoconv)")
        sub.add_argument("--threads", type=int, default=None, help="torch CPU threads for the script")
        sub.add_argument("--offline", action="store_true", help="never download: a missing dataset fails with exit 3 "
                         "(sets $GEOCONV_OFFLINE for the script, which every loader honours)")
        sub.add_argument("--no-progress", action="store_true", help="no progress bars")
        sub.add_argument("--dry-run", action="store_true", help="print the command instead of running it")
        return sub

    train = runner(
        "train", "Train and evaluate a task (geoconv.tasks); its JSON record goes under --results-dir/train/.",
        _profile_epilog(TASKS) + "\n\nAny other option is passed to the task, e.g.\n"
        "  geoconv train node-classification --dataset citeseer --hidden-channels 32 --seeds 3\n"
        "(`python -m geoconv.tasks.<task> --help` lists them, e.g. geoconv.tasks.node_classification).",
    )
    train.add_argument("task", choices=[*TASKS, "all"], metavar="TASK", help="one of: " + ", ".join(TASKS) + ", all")
    train.set_defaults(handler=cmd_train)

    bench = runner(
        "bench", "Run a speed benchmark (vs torch_geometric / reference); its record goes under --results-dir/bench/.",
        _profile_epilog(SUITES) + "\n\nAny other option is passed to the benchmark script.",
    )
    bench.add_argument("suite", nargs="?", default="all", choices=[*SUITES, "all"], metavar="SUITE",
                       help="one of: " + ", ".join(SUITES) + ", all (default)")
    bench.set_defaults(handler=cmd_bench)

    suite = runner(
        "suite", "Run every task and benchmark, then the report (the tasks keep going after a failure).",
        _profile_epilog(TASKS, "training tasks") + "\n\n" + _profile_epilog(SUITES, "benchmarks"),
    )
    suite.set_defaults(handler=cmd_suite)

    datasets = commands.add_parser("datasets", help="List supported datasets, what is present locally, sizes and sources.",
                                   description="List supported datasets, what is present under the data root, sizes and sources.")
    datasets.add_argument("--data-root", default=None, help="data root (default $GEOCONV_DATA, else ~/.cache/geoconv)")
    datasets.add_argument("--json", action="store_true", help="print JSON")
    datasets.set_defaults(handler=cmd_datasets)

    info = commands.add_parser("info", help="Versions, optional packages found, devices, data root.",
                               description="Versions, optional packages found (with the pip command for missing ones), devices, data root.")
    info.add_argument("--data-root", default=None, help=argparse.SUPPRESS)
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(handler=cmd_info)

    report = commands.add_parser(
        "report", help="Gather records into a markdown table beside published numbers, and PNG plots.",
        description="Gather JSON records into results.md (beside the published numbers of geoconv.catalogue) and PNG plots "
                    "(accuracy vs published, speed-ups vs torch_geometric, eSCN cost vs L, training curves when recorded).",
    )
    report.add_argument("records", nargs="*", help="record files or folders (default: --results-dir)")
    report.add_argument("--results-dir", default="results", help="folder searched for *.json records (default results/)")
    report.add_argument("--out", default=None, help="folder for results.md and the PNGs (default: --results-dir)")
    report.add_argument("--keep-all", action="store_true", help="one row per record instead of the newest per setting")
    report.add_argument("--no-plots", action="store_true", help="only the markdown table")
    report.add_argument("--skip-invalid", action="store_true",
                        help="report without the files that are not schema records (listed on stderr) instead of stopping")
    report.set_defaults(handler=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args, passthrough = parser.parse_known_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return EXIT_USAGE
    if args.handler not in (cmd_train, cmd_bench) and passthrough:
        parser.error(f"unrecognized arguments: {' '.join(passthrough)}")
    from geoconv.datasets.base import DatasetError

    try:
        return args.handler(args, passthrough)
    except CLIError as error:
        print(f"geoconv: error: {error}", file=sys.stderr)
        return error.code
    except DatasetError as error:  # a loader run in this process: its message once, no traceback
        print(f"geoconv: dataset error: {error}", file=sys.stderr)
        return EXIT_DATASET


# ---------------------------------------------------------------- helpers


def _no_passthrough(command: str, passthrough: list[str]) -> None:
    if passthrough:
        raise CLIError(f"`geoconv {command}` got unexpected arguments: {' '.join(passthrough)}", EXIT_USAGE)


def _option_value(arguments: Sequence[str], option: str) -> str | None:
    value = None
    for index, argument in enumerate(arguments):
        if argument == option and index + 1 < len(arguments):
            value = arguments[index + 1]
        elif argument.startswith(option + "="):
            value = argument.split("=", 1)[1]
    return value


def _disk_size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _human(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def _duration(minutes: float) -> str:
    if minutes < 120:
        return f"{minutes:.3g} min"
    if minutes < 60 * 48:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 60 / 24:.1f} days"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.]+", "_", text).strip("_") or "x"


def _quote(part: str) -> str:
    return part if re.fullmatch(r"[\w./=:,+-]+", part) else repr(part)


def _children_cpu_seconds() -> float:
    try:
        import resource
    except ImportError:  # not on Windows
        return float("nan")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _binary(stream: IO[str]) -> IO[bytes]:
    return getattr(stream, "buffer", stream)
