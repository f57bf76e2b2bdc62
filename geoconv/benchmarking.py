"""One way to time things, shared by every benchmark and task: warm-up, interleaved repeats, median.

:func:`measure` times the sides being compared (geoconv and a reference, or
several variants) in the same process: each side is warmed up, then the
repeats are interleaved (A B, B A, A B, ...), so a change of machine load
or of CPU frequency during the run hits every side alike, and the median
of the repeats is reported. Wall and CPU time are both kept: on a shared
machine, CPU time is the steadier of the two.

Every script of ``benchmarks/`` takes the same flags (:func:`add_arguments`:
``--device``, ``--threads``, ``--repeats``, ``--warmup``, ``--out``) and ends with
:func:`finish`, which writes the schema record (:mod:`geoconv.records`) to
``--out`` and prints it as the last line.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import torch

from geoconv.records import Comparison, Record, Series, dumps, make, write


@dataclass(frozen=True)
class Timing:
    """The repeats of one side.

    Args:
        label: the side's name.
        seconds: wall seconds per repeat, in order.
        cpu_seconds: CPU seconds (user + system, this process) per repeat.
        peak_memory_mb: on CUDA, the peak memory allocated by torch during the side's calls;
            on CPU None (the process peak, :func:`peak_rss_mb`, cannot be split between sides).
    """

    label: str
    seconds: list[float]
    cpu_seconds: list[float]
    peak_memory_mb: float | None = None

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_cpu_s(self) -> float:
        return statistics.median(self.cpu_seconds)


def synchronize(device: str | torch.device) -> None:
    """Wait for queued kernels of ``device`` (a no-op on CPU), so a timer reads finished work."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def measure(
    sides: dict[str, Callable[[], Any]],
    *,
    repeats: int = 5,
    warmup: int = 1,
    device: str | torch.device = "cpu",
    clock: Callable[[], float] = time.perf_counter,
    cpu_clock: Callable[[], float] = time.process_time,
) -> dict[str, Timing]:
    """Time each callable of ``sides`` ``repeats`` times, interleaved, after ``warmup`` untimed calls.

    Repeat ``r`` runs the sides in the given order when ``r`` is even and in reverse
    order when it is odd (A B, B A, ...): a side never always runs first, after
    the other has warmed the caches or heated the CPU.

    Args:
        sides: ``{label: zero-argument callable}``; the callable does the work once.
        repeats: timed calls per side (default 5).
        warmup: untimed calls per side before the first timed one (default 1).
        device: synchronised before and after each timed call (default cpu).
        clock: wall clock (default ``time.perf_counter``).
        cpu_clock: CPU clock (default ``time.process_time``).

    Returns:
        ``{label: Timing}`` in the order of ``sides``.
    """
    if not sides:
        raise ValueError("measure() needs at least one side to time")
    if repeats < 1 or warmup < 0:
        raise ValueError(f"measure() needs repeats >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}")
    cuda = torch.device(device).type == "cuda"
    labels = list(sides)
    wall: dict[str, list[float]] = {label: [] for label in labels}
    cpu: dict[str, list[float]] = {label: [] for label in labels}
    peak: dict[str, float] = {label: 0.0 for label in labels}
    for label in labels:
        for _ in range(warmup):
            sides[label]()
        synchronize(device)
    for repeat in range(repeats):
        for label in labels if repeat % 2 == 0 else reversed(labels):
            if cuda:
                torch.cuda.reset_peak_memory_stats(device)
            synchronize(device)
            start, cpu_start = clock(), cpu_clock()
            sides[label]()
            synchronize(device)
            wall[label].append(clock() - start)
            cpu[label].append(cpu_clock() - cpu_start)
            if cuda:
                peak[label] = max(peak[label], torch.cuda.max_memory_allocated(device) / 2**20)
    return {label: Timing(label, wall[label], cpu[label], peak[label] if cuda else None) for label in labels}


