"""GCNConv forward+backward: geoconv vs torch_geometric on the same random graph.

Both layers get the same weights and are timed with :func:`geoconv.benchmarking.measure`
(warm-up, interleaved repeats, median). The last line printed is the schema record
(:mod:`geoconv.records`) with the comparison; ``ratio_geoconv_over_pyg`` is kept at the top level.

    python benchmarks/gcn.py                 # 100,000 nodes, 1,000,000 edges, 128 -> 128
    python benchmarks/gcn.py --nodes 10000 --edges 100000 --repeats 3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's geoconv

from geoconv import benchmarking  # noqa: E402


def forward_backward(conv: torch.nn.Module, x: torch.Tensor, edge_index: torch.Tensor):
    def run() -> None:
        conv.zero_grad(set_to_none=True)
        x.grad = None
        conv(x, edge_index).square().mean().backward()

    return run


def main(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--channels", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--x-requires-grad", action="store_true",
                        help="also back-propagate into x (a hidden layer) instead of only into the weights (an input layer)")
    benchmarking.add_arguments(parser, repeats=7)
    args = parser.parse_args(argv)
    benchmarking.setup(args)

    from geoconv.nn import GCNConv

    generator = torch.Generator().manual_seed(args.seed)
    edge_index = torch.randint(0, args.nodes, (2, args.edges), generator=generator).to(args.device)
    x = torch.randn(args.nodes, args.channels, generator=generator).to(args.device)
    x.requires_grad_(args.x_requires_grad)
    ours = GCNConv(args.channels, args.channels).to(args.device)
    extra: dict = {"threads_used": torch.get_num_threads()}
    sides = {"geoconv": forward_backward(ours, x, edge_index)}
    try:
        from torch_geometric.nn import GCNConv as PyGGCNConv
    except ImportError:
        extra["pyg"] = "torch_geometric is not installed (pip install 'geoconv[pyg]'); geoconv alone was timed"
        theirs = None
    else:
        theirs = PyGGCNConv(args.channels, args.channels).to(args.device)
        with torch.no_grad():
            theirs.lin.weight.copy_(ours.weight)
            theirs.bias.copy_(ours.bias)
        sides["torch_geometric"] = forward_backward(theirs, x, edge_index)
    timings = benchmarking.measure(sides, repeats=args.repeats, warmup=args.warmup, device=args.device)
    comparisons = []
    figures = {"geoconv_median_s": timings["geoconv"].median_s}
    if theirs is not None:
        comparison = benchmarking.compare("GCNConv forward+backward", timings["geoconv"], timings["torch_geometric"])
        comparisons.append(comparison)
        extra["ratio_geoconv_over_pyg"] = 1.0 / comparison.ratio
        with torch.no_grad():
            extra["max_abs_output_difference"] = (ours(x.detach(), edge_index) - theirs(x.detach(), edge_index)).abs().max().item()
    return benchmarking.finish(args, suite="gcn", dataset=f"random graph ({args.nodes} nodes, {args.edges} edges)",
                               model=f"GCNConv({args.channels}, {args.channels})", comparisons=comparisons,
                               figures=figures, extra=extra)


if __name__ == "__main__":
    main()
