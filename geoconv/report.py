"""Gather result records into a markdown table beside the published numbers, and PNG plots.

Records are the JSON objects the examples print as their last line (see
:func:`geoconv.experiment.finish`) and that ``geoconv train`` stores under the
results folder, plus the benchmark records that ``geoconv bench`` stores
(``{"kind": "benchmark", "suite": ..., "result": {...}}``; a bare benchmark line
with a ``"benchmark"`` key is read too).

What is read from a training record:

* ``task``, ``dataset``, ``model``, ``seeds``, ``wall_time_s``, ``hyperparameters``;
* metrics: every numeric ``<name>_mean`` key with its ``<name>_std``, at the top
  level or inside a ``metrics`` dict (``{"test_acc": {"mean": .., "std": ..}}``
  or ``{"test_acc_mean": ..}``);
* training curves, optional: ``curves`` = ``{name: [v_epoch0, v_epoch1, ...]}``,
  or one such list per seed (``[[...], [...]]``), plotted as mean over seeds;
* several models or modes in one record: a ``results`` or ``modes`` dict of
  such metric dicts gives one row each (model ``<model>/<key>``); a ``target``
  is appended to the dataset (``QM9/U0``); a bare ``test_mean`` is named after
  the record's ``metric`` (``test_rmse``).

The published number beside a row comes from :data:`geoconv.catalogue.PUBLISHED`
(the one machine-readable place), else from the record's own ``published``
field (marked "record").  When several records share (task, dataset, model,
profile) only the newest (``finished_at``, else file time) is reported.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from geoconv.catalogue import Published, published_for

# Metric names tried first, in order, when choosing the metric a row reports.
PRIMARY_METRICS = (
    "test_acc", "test_accuracy", "test_overall_acc", "overall_acc", "test_mae", "test_rmse",
    "test_rocauc", "test_roc_auc", "test_auc", "rmse", "mae", "rocauc", "roc_auc", "accuracy",
)
LOWER_IS_BETTER = re.compile(r"(mae|rmse|mse|loss|error)", re.IGNORECASE)


class ReportError(RuntimeError):
    """No usable records, or a record that cannot be read."""


@dataclass
class Metric:
    name: str
    mean: float
    std: float | None = None


@dataclass
class TrainingRow:
    """One training record, reduced to what the table and the plots need."""

    task: str
    dataset: str
    model: str
    metric: Metric
    others: list[Metric]
    seeds: Any
    profile: str
    epochs: Any
    wall_time_s: float | None
    cpu_time_s: float | None
    published: Published | None
    published_source: str
    path: Path
    curves: dict[str, list[float]] = field(default_factory=dict)

    @property
    def higher_is_better(self) -> bool:
        if self.published is not None:
            return self.published.higher_is_better
        return not LOWER_IS_BETTER.search(self.metric.name)


@dataclass
class SpeedRow:
    """One comparison of a benchmark: how many times faster geoconv is than the reference."""

    suite: str
    comparison: str
    speedup: float
    path: Path


@dataclass
class Report:
    training: list[TrainingRow]
    speed: list[SpeedRow]
    scaling: list[dict[str, Any]]  # eSCN cost vs L: {"lmax": [...], "so2_seconds": [...], "e3nn_seconds": [...]}
    skipped: list[str]
    figures: list[tuple[str, str, float]] = field(default_factory=list)  # (suite, key, value): other headline numbers


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


def read_record(path: Path) -> dict[str, Any]:
    """A record file: one JSON object (a file with several lines keeps the last JSON line)."""
    text = path.read_text().strip()
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
        for line in reversed(text.splitlines()):
            line = line.strip()
            if line.startswith("{"):
                try:
                    value = json.loads(line)
                    break
                except json.JSONDecodeError:
                    continue
    if not isinstance(value, dict):
        raise ReportError(f"{path} is not a JSON record (expected one JSON object)")
    return value


def metrics_of(record: dict[str, Any]) -> list[Metric]:
    """Every ``<name>_mean`` metric of a record (top level and ``metrics`` dict), with its std."""
    found: dict[str, Metric] = {}

    def scan(mapping: dict[str, Any]) -> None:
        for key, value in mapping.items():
            if isinstance(value, dict) and "mean" in value and _is_number(value["mean"]):
                std = value.get("std")
                found.setdefault(key, Metric(key, float(value["mean"]), float(std) if _is_number(std) else None))
            elif key.endswith("_mean") and _is_number(value):
                name = key[: -len("_mean")]
                std = mapping.get(f"{name}_std")
                found.setdefault(name, Metric(name, float(value), float(std) if _is_number(std) else None))

    scan(record)
    if isinstance(record.get("metrics"), dict):
        scan(record["metrics"])
    return list(found.values())


def primary_metric(metrics: list[Metric], published: Published | None = None) -> Metric | None:
    """The metric a row reports: the one the published entry names, else the first of PRIMARY_METRICS, else a test metric."""
    by_name = {m.name: m for m in metrics}
    if published is not None and published.key and published.key in by_name:
        return by_name[published.key]
    for name in PRIMARY_METRICS:
        if name in by_name:
            return by_name[name]
    for metric in metrics:
        if metric.name.startswith("test"):
            return metric
    return metrics[0] if metrics else None


def curves_of(record: dict[str, Any]) -> dict[str, list[float]]:
    """Training curves of a record as ``{name: per-epoch values}`` (mean over seeds when given per seed)."""
    raw = record.get("curves")
    if not isinstance(raw, dict):
        return {}
    curves: dict[str, list[float]] = {}
    for name, values in raw.items():
        if not isinstance(values, list) or not values:
            continue
        if all(isinstance(v, list) for v in values):
            length = min(len(v) for v in values)
            if length == 0:
                continue
            curves[name] = [sum(float(v[i]) for v in values) / len(values) for i in range(length)]
        elif all(_is_number(v) for v in values):
            curves[name] = [float(v) for v in values]
    return curves


def speedups_of(suite: str, result: dict[str, Any], path: Path) -> list[SpeedRow]:
    """Speed-ups (reference time / geoconv time, > 1 = geoconv faster) found in a benchmark result.

    Read from keys named ``ratio_geoconv_over_<ref>`` or ``*ratio_vs_<ref>`` (time
    ratios geoconv / reference, inverted), ``ratio_<ref>_over_geoconv``, ``speedup*`` (already reference / geoconv; a list
    is labelled by the ``lmax`` list beside it) and ``*throughput_ratio*``.
    """
    rows: list[SpeedRow] = []
    # Timing tables {"geoconv": t0, "<reference>": t1, ...} (e.g. seconds per reduction and backend).
    for key, table in _dicts(result):
        if ("second" in key or "median" in key or key.endswith("_s")) and _is_number(table.get("geoconv")) and table["geoconv"] > 0:
            for reference, seconds in table.items():
                if reference != "geoconv" and _is_number(seconds) and seconds > 0:
                    rows.append(SpeedRow(suite, f"{key} (vs {reference})", float(seconds) / float(table["geoconv"]), path))
    for key, value in _flatten(result).items():
        leaf = key.rsplit(".", 1)[-1].lower()
        label = key
        if isinstance(value, list) and "speedup" in leaf and "per_" not in leaf:  # per-repeat lists are not results
            parent = key.rsplit(".", 1)[0] + "." if "." in key else ""
            xs = _flatten(result).get(parent + "lmax")
            for index, v in enumerate(value):
                if _is_number(v):  # None where the reference was not run
                    tag = f"lmax={xs[index]}" if isinstance(xs, list) and index < len(xs) else f"#{index}"
                    rows.append(SpeedRow(suite, f"{label} ({tag})", float(v), path))
            continue
        if not _is_number(value) or not math.isfinite(float(value)) or float(value) <= 0:
            continue
        match = re.search(r"ratio_(\w+?)_over_(\w+)", leaf)
        versus = re.search(r"ratio_vs_(\w+)", leaf)
        parent = key[: len(key) - len(leaf)]
        if versus:  # geoconv time / reference time
            what = leaf[: versus.start()].strip("_") or "geoconv"
            rows.append(SpeedRow(suite, f"{parent}{what} vs {versus.group(1)}", 1.0 / float(value), path))
        elif match:
            first, second = match.groups()
            if first in ("geoconv", "ours"):
                rows.append(SpeedRow(suite, f"{parent}geoconv vs {second}", 1.0 / float(value), path))
            elif second in ("geoconv", "ours"):
                rows.append(SpeedRow(suite, f"{parent}geoconv vs {first}", float(value), path))
        elif "speedup" in leaf or "throughput_ratio" in leaf:
            rows.append(SpeedRow(suite, label, float(value), path))
    return rows


def figures_of(result: dict[str, Any]) -> list[tuple[str, float]]:
    """Headline numbers of a benchmark that are not speed-ups: ratios between geoconv variants
    (``*_over_*``), throughputs (``*per_second*``, ``*_per_s``) and growth exponents."""
    found = []
    for key, value in _flatten(result).items():
        leaf = key.rsplit(".", 1)[-1].lower()
        if not _is_number(value) or leaf.startswith("ratio_"):
            continue
        if re.search(r"(_over_|per_second|_per_s$|growth_exponent)", leaf):
            found.append((key, float(value)))
    return found


def scaling_of(result: dict[str, Any]) -> dict[str, Any] | None:
    """The eSCN cost-vs-L series of a benchmark result (``lmax``, ``so2_seconds``, ``e3nn_seconds``), if present."""
    flat = _flatten(result)
    for key, value in flat.items():
        if key.rsplit(".", 1)[-1] == "so2_seconds" and isinstance(value, list):
            prefix = key[: -len("so2_seconds")]
            lmax = flat.get(prefix + "lmax")
            if isinstance(lmax, list) and len(lmax) == len(value):
                series = {"lmax": lmax, "so2_seconds": value}
                e3nn = flat.get(prefix + "e3nn_seconds")
                if isinstance(e3nn, list):
                    series["e3nn_seconds"] = e3nn
                exponent = flat.get(prefix + "so2_growth_exponent")
                if _is_number(exponent):
                    series["so2_growth_exponent"] = float(exponent)
                return series
    return None


def collect(paths: Iterable[str | Path], *, keep_all: bool = False) -> Report:
    """Read every record under ``paths`` into a :class:`Report`."""
    files = find_record_files(paths)
    training: dict[tuple, tuple[float, TrainingRow]] = {}
    training_all: list[TrainingRow] = []
    speed: dict[str, tuple[float, list[SpeedRow], dict | None, list[tuple[str, str, float]]]] = {}
    skipped: list[str] = []
    for path in files:
        try:
            record = read_record(path)
        except (ReportError, OSError, UnicodeDecodeError) as error:
            skipped.append(f"{path}: {error}")
            continue
        stamp = _timestamp(record, path)
        profile = str(record.get("profile", "-"))
        if record.get("kind") == "benchmark" or "benchmark" in record:
            result = record.get("result", record)
            suite = str(record.get("suite", record.get("benchmark", path.stem)))
            if not isinstance(result, dict):
                skipped.append(f"{path}: benchmark record without a result object")
                continue
            rows = speedups_of(suite, result, path)
            key = f"{suite}|{profile}"
            if key not in speed or stamp >= speed[key][0] or keep_all:
                figures = [(suite, name, value) for name, value in figures_of(result)]
                speed[key if not keep_all else str(path)] = (stamp, rows, scaling_of(result), figures)
            continue
        if "task" not in record:
            skipped.append(f"{path}: neither a training record (no 'task') nor a benchmark record")
            continue
        found = _training_rows(record, path, profile)
        if not found:
            skipped.append(f"{path}: no '<name>_mean' metric in the record")
            continue
        for row in found:
            training_all.append(row)
            key = (row.task, row.dataset, row.model, row.profile)
            if key not in training or stamp >= training[key][0]:
                training[key] = (stamp, row)
    rows = training_all if keep_all else [row for _, row in training.values()]
    rows.sort(key=lambda r: (r.task, r.dataset, r.model, r.profile))
    speed_rows = [row for _, found, _, _ in speed.values() for row in found]
    scaling = [series for _, _, series, _ in speed.values() if series]
    figures = [figure for _, _, _, found in speed.values() for figure in found]
    if not rows and not speed_rows and not scaling and not figures:
        where = ", ".join(str(p) for p in paths)
        raise ReportError(
            f"no usable records under {where}. Run `geoconv train TASK` or `geoconv bench` first "
            f"(they write records there), or pass --results-dir."
        )
    return Report(rows, speed_rows, scaling, skipped, figures)


def _training_rows(record: dict[str, Any], path: Path, profile: str) -> list[TrainingRow]:
    """One row per record, or one per model/mode when the record holds several (``results``/``modes`` dicts)."""
    task, dataset, model = (str(record.get(k, "-")) for k in ("task", "dataset", "model"))
    if isinstance(record.get("target"), str):  # one of several targets of a dataset (QM9 U0)
        dataset = f"{dataset}/{record['target']}"
    if isinstance(record.get("data_variant"), str):  # an experiment on another copy of the data: its own row
        dataset = f"{dataset} [{record['data_variant']}]"
    metric_word = _metric_word(record.get("metric"))
    curves = curves_of(record)
    hyper = record.get("hyperparameters") or {}
    common = dict(
        task=task, dataset=dataset, seeds=_runs(record, hyper), profile=profile,
        epochs=hyper.get("epochs", record.get("epochs", "-")),
        wall_time_s=float(record["wall_time_s"]) if _is_number(record.get("wall_time_s")) else None,
        cpu_time_s=float(record["process_cpu_time_s"]) if _is_number(record.get("process_cpu_time_s")) else None,
        path=path,
    )
    for group in ("results", "modes"):
        parts = record.get(group)
        if isinstance(parts, dict) and parts and all(isinstance(v, dict) and metrics_of(v) for v in parts.values()):
            rows = []
            for name, part in parts.items():
                sub_model = name if model == "-" else f"{model}/{name}"
                row = _row(part, common, sub_model, metric_word, record.get("published"))
                if row is not None:
                    row.curves = {k: v for k, v in curves.items() if k.startswith(name)}
                    rows.append(row)
            return rows
    row = _row(record, common, model, metric_word, record.get("published"))
    if row is None:
        return []
    row.curves = curves
    return [row]


def _row(source: dict[str, Any], common: dict[str, Any], model: str, metric_word: str | None, own_published: Any) -> TrainingRow | None:
    metrics = metrics_of(source)
    if metric_word:  # a bare "test_mean" becomes "test_rmse" when the record names its metric
        metrics = [Metric(f"{m.name}_{metric_word}", m.mean, m.std) if m.name in ("test", "val", "valid") else m for m in metrics]
    published = published_for(common["task"], common["dataset"], model)
    source_name = "catalogue"
    if published is None and _is_number(own_published):
        metric = primary_metric(metrics)
        published = Published(float(own_published), metric.name if metric else "", "record", key=metric.name if metric else None)
        source_name = "record"
    metric = primary_metric(metrics, published)
    if metric is None:
        return None
    return TrainingRow(
        model=model, metric=metric, others=[m for m in metrics if m.name != metric.name],
        published=published, published_source=source_name, **common,
    )


def _runs(record: dict[str, Any], hyper: dict[str, Any]) -> Any:
    """How many runs the mean is over: seeds, or splits (x seeds per split) when the record has splits."""
    seeds = record.get("seeds", hyper.get("seeds", "-"))
    splits = record.get("splits")
    if isinstance(splits, int) and not isinstance(splits, bool):
        per_split = record.get("seeds_per_split", 1)
        return f"{splits} splits" + (f" x {per_split}" if per_split not in (1, None) else "")
    return seeds


def _metric_word(description: Any) -> str | None:
    """``rmse`` from ``"rmse"`` or ``"test roc_auc (%) at ..."``: the metric a record names, if recognisable."""
    if not isinstance(description, str):
        return None
    match = re.search(r"\b(roc_auc|rocauc|roc-auc|accuracy|acc|rmse|mae|ap|f1)\b", description.lower())
    return match.group(1).replace("-", "_") if match else None


# ---------------------------------------------------------------- writing


def markdown(report: Report, *, relative_to: Path | None = None) -> str:
    """The results as markdown: a training table beside the published numbers, and a speed table."""
    lines: list[str] = []
    if report.training:
        lines += [
            "| task | dataset | model | metric | geoconv (mean ± std) | runs | published | Δ vs published | published source | profile | epochs | time (s) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for row in report.training:
            digits = _decimals(row.metric.mean)
            ours = _format(row.metric.mean) + (f" ± {row.metric.std:.{digits}f}" if row.metric.std is not None else "")
            if row.published is not None:
                published = _format(row.published.value) + (f" ± {row.published.std:.{digits}f}" if row.published.std is not None else "")
                delta = row.metric.mean - row.published.value
                delta_text = f"{delta:+.{digits}f}"
                source = row.published.citation
            else:
                published, delta_text, source = "-", "-", "no published number for this setting"
            wall = f"{row.wall_time_s:.0f}" if row.wall_time_s is not None else "-"
            if row.cpu_time_s is not None:
                wall += f" (CPU {row.cpu_time_s:.0f})"
            lines.append(
                f"| {row.task} | {row.dataset} | {row.model} | {row.metric.name} | {ours} | {row.seeds} | {published} "
                f"| {delta_text} | {source} | {row.profile} | {row.epochs} | {wall} |"
            )
    if report.speed:
        if lines:
            lines.append("")
        lines += ["| benchmark | comparison | speed-up (reference time / geoconv time) |", "|---|---|---|"]
        for row in report.speed:
            lines.append(f"| {row.suite} | {row.comparison} | {row.speedup:.2f}x |")
    if report.figures:
        if lines:
            lines.append("")
        lines += ["| benchmark | figure | value |", "|---|---|---|"]
        for suite, name, value in report.figures:
            lines.append(f"| {suite} | {name} | {_format(value)} |")
    for series in report.scaling:
        if lines:
            lines.append("")
        lines += ["| lmax | SO(2) conv (s) | e3nn tensor product (s) |", "|---|---|---|"]
        e3nn = series.get("e3nn_seconds") or [None] * len(series["lmax"])
        for lmax, so2, ref in zip(series["lmax"], series["so2_seconds"], e3nn):
            lines.append(f"| {lmax} | {_format(so2)} | {_format(ref) if _is_number(ref) else '-'} |")
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
        metrics = sorted({row.metric.name for row in compared})
        fig, axes = plt.subplots(len(metrics), 1, figsize=(8, 1.2 + 0.6 * len(compared) + 0.8 * len(metrics)), squeeze=False)
        for axis, name in zip(axes[:, 0], metrics):
            rows = [row for row in compared if row.metric.name == name]
            labels = [f"{row.task}\n{row.dataset} / {row.model} ({row.profile})" for row in rows]
            ys = list(range(len(rows)))
            # A dot plot, not bars from zero: the differences that matter are a few points wide.
            axis.errorbar([row.published.value for row in rows], [y - 0.12 for y in ys],
                          xerr=[row.published.std or 0.0 for row in rows], fmt="D", color="tab:gray", capsize=3, label="published")
            axis.errorbar([row.metric.mean for row in rows], [y + 0.12 for y in ys],
                          xerr=[row.metric.std or 0.0 for row in rows], fmt="o", color="tab:blue", capsize=3, label="geoconv")
            axis.set_ylim(-0.6, len(rows) - 0.4)
            axis.grid(axis="x", alpha=0.3)
            axis.set_yticks(ys)
            axis.set_yticklabels(labels, fontsize=7)
            axis.set_xlabel(name)
            axis.legend(fontsize=7, loc="best")
        fig.suptitle("geoconv vs published results (mean ± std)")
        fig.tight_layout()
        written.append(_save(fig, out_dir / "accuracy_vs_published.png", plt))

    if report.speed:
        fig, axis = plt.subplots(figsize=(8, 1.0 + 0.35 * len(report.speed)))
        labels = [f"{row.suite}: {row.comparison}" for row in report.speed]
        values = [row.speedup for row in report.speed]
        axis.barh(range(len(values)), values, color=["tab:green" if v >= 1 else "tab:red" for v in values])
        axis.axvline(1.0, color="black", linewidth=1)
        axis.set_xscale("log")
        axis.set_yticks(range(len(values)))
        axis.set_yticklabels(labels, fontsize=7)
        axis.set_xlabel("speed-up: reference time / geoconv time (> 1: geoconv faster)")
        fig.tight_layout()
        written.append(_save(fig, out_dir / "speed_ratios.png", plt))

    if report.scaling:
        fig, axis = plt.subplots(figsize=(6, 4))
        for series in report.scaling:
            axis.plot(series["lmax"], series["so2_seconds"], "o-", label="geoconv SO(2) convolution")
            if series.get("e3nn_seconds"):
                points = [(l, s) for l, s in zip(series["lmax"], series["e3nn_seconds"]) if _is_number(s)]
                if points:
                    axis.plot(*zip(*points), "s--", label="e3nn tensor product")
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("lmax")
        axis.set_ylabel("forward+backward time (s)")
        axis.set_title("eSCN cost vs L")
        axis.legend()
        fig.tight_layout()
        written.append(_save(fig, out_dir / "escn_cost_vs_lmax.png", plt))

    with_curves = [row for row in report.training if row.curves]
    if with_curves:
        fig, axes = plt.subplots(len(with_curves), 1, figsize=(7, 2.6 * len(with_curves)), squeeze=False)
        for axis, row in zip(axes[:, 0], with_curves):
            for name, values in row.curves.items():
                axis.plot(range(1, len(values) + 1), values, label=name)
            axis.set_title(f"{row.task}: {row.dataset} / {row.model} ({row.profile})", fontsize=9)
            axis.set_xlabel("epoch")
            axis.legend(fontsize=7)
        fig.tight_layout()
        written.append(_save(fig, out_dir / "training_curves.png", plt))
    return written


def write(paths: Iterable[str | Path], out_dir: str | Path, *, keep_all: bool = False, plots: bool = True) -> tuple[Report, Path, list[Path]]:
    """Collect records, write ``results.md`` and the plots into ``out_dir``."""
    paths = list(paths)
    report = collect(paths, keep_all=keep_all)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = out / "results.md"
    table.write_text(markdown(report))
    images = plot(report, out) if plots else []
    return report, table, images


# ---------------------------------------------------------------- helpers


def _save(fig: Any, path: Path, plt: Any) -> Path:
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(float(value))


def _decimals(value: float) -> int:
    magnitude = abs(value)
    return 2 if magnitude >= 10 else (3 if magnitude >= 1 else 4)


def _format(value: float | None) -> str:
    return "-" if value is None else f"{value:.{_decimals(value)}f}"


def _flatten(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _dicts(mapping: dict[str, Any], prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every nested dict with its dotted path."""
    found = []
    for key, value in mapping.items():
        if isinstance(value, dict):
            found.append((f"{prefix}{key}", value))
            found.extend(_dicts(value, f"{prefix}{key}."))
    return found


def _timestamp(record: dict[str, Any], path: Path) -> float:
    stamp = record.get("finished_at")
    if isinstance(stamp, str):
        from datetime import datetime

        try:
            return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return path.stat().st_mtime
