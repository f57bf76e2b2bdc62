"""torch.compile (inductor) against eager: forward+backward of geoconv layers and models, beside PyG.

Workloads (default sizes; ``--quick`` shrinks all of them to seconds, to check that the script runs):

* ``gcn``: GCNConv 128 -> 128 on a random graph of 100,000 nodes and 1,000,000 edges; eager geoconv
  (its CSR sparse-matmul path) and compiled geoconv (compiled, the layer takes the gather/scatter
  path), beside torch_geometric's GCNConv eager and compiled.
* ``edge_conv``: EdgeConv (Linear(128, 64) + ReLU, max) on the fixed kNN graph (k = 20) of
  16 x 1024 points with 64 channels, geoconv and PyG, eager and compiled.
* ``dynamic_edge_conv``: DynamicEdgeConv (the same edge function, the kNN graph rebuilt at each call);
  compiled, the kNN search is an opaque operator and the rest is compiled.  PyG's DynamicEdgeConv
  needs torch_cluster, which is not used here.
* ``so2``: SO2Convolution, lmax 6 (mmax 6), 32 -> 32 channels with an edge embedding, 10,000 edges.
* ``sheaf_diag`` / ``sheaf_general``: Diag- and General-NSD (2 layers, d = 3, 32 channels per stalk
  dimension) on film (``GEOCONV_DATA``/``--data-root``), or on a random symmetric graph of film's size
  (7,600 nodes, 26,752 directed edges, 932 features) when film is not available; the record says which.

Every side is timed by :func:`geoconv.benchmarking.measure` (warm-up, interleaved repeats, median).
``compile_s`` is the wall time of the compiled side's first forward+backward (tracing and code
generation included).  Comparisons: ``<workload> compiled vs eager`` (ratio = eager / compiled,
> 1: compiling pays) and ``<workload> geoconv compiled vs PyG compiled`` (ratio = PyG / geoconv).

    python benchmarks/compile.py --threads 1               # the full sizes (minutes, mostly compilation)
    python benchmarks/compile.py --quick --repeats 1       # seconds
    python benchmarks/compile.py --only gcn edge_conv --device cuda
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from geoconv.benchmarking import add_arguments, compare, finish, measure, setup, synchronize  # noqa: E402

WORKLOADS = ("gcn", "edge_conv", "dynamic_edge_conv", "so2", "sheaf_diag", "sheaf_general")

FULL = {"nodes": 100_000, "edges": 1_000_000, "gcn_channels": 128, "clouds": 16, "points": 1024, "k": 20,
        "point_channels": 64, "lmax": 6, "so2_edges": 10_000, "so2_channels": 32, "sheaf_hidden": 32}
QUICK = {"nodes": 2_000, "edges": 10_000, "gcn_channels": 16, "clouds": 2, "points": 64, "k": 8,
         "point_channels": 8, "lmax": 2, "so2_edges": 200, "so2_channels": 4, "sheaf_hidden": 4}


def _step(module: nn.Module, call: Callable[[], torch.Tensor]) -> Callable[[], None]:
    """One forward+backward of ``call`` (gradients of the parameters, reset each time)."""
    def run() -> None:
        module.zero_grad(set_to_none=True)
        call().float().square().mean().backward()
    return run


def _compiled_step(module: nn.Module, make_call: Callable[[nn.Module], Callable[[], torch.Tensor]],
                   device: torch.device) -> tuple[Callable[[], None], float]:
    """The compiled module's step and the seconds of its first call (compilation included)."""
    compiled = torch.compile(module)
    step = _step(module, make_call(compiled))
    synchronize(device)
    start = time.perf_counter()
    step()
    synchronize(device)
    return step, time.perf_counter() - start


def _pyg():
    try:
        import torch_geometric.nn as pyg_nn
    except ImportError:
        return None
    return pyg_nn


def workload_gcn(size: dict, device: torch.device):
    from geoconv.nn import GCNConv

    generator = torch.Generator().manual_seed(0)
    c = size["gcn_channels"]
    x = torch.randn(size["nodes"], c, generator=generator).to(device)
    edge_index = torch.randint(0, size["nodes"], (2, size["edges"]), generator=generator).to(device)
    modules = {"geoconv": GCNConv(c, c).to(device)}
    pyg_nn = _pyg()
    if pyg_nn is not None:
        modules["pyg"] = pyg_nn.GCNConv(c, c).to(device)
    return modules, lambda module: (lambda: module(x, edge_index))


def _clouds(size: dict, device: torch.device):
    generator = torch.Generator().manual_seed(0)
    n = size["clouds"] * size["points"]
    x = torch.randn(n, size["point_channels"], generator=generator).to(device)
    batch = torch.arange(size["clouds"]).repeat_interleave(size["points"]).to(device)
    return x, batch


def _edge_mlp(size: dict) -> nn.Module:
    c = size["point_channels"]
    return nn.Sequential(nn.Linear(2 * c, c), nn.ReLU())


def workload_edge_conv(size: dict, device: torch.device):
    from geoconv.nn import EdgeConv
    from geoconv.ops.knn import knn_graph

    x, batch = _clouds(size, device)
    edge_index = knn_graph(x, size["k"], batch, loop=True)
    torch.manual_seed(0)
    modules = {"geoconv": EdgeConv(_edge_mlp(size)).to(device)}
    pyg_nn = _pyg()
    if pyg_nn is not None:
        torch.manual_seed(0)
        modules["pyg"] = pyg_nn.EdgeConv(_edge_mlp(size), aggr="max").to(device)
    return modules, lambda module: (lambda: module(x, edge_index))


