"""The test suite itself: no assertion helper used where its result is read.

``assert_close(a, b) and assert_close(c, d)`` never runs the second comparison (``assert_close``
returns None), and ``assert assert_close(a, b)`` fails whatever the values.  Both appeared in this
suite (issue 25); this test keeps them out.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
# Helpers that return None and raise on failure.
HELPERS = {"assert_close", "assert_equal", "assert_allclose", "assert_array_equal", "assert_array_almost_equal",
           "assert_almost_equal", "assert_equivariant", "assert_permutation_equivariant"}


def _helper_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        return name if name in HELPERS else None
    return None


def misused_helpers(source: str, filename: str = "<test>") -> list[str]:
    """``file:line helper`` for every helper call whose (None) result is combined or asserted."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.BoolOp):
            calls = node.values[:-1] if isinstance(node.op, ast.And) else node.values
            found += [f"{filename}:{v.lineno} {_helper_name(v)} inside '{type(node.op).__name__.lower()}'"
                      for v in calls if _helper_name(v)]
        elif isinstance(node, ast.Assert) and _helper_name(node.test):
            found.append(f"{filename}:{node.lineno} assert {_helper_name(node.test)}(...)")
    return found


def test_the_detector_finds_the_patterns_of_issue_25():
    bad = ("torch.testing.assert_close(a, b) and torch.testing.assert_close(c, d)\n"
           "assert np.testing.assert_array_equal(a, b)\n"
           "x = assert_close(a, b) or assert_close(c, d)\n")
    assert len(misused_helpers(bad)) == 4
    good = "torch.testing.assert_close(a, b)\ntorch.testing.assert_close(c, d)\nassert torch.equal(a, b) and ok\n"
    assert misused_helpers(good) == []


def test_no_test_reads_the_result_of_an_assertion_helper():
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        found += misused_helpers(path.read_text(), str(path.relative_to(TESTS)))
    assert found == [], "the second comparison never runs / the assert always fails:\n" + "\n".join(found)
