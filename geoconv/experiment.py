"""Shared plumbing for the tasks: arguments, seeding, progress bars, the final record.

Every task prints, as its last line, its record (the schema of
:mod:`geoconv.records`: task, dataset, model, metric and direction, per-run
values, mean, std, seeds, hyper-parameters, data root, versions, commit, wall and
CPU time, command) and writes the same object atomically to ``--out`` when given.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch

from geoconv.benchmarking import peak_rss_mb  # noqa: F401  (re-exported: older scripts import it from here)
from geoconv.records import git_commit, versions  # noqa: F401  (re-exported)


def base_parser(description: str, *, epochs: int, seeds: int = 1) -> argparse.ArgumentParser:
    """An ArgumentParser with the options every example shares."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=epochs, help=f"training epochs (default {epochs})")
    parser.add_argument("--seeds", type=int, default=seeds, help=f"number of seeds 0..N-1 to average over (default {seeds})")
    parser.add_argument("--data-root", default=None, help="data root (default: $GEOCONV_DATA or ~/.cache/geoconv)")
    parser.add_argument("--out", default=None, help="also write the final JSON record to this file")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--no-progress", action="store_true", help="disable progress bars")
    return parser


def setup(args: argparse.Namespace) -> None:
    """Apply ``--threads`` and remember the start (wall and CPU) time."""
    if getattr(args, "threads", None):
        torch.set_num_threads(args.threads)
    args._start_time = time.perf_counter()
    args._start_cpu = time.process_time()


def set_seed(seed: int) -> None:
    """Seed Python, numpy and torch."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def progress_wanted() -> bool:
    """Whether progress bars are shown: when stderr is a terminal, or when ``GEOCONV_PROGRESS=1`` asks for them.

    Redirected to a file or a CI log, a run prints its summary and record only, not
    thousands of carriage-return updates; ``GEOCONV_PROGRESS=0`` silences them on a terminal too.
    """
    asked = os.environ.get("GEOCONV_PROGRESS", "").strip().lower()
    if asked in ("1", "true", "yes", "on"):
        return True
    if asked in ("0", "false", "no", "off"):
        return False
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def progress(iterable: Iterable, *, disable: bool = False, **kwargs: Any) -> Iterable:
    """A tqdm progress bar on stderr when :func:`progress_wanted` (plain iteration otherwise, or without tqdm)."""
    if disable or not progress_wanted():
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, file=sys.stderr, dynamic_ncols=True, leave=False, **kwargs)


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    values = [float(v) for v in values]
    if not values:
        return float("nan"), float("nan")
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


# Keys of a finish() dict that are schema fields (the rest is the task's own detail, kept as extra keys).
_SCHEMA_ARGUMENTS = (
    "kind", "task", "dataset", "model", "metric", "higher_is_better", "values", "seeds", "splits", "variants",
    "curves", "comparisons", "figures", "series", "data_variant", "profile", "command",
)


def complete(args: argparse.Namespace, record: dict[str, Any]) -> dict[str, Any]:
    """The schema record (:mod:`geoconv.records`) of a run, as the JSON object :func:`finish` prints and writes.

    ``record`` holds the schema fields the task knows (``task``, ``dataset``, ``model``,
    ``metric``, ``higher_is_better``, ``values`` per run, ``seeds`` as a list or a count,
    optionally ``splits``, ``variants``, ``curves``, ``data_variant``) and any other keys of
    its own (kept at the top level, e.g. ``test_acc_mean``). A task that gives no
    ``metric`` gets the one its catalogue entry declares (:class:`geoconv.catalogue.Task`).
    Added here: hyper-parameters (``args``), the resolved data root, versions, commit,
    device, wall and CPU time since :func:`setup`, peak memory and the command.
    """
    from geoconv import records
    from geoconv.catalogue import task_for_record
    from geoconv.datasets.base import data_root

    given = dict(record)
    schema = {key: given.pop(key) for key in _SCHEMA_ARGUMENTS if key in given}
    if "metric" not in schema:
        declared = task_for_record(str(schema.get("task", "")))
        if declared is None or not declared.metric:
            raise records.RecordError(
                f"finish(): the record of task {schema.get('task')!r} names no metric and the catalogue declares none; "
                f"pass 'metric' and 'higher_is_better'"
            )
        schema["metric"] = declared.metric
        schema.setdefault("higher_is_better", declared.higher_is_better)
    if schema["metric"] is not None and not schema.get("values"):
        raise records.RecordError(
            f"finish(): the record of task {schema.get('task')!r} has metric {schema['metric']!r} but no 'values' "
            f"(one value per run; mean and std are computed from them)"
        )
    if "seeds" not in schema and isinstance(getattr(args, "seeds", None), int):
        schema["seeds"] = args.seeds  # the shared --seeds flag: seeds 0..N-1
    hyper = {k: v for k, v in vars(args).items() if not k.startswith("_") and k not in ("out", "no_progress")}
    start, cpu_start = getattr(args, "_start_time", None), getattr(args, "_start_cpu", None)
    schema.setdefault("command", getattr(args, "_command", None))
    if schema["command"] is None:
        del schema["command"]
    built = records.make(
        **schema,
        hyperparameters=given.pop("hyperparameters", hyper),
        data_root=str(data_root(getattr(args, "data_root", None))),
        device=str(getattr(args, "device", "cpu")),
        wall_time_s=None if start is None else round(time.perf_counter() - start, 3),
        cpu_time_s=None if cpu_start is None else round(time.process_time() - cpu_start, 3),
        peak_memory_mb=round(peak_rss_mb(), 1),
        extra=given,
    )
    return built.to_dict()


def write_record(path: Path, record: dict[str, Any]) -> None:
    """Validate ``record`` (a schema record, as :func:`complete` returns) and write it to ``path`` atomically."""
    from geoconv import records

    records.write(path, records.validate(record, source=str(path)))


def finish(args: argparse.Namespace, record: dict[str, Any]) -> dict[str, Any]:
    """Complete ``record`` (see :func:`complete`), write ``--out`` atomically, print it as the last line."""
    from geoconv import records

    full = complete(args, record)
    checked = records.validate(full)
    line = records.dumps(checked)
    if getattr(args, "out", None):
        write_record(Path(args.out), full)
    sys.stdout.flush()
    summary = summary_line(checked)
    if summary:
        print(summary, flush=True)  # for people; the record stays the last line, for programs
    print(line, flush=True)
    return full


def summary_line(record: Any) -> str:
    """One readable line of a task record: the result and, where the catalogue has one, the published figure.

    For example ``cora / gcn: test_acc 81.46 ± 0.78 over 10 runs (published 81.5, Kipf & Welling, ICLR 2017, Table 2)``.
    Empty for a record without a result.
    """
    from geoconv.catalogue import published_for

    if record.metric is None or record.mean is None:
        return ""
    runs = f"{record.splits} splits" if record.splits is not None else f"{len(record.values)} run(s)"
    text = f"{record.dataset} / {record.model}: {record.metric} {record.mean:.4g} ± {record.std:.2g} over {runs}"
    published = published_for(record.task, record.dataset, record.model)
    if published is not None and published.key == record.metric:
        text += f" (published {published.value:g}, {published.citation})"
    return text


