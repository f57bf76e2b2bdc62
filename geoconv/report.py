"""Gather schema records into a markdown table beside the published numbers, and PNG plots.

Every ``*.json`` file under the given folders must be a record of
:mod:`geoconv.records` (what every task and benchmark writes); the report reads
its schema fields only, never the task's own extra keys:

* a task record gives one row for its result (``metric``, ``mean``, ``std``, runs)
  and one per variant (``variants``), beside the published number of
  :data:`geoconv.catalogue.PUBLISHED` for its (task, dataset, model) when the
  catalogue entry scores the same metric;
* a benchmark record gives its ``comparisons`` (speed-ups), ``figures`` and
  ``series`` (one table and one plot each).

Only the newest record (``finished_at``) of each (task, dataset, data variant,
model, profile) is reported, unless ``keep_all``. A file that is not a schema
record stops the report with a message naming the file and the field (or, with
``skip_invalid``, is listed and left out).
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from geoconv.catalogue import Published, published_for
from geoconv.records import Comparison, Record, RecordError, Series, load


class ReportError(RuntimeError):
    """No usable records, or records that are not schema records."""


@dataclass(frozen=True)
class TrainingRow:
    """One result of a task record (its own or a variant's)."""

    task: str
    dataset: str
    model: str
    metric: str
    higher_is_better: bool
    mean: float
    std: float
    runs: str
    profile: str
    epochs: Any
    wall_time_s: float | None
    cpu_time_s: float | None
    published: Published | None
    path: Path
    curves: dict[str, list[list[float]]] = field(default_factory=dict)
    command: str = ""


@dataclass(frozen=True)
class SpeedRow:
    """One comparison of a benchmark record."""

    suite: str
    comparison: Comparison
    profile: str
    path: Path


@dataclass
class Report:
    training: list[TrainingRow]
    speed: list[SpeedRow]
    figures: list[tuple[str, str, float]]  # (suite, name, value)
    series: list[tuple[str, Series]]  # (suite, series)
    skipped: list[str] = field(default_factory=list)  # invalid files (skip_invalid) and records without a result


# ---------------------------------------------------------------- reading


def find_record_files(paths: Iterable[str | Path]) -> list[Path]:
    """Every ``*.json`` file under the given folders (or the files themselves), sorted."""
    found: list[Path] = []
    for entry in paths:
        entry = Path(entry)
        if entry.is_dir():
            found.extend(sorted(p for p in entry.rglob("*.json") if p.is_file()))
        elif entry.is_file():
            found.append(entry)
        else:
            raise ReportError(f"{entry} does not exist: pass a results folder (default results/) or record files")
    return found


def training_rows(record: Record, path: Path) -> list[TrainingRow]:
    """The rows of a task record: its own result, then one per variant (none without a metric)."""
    if record.kind != "task" or record.metric is None:
        return []
    dataset = record.dataset + (f" [{record.data_variant}]" if record.data_variant else "")
    if record.splits is not None:
        runs = f"{record.splits} splits" + (f" x {record.num_seeds}" if record.num_seeds != 1 else "")
    else:
        runs = str(record.num_seeds)
    results = [(record.model, record.mean, record.std, record.curves)]
    results += [(v.model, v.mean, v.std, v.curves) for v in record.variants]
    rows = []
    for model, mean, std, curves in results:
        published = published_for(record.task, record.dataset, model)
        if published is not None and published.key != record.metric:
            published = None  # the catalogue's number is of another metric: no comparison
        rows.append(TrainingRow(
            task=record.task, dataset=dataset, model=model, metric=record.metric,
            higher_is_better=bool(record.higher_is_better), mean=mean, std=std, runs=runs,
            profile=record.profile or "-", epochs=record.hyperparameters.get("epochs", "-"),
            wall_time_s=record.wall_time_s, cpu_time_s=record.cpu_time_s, published=published, path=path,
            curves=curves, command=reproduce_command(record),
        ))
    return rows


# Options that say where and how a run executed, not what it computed.
_RUN_OPTIONS = {"data_root", "device", "threads", "out", "no_progress", "quick", "full", "fixture"}


def reproduce_command(record: Record) -> str:
    """The ``geoconv train`` command that reruns ``record``'s setting.

    Built from the record's hyper-parameters, keeping those the task's parser knows and
    that differ from its defaults (older records carry no command of their own, and a
    recorded command names a path on the machine that ran it).  Empty for records of no
    known task.
    """
    from geoconv.catalogue import TASKS, task_for_record
    from geoconv.tasks import load as load_task

    hyper = record.hyperparameters
    task = task_for_record(record.task)
    if task is None:
        return ""
    if "recipe" in hyper and f"{task.name.split('-')[0]}-{hyper['recipe']}" in TASKS:
        task = TASKS[f"{task.name.split('-')[0]}-{hyper['recipe']}"]
    try:
        parser = load_task(task.name).build_parser()
    except Exception:  # a task whose module needs an optional package: no command rather than no report
        return ""
    words = ["geoconv", "train", task.name]
    options = parser._option_string_actions
    for key, value in hyper.items():
        option = "--" + key.replace("_", "-")
        if key in _RUN_OPTIONS or key == "recipe" or option not in options or value is None:
            continue
        action = options[option]
        if value == action.default:
            continue
        # an older spelling (a hidden alias) is written as the current option of the same destination
        option = next((a.option_strings[0] for a in parser._actions
                       if a.dest == action.dest and a.help != argparse.SUPPRESS), option)
        if action.nargs == 0:  # a flag (store_true / store_false): present when the value is what it stores
            if value == action.const:
                words.append(option)
            continue
        if isinstance(value, bool):
            text = str(int(value))  # options spelled {0,1}
        elif isinstance(value, (list, tuple)):
            text = ",".join(map(str, value))
        else:
            text = str(value)
        words += [option, text]
    return " ".join(words)


def collect(paths: Iterable[str | Path], *, keep_all: bool = False, skip_invalid: bool = False) -> Report:
    """Read every record under ``paths`` into a :class:`Report`.

    Raises:
        ReportError: a file is not a schema record (all such files are named; ``skip_invalid``
            lists them in :attr:`Report.skipped` instead), or there is nothing to report.
    """
    paths = list(paths)
    invalid: list[str] = []
    newest: dict[tuple, tuple[str, Record, Path]] = {}
    for index, path in enumerate(find_record_files(paths)):
        try:
            record = load(path)
        except RecordError as error:
            invalid.append(str(error))
            continue
        key: tuple = (index,) if keep_all else (
            record.kind, record.task, record.dataset, record.data_variant, record.model, record.profile)
        if key not in newest or record.finished_at >= newest[key][0]:
            newest[key] = (record.finished_at, record, path)
    if invalid and not skip_invalid:
        raise ReportError(
            f"{len(invalid)} file(s) are not schema records (geoconv.records); fix or move them, or pass "
            f"--skip-invalid to report without them:\n  " + "\n  ".join(invalid)
        )
    report = Report([], [], [], [], skipped=[f"invalid: {message}" for message in invalid])
    for _, record, path in newest.values():
        if record.kind == "task":
            rows = training_rows(record, path)
            if not rows:
                report.skipped.append(f"{path}: a task record without a result (metric is null)")
            report.training.extend(rows)
            continue
        profile = record.profile or "-"
        report.speed.extend(SpeedRow(record.task, comparison, profile, path) for comparison in record.comparisons)
        report.figures.extend((record.task, name, value) for name, value in record.figures.items())
        report.series.extend((record.task, series) for series in record.series)
    if not (report.training or report.speed or report.figures or report.series):
        where = ", ".join(str(p) for p in paths)
        raise ReportError(
            f"no usable records under {where}. Run `geoconv train TASK` or `geoconv bench` first "
            f"(they write records there), or pass --results-dir."
        )
    report.training.sort(key=lambda r: (r.task, r.dataset, r.model, r.profile))
    report.speed.sort(key=lambda r: (r.suite, r.profile))
    report.figures.sort(key=lambda f: f[0])
    return report


# ---------------------------------------------------------------- writing


def markdown(report: Report) -> str:
    """The results as markdown: results beside the published numbers, speed-ups, figures, series."""
    lines: list[str] = []
    if report.training:
        lines += [
            "| task | dataset | model | metric | better | geoconv (mean ± std) | runs | published | Δ vs published "
            "| published source | profile | epochs | time (s) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for row in report.training:
            digits = _decimals(row.mean)
            ours = f"{_format(row.mean)} ± {row.std:.{digits}f}"
            if row.published is not None:
                published = _format(row.published.value) + (
                    f" ± {row.published.std:.{digits}f}" if row.published.std is not None else "")
                delta, source = f"{row.mean - row.published.value:+.{digits}f}", row.published.citation
            else:
                published, delta, source = "-", "-", "no published number for this setting"
            time_text = f"{row.wall_time_s:.0f}" if row.wall_time_s is not None else "-"
            if row.cpu_time_s is not None:
                time_text += f" (CPU {row.cpu_time_s:.0f})"
            lines.append(
                f"| {row.task} | {row.dataset} | {row.model} | {row.metric} | {'higher' if row.higher_is_better else 'lower'} "
                f"| {ours} | {row.runs} | {published} | {delta} | {source} | {row.profile} | {row.epochs} | {time_text} |"
            )
    if report.speed:
        lines += ["", "| benchmark | comparison | geoconv side | reference | geoconv (s) | reference (s) | speed-up (reference / geoconv) |",
                  "|---|---|---|---|---|---|---|"]
        for row in report.speed:
            c = row.comparison
            lines.append(f"| {row.suite} | {c.name} | {c.ours} | {c.reference} | {_format(c.seconds_ours)} "
                         f"| {_format(c.seconds_reference)} | {c.ratio:.2f}x |")
    if report.figures:
        lines += ["", "| benchmark | figure | value |", "|---|---|---|"]
        lines += [f"| {suite} | {name} | {_format(value)} |" for suite, name, value in report.figures]
    for suite, series in report.series:
        labels = list(series.y)
        lines += ["", f"{suite}: {series.name}", "",
                  f"| {series.x_name} | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
        for index, x in enumerate(series.x):
            lines.append(f"| {x:g} | " + " | ".join(_format(series.y[label][index]) for label in labels) + " |")
    return "\n".join(lines).lstrip("\n") + "\n"


def summary_markdown(report: Report) -> str:
    """The short table of the README: each result that has a published figure, beside it, with the
    command that reproduces it (quick-profile smoke runs left out)."""
    lines = ["| task | dataset | model | geoconv | published | source | reproduce |", "|---|---|---|---|---|---|---|"]
    for row in report.training:
        if row.published is None or row.profile == "quick":
            continue
        digits = _decimals(row.mean)
        published = _format(row.published.value) + (
            f" ± {row.published.std:.{digits}f}" if row.published.std is not None else "")
        lines.append(f"| {row.task} | {row.dataset} | {row.model} | {_format(row.mean)} ± {row.std:.{digits}f} "
                     f"({row.runs}) | {published} | {row.published.citation} | `{row.command}` |")
    return "\n".join(lines) + "\n"


def plot(report: Report, out_dir: Path) -> list[Path]:
    """Write the PNG plots that the report's records support; return their paths."""
    from geoconv._optional import require

    matplotlib = require("matplotlib", "the plots of geoconv report")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    compared = [row for row in report.training if row.published is not None]
    if compared:
        metrics = sorted({row.metric for row in compared})
        fig, axes = plt.subplots(len(metrics), 1, figsize=(8, 1.2 + 0.6 * len(compared) + 0.8 * len(metrics)), squeeze=False)
        for axis, name in zip(axes[:, 0], metrics):
            rows = [row for row in compared if row.metric == name]
            ys = list(range(len(rows)))
            # A dot plot, not bars from zero: the differences that matter are a few points wide.
            axis.errorbar([row.published.value for row in rows], [y - 0.12 for y in ys],
                          xerr=[row.published.std or 0.0 for row in rows], fmt="D", color="tab:gray", capsize=3, label="published")
            axis.errorbar([row.mean for row in rows], [y + 0.12 for y in ys],
                          xerr=[row.std for row in rows], fmt="o", color="tab:blue", capsize=3, label="geoconv")
            axis.set_ylim(-0.6, len(rows) - 0.4)
            axis.grid(axis="x", alpha=0.3)
            axis.set_yticks(ys)
            axis.set_yticklabels([f"{row.task}\n{row.dataset} / {row.model} ({row.profile})" for row in rows], fontsize=7)
            axis.set_xlabel(f"{name} ({'higher' if rows[0].higher_is_better else 'lower'} is better)")
            axis.legend(fontsize=7, loc="best")
        fig.suptitle("geoconv vs published results (mean ± std)")
        fig.tight_layout()
        written.append(_save(fig, out_dir / "accuracy_vs_published.png", plt))

    if report.speed:
        fig, axis = plt.subplots(figsize=(8, 1.0 + 0.35 * len(report.speed)))
        values = [row.comparison.ratio for row in report.speed]
        axis.barh(range(len(values)), values, color=["tab:green" if v >= 1 else "tab:red" for v in values])
        axis.axvline(1.0, color="black", linewidth=1)
        axis.set_xscale("log")
        axis.set_yticks(range(len(values)))
        axis.set_yticklabels([f"{row.suite}: {row.comparison.name} vs {row.comparison.reference}" for row in report.speed], fontsize=7)
        axis.set_xlabel("speed-up: reference time / geoconv time (> 1: geoconv faster)")
        fig.tight_layout()
        written.append(_save(fig, out_dir / "speed_ratios.png", plt))

    for suite, series in report.series:
        fig, axis = plt.subplots(figsize=(6, 4))
        for label, ys in series.y.items():
            points = [(x, y) for x, y in zip(series.x, ys) if y is not None]
            if points:
                axis.plot(*zip(*points), "o-", label=label)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel(series.x_name)
        axis.set_title(f"{suite}: {series.name}")
        axis.legend()
        fig.tight_layout()
        written.append(_save(fig, out_dir / f"{_slug(series.name)}.png", plt))

    with_curves = [row for row in report.training if row.curves]
    if with_curves:
        fig, axes = plt.subplots(len(with_curves), 1, figsize=(7, 2.6 * len(with_curves)), squeeze=False)
        for axis, row in zip(axes[:, 0], with_curves):
            for name, runs in row.curves.items():
                mean = mean_curve(runs)
                axis.plot(range(1, len(mean) + 1), mean, label=name)
            axis.set_title(f"{row.task}: {row.dataset} / {row.model} ({row.profile})", fontsize=9)
            axis.set_xlabel("epoch")
            axis.legend(fontsize=7)
        fig.tight_layout()
        written.append(_save(fig, out_dir / "training_curves.png", plt))
    return written


def mean_curve(runs: list[list[float]]) -> list[float]:
    """The per-epoch mean of several runs' curves, over the epochs every run reached."""
    length = min((len(run) for run in runs), default=0)
    return [sum(run[i] for run in runs) / len(runs) for i in range(length)]


def write(paths: Iterable[str | Path], out_dir: str | Path, *, keep_all: bool = False, plots: bool = True,
          skip_invalid: bool = False) -> tuple[Report, Path, list[Path]]:
    """Collect records, write ``results.md`` and the plots into ``out_dir``."""
    report = collect(paths, keep_all=keep_all, skip_invalid=skip_invalid)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = out / "results.md"
    table.write_text(markdown(report))
    (out / "summary.md").write_text(summary_markdown(report))
    images = plot(report, out) if plots else []
    return report, table, images


# ---------------------------------------------------------------- helpers


def _save(fig: Any, path: Path, plt: Any) -> Path:
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _decimals(value: float) -> int:
    magnitude = abs(value)
    return 2 if magnitude >= 10 else (3 if magnitude >= 1 else 4)


def _format(value: float | None) -> str:
    return "-" if value is None else f"{value:.{_decimals(value)}f}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "series"
