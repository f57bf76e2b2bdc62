"""The ```python blocks of README.md and docs/: how they are found and run.

Shared by ``tests/test_docs.py`` and ``.ci/wheel_smoke`` (which runs the README tour against an installed
wheel), so both execute exactly the same code.  The convention, for every page of the documentation:

* every fenced block opened by a line ```` ```python ```` is a snippet;
* the snippets of one file run in order, in one namespace (a page reads as one session), in a temporary
  working directory, with ``GEOCONV_DATA`` as the environment gives it;
* a snippet whose fence is directly preceded (blank lines aside) by the line ``<!-- skip-test -->`` is not run.

Run as a script, ``python tests/doc_snippets.py FILE...`` executes the snippets of each file in a fresh
temporary folder and prints how many ran.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SKIP_MARKER = "<!-- skip-test -->"


@dataclass(frozen=True)
class Snippet:
    path: Path
    line: int  # 1-based line of the first line of code (the one after the fence)
    code: str
    skipped: bool


def snippets(path: str | os.PathLike) -> list[Snippet]:
    """The ```python blocks of a markdown file, in order (indented fences are dedented)."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Snippet] = []
    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        if stripped == "```python":
            indent = len(lines[index]) - len(lines[index].lstrip())
            previous = index - 1
            while previous >= 0 and not lines[previous].strip():
                previous -= 1
            skipped = previous >= 0 and lines[previous].strip() == SKIP_MARKER
            end = index + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            if end == len(lines):
                raise ValueError(f"{path}:{index + 1}: a ```python block is never closed")
            body = [line[indent:] if not line[:indent].strip() else line for line in lines[index + 1:end]]
            found.append(Snippet(path, index + 2, "\n".join(body) + "\n", skipped))
            index = end + 1
        else:
            index += 1
    return found


def run(path: str | os.PathLike, namespace: dict | None = None) -> int:
    """Execute the snippets of ``path`` in order in one namespace (in the current directory); return how many
    ran.  Tracebacks name the markdown file and its line numbers."""
    namespace = {"__name__": "__doc_snippet__"} if namespace is None else namespace
    count = 0
    for snippet in snippets(path):
        if snippet.skipped:
            continue
        # Leading newlines put the code at its own line numbers of the markdown file.
        exec(compile("\n" * (snippet.line - 1) + snippet.code, str(snippet.path), "exec"), namespace)
        count += 1
    return count


def main(argv: list[str]) -> int:
    total = 0
    for name in argv:
        path = Path(name).resolve()
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="geoconv-doc-") as folder:
            previous = os.getcwd()
            os.chdir(folder)
            try:
                count = run(path)
            finally:
                os.chdir(previous)
        total += count
        print(f"doc_snippets: {path.name}: {count} snippet(s) ran in {time.perf_counter() - start:.1f} s")
    print(f"doc_snippets: {total} snippet(s) in total")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
