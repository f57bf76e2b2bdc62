"""Run a script as ``__main__`` the way ``python SCRIPT ARGS...`` does, for ``geoconv train`` and ``geoconv bench``.

The one difference: a :class:`~geoconv.datasets.base.DatasetError` that escapes the
script is printed once, as its message (no traceback, no chained copies of the
same message), and the process exits with code 3, the command line's "a dataset
is missing or corrupt".  Any other exception keeps its full traceback.

    python -m geoconv._run_script examples/node_classification.py --dataset cora
    python -m geoconv._run_script -m geoconv.tasks.some_task --quick     # a module, as `python -m`
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

EXIT_DATASET = 3


def main(argv: list[str]) -> int:
    if not argv or (argv[0] == "-m" and len(argv) < 2):
        print("usage: python -m geoconv._run_script (SCRIPT | -m MODULE) [ARGS...]", file=sys.stderr)
        return 2
    from geoconv.datasets.base import DatasetError

    try:
        if argv[0] == "-m":
            sys.argv = [argv[1], *argv[2:]]
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            script = Path(argv[0])
            sys.argv = [str(script), *argv[1:]]
            sys.path[0] = str(script.resolve().parent)  # as `python SCRIPT` puts the script's folder first
            runpy.run_path(str(script), run_name="__main__")
    except DatasetError as error:
        sys.stdout.flush()
        print(f"geoconv: dataset error: {error}", file=sys.stderr)
        return EXIT_DATASET
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
