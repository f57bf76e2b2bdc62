"""Dependencies point one way: ops, io -> data -> nn (chem, sampling) -> models -> datasets, tasks -> applications.

Every import statement of every module of the package (also those inside functions) is read with ``ast``;
a module may import its own part and parts of a lower rank only.  Rank 0 holds support modules that import
nothing of geoconv (``_optional``, the run/record helpers, the catalogue), so any part may use them.  The
application modules on top (cli, report, testing, ...) may import anything, each other included.  A new
top-level module or package is an application module until it is listed here (so nothing ranked may import it).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "geoconv"

# Rank of each top-level part of geoconv: an import must go to a strictly lower rank (or stay in its own part).
RANKS = {
    "_optional": 0, "records": 0, "metrics": 0, "catalogue": 0,
    "ops": 1, "io": 1,
    "data": 2,
    "nn": 3, "chem": 3, "sampling": 3,
    "models": 4,
    "datasets": 5,
    "benchmarking": 5.4, "experiment": 5.5,  # run helpers: they resolve data roots (datasets) and write records
    "tasks": 6,
}
TOP = 7  # cli, __main__, report, testing, the package __init__, anything new


def _part(module: str) -> str:
    """``geoconv.nn.gcn_conv`` -> ``nn``; ``geoconv`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _rank(part: str) -> int:
    return RANKS.get(part, TOP)


def _modules() -> list[tuple[str, Path]]:
    modules = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(relative.parts)
        modules.append((name[: -len(".__init__")] if name.endswith(".__init__") else name, path))
    return modules


def imported_modules(name: str, path: Path) -> list[tuple[str, int]]:
    """``(module, line)`` for every geoconv module imported anywhere in the file (relative imports resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, node.lineno))
            # `from geoconv import nn` imports the subpackage geoconv.nn.
            if target == "geoconv":
                found += [(f"geoconv.{alias.name}", node.lineno) for alias in node.names]
    return [(module, line) for module, line in found if module == "geoconv" or module.startswith("geoconv.")]


def wrong_way_imports() -> list[str]:
    problems = []
    for name, path in _modules():
        source = _part(name)
        for target, line in imported_modules(name, path):
            destination = _part(target)
            if destination == "__init__" or destination == source or _rank(source) == TOP:
                continue  # `import geoconv` itself, a module of the same part, or an application module
            if _rank(destination) >= _rank(source):
                problems.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {source} (rank {_rank(source)}) "
                                f"imports {target} ({destination}, rank {_rank(destination)})")
    return problems


def test_imports_point_one_way():
    problems = wrong_way_imports()
    assert not problems, "imports that run the wrong way:\n" + "\n".join(problems)


def test_checker_sees_a_wrong_way_import(tmp_path, monkeypatch):
    """The checker itself can fail: a layer file importing a model is reported (with relative imports too)."""
    fake = tmp_path / "geoconv"
    (fake / "nn").mkdir(parents=True)
    (fake / "ops").mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "nn" / "__init__.py").write_text("from .layer import Layer\n")
    (fake / "nn" / "layer.py").write_text("def f():\n    from geoconv.models import GCN\n")
    (fake / "ops" / "__init__.py").write_text("from ..data import Graph\nfrom . import scatter\n")
    (fake / "ops" / "scatter.py").write_text("from geoconv import nn\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    problems = wrong_way_imports()
    assert any("nn/layer.py:2: nn (rank 3) imports geoconv.models" in p for p in problems), problems
    assert any("ops/__init__.py:1: ops (rank 1) imports geoconv.data" in p for p in problems), problems
    assert any("ops/scatter.py:1: ops (rank 1) imports geoconv.nn" in p for p in problems), problems
    assert len(problems) == 3, problems


@pytest.mark.parametrize("package,forbidden", [
    # (`import geoconv` itself loads geoconv.data for Graph/Batch, so ops and io are checked above data only.)
    ("geoconv.ops", ("geoconv.nn", "geoconv.models", "geoconv.datasets")),
    ("geoconv.io", ("geoconv.nn", "geoconv.models", "geoconv.datasets")),
    ("geoconv.data", ("geoconv.nn", "geoconv.models", "geoconv.datasets")),
    ("geoconv.nn", ("geoconv.models", "geoconv.datasets", "geoconv.chem")),
    ("geoconv.models", ("geoconv.datasets", "geoconv.tasks")),
])
def test_importing_a_part_does_not_load_higher_parts(package, forbidden):
    """In a fresh interpreter: e.g. ``import geoconv.nn`` must not load ``geoconv.models``."""
    code = (f"import sys, {package}\n"
            f"print(' '.join(sorted(m for m in sys.modules if m.startswith('geoconv'))))")
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                            cwd=PACKAGE.parent).stdout.split()
    assert package in loaded
    wrong = [m for m in loaded if any(m == f or m.startswith(f + ".") for f in forbidden)]
    assert not wrong, f"import {package} loaded {wrong}"
