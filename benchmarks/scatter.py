"""Scatter reductions: geoconv's native kernels vs torch_scatter (when installed) vs torch_geometric.utils.

Use it to decide whether to route a reduction to torch_scatter with
``geoconv.ops.use_torch_scatter([...])`` on your hardware.  Prints one JSON line with the
median forward+backward seconds per reduction and backend.

    python benchmarks/scatter.py --messages 1000000 --nodes 100000 --channels 64
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch


def measure(fn, src: torch.Tensor, repeats: int) -> float:
    times = []
    for _ in range(repeats + 1):
        src.grad = None
        start = time.perf_counter()
        fn(src).sum().backward()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    from geoconv.ops import scatter

    generator = torch.Generator().manual_seed(0)
    src = torch.randn(args.messages, args.channels, generator=generator).requires_grad_()
    index = torch.randint(0, args.nodes, (args.messages,), generator=generator)
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
    results: dict = {"benchmark": "scatter_forward_backward", "messages": args.messages, "nodes": args.nodes,
                     "channels": args.channels, "threads": torch.get_num_threads(), "notes": notes, "seconds": {}}
    for reduce in ("sum", "mean", "max", "min"):
        results["seconds"][reduce] = {
            name: measure(lambda s: fn(s, reduce), src, args.repeats) for name, fn in backends.items()
        }
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()
