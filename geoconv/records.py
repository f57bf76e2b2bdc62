"""The one record schema that every task and benchmark writes, and ``geoconv report`` reads.

A record is one JSON object. Its schema fields (below) are always present and
typed; every other key is the task's own detail (per-seed epochs, notes, the
legacy ``test_acc_mean`` convenience keys, ...), kept in :attr:`Record.extra`
and never read by the report.

Schema fields, grouped:

* what ran: ``schema`` (:data:`SCHEMA`), ``kind`` (``"task"`` or ``"benchmark"``),
  ``task`` (the record task, or the benchmark suite), ``dataset``, ``model``,
  ``data_variant`` (a modified copy of the data gets its own report row, else null);
* the result of a task: ``metric`` (name, e.g. ``test_acc``; null when the run has no
  single result), ``higher_is_better``, ``values`` (one per run, split-major when
  ``splits`` is set), ``mean``, ``std`` (sample std, 0 for one run), ``num_seeds``,
  ``seeds`` (the seed list), ``splits`` (data splits or null), ``variants`` (other
  models or modes of the same run on the same metric, :class:`Variant`),
  ``curves`` (``{name: one list per run}``);
* the result of a benchmark: ``comparisons`` (:class:`Comparison`, each a speed
  ratio measured in the same process), ``figures`` (other headline numbers,
  ``{name: value}``), ``series`` (:class:`Series`, e.g. time against lmax);
* provenance: ``hyperparameters``, ``data_root`` (resolved), ``versions``, ``commit``,
  ``device``, ``wall_time_s``, ``cpu_time_s``, ``peak_memory_mb``, ``command``,
  ``profile`` (``quick``/``full``/null), ``finished_at`` (ISO 8601, UTC).

:func:`validate` turns a dict into a :class:`Record` or raises
:class:`RecordError` naming the field; :func:`load` reads a file; :func:`write`
writes one atomically (a stopped run never leaves half a record).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import statistics
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

SCHEMA = "geoconv.record/1"
KINDS = ("task", "benchmark")


class RecordError(ValueError):
    """A record that does not follow the schema (the message names the file and the field)."""


@dataclass(frozen=True)
class Variant:
    """Another model or mode of the same run, scored on the record's metric.

    Args:
        model: its label in the report (``gcn/saint_rw``, ``invariant``).
        values: one value per run, as :attr:`Record.values`.
        mean: mean of ``values``.
        std: sample standard deviation of ``values`` (0 for one run).
        curves: ``{name: one per-epoch list per run}`` (default none).
    """

    model: str
    values: list[float]
    mean: float
    std: float
    curves: dict[str, list[list[float]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Comparison:
    """One speed comparison of a benchmark, measured in the same process the same way on both sides.

    Args:
        name: what is compared (``forward+backward``, ``knn_graph``).
        ours: the geoconv side (``geoconv``, ``geoconv batched``).
        reference: the other side (``torch_geometric``, ``e3nn``, ``sequential loop``).
        seconds_ours: median seconds of ours (null only in records converted from older formats).
        seconds_reference: median seconds of the reference (null as above).
        ratio: ``seconds_reference / seconds_ours``; > 1 means ours is faster.
    """

    name: str
    ours: str
    reference: str
    seconds_ours: float | None
    seconds_reference: float | None
    ratio: float


@dataclass(frozen=True)
class Series:
    """Measurements against a parameter, e.g. seconds against ``lmax``.

    Args:
        name: what is measured (``forward+backward seconds``).
        x_name: the parameter (``lmax``).
        x: its values.
        y: ``{label: one value per x}``; null where a side was not run.
    """

    name: str
    x_name: str
    x: list[float]
    y: dict[str, list[float | None]]


@dataclass(frozen=True)
class Record:
    """One run of a task or a benchmark (see the module docstring for the meaning of each field)."""

    kind: str
    task: str
    dataset: str
    model: str
    data_variant: str | None
    metric: str | None
    higher_is_better: bool | None
    values: list[float]
    mean: float | None
    std: float | None
    num_seeds: int
    seeds: list[int]
    splits: int | None
    variants: list[Variant]
    curves: dict[str, list[list[float]]]
    comparisons: list[Comparison]
    figures: dict[str, float]
    series: list[Series]
    hyperparameters: dict[str, Any]
    data_root: str | None
    versions: dict[str, str]
    commit: str | None
    device: str
    wall_time_s: float | None
    cpu_time_s: float | None
    peak_memory_mb: float | None
    command: list[str]
    profile: str | None
    finished_at: str
    schema: str = SCHEMA
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: schema fields, then the extra keys at the top level."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        data = {name: _plain(value) for name, value in data.items()}
        clash = set(self.extra) & set(data)
        if clash:
            raise RecordError(f"extra keys {sorted(clash)} clash with schema fields")
        return {**data, **self.extra}


SCHEMA_FIELDS = tuple(f.name for f in fields(Record) if f.name != "extra")


# ---------------------------------------------------------------- validation


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check(ok: bool, where: str, expected: str, value: Any) -> None:
    if not ok:
        shown = json.dumps(value, default=str)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise RecordError(f"{where}: expected {expected}, got {shown}")


def _string(where: str, value: Any) -> str:
    _check(isinstance(value, str) and value != "", where, "a non-empty string", value)
    return value


def _optional(check: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    def optional(where: str, value: Any) -> Any:
        return None if value is None else check(where, value)

    return optional


def _number(where: str, value: Any) -> float:
    _check(_is_number(value), where, "a finite number", value)
    return float(value)


def _count(where: str, value: Any) -> int:
    _check(isinstance(value, int) and not isinstance(value, bool) and value >= 0, where, "a count (int >= 0)", value)
    return value


def _bool(where: str, value: Any) -> bool:
    _check(isinstance(value, bool), where, "true or false", value)
    return value


def _numbers(where: str, value: Any) -> list[float]:
    _check(isinstance(value, list), where, "a list of numbers", value)
    return [_number(f"{where}[{i}]", v) for i, v in enumerate(value)]


def _ints(where: str, value: Any) -> list[int]:
    _check(isinstance(value, list), where, "a list of integers", value)
    for i, v in enumerate(value):
        _check(isinstance(v, int) and not isinstance(v, bool), f"{where}[{i}]", "an integer", v)
    return list(value)


def _strings(where: str, value: Any) -> list[str]:
    _check(isinstance(value, list), where, "a list of strings", value)
    return [_string(f"{where}[{i}]", v) for i, v in enumerate(value)]


def _mapping(where: str, value: Any) -> dict[str, Any]:
    _check(isinstance(value, dict), where, "an object", value)
    return dict(value)


def _versions(where: str, value: Any) -> dict[str, str]:
    mapping = _mapping(where, value)
    for key, version in mapping.items():
        _check(isinstance(version, str), f"{where}.{key}", "a version string", version)
    return mapping


def _figures(where: str, value: Any) -> dict[str, float]:
    return {key: _number(f"{where}.{key}", v) for key, v in _mapping(where, value).items()}


def _curves(where: str, value: Any) -> dict[str, list[list[float]]]:
    curves = {}
    for name, runs in _mapping(where, value).items():
        _check(isinstance(runs, list), f"{where}.{name}", "a list with one per-epoch list per run", runs)
        curves[name] = [_numbers(f"{where}.{name}[{i}]", run) for i, run in enumerate(runs)]
    return curves


def _object(cls: type, checks: dict[str, Callable[[str, Any], Any]]) -> Callable[[str, Any], Any]:
    def read(where: str, value: Any) -> Any:
        mapping = _mapping(where, value)
        missing = [name for name in checks if name not in mapping and name != "curves"]
        if missing:
            raise RecordError(f"{where}: missing field(s) {', '.join(missing)}")
        unknown = sorted(set(mapping) - set(checks))
        if unknown:
            raise RecordError(f"{where}: unknown field(s) {', '.join(unknown)}")
        return cls(**{name: check(f"{where}.{name}", mapping[name]) for name, check in checks.items() if name in mapping})

    return read


def _list_of(read: Callable[[str, Any], Any]) -> Callable[[str, Any], list[Any]]:
    def many(where: str, value: Any) -> list[Any]:
        _check(isinstance(value, list), where, "a list", value)
        return [read(f"{where}[{i}]", v) for i, v in enumerate(value)]

    return many


_VARIANT = _object(Variant, {"model": _string, "values": _numbers, "mean": _number, "std": _number, "curves": _curves})
_COMPARISON = _object(Comparison, {
    "name": _string, "ours": _string, "reference": _string, "seconds_ours": _optional(_number),
    "seconds_reference": _optional(_number), "ratio": _number,
})


def _lines(where: str, value: Any) -> dict[str, list[float | None]]:
    lines = {}
    for label, ys in _mapping(where, value).items():
        _check(isinstance(ys, list), f"{where}.{label}", "a list of numbers or nulls", ys)
        lines[label] = [None if y is None else _number(f"{where}.{label}[{i}]", y) for i, y in enumerate(ys)]
    return lines


_SERIES_FIELDS = _object(Series, {"name": _string, "x_name": _string, "x": _numbers, "y": _lines})


def _series(where: str, value: Any) -> Series:
    series = _SERIES_FIELDS(where, value)
    for label, ys in series.y.items():
        _check(len(ys) == len(series.x), f"{where}.y.{label}", f"{len(series.x)} values (one per x)", ys)
    return series


FIELD_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "schema": _string, "kind": _string, "task": _string, "dataset": _string, "model": _string,
    "data_variant": _optional(_string), "metric": _optional(_string), "higher_is_better": _optional(_bool),
    "values": _numbers, "mean": _optional(_number), "std": _optional(_number), "num_seeds": _count, "seeds": _ints,
    "splits": _optional(_count), "variants": _list_of(_VARIANT), "curves": _curves,
    "comparisons": _list_of(_COMPARISON), "figures": _figures, "series": _list_of(_series),
    "hyperparameters": _mapping, "data_root": _optional(_string), "versions": _versions, "commit": _optional(_string),
    "device": _string, "wall_time_s": _optional(_number), "cpu_time_s": _optional(_number),
    "peak_memory_mb": _optional(_number), "command": _strings, "profile": _optional(_string), "finished_at": _string,
}
assert set(FIELD_CHECKS) == set(SCHEMA_FIELDS)


def validate(data: Any, *, source: str = "record") -> Record:
    """The :class:`Record` of a JSON object, or :class:`RecordError` naming ``source`` and the field at fault.

    Besides each field's type it checks the record's consistency: a known ``schema`` and
    ``kind``; ``len(seeds) == num_seeds``; ``len(values) == num_seeds * splits`` (``splits`` or 1)
    when a metric is given, with ``mean`` and ``std`` those of ``values`` (to 0.1 % of the mean, the
    rounding of stored values); no values
    without a metric; ``variants`` with as many values as the main result.
    """
    if not isinstance(data, dict):
        raise RecordError(f"{source}: a record is a JSON object, got {type(data).__name__}")
    missing = [name for name in SCHEMA_FIELDS if name not in data]
    if missing:
        raise RecordError(f"{source}: missing field(s) {', '.join(missing)} (schema {SCHEMA})")
    try:
        values = {name: FIELD_CHECKS[name](name, data[name]) for name in SCHEMA_FIELDS}
    except RecordError as error:
        raise RecordError(f"{source}: {error}") from None
    record = Record(**values, extra={k: v for k, v in data.items() if k not in FIELD_CHECKS})

    def fail(message: str) -> None:
        raise RecordError(f"{source}: {message}")

    if record.schema != SCHEMA:
        fail(f"schema {record.schema!r} is not {SCHEMA!r}")
    if record.kind not in KINDS:
        fail(f"kind {record.kind!r} is not one of {KINDS}")
    if len(record.seeds) != record.num_seeds:
        fail(f"num_seeds is {record.num_seeds} but seeds lists {len(record.seeds)}: {record.seeds}")
    if record.metric is None:
        if record.values or record.mean is not None or record.variants or record.higher_is_better is not None:
            fail("values, mean, variants or higher_is_better given without a metric")
        return record
    if record.higher_is_better is None:
        fail(f"metric {record.metric!r} without higher_is_better (true or false)")
    runs = record.num_seeds * (record.splits or 1)
    results = [("", record.values, record.mean, record.std)] + [
        (f"variants[{i}] ", v.values, v.mean, v.std) for i, v in enumerate(record.variants)
    ]
    for where, values, mean, std in results:
        if len(values) != runs:
            fail(f"{where}values has {len(values)} entries, expected num_seeds x splits = {runs}")
        if mean is None or std is None:
            fail(f"{where}mean and std are required with a metric")
        expected_mean, expected_std = mean_std(values)
        # Up to the rounding of stored values (2 decimals for percentages, 4 for RMSE / ROC-AUC).
        tolerance = 1e-3 * max(1.0, abs(expected_mean))
        if abs(mean - expected_mean) > tolerance or abs(std - expected_std) > tolerance:
            fail(f"{where}mean/std {mean}/{std} are not those of the values ({expected_mean}/{expected_std})")
    return record


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value) of a non-empty list."""
    if not values:
        raise RecordError("mean_std of no values")
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def load(path: str | os.PathLike) -> Record:
    """The validated record of a file (:class:`RecordError` if it is not JSON or not a schema record)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as error:
        raise RecordError(f"{path}: cannot read ({error})") from None
    except json.JSONDecodeError as error:
        raise RecordError(f"{path}: not JSON ({error})") from None
    return validate(data, source=str(path))


def dumps(record: Record) -> str:
    """The record as one line of JSON (no NaN: the schema holds finite numbers only)."""
    return json.dumps(record.to_dict(), default=_json_default, allow_nan=False)


def write(path: str | os.PathLike, record: Record) -> Path:
    """Validate ``record`` and write it to ``path`` as one JSON line, atomically.

    The text goes to a temporary file in the same folder, is flushed to disk, then
    renamed over ``path``: a run stopped mid-write leaves the previous file (or
    none), never half a record.
    """
    path = Path(path)
    line = dumps(record)
    validate(json.loads(line), source=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(line + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path


# ---------------------------------------------------------------- building


def make(
    *,
    task: str,
    dataset: str,
    model: str,
    kind: str = "task",
    metric: str | None = None,
    higher_is_better: bool | None = None,
    values: Sequence[float] = (),
    seeds: int | Sequence[int] = (),
    splits: int | None = None,
    variants: Sequence[Variant | dict[str, Any]] = (),
    curves: dict[str, Any] | None = None,
    comparisons: Sequence[Comparison | dict[str, Any]] = (),
    figures: dict[str, float] | None = None,
    series: Sequence[Series | dict[str, Any]] = (),
    hyperparameters: dict[str, Any] | None = None,
    data_root: str | os.PathLike | None = None,
    data_variant: str | None = None,
    device: str = "cpu",
    wall_time_s: float | None = None,
    cpu_time_s: float | None = None,
    peak_memory_mb: float | None = None,
    command: Sequence[str] | None = None,
    profile: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Record:
    """A validated :class:`Record` with its derived fields filled in.

    ``mean`` and ``std`` are computed from ``values`` (and from each variant's
    ``values``); ``seeds`` is a seed list or a count ``n`` (seeds ``0..n-1``);
    ``curves`` may give one flat per-epoch list instead of one list per run;
    ``versions``, ``commit`` and ``finished_at`` are those of this process, and
    ``command`` defaults to ``python`` + ``sys.argv``.

    Raises:
        RecordError: a field of the wrong type or an inconsistent record (see :func:`validate`).
    """
    import sys
    from datetime import datetime, timezone

    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    values = [float(v) for v in values]
    mean, std = mean_std(values) if values else (None, None)
    built_variants = []
    for variant in variants:
        if isinstance(variant, Variant):
            built_variants.append(variant)
            continue
        variant_values = [float(v) for v in variant["values"]]
        if not variant_values:
            raise RecordError(f"variant {variant.get('model')!r} has no values")
        variant_mean, variant_std = mean_std(variant_values)
        built_variants.append(Variant(str(variant["model"]), variant_values, variant_mean, variant_std,
                                      _per_run(variant.get("curves") or {})))
    data = {
        "schema": SCHEMA, "kind": kind, "task": task, "dataset": dataset, "model": model, "data_variant": data_variant,
        "metric": metric, "higher_is_better": higher_is_better, "values": values, "mean": mean, "std": std,
        "num_seeds": len(seed_list), "seeds": seed_list, "splits": splits, "variants": [_plain(v) for v in built_variants],
        "curves": _per_run(curves or {}), "comparisons": [_plain(c) for c in comparisons], "figures": dict(figures or {}),
        "series": [_plain(s) for s in series], "hyperparameters": dict(hyperparameters or {}),
        "data_root": None if data_root is None else str(data_root), "versions": versions(), "commit": git_commit(),
        "device": str(device), "wall_time_s": wall_time_s, "cpu_time_s": cpu_time_s, "peak_memory_mb": peak_memory_mb,
        "command": list(command) if command is not None else ["python", *sys.argv],
        "profile": profile, "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    clash = sorted(set(extra or {}) & set(data))
    if clash:
        raise RecordError(f"extra keys {clash} clash with schema fields; pass them as arguments")
    # Through JSON, so what is validated is exactly what will be written (tensors and numpy scalars become numbers).
    plain = json.loads(json.dumps({**data, **(extra or {})}, default=_json_default))
    return validate(plain, source=f"record of {task}/{dataset}/{model}")


def _per_run(curves: dict[str, Any]) -> dict[str, Any]:
    """``{name: [v0, v1, ...]}`` (one run) as ``{name: [[v0, v1, ...]]}``; lists of runs unchanged."""
    return {name: (runs if runs and all(isinstance(r, (list, tuple)) for r in runs) else [runs]) for name, runs in curves.items()}


def git_commit() -> str | None:
    """The commit of the checkout this package runs from (None outside a git checkout)."""
    import subprocess

    try:
        root = Path(__file__).resolve().parent.parent
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        return result.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def versions() -> dict[str, str]:
    """Versions of python, torch, geoconv and the optional packages already imported."""
    import platform
    import sys

    import torch

    import geoconv

    found = {"python": platform.python_version(), "torch": torch.__version__, "geoconv": geoconv.__version__}
    for module in ("torch_geometric", "e3nn", "rdkit", "ogb", "trimesh", "torch_scatter", "torch_sparse"):
        # Only what this process imported: importing torch_geometric just to name its version costs seconds.
        version = getattr(sys.modules.get(module), "__version__", None)
        if isinstance(version, str):
            found[module] = version
    return found


def _plain(value: Any) -> Any:
    """Dataclasses (variants, comparisons, series) as plain dicts for JSON."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    return value


def _json_default(value: Any) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")
