"""Scatter reductions: geoconv's native kernels vs torch_scatter (when installed) vs torch_geometric.utils.

Use it to decide whether to route a reduction to torch_scatter with
``geoconv.ops.use_torch_scatter([...])`` on your hardware. Every backend of a reduction is
timed with :func:`geoconv.benchmarking.measure` (forward+backward, warm-up, interleaved
repeats, median); the last line is the schema record with one comparison per reduction
and backend.

    python benchmarks/scatter.py --messages 1000000 --nodes 100000 --channels 64
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's geoconv

from geoconv import benchmarking  # noqa: E402


def main(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--channels", type=int, default=64)
    benchmarking.add_arguments(parser, repeats=5)
    args = parser.parse_args(argv)
    benchmarking.setup(args)

    from geoconv.ops import scatter

    generator = torch.Generator().manual_seed(0)
    src = torch.randn(args.messages, args.channels, generator=generator).to(args.device).requires_grad_()
    index = torch.randint(0, args.nodes, (args.messages,), generator=generator).to(args.device)
    backends = {"geoconv": lambda s, r: scatter(s, index, 0, args.nodes, r)}
    notes = {}
    try:
        import torch_scatter

        backends["torch_scatter"] = lambda s, r: torch_scatter.scatter(s, index, 0, dim_size=args.nodes, reduce=r)
    except ImportError:
        notes["torch_scatter"] = "not installed (source-only on PyPI); not measured"
    try:
        from torch_geometric.utils import scatter as pyg_scatter

        backends["torch_geometric.utils"] = lambda s, r: pyg_scatter(s, index, 0, dim_size=args.nodes, reduce=r)
    except ImportError:
        notes["torch_geometric"] = "not installed"

    def forward_backward(fn, reduce: str):
        def run() -> None:
            src.grad = None
            fn(src, reduce).sum().backward()

        return run

    comparisons, seconds = [], {}
    for reduce in ("sum", "mean", "max", "min"):
        timings = benchmarking.measure({name: forward_backward(fn, reduce) for name, fn in backends.items()},
                                       repeats=args.repeats, warmup=args.warmup, device=args.device)
        seconds[reduce] = {name: timing.median_s for name, timing in timings.items()}
        comparisons += [benchmarking.compare(f"scatter {reduce} forward+backward", timings["geoconv"], timing)
                        for name, timing in timings.items() if name != "geoconv"]
    return benchmarking.finish(args, suite="scatter", dataset=f"random ({args.messages} messages, {args.nodes} nodes)",
                               model=f"scatter ({args.channels} channels)", comparisons=comparisons,
                               extra={"seconds": seconds, "notes": notes, "threads_used": torch.get_num_threads()})


if __name__ == "__main__":
    main()
