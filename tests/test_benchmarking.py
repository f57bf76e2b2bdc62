"""The one timing helper: warm-up first, interleaved repeats, medians, and the benchmark record."""

from __future__ import annotations

import argparse
import json

import pytest

from geoconv import benchmarking, records
from geoconv.benchmarking import Timing, compare, measure


class FakeClock:
    """A clock that advances only when a side runs: side ``label`` takes ``costs[label][k]`` on its k-th call."""

    def __init__(self, costs):
        self.now, self.costs, self.calls = 0.0, {k: list(v) for k, v in costs.items()}, []

    def side(self, label):
        def run():
            self.calls.append(label)
            self.now += self.costs[label].pop(0)
        return run

    def __call__(self):
        return self.now


def test_warmup_then_interleaved_repeats_in_alternating_order():
    clock = FakeClock({"a": [100.0, 1.0, 2.0, 3.0, 4.0], "b": [100.0, 10.0, 30.0, 20.0, 40.0]})
    timings = measure({"a": clock.side("a"), "b": clock.side("b")}, repeats=4, warmup=1, clock=clock, cpu_clock=clock)
    # The warm-up calls come first (untimed: their 100 s cost is in no timing), then A B, B A, A B, B A.
    assert clock.calls == ["a", "b", "a", "b", "b", "a", "a", "b", "b", "a"]
    assert timings["a"].seconds == [1.0, 2.0, 3.0, 4.0] and timings["b"].seconds == [10.0, 30.0, 20.0, 40.0]
    assert timings["a"].cpu_seconds == timings["a"].seconds
    assert (timings["a"].median_s, timings["b"].median_s) == (2.5, 25.0)
    assert timings["a"].peak_memory_mb is None  # CPU: no per-side memory


def test_compare_is_reference_over_ours():
    ours, reference = Timing("geoconv", [1.0, 2.0, 9.0], [1.0, 1.0, 1.0]), Timing("pyg", [4.0, 8.0, 5.0], [1.0, 1.0, 1.0])
    comparison = compare("fwd+bwd", ours, reference)
    assert (comparison.ours, comparison.reference, comparison.seconds_ours, comparison.seconds_reference) == ("geoconv", "pyg", 2.0, 5.0)
    assert comparison.ratio == 2.5


def test_measure_rejects_nothing_to_time():
    with pytest.raises(ValueError, match="at least one side"):
        measure({})
    with pytest.raises(ValueError, match="repeats >= 1"):
        measure({"a": lambda: None}, repeats=0)


def test_shared_flags_and_finish_write_a_benchmark_record(tmp_path, capsys):
    parser = benchmarking.add_arguments(argparse.ArgumentParser(), repeats=3)
    args = parser.parse_args(["--threads", "1", "--out", str(tmp_path / "b.json")])
    assert (args.device, args.threads, args.repeats, args.warmup) == ("cpu", 1, 3, 1)
    benchmarking.setup(args)
    timings = measure({"geoconv": lambda: None, "reference": lambda: sum(range(1000))}, repeats=args.repeats)
    record = benchmarking.finish(args, suite="toy", dataset="none", model="sum",
                                 comparisons=[compare("sum", timings["geoconv"], timings["reference"])], extra={"speedup": 2.0})
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line == json.loads((tmp_path / "b.json").read_text()) == record.to_dict()
    assert records.load(tmp_path / "b.json").kind == "benchmark" and line["speedup"] == 2.0
    assert line["hyperparameters"]["repeats"] == 3 and line["cpu_time_s"] >= 0


def test_finish_with_a_folder_as_out_writes_a_stamped_record_inside(tmp_path, capsys):
    parser = benchmarking.add_arguments(argparse.ArgumentParser(), repeats=1)
    args = parser.parse_args(["--out", str(tmp_path)])
    benchmarking.setup(args)
    record = benchmarking.finish(args, suite="toy", dataset="none", model="sum", comparisons=[])
    written = list(tmp_path.glob("toy-*.json"))
    assert len(written) == 1 and records.load(written[0]).to_dict() == record.to_dict()


def test_compare_on_cpu_time():
    ours, reference = Timing("geoconv", [9.0], [1.0]), Timing("pyg", [1.0], [3.0])
    assert compare("x", ours, reference).ratio == pytest.approx(1 / 9)
    cpu = compare("x", ours, reference, clock="cpu")
    assert (cpu.name, cpu.ratio, cpu.seconds_ours) == ("x (CPU time)", 3.0, 1.0)
