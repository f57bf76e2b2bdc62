"""DynamicEdgeConv forward+backward and knn_graph: geoconv vs torch_geometric's EdgeConv.

In one run (prints one JSON line):

1. forward+backward of geoconv's ``DynamicEdgeConv`` (kNN in feature space + EdgeConv,
   max aggregation) on 16 clouds x 1024 points, k = 20, 64 -> 64 channels, with the
   DGCNN edge function Linear(128, 64, bias=False) -> BatchNorm -> LeakyReLU(0.2) (geoconv's
   ``LinearEdgeBlock(64, 64)``, which geoconv evaluates without per-edge tensors);
   against torch_geometric's ``EdgeConv`` with the same module on the kNN graph that
   its ``DynamicEdgeConv`` would build (self included).  torch_geometric 2.8's own
   ``DynamicEdgeConv``/``knn_graph`` need pyg-lib or torch_cluster; the graph comes from
   ``torch_cluster.knn_graph`` when importable, else from a brute-force reference
   (the reference DGCNN code's dense ``-||x_i - x_j||^2`` + ``topk`` per cloud); the
   record says which.  The PyG side is timed with and without building its graph.
2. ``knn_graph`` alone against the same reference.
3. ``knn_graph`` on 100,000 random 3-D points (k = 16) in a fresh child process, with
   that process's peak resident memory (the dense N x N matrix would take 40 GB):
   ``backend="auto"`` (scipy k-d tree on CPU) and, with ``--large-brute``, the chunked
   brute-force path that also runs on GPU.

Both sides run in the same process, timed by :func:`geoconv.benchmarking.measure` (warm-up,
interleaved repeats, medians). The last line is the schema record (:mod:`geoconv.records`) with
the three comparisons; the former keys (``median_s``, ``ratio_vs_*``, ``large_knn_graph``) stay
at its top level.

    python benchmarks/edge_conv.py                      # defaults above, 1 thread
    python benchmarks/edge_conv.py --repeats 11 --threads 2
    python benchmarks/edge_conv.py --device cuda        # everything on the GPU (the large kNN too)

With ``--device cuda`` the peak memory of the large kNN is torch's peak allocation on the GPU
(``peak_cuda_mb``) beside the process's resident memory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from geoconv import benchmarking  # noqa: E402
from geoconv.benchmarking import peak_rss_mb  # noqa: E402


def reference_knn_graph(x: torch.Tensor, k: int, num_clouds: int) -> tuple[torch.Tensor, str]:
    """Self-inclusive kNN graph (row 0 neighbour, row 1 centre) as PyG's DynamicEdgeConv builds it."""
    try:
        import torch_cluster
    except ImportError:
        points = x.view(num_clouds, -1, x.shape[1])
        # The reference DGCNN's knn(): dense pairwise -||x_i - x_j||^2 per cloud, then topk.
        inner = -2 * points @ points.transpose(1, 2)
        square = (points * points).sum(dim=-1, keepdim=True)
        pairwise = -square - inner - square.transpose(1, 2)
        index = pairwise.topk(k=k, dim=-1).indices
        offset = torch.arange(num_clouds, device=x.device).view(-1, 1, 1) * points.shape[1]
        neighbour = (index + offset).reshape(-1)
        centre = torch.arange(x.shape[0], device=x.device).repeat_interleave(k)
        return torch.stack([neighbour, centre]), "brute force (dense per-cloud distances + topk; torch_cluster not installed)"
    batch = torch.arange(num_clouds, device=x.device).repeat_interleave(x.shape[0] // num_clouds)
    return torch_cluster.knn_graph(x, k, batch, loop=True, flow="source_to_target"), "torch_cluster.knn_graph"


def large_knn(num_points: int, k: int, backend: str, device: torch.device) -> dict:
    """Run in a child process: knn_graph on ``num_points`` random 3-D points (drawn on the CPU, then moved)."""
    from geoconv.ops.knn import knn_graph

    pos = torch.rand(num_points, 3, generator=torch.Generator().manual_seed(0)).to(device)
    before = peak_rss_mb()
    benchmarking.synchronize(device)
    start = time.perf_counter()
    edge_index = knn_graph(pos, k, backend=backend)
    benchmarking.synchronize(device)
    seconds = time.perf_counter() - start
    result = {
        "points": num_points, "k": k, "backend": backend, "edges": int(edge_index.shape[1]),
        "seconds": round(seconds, 3), "peak_rss_mb": round(peak_rss_mb(), 1), "peak_rss_before_knn_mb": round(before, 1),
    }
    if device.type == "cuda":
        result["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return result


def main(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clouds", type=int, default=16)
    parser.add_argument("--points", type=int, default=1024)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--large-points", type=int, default=100_000)
    parser.add_argument("--large-k", type=int, default=16)
    parser.add_argument("--large-brute", action="store_true",
                        help="also run the 100k-point knn_graph with the chunked brute-force backend (minutes: O(N^2) work)")
    parser.add_argument("--large-only", default=None, help=argparse.SUPPRESS)
    benchmarking.add_arguments(parser, repeats=7)
    parser.set_defaults(threads=1)
    args = parser.parse_args(argv)
    benchmarking.setup(args)
    device = torch.device(args.device)
    if args.large_only:
        record = large_knn(args.large_points, args.large_k, args.large_only, device)
        print(json.dumps(record))
        return record

    from torch_geometric.nn import EdgeConv as PyGEdgeConv

    import torch_geometric
    from geoconv.nn import DynamicEdgeConv, LinearEdgeBlock
    from geoconv.ops.knn import knn_graph

    torch.manual_seed(0)
    num_nodes = args.clouds * args.points
    c = args.channels
    # Linear(2c, c, bias=False) -> BatchNorm1d -> LeakyReLU(0.2), declared as such (geoconv: no per-edge tensor;
    # PyG applies the same Sequential to every edge)
    mlp = LinearEdgeBlock(c, c).to(device)
    ours = DynamicEdgeConv(mlp, args.k)
    theirs = PyGEdgeConv(mlp)  # the same module object: identical weights
    x = torch.randn(num_nodes, c).to(device).requires_grad_()
    batch = torch.arange(args.clouds, device=device).repeat_interleave(args.points)
    reference_graph, knn_source = reference_knn_graph(x.detach(), args.k, args.clouds)

    def run_ours() -> None:
        ours(x, batch=batch).square().mean().backward()

    def run_pyg_with_graph() -> None:
        edge_index, _ = reference_knn_graph(x.detach(), args.k, args.clouds)
        theirs(x, edge_index).square().mean().backward()

    def run_pyg_conv_only() -> None:
        theirs(x, reference_graph).square().mean().backward()

    def run_knn_ours() -> None:
        knn_graph(x.detach(), args.k, batch, loop=True)

    def run_knn_reference() -> None:
        reference_knn_graph(x.detach(), args.k, args.clouds)

    def fresh(function):
        def run() -> None:
            x.grad = None
            mlp.zero_grad(set_to_none=True)
            function()

        return run

    functions = {
        "geoconv DynamicEdgeConv": run_ours, "torch_geometric knn + EdgeConv": run_pyg_with_graph,
        "torch_geometric EdgeConv only": run_pyg_conv_only, "geoconv knn_graph": run_knn_ours,
        "reference knn_graph": run_knn_reference,
    }
    timings = benchmarking.measure({name: fresh(function) for name, function in functions.items()},
                                   repeats=args.repeats, warmup=args.warmup, device=device)
    comparisons = [
        benchmarking.compare("DynamicEdgeConv forward+backward (graph built)", timings["geoconv DynamicEdgeConv"],
                             timings["torch_geometric knn + EdgeConv"]),
        benchmarking.compare("DynamicEdgeConv forward+backward (PyG graph given)", timings["geoconv DynamicEdgeConv"],
                             timings["torch_geometric EdgeConv only"]),
        benchmarking.compare("knn_graph", timings["geoconv knn_graph"], timings["reference knn_graph"]),
    ]
    median = {name: timing.median_s for name, timing in timings.items()}
    # Sanity: both sides compute the same output (BatchNorm in training mode uses batch statistics of the same edges).
    with torch.no_grad():
        difference = (ours(x, batch=batch) - theirs(x, reference_graph)).abs().max().item()

    large = []
    for backend in ("auto", "brute") if args.large_brute else ("auto",):
        child = subprocess.run(
            [sys.executable, __file__, "--large-only", backend, "--large-points", str(args.large_points),
             "--large-k", str(args.large_k), "--threads", str(args.threads), "--device", str(device)],
            capture_output=True, text=True, check=True,
        )
        large.append(json.loads(child.stdout.strip().splitlines()[-1]))
    extra = {
        "benchmark": "dynamic_edge_conv_forward_backward",
        "clouds": args.clouds, "points": args.points, "k": args.k, "channels": c,
        "pyg_version": torch_geometric.__version__, "pyg_knn_graph_source": knn_source,
        "median_s": {name: round(value, 4) for name, value in median.items()},
        "ratio_vs_pyg_knn_plus_edge_conv": round(1.0 / comparisons[0].ratio, 3),
        "ratio_vs_pyg_edge_conv_only": round(1.0 / comparisons[1].ratio, 3),
        "knn_graph_ratio_vs_reference": round(1.0 / comparisons[2].ratio, 3),
        "max_abs_output_difference": difference,
        "large_knn_graph": large,
        "large_knn_graph_peak_under_4gb": all(run["peak_rss_mb"] < 4096 for run in large),
    }
    figures = {f"knn_graph {run['points']} points ({run['backend']}) seconds": run["seconds"] for run in large}
    figures.update({f"knn_graph {run['points']} points ({run['backend']}) peak MB": run["peak_rss_mb"] for run in large})
    return benchmarking.finish(args, suite="edge-conv", dataset=f"random clouds ({args.clouds} x {args.points} points)",
                               model=f"DynamicEdgeConv(k={args.k}, {c} channels)", comparisons=comparisons,
                               figures=figures, extra=extra)


if __name__ == "__main__":
    main()
