"""examples/qm9.py runs end to end on a small slice of QM9 and ends with its JSON record."""

import json
import math
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_qm9_example_runs_both_models(tmp_path, shared_data):
    out = tmp_path / "record.json"
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "qm9.py"), "--data-root", str(shared_data), "--max-molecules", "700",
         "--train-size", "500", "--val-size", "50", "--test-size", "50", "--epochs", "5", "--channels", "16",
         "--layers", "1", "--batch-size", "16", "--lr", "1e-2", "--target", "alpha", "--no-progress", "--threads", "1",
         "--out", str(out)],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert record == json.loads(out.read_text())
    assert record["target"] == "alpha"
    assert record["split"] == {"train": 500, "val": 50, "test": 50}
    for name in ("escn", "invariant"):
        run = record["results"][name]["runs"][0]
        assert math.isfinite(record["test_mae"][name]) and record["test_mae"][name] > 0
        # Both models must learn something the per-element offsets do not: beat the offsets-only
        # baseline on the same test molecules clearly (seeded; seen: eSCN 0.64x, invariant 0.62x of the baseline; an untrained model scores 1.0x).
        assert math.isfinite(run["offsets_only_test_mae"])
        assert record["test_mae"][name] <= 0.8 * run["offsets_only_test_mae"], (name, record["test_mae"][name])
    assert record["results"]["invariant"]["runs"][0]["lmax"] == 0
    assert record["results"]["escn"]["runs"][0]["lmax"] == 2


def test_qm9_example_help():
    result = subprocess.run([sys.executable, str(REPO / "examples" / "qm9.py"), "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    for flag in ("--target", "--train-size", "--epochs", "--lmax", "--mmax", "--out"):
        assert flag in result.stdout
