"""The documentation cannot go stale: every ```python block of README.md and docs/ runs (see
tests/doc_snippets.py for the convention), the README's results table is what ``geoconv report`` writes,
and the site builds with warnings as errors and documents every public name.

``python tests/test_docs.py --update-readme`` rewrites the README's results table from the records.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import doc_snippets  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
PAGES = [README] + sorted((REPO / "docs").rglob("*.md"))
RESULTS_BEGIN = "<!-- results: begin (generated; do not edit) -->\n"
RESULTS_END = "<!-- results: end -->"
REPORT = [sys.executable, "-m", "geoconv", "report", "examples/results", "benchmarks/results", "--no-plots"]
API_MODULES = ["data", "ops", "nn", "models", "sampling", "chem", "datasets", "tasks", "metrics", "records",
               "benchmarking", "io", "catalogue", "testing"]


def _with_snippets() -> list[Path]:
    return [page for page in PAGES if any(not s.skipped for s in doc_snippets.snippets(page))]


@pytest.mark.parametrize("page", _with_snippets(), ids=lambda page: str(page.relative_to(REPO)))
def test_snippets_run(page, shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("GEOCONV_DATA", str(shared_data))
    monkeypatch.chdir(tmp_path)
    ran = doc_snippets.run(page)
    assert ran == sum(not s.skipped for s in doc_snippets.snippets(page))


def test_readme_tour_covers_the_families():
    code = "".join(s.code for s in doc_snippets.snippets(README) if not s.skipped)
    for name in ("GCNConv", "GlobalPool", "DynamicEdgeConv", "DGCNN", "ESCN", "read_mesh_graph", "MeshCNNClassifier"):
        assert name in code, f"the README tour no longer shows {name}"
    assert len(README.read_text().splitlines()) <= 220, "README.md is meant to be read in five minutes"


def test_snippet_parser(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n```python\na = 1\n```\n<!-- skip-test -->\n\n```python\nraise SystemExit\n```\n"
                    "- item\n\n    ```python\n    b = a + 1\n    ```\n```bash\nnot python\n```\n")
    found = doc_snippets.snippets(page)
    assert [(s.line, s.code, s.skipped) for s in found] == [
        (3, "a = 1\n", False), (8, "raise SystemExit\n", True), (13, "b = a + 1\n", False)]
    namespace: dict = {}
    assert doc_snippets.run(page, namespace) == 2 and namespace["b"] == 2
    broken = tmp_path / "broken.md"
    broken.write_text("```python\n\n\nundefined_name\n```\n")
    with pytest.raises(NameError) as info:
        doc_snippets.run(broken)
    frames = traceback.extract_tb(info.value.__traceback__)
    assert any(frame.filename == str(broken) and frame.lineno == 4 for frame in frames), frames


def readme_results() -> str:
    text = README.read_text()
    start = text.index(RESULTS_BEGIN) + len(RESULTS_BEGIN)
    return text[start:text.index(RESULTS_END, start)]


def generated_summary(out: Path) -> str:
    subprocess.run(REPORT + ["--out", str(out)], cwd=REPO, check=True, capture_output=True, text=True,
                   env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))})
    return (out / "summary.md").read_text()


def test_readme_results_table_is_the_generated_summary(tmp_path):
    assert readme_results() == generated_summary(tmp_path), (
        "README.md's results table differs from `geoconv report`'s summary.md: run "
        "`python tests/test_docs.py --update-readme`")


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings") is None,
                    reason="mkdocs / mkdocstrings not installed (pip install -e '.[docs]')")
def test_site_builds_strict_and_documents_every_public_name(tmp_path):
    site = tmp_path / "site"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                           cwd=REPO, env=env, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    assert "WARNING" not in build.stderr, build.stderr
    missing = []
    for name in API_MODULES:
        module = importlib.import_module(f"geoconv.{name}")
        public = getattr(module, "__all__", None) or [
            item for item in vars(module) if not item.startswith("_")
            and getattr(getattr(module, item), "__module__", None) == module.__name__]
        html = (site / "api" / name / "index.html").read_text()
        missing += [f"geoconv.{name}.{item}" for item in public
                    if f'id="geoconv.{name}.{item}"' not in html and f'id="geoconv.{name}.{item}.{item}"' not in html]
    assert not missing, f"names without an API entry: {missing}"


if __name__ == "__main__":
    if sys.argv[1:] != ["--update-readme"]:
        sys.exit("usage: python tests/test_docs.py --update-readme")
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        summary = generated_summary(Path(folder))
    text = README.read_text()
    start = text.index(RESULTS_BEGIN) + len(RESULTS_BEGIN)
    README.write_text(text[:start] + summary + text[text.index(RESULTS_END, start):])
    print(f"README.md: results table rewritten ({len(summary.splitlines())} lines)")
