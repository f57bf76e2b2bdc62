"""Packaging and the output a person reads: version, typing marker, licence, quiet runs."""

from __future__ import annotations

import subprocess
import sys
import warnings
from importlib import metadata
from pathlib import Path

import pytest
import torch

import geoconv
from geoconv.experiment import progress, progress_wanted

REPO = Path(__file__).resolve().parent.parent


def test_version_comes_from_the_distribution_metadata():
    assert geoconv.__version__ == metadata.version("geoconv")
    text = (REPO / "pyproject.toml").read_text()
    assert f'version = "{geoconv.__version__}"' in text


def test_cli_version_prints_and_exits_zero():
    result = subprocess.run([sys.executable, "-m", "geoconv", "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"geoconv {geoconv.__version__}"


def test_typed_marker_and_licence_ship():
    assert (REPO / "geoconv" / "py.typed").is_file()
    assert (REPO / "LICENSE").read_text().startswith("MIT License")
    text = (REPO / "pyproject.toml").read_text()
    assert '"py.typed"' in text and "Typing :: Typed" in text


@pytest.mark.parametrize("value, wanted", [("1", True), ("0", False), ("", False)])
def test_progress_bars_only_on_a_terminal_or_when_asked(monkeypatch, tmp_path, value, wanted):
    monkeypatch.setenv("GEOCONV_PROGRESS", value)
    monkeypatch.setattr(sys, "stderr", open(tmp_path / "log", "w"))  # a file, not a terminal
    try:
        assert progress_wanted() is wanted
        items = list(range(3))
        bar = progress(items)
        assert (bar is items) is (not wanted)
    finally:
        sys.stderr.close()


def test_progress_bars_on_a_terminal(monkeypatch):
    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("GEOCONV_PROGRESS", raising=False)
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert progress_wanted()
    monkeypatch.setenv("GEOCONV_PROGRESS", "0")
    assert not progress_wanted()


def test_sparse_dropout_warns_nothing():
    from geoconv.ops.dropout import dropout

    x = torch.eye(5).to_sparse()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = dropout(x, 0.5, training=True)
    assert out.is_sparse and out.shape == x.shape


def test_invalid_smiles_keeps_rdkit_quiet(capfd, monkeypatch):
    pytest.importorskip("rdkit")
    from geoconv.chem import from_smiles
    from geoconv.chem.featurize import InvalidSmilesError

    monkeypatch.delenv("GEOCONV_RDKIT_LOG", raising=False)
    with pytest.raises(InvalidSmilesError, match="C1CC"):
        from_smiles("C1CC")
    assert "Parse Error" not in capfd.readouterr().err
    monkeypatch.setenv("GEOCONV_RDKIT_LOG", "1")
    with pytest.raises(InvalidSmilesError):
        from_smiles("C1CC")
    assert "Parse Error" in capfd.readouterr().err
