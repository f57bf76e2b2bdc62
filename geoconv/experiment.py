"""Shared plumbing for the example scripts: arguments, seeding, progress bars, the final JSON record.

Every example prints, as its last line, one JSON object (its metrics and
settings) and writes the same object to ``--out`` when given.  The record
carries what is needed to reproduce and report it: task, dataset, model,
hyper-parameters, seeds, metrics (mean and std), wall time, versions and git
commit.
"""

from __future__ import annotations

import contextlib

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch


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
    """Apply ``--threads`` and remember the start time."""
    if getattr(args, "threads", None):
        torch.set_num_threads(args.threads)
    args._start_time = time.perf_counter()


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


def git_commit() -> str | None:
    try:
        root = Path(__file__).resolve().parent.parent
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        return result.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def versions() -> dict[str, str]:
    import geoconv

    found = {"python": platform.python_version(), "torch": torch.__version__, "geoconv": geoconv.__version__}
    for module in ("torch_geometric", "e3nn", "rdkit", "ogb", "trimesh"):
        try:
            found[module] = __import__(module).__version__
        except (ImportError, AttributeError):
            pass
    return found


def complete(args: argparse.Namespace, record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with the run's provenance added: hyper-parameters, wall time so far, versions, commit, device."""
    hyper = {k: v for k, v in vars(args).items() if not k.startswith("_") and k not in ("out", "no_progress")}
    full = dict(record)
    full.setdefault("hyperparameters", hyper)
    start = getattr(args, "_start_time", None)
    if start is not None:
        full.setdefault("wall_time_s", round(time.perf_counter() - start, 3))
    full.setdefault("versions", versions())
    full.setdefault("git_commit", git_commit())
    full.setdefault("device", str(getattr(args, "device", "cpu")))
    return full


def _write_line(path: Path, line: str) -> None:
    # Through a temporary file, so a run stopped mid-write never leaves half a record.
    if path.parent != Path(""):
        path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(line + "\n")
    os.replace(temporary, path)


def write_record(path: Path, record: dict[str, Any]) -> None:
    """Write ``record`` to ``path`` as one JSON line, atomically (the format of :func:`finish`'s ``--out``)."""
    _write_line(path, json.dumps(record, default=_json_default))


def finish(args: argparse.Namespace, record: dict[str, Any]) -> dict[str, Any]:
    """Complete ``record`` (see :func:`complete`), print it as the last line, write ``--out``."""
    full = complete(args, record)
    line = json.dumps(full, default=_json_default)
    if getattr(args, "out", None):
        _write_line(Path(args.out), line)
    sys.stdout.flush()
    print(line, flush=True)
    return full


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


def _json_default(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")
