"""benchmarks/device_check.sh names every benchmark, runs the device tests, and each benchmark honours --device.

Cheap: the script is read, not run (a run takes minutes; `bash benchmarks/device_check.sh cpu` is the check).
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import torch

from conftest import HOST_TESTS, _DrawOnGeneratorDevice

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "benchmarks" / "device_check.sh"


def small_settings() -> dict[str, list[str]]:
    """The ``[script]="flags"`` table of device_check.sh."""
    text = SCRIPT.read_text()
    table = re.search(r"declare -A SMALL=\((.*?)\n\)", text, re.S)
    assert table, "device_check.sh has no SMALL table"
    return {name: shlex.split(flags) for name, flags in re.findall(r'\[([\w.]+)\]="([^"]*)"', table.group(1))}


def test_device_check_names_every_benchmark():
    assert set(small_settings()) == {path.name for path in (REPO / "benchmarks").glob("*.py")}


def test_device_check_tests_cover_layers_models_compile_autocast_and_scatter():
    tests = re.search(r"TESTS=\$\{DEVICE_CHECK_TESTS:-([^}]*)\}", SCRIPT.read_text()).group(1).split()
    for needed in ("tests/ops", "tests/nn", "tests/models", "tests/test_compile.py", "tests/test_autocast.py"):
        assert needed in tests
    for path in tests:
        assert (REPO / path).exists(), path
        assert not path.removeprefix("tests/").startswith(HOST_TESTS), f"{path} is host-side: it ignores --device"


def test_device_check_shell_syntax():
    result = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 2 and "usage" in result.stderr


@pytest.mark.parametrize("script", sorted(path.name for path in (REPO / "benchmarks").glob("*.py")))
def test_every_benchmark_takes_device_and_its_small_flags(script, capsys):
    # --help parses the flags without running: every flag of the small setting exists, and --device is there.
    spec = importlib.util.spec_from_file_location(f"benchmark_{script[:-3]}", REPO / "benchmarks" / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    flags = {flag for flag in small_settings()[script] if flag.startswith("--")}
    for flag in flags | {"--device", "--repeats", "--warmup", "--out"}:
        assert re.search(rf"(^|[\s\[,]){re.escape(flag)}\b", text), f"{script} --help has no {flag}"


def test_cpu_generator_draws_move_to_the_test_device():
    # The conftest's rule for a non-CPU --device: the draw is made on the generator's device (same numbers on
    # every device), then moved.  "meta" stands in for a GPU here.
    expected = torch.randn(10, generator=torch.Generator().manual_seed(0))
    generator = torch.Generator().manual_seed(0)
    with _DrawOnGeneratorDevice("meta"):
        first = torch.randn(5, generator=generator)
        unaffected = torch.zeros(2)
    assert first.device.type == "meta" and unaffected.device.type == "cpu"
    # the first five were drawn from the CPU generator, which therefore moved on by five
    torch.testing.assert_close(torch.randn(5, generator=generator), expected[5:])
