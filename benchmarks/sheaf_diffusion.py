"""Neural Sheaf Diffusion on film (7,600 nodes): time and peak memory of one training epoch per variant.

One epoch = forward on the whole graph, cross-entropy on the training nodes
of split 0, backward.  All variants use stalk dimension d = 3 and the same
width, and are timed in the same process by :func:`geoconv.benchmarking.measure`
(warm-up, interleaved repeats in alternating order), so that their ratios
survive a noisy shared CPU; the median over --repeats is reported, both as wall-clock and as process CPU time (with
--threads 1 the CPU time is the compute itself; on a CPU shared with other
jobs the wall-clock time mostly measures waiting).  Peak memory is measured in a fresh subprocess per
variant: the growth of the process's peak resident memory (VmHWM) during the
first two epochs (activations, gradients), over the baseline after loading the
data and building the model.

The last line is the schema record (:mod:`geoconv.records`; the variant ratios
are figures, there is no reference implementation to compare with);
``general_over_diag`` (CPU time) is the ratio that the issue bounds by 3.

    python benchmarks/sheaf_diffusion.py --threads 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from geoconv import benchmarking  # noqa: E402
from geoconv.benchmarking import peak_rss_mb  # noqa: E402

from geoconv.data.transforms import normalize_features  # noqa: E402
from geoconv.datasets import GeomGCNGraph  # noqa: E402
from geoconv.models import BundleSheafDiffusion, DiagSheafDiffusion, GeneralSheafDiffusion  # noqa: E402

VARIANTS = {"diag": DiagSheafDiffusion, "bundle": BundleSheafDiffusion, "general": GeneralSheafDiffusion}


def load(args):
    graph = normalize_features(GeomGCNGraph(args.dataset, root=args.data_root)).with_split(0)
    return graph


def build(name: str, graph, args):
    torch.manual_seed(0)
    return VARIANTS[name](graph.x.shape[1], args.hidden, 5, stalk_dim=args.stalk_dim, num_layers=args.layers,
                          dropout=0.5, cached=True).train()


def epoch(model, graph) -> None:
    model.zero_grad(set_to_none=True)
    logits = model(graph)
    F.cross_entropy(logits[graph.train_mask], graph.y[graph.train_mask]).backward()


def memory_child(args) -> None:
    graph = load(args)
    model = build(args.memory_variant, graph, args)
    before = peak_rss_mb()
    epoch(model, graph)
    epoch(model, graph)
    print(json.dumps({"baseline_mb": round(before, 1), "peak_mb": round(peak_rss_mb(), 1)}))


def main(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hidden", type=int, default=32, help="channels per stalk dimension (default 32)")
    parser.add_argument("--stalk-dim", type=int, default=3)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--dataset", default="film", help="a Geom-GCN graph (default film; texas for a quick check)")
    parser.add_argument("--memory-variant", default=None, help=argparse.SUPPRESS)
    benchmarking.add_arguments(parser, repeats=5)
    args = parser.parse_args(argv)
    benchmarking.setup(args)
    if args.memory_variant:
        memory_child(args)
        return None

    graph = load(args).to(args.device)
    models = {name: build(name, graph, args).to(args.device) for name in VARIANTS}
    timings = benchmarking.measure({name: (lambda model=model: epoch(model, graph)) for name, model in models.items()},
                                   repeats=args.repeats, warmup=args.warmup, device=args.device)
    cpu_times = {name: timing.cpu_seconds for name, timing in timings.items()}

    memory = {}
    for name in VARIANTS:
        command = [sys.executable, __file__, "--memory-variant", name, "--dataset", args.dataset, "--hidden", str(args.hidden),
                   "--stalk-dim", str(args.stalk_dim), "--layers", str(args.layers)]
        if args.threads:
            command += ["--threads", str(args.threads)]
        if args.data_root:
            command += ["--data-root", args.data_root]
        child = subprocess.run(command, capture_output=True, text=True, env=os.environ)
        if child.returncode != 0:
            raise RuntimeError(f"the memory measurement of {name} failed:\n{child.stderr}")
        memory[name] = json.loads(child.stdout.strip().splitlines()[-1])

    median = {name: timing.median_s for name, timing in timings.items()}
    cpu = {name: timing.median_cpu_s for name, timing in timings.items()}
    extra = {
        "benchmark": "sheaf_diffusion_epoch",
        "num_nodes": graph.num_nodes,
        "num_edges": graph.num_edges,
        "stalk_dim": args.stalk_dim,
        "hidden_channels": args.hidden,
        "num_layers": args.layers,
        "threads_used": torch.get_num_threads(),
        "epoch_cpu_seconds_median": {name: round(value, 4) for name, value in cpu.items()},
        "epoch_wall_seconds_median": {name: round(value, 4) for name, value in median.items()},
        "epoch_cpu_seconds_all": {name: [round(v, 4) for v in values] for name, values in cpu_times.items()},
        "peak_rss_growth_mb": {name: round(m["peak_mb"] - m["baseline_mb"], 1) for name, m in memory.items()},
        "peak_rss_mb": {name: m["peak_mb"] for name, m in memory.items()},
        "bundle_over_diag": round(cpu["bundle"] / cpu["diag"], 2),
        "general_over_diag": round(cpu["general"] / cpu["diag"], 2),
        "general_over_diag_wall": round(median["general"] / median["diag"], 2),
        "general_within_3x_diag": cpu["general"] <= 3 * cpu["diag"],
    }
    figures = {key: extra[key] for key in ("bundle_over_diag", "general_over_diag", "general_over_diag_wall")}
    figures.update({f"{name} epoch CPU seconds": round(value, 4) for name, value in cpu.items()})
    return benchmarking.finish(args, suite="sheaf-diffusion", dataset=args.dataset, model=f"NSD diag/bundle/general (d={args.stalk_dim})",
                               figures=figures, extra=extra)


if __name__ == "__main__":
    main()