def compare(name: str, ours: Timing, reference: Timing, *, clock: str = "wall") -> Comparison:
    """The :class:`~geoconv.records.Comparison` of two sides: ratio = reference median / our median
    (> 1: ours faster), on wall time (``clock="wall"``, default) or on CPU time (``clock="cpu"``:
    steadier on a shared machine with one thread)."""
    if clock not in ("wall", "cpu"):
        raise ValueError(f"compare(): clock must be 'wall' or 'cpu', got {clock!r}")
    ours_s, reference_s = (ours.median_s, reference.median_s) if clock == "wall" else (ours.median_cpu_s, reference.median_cpu_s)
    if ours_s <= 0:
        raise ValueError(f"compare(): {ours.label} took {ours_s} s; nothing to divide by (time more work per call)")
    return Comparison(name if clock == "wall" else f"{name} (CPU time)", ours.label, reference.label,
                      round(ours_s, 6), round(reference_s, 6), reference_s / ours_s)


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (Linux VmHWM, which unlike ru_maxrss is not
    inherited across fork + exec; ru_maxrss elsewhere)."""
    # No /proc (macOS, Windows, some sandboxes): fall through to ru_maxrss.
    with contextlib.suppress(OSError), open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage / 1024.0 if sys.platform != "darwin" else usage / 2**20


# ---------------------------------------------------------------- the scripts of benchmarks/


def add_arguments(parser: argparse.ArgumentParser, *, repeats: int = 5, warmup: int = 1,
                  device_help: str = "torch device (default cpu)") -> argparse.ArgumentParser:
    """Add the flags every benchmark shares: ``--device``, ``--threads``, ``--repeats``, ``--warmup``, ``--out``.

    ``device_help`` replaces the help of ``--device`` where a script runs part of its work on the host
    whatever the device (and should say which part).
    """
    parser.add_argument("--device", default="cpu", help=device_help)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--repeats", type=int, default=repeats, help=f"timed repeats per side, interleaved (default {repeats})")
    parser.add_argument("--warmup", type=int, default=warmup, help=f"untimed calls per side first (default {warmup})")
    parser.add_argument("--out", default=None, help="also write the record to this file")
    return parser


def setup(args: argparse.Namespace) -> None:
    """Apply ``--threads`` and remember the start (wall and CPU) time."""
    if args.threads:
        torch.set_num_threads(args.threads)
    args._start_time = time.perf_counter()
    args._start_cpu = time.process_time()


def stamped_out(args: argparse.Namespace, stem: str) -> None:
    """Where ``--out`` names a folder (or ends with ``/``), write the record to ``<folder>/<stem>-<UTC stamp>.json``."""
    if args.out and (args.out.endswith("/") or Path(args.out).is_dir()):
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        args.out = str(Path(args.out) / f"{stem}-{stamp}.json")


def run_workloads(args: argparse.Namespace, runners: Mapping[str, Callable[[argparse.Namespace], Any]]) -> dict[str, Any]:
    """Run the workloads named by ``args.only`` in order, with progress on stderr.

    Each runner returns an object with ``comparisons``, ``figures`` and an ``extra`` dict, into which
    the workload's wall time goes as ``workload_wall_s``. Returns ``{name: result}`` in run order.
    """
    results = {}
    for name in args.only:
        print(f"{name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        result = runners[name](args)
        result.extra["workload_wall_s"] = round(time.perf_counter() - started, 2)
        print(f"{name}: {result.figures} {result.extra.get('reference', '')}", file=sys.stderr, flush=True)
        results[name] = result
    return results


def collect(results: Mapping[str, Any]) -> tuple[list[Comparison], dict[str, float], dict[str, Any]]:
    """The comparisons, figures and per-workload ``extra`` dicts of :func:`run_workloads`' results, merged."""
    comparisons = [comparison for result in results.values() for comparison in result.comparisons]
    figures = {key: value for result in results.values() for key, value in result.figures.items()}
    return comparisons, figures, {name: result.extra for name, result in results.items()}


def finish(
    args: argparse.Namespace,
    *,
    suite: str,
    dataset: str,
    model: str,
    comparisons: Sequence[Comparison] = (),
    figures: dict[str, float] | None = None,
    series: Sequence[Series] = (),
    extra: dict[str, Any] | None = None,
    command: Sequence[str] | None = None,
) -> Record:
    """Build the benchmark's schema record, write it to ``--out`` (atomically) and print it as the last line.

    ``extra`` holds the script's own keys (its stable output, e.g. ``speedup``), kept at the
    top level of the record.  An ``--out`` naming a folder gets ``<suite>-<UTC stamp>.json`` inside it
    (:func:`stamped_out`; a script may have chosen its own stem before).
    """
    stamped_out(args, suite)
    hyper = {k: v for k, v in vars(args).items() if not k.startswith("_") and k != "out"}
    start, cpu_start = getattr(args, "_start_time", None), getattr(args, "_start_cpu", None)
    record = make(
        kind="benchmark", task=suite, dataset=dataset, model=model, comparisons=comparisons, figures=figures,
        series=series, hyperparameters=hyper, data_root=_data_root(args), device=str(args.device),
        wall_time_s=None if start is None else round(time.perf_counter() - start, 3),
        cpu_time_s=None if cpu_start is None else round(time.process_time() - cpu_start, 3),
        peak_memory_mb=round(peak_rss_mb(), 1), command=command, extra=extra,
    )
    if args.out:
        write(Path(args.out), record)
    sys.stdout.flush()
    print(dumps(record), flush=True)
    return record


def _data_root(args: argparse.Namespace) -> str | None:
    from geoconv.datasets.base import data_root

    return str(data_root(getattr(args, "data_root", None)))
