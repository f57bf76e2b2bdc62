"""GCNConv forward+backward: geoconv vs torch_geometric on the same random graph.

Prints one JSON line: median seconds of each, their ratio (geoconv / PyG) and peak
memory (max RSS growth of this process during each measurement, in MB; on CUDA the
allocator's peak).

    python benchmarks/gcn.py                 # 100,000 nodes, 1,000,000 edges, 128 -> 128
    python benchmarks/gcn.py --nodes 10000 --edges 100000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from geoconv.experiment import peak_rss_mb


def time_forward_backward(conv: torch.nn.Module, x: torch.Tensor, edge_index: torch.Tensor, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats + 1):  # the first call is warm-up
        conv.zero_grad(set_to_none=True)
        x.grad = None
        start = time.perf_counter()
        out = conv(x, edge_index)
        out.square().mean().backward()
        if x.is_cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times[1:]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--channels", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--x-requires-grad", action="store_true",
                        help="also back-propagate into x (a hidden layer) instead of only into the weights (an input layer)")
    parser.add_argument("--out", help="also write the JSON record to this file")
    args = parser.parse_args(argv)

    from geoconv.nn import GCNConv

    generator = torch.Generator().manual_seed(args.seed)
    edge_index = torch.randint(0, args.nodes, (2, args.edges), generator=generator).to(args.device)
    x = torch.randn(args.nodes, args.channels, generator=generator).to(args.device)
    x.requires_grad_(args.x_requires_grad)
    ours = GCNConv(args.channels, args.channels).to(args.device)
    result: dict = {
        "benchmark": "gcn_conv_forward_backward",
        "nodes": args.nodes, "edges": args.edges, "channels": args.channels,
        "repeats": args.repeats, "device": args.device, "torch": torch.__version__,
        "threads": torch.get_num_threads(), "x_requires_grad": args.x_requires_grad,
    }
    rss0 = peak_rss_mb()
    ours_times = time_forward_backward(ours, x, edge_index, args.repeats)
    result["geoconv_median_s"] = statistics.median(ours_times)
    result["geoconv_peak_rss_mb"] = peak_rss_mb()
    try:
        import torch_geometric
        from torch_geometric.nn import GCNConv as PyGGCNConv
    except ImportError:
        result["pyg"] = "torch_geometric is not installed (pip install 'geoconv[pyg]')"
    else:
        theirs = PyGGCNConv(args.channels, args.channels).to(args.device)
        with torch.no_grad():
            theirs.lin.weight.copy_(ours.weight)
            theirs.bias.copy_(ours.bias)
        pyg_times = time_forward_backward(theirs, x, edge_index, args.repeats)
        result["pyg_version"] = torch_geometric.__version__
        result["pyg_median_s"] = statistics.median(pyg_times)
        result["pyg_peak_rss_mb"] = peak_rss_mb()
        result["ratio_geoconv_over_pyg"] = result["geoconv_median_s"] / result["pyg_median_s"]
        with torch.no_grad():
            difference = (ours(x.detach(), edge_index) - theirs(x.detach(), edge_index)).abs().max().item()
        result["max_abs_output_difference"] = difference
    result["rss_before_mb"] = rss0
    # The peak only grows: geoconv runs first, so its peak is not inflated by PyG's.
    line = json.dumps(result)
    print(line)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(line + "\n")
    return result


if __name__ == "__main__":
    main()