def workload_dynamic_edge_conv(size: dict, device: torch.device):
    from geoconv.nn import DynamicEdgeConv

    x, batch = _clouds(size, device)
    torch.manual_seed(0)
    return ({"geoconv": DynamicEdgeConv(_edge_mlp(size), k=size["k"]).to(device)},
            lambda module: (lambda: module(x, batch=batch)))


def workload_so2(size: dict, device: torch.device):
    from geoconv.nn import SO2Convolution
    from geoconv.ops.so3 import frame_layout

    lmax, c = size["lmax"], size["so2_channels"]
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(size["so2_edges"], len(frame_layout(lmax, lmax)), c, generator=generator).to(device)
    embedding = torch.randn(size["so2_edges"], 8, generator=generator).to(device)
    module = SO2Convolution(c, c, lmax=lmax, edge_channels=8).to(device)
    return {"geoconv": module}, lambda m: (lambda: m(x, embedding))


def _sheaf_graph(args, device: torch.device):
    """film, or a random graph of its size; and which of the two."""
    try:
        from geoconv.data.transforms import normalize_features
        from geoconv.datasets import GeomGCNGraph

        graph = normalize_features(GeomGCNGraph("film", root=args.data_root))
        x, edge_index, source = graph.x, graph.edge_index, "film"
    except Exception as error:  # noqa: BLE001 - any failure to read film falls back to the synthetic graph
        print(f"film not loadable ({type(error).__name__}: {error}); using a random graph of its size", file=sys.stderr)
        from geoconv.ops import to_undirected

        generator = torch.Generator().manual_seed(0)
        num_nodes = 7_600
        x = (torch.rand(num_nodes, 932, generator=generator) < 0.01).float()
        edge_index, _ = to_undirected(torch.randint(0, num_nodes, (2, 13_376), generator=generator), None, num_nodes)
        edge_index = edge_index[:, edge_index[0] != edge_index[1]]
        source = "synthetic (film's size)"
    if args.quick:
        keep = torch.arange(500)
        mask = (edge_index < 500).all(dim=0)
        x, edge_index = x[keep], edge_index[:, mask]
    return x.to(device), edge_index.to(device), source


def run_workload(name: str, args, size: dict, device: torch.device) -> tuple[dict, list]:
    if name in ("sheaf_diag", "sheaf_general"):
        from geoconv.models import DiagSheafDiffusion, GeneralSheafDiffusion

        model_class = DiagSheafDiffusion if name == "sheaf_diag" else GeneralSheafDiffusion
        x, edge_index, source = _sheaf_graph(args, device)
        torch.manual_seed(0)
        model = model_class(x.shape[1], size["sheaf_hidden"], 5, stalk_dim=3, num_layers=2, dropout=0.0).to(device)
        # the tensor entry point: what a training loop over one graph calls
        modules = {"geoconv": _TensorForward(model)}
        make_call = lambda module: (lambda: module(x, edge_index))  # noqa: E731
        info = {"graph": source, "nodes": int(x.shape[0]), "edges": int(edge_index.shape[1])}
    else:
        modules, make_call = globals()[f"workload_{name}"](size, device)
        info = {}
    sides: dict[str, Callable[[], None]] = {}
    compile_s: dict[str, float] = {}
    for library, module in modules.items():
        module.train()
        sides[f"{library} eager"] = _step(module, make_call(module))
        sides[f"{library} compiled"], compile_s[library] = _compiled_step(module, make_call, device)
    timings = measure(sides, repeats=args.repeats, warmup=args.warmup, device=device)
    comparisons = [compare(f"{name} {library} compiled vs eager", timings[f"{library} compiled"],
                           timings[f"{library} eager"]) for library in modules]
    if "pyg" in modules:
        comparisons.append(compare(f"{name} geoconv compiled vs PyG compiled", timings["geoconv compiled"],
                                   timings["pyg compiled"]))
    result = {
        **info,
        "seconds": {label: round(t.median_s, 6) for label, t in timings.items()},
        "compile_s": {library: round(s, 3) for library, s in compile_s.items()},
        "speedup": {library: round(timings[f"{library} eager"].median_s / timings[f"{library} compiled"].median_s, 3)
                    for library in modules},
    }
    return result, comparisons


class _TensorForward(nn.Module):
    """``model.forward_tensors(x, edge_index)`` as a module's forward (what is compiled)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        return self.model.forward_tensors(x, edge_index)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser, repeats=5, warmup=1)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that everything runs, in seconds")
    parser.add_argument("--only", nargs="+", choices=WORKLOADS, default=list(WORKLOADS), help="workloads to run")
    parser.add_argument("--data-root", default=None, help="data root holding geom_gcn/ (default $GEOCONV_DATA)")
    args = parser.parse_args(argv)
    setup(args)
    device = torch.device(args.device)
    size = QUICK if args.quick else FULL
    results, comparisons = {}, []
    for name in args.only:
        torch._dynamo.reset()
        results[name], found = run_workload(name, args, size, device)
        comparisons += found
        print(f"{name}: {results[name]}", file=sys.stderr, flush=True)
    figures = {f"{name} {library} speedup": value for name, result in results.items()
               for library, value in result["speedup"].items()}
    figures.update({f"{name} {library} compile_s": value for name, result in results.items()
                    for library, value in result["compile_s"].items()})
    finish(args, suite="compile", dataset="synthetic and film", model="geoconv layers", comparisons=comparisons,
           figures=figures, extra={"workloads": results, "sizes": size, "torch": torch.__version__})


if __name__ == "__main__":
    main()
