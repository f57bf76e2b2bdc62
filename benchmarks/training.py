r"""Whole training steps: geoconv's model against the same model in the library a user would otherwise pick,
and this machine's bound (memory bandwidth, matmul throughput) with the fraction of it three kernels reach.

One training step is forward, loss, backward and the optimiser step, on data already in memory;
data loading (collation, subgraph sampling, sampler construction) is timed separately.  Both sides
of every workload have the same architecture, widths, dropout, loss and optimiser and see the same
inputs; they also start from the same weights (copied from the geoconv model, and the record gives the
largest output difference).  Both run in this process and
are timed by :func:`geoconv.benchmarking.measure` (warm-up, interleaved repeats, median).  Cheap
steps are timed ``steps`` at a time per repeat (the record states how many) and divided.

Workloads (``--only NAME ...``; default all):

``gcn-cora``
    Full-batch 2-layer GCN on Cora (1433 -> 16 -> 7, dropout 0.5 on the input and hidden features,
    Adam lr 0.01, weight decay 5e-4, cross-entropy on the 140 training nodes): ``geoconv.models.GCN``
    vs ``torch_geometric.nn.GCN`` preceded by the same input dropout (PyG's GCN has none on its input).
``gcn-random``
    The same two models on a random graph (``--nodes`` 100,000, ``--edges`` 1,000,000 uniform edges,
    ``--channels`` 128 features and hidden channels, 16 classes, loss on every node).
``saint``
    GraphSAINT on tolokers (random-walk sampler, ``--saint-roots`` 2,500 roots, walk length 2, norms
    estimated with ``--saint-coverage`` 100): the 2-layer GCN (10 -> 64 -> 2) of
    ``geoconv.tasks.graphsaint`` on precomputed full-graph GCN weights times ``edge_norm``, loss
    weighted by ``node_norm``.  The step runs on the same subgraphs (drawn by geoconv's sampler) on
    both sides; the reference is PyG ``GCNConv(normalize=False)`` with the same edge weights.  Data
    loading: geoconv's sampler vs PyG's ``GraphSAINTRandomWalkSampler`` (construction with norms,
    then one subgraph per call; PyG's needs torch_sparse and torch_cluster).
``dgcnn``
    DGCNN classification (``geoconv.models.DGCNN``: EdgeConv widths 64, 64, 128, 256, k = 20, embedding
    1024, head 512, 256, 40 classes, SGD lr 0.1 momentum 0.9) on ``--clouds`` 16 clouds of ``--points``
    1,024 random points, vs the same architecture from PyG ``EdgeConv`` on ``torch_cluster.knn_graph`` (self
    included, rebuilt in every layer; PyG 2.8's ``DynamicEdgeConv`` needs pyg-lib instead) with copies of the
    same modules and PyG's global max / mean pooling.
``molhiv``
    OGB's GCN recipe on ogbg-molhiv (5 layers, 300 channels, bond embeddings, no virtual node, dropout
    0.5, mean pooling, Adam lr 1e-3, batch ``--batch-size`` 32): ``geoconv.models.OGBMolGNN`` vs the
    same model written with PyG's ``MessagePassing`` and OGB's ``AtomEncoder`` / ``BondEncoder``
    (:class:`OGBGCNConv`).  Data loading: ``Batch.from_graphs`` vs PyG's ``Batch.from_data_list``.
``bound``
    The machine's limits, measured with the kernels in one interleaved :func:`~geoconv.benchmarking.measure`:
    memory bandwidth from ``dst.copy_(src)`` of ``--copy-mb`` 256 MB (bytes = 2 x size, read + write) and
    matmul throughput from a ``--matmul-size`` 2048 square float32 matmul (2 n^3 flops).  For each kernel
    (forward only, float32 = 4 B, int64 = 8 B) the roofline time ``max(bytes / bandwidth, flops / throughput)``
    of the byte / flop model below, divided by the measured time, is its fraction of the bound:

    * GCNConv(C, C), N nodes, E edges, E' = E + N with self-loops, on ``--nodes`` / ``--edges`` /
      ``--channels``: flops ``2 N C^2 + 2 E' C``; bytes ``16 E`` (edge_index) ``+ 4 E' C`` (one feature
      row gathered per edge; the features do not fit in cache) ``+ 4 N C`` (x) ``+ 4 N C`` (output).
      Normalisation, sorting into CSR and the intermediate ``A X`` are not counted (a lower bound).
      Also with the normalised graph cached (``cached=True``: CSR product + linear), where the edge
      stream is ``12 E'`` (column int64 + weight float32) instead of ``16 E``.
    * EdgeConv(Linear(2C, C', bias=False)), max aggregation, on a given kNN graph (DGCNN's layer 2:
      16 x 1,024 points, k 20, C = C' = 64, E = k N): with the node-wise split of the first linear
      layer (``W_1 x_i + W_2 (x_j - x_i) = (W_1 - W_2) x_i + W_2 x_j``, what geoconv computes) flops
      ``2 N C 2C' + 2 E C'`` (two node-wise products; one add and one max per edge and channel);
      bytes ``4 N C`` (x) ``+ 16 E`` (edge_index) ``+ 2 x 4 N 2C'`` (node-wise products written and
      read) ``+ 4 E C'`` (neighbour rows gathered) ``+ 4 N C'`` (output).  No ``[E, C']`` tensor is
      counted: a fused gather-add-max needs none, and geoconv forms none since the linear layer is declared
      as ``LinearEdgeBlock(C, C', batch_norm=False, negative_slope=None)`` (as DGCNN's layers are): the
      maximum ``max_j W_2 x_j`` is an ``embedding_bag`` over the grouped sources.
    * SO2Convolution(C, C, lmax, mmax) on E edges (``--so2-edges`` 10,000, C = 32, lmax 6, mmax 2 and
      mmax 6): with n_m = lmax - m + 1 degrees of order m, flops ``2 E C^2 (n_0^2 + 3 sum_{m>=1} n_m^2)``
      (m = 0 one real product, m >= 1 three real products per complex one, as geoconv computes);
      bytes ``4 E Lm C`` in ``+ 4 E Lm C`` out ``+`` the weights once, Lm = n_0 + 2 sum_{m>=1} n_m.

The official reference implementations (neural sheaf diffusion, fairchem's eSCN, MeshCNN) are timed by
``benchmarks/training_references.py``, which finds each through a path the user gives.

The last line is the schema record (:mod:`geoconv.records`): one comparison per training step
(``<workload> training step``) and per data-loading measurement, figures with the bound and the
fractions, and at the top level ``training_step_ratio`` (``{workload: geoconv time / reference
time}``), ``bound`` and ``references`` (what each reference was, or why it is not available).

    python benchmarks/training.py --out benchmarks/results/bench/         # every workload, 1 thread
    python benchmarks/training.py --only gcn-cora molhiv --repeats 9

Measured here (2-core machine, idle; 1 thread; median of 5 interleaved repeats after one warm-up; torch
2.13 CPU, torch_geometric 2.8.1, torch_sparse 0.6.18, torch_cluster 1.6.3, ogb 1.3.6; record
``benchmarks/results/bench/training-20261206T052717Z.json``; copy 12.4 GB/s, matmul 151 GFLOP/s), seconds per
step:

============  ========  =========  ==========
workload      geoconv   reference  geoconv/ref
============  ========  =========  ==========
gcn-cora        0.0324     0.0656        0.49
gcn-random      0.612      2.800         0.22
saint           0.0373     0.2823        0.13
dgcnn           2.98      15.68          0.19
molhiv          0.0590     0.0802        0.74
============  ========  =========  ==========

Earlier records: ``training-20261206T050425Z.json`` (copy 11.2 GB/s; 0.56, 0.24, 0.14, 0.17, 0.79),
``training-20261206T031957Z.json`` (the machine ran slower: copy 5.8 GB/s; 0.56, 0.22, 0.15, 0.19, 0.81)
and ``training-20261206T004248Z.json`` (copy 14.1 GB/s; molhiv 0.87 before the atom and bond encoders
summed their columns in one kernel, a step 103.6 -> 92.7 ms in an A/B in one process).

The sheaf diffusion, eSCN and MeshCNN rows are measured against the official code by
``benchmarks/training_references.py`` (its docstring has its table).  An earlier run of this script
(record ``training-20261205T214613Z.json``) also timed the official NSD code and, in a separate idle
run (``training-20261205T220157Z.json``), official MeshCNN: nsd diag 0.45, nsd general 0.42, meshcnn 0.35.

Data loading: GraphSAINT sampler construction with norms 1.31 s vs PyG 3.57 s (0.37; 1.64 s vs 4.63 s and
2.25 s vs 6.01 s in the two records before, 1.26 s vs 3.42 s in the one before them; 1.98 s and 4.53 s in
earlier runs, before the pre-sampling counted node pairs instead of edges), one subgraph 7.1 ms vs 13.0
ms (0.55; about 4,600 nodes and 500,000 edges each); collating 32 molecules 0.62 ms vs 0.90 ms (0.69).
Bound: copy 12.4 GB/s, matmul 151 GFLOP/s; fraction of the bound (forward pass): GCNConv 0.26 (cached
0.40), EdgeConv 0.32, SO2Convolution 0.47 (mmax 2) and 0.40 (mmax 6).  In earlier records, against
copies of 5.8-14.1 GB/s: 0.26-0.36 (0.42-0.60), 0.34-0.39, 0.40-0.56 and 0.31-0.41; the memory-bound
kernels' fractions follow the machine's copy speed, which changes more than they do.  EdgeConv was at 0.13 (63 ms) in the run before that
(``training-20261206T003019Z.json``): edges already grouped by target are no longer sorted again, and
without gradients the maximum is taken over a padded neighbour table.  The kernels' figures move by up
to a quarter between runs on this machine, more when its state changes.

molhiv is the family above 0.7.  A profile of 20 steps (torch.profiler, 1 thread; before the encoder change) puts about a quarter
of geoconv's 54 ms step in the dense 300 x 300 linear layers (forward and backward, about 14 ms, the same
kernels on both sides) and about half in element-wise passes over the ``[E, 300]`` messages and ``[N,
300]`` atom states (gather ``h_j``, add the bond embedding, ReLU, scale, scatter-add, their backward and
the embedding-table backward: the same aten kernels PyG's MessagePassing runs), Adam about 7 %.  A batch
holds about 800 atoms, so every operation is small and stays in cache; geoconv's lead comes mostly from its
dropout mask (``torch.rand`` and a comparison, about 3 ms per step against 13 ms of ``bernoulli_``).  The
next gain needs the messages never materialised (a fused gather, add, ReLU, scale and segment sum).

Since DGCNN's edge functions are declared as ``LinearEdgeBlock`` (``Linear -> BatchNorm -> LeakyReLU``,
evaluated per point with the batch-norm statistics from node sums and the maximum by ``embedding_bag``, no
``[E, C']`` tensor): record ``training-20261205T224615Z.json`` (``--only dgcnn bound``, idle machine) has a
DGCNN step of 2.63 s against 4.62 s for the per-edge code in a run the same hour, and EdgeConv at 0.137 of
its bound (0.074 before; 62 ms, of which the ``embedding_bag`` maximum, a scalar loop on CPU, takes about
40 ms and sorting the edges by target 10 ms).  PyG's step varied from 14.8 s to 21.3 s between those runs
(page faults: its per-edge temporaries), so the ratio (0.31 -> 0.12) moves more than geoconv's time.

Fresh temporaries cost page faults: tensors above glibc's mmap threshold (32 MB at most) go back to the
system when freed and are faulted in again at the next step (the process above used 71 s of system CPU
time in its 178 s).  On a shared slot (not idle), with ``MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000``
EdgeConv's fraction of the bound rose from 0.084 to 0.16 and cached GCNConv's from 0.42 to 0.58, and a
DGCNN step went from 4.79 s to 3.72 s (PyG: 11.27 s to 5.88 s; geoconv/ref 0.43 to 0.63; system CPU time of
the dgcnn + molhiv run 37 s to 6 s).  molhiv did not change (0.89).
"""

from __future__ import annotations

import argparse
import copy
import itertools
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's geoconv

from geoconv import benchmarking  # noqa: E402
from geoconv.benchmarking import Timing  # noqa: E402
from geoconv.records import Comparison  # noqa: E402

WORKLOADS = ("gcn-cora", "gcn-random", "saint", "dgcnn", "molhiv", "bound")
DATASETS = {"gcn-cora": "Cora", "gcn-random": "random graph", "saint": "tolokers", "dgcnn": "random clouds",
            "molhiv": "ogbg-molhiv", "bound": "random tensors"}
MODELS = {"gcn-cora": "GCN", "gcn-random": "GCN", "saint": "GraphSAINT GCN", "dgcnn": "DGCNN", "molhiv": "OGB GCN",
          "bound": "GCNConv/EdgeConv/SO2Convolution"}


class Result:
    """What one workload adds to the record."""

    def __init__(self) -> None:
        self.comparisons: list[Comparison] = []
        self.figures: dict[str, float] = {}
        self.extra: dict[str, Any] = {}


def per_step(timings: dict[str, Timing], steps: int) -> dict[str, Timing]:
    """Timings of ``steps`` consecutive calls -> seconds per call."""
    return {label: Timing(t.label, [s / steps for s in t.seconds], [s / steps for s in t.cpu_seconds], t.peak_memory_mb)
            for label, t in timings.items()}


def time_steps(sides: dict[str, Callable[[], Any]], steps: int, args: argparse.Namespace) -> dict[str, Timing]:
    """Median seconds per step of each side: ``steps`` steps per timed repeat, repeats interleaved."""
    def chunk(step: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            for _ in range(steps):
                step()
        return run

    timings = benchmarking.measure({label: chunk(step) for label, step in sides.items()},
                                   repeats=args.repeats, warmup=args.warmup, device=args.device)
    return per_step(timings, steps)


def record_step(result: Result, workload: str, timings: dict[str, Timing], ours: str, reference: str | None,
                steps: int) -> None:
    """The training-step comparison (or, without a reference, geoconv's time alone)."""
    result.figures[f"{workload} geoconv step s"] = round(timings[ours].median_s, 6)
    result.extra["steps_per_repeat"] = steps
    if reference is not None and reference in timings:
        comparison = benchmarking.compare(f"{workload} training step", timings[ours], timings[reference])
        result.comparisons.append(comparison)
        result.figures[f"{workload} reference step s"] = round(timings[reference].median_s, 6)
        result.extra["ratio_geoconv_over_reference"] = round(1.0 / comparison.ratio, 3)


def cycle(items: list) -> Callable[[], Any]:
    """A zero-argument function returning the items in turn, forever."""
    iterator = itertools.cycle(items)
    return lambda: next(iterator)


def pyg_available() -> str | None:
    """None when torch_geometric imports, else why not."""
    try:
        import torch_geometric  # noqa: F401
    except ImportError as error:
        return f"torch_geometric is not installed ({error}); pip install 'geoconv[pyg]'"
    return None


def output_difference(ours: Tensor, theirs: Tensor) -> dict[str, float]:
    """How far the two sides' outputs (same weights, eval mode) are apart: absolute and relative to the largest output."""
    largest = float(ours.abs().max()) if ours.numel() else 0.0
    difference = float((ours - theirs).abs().max()) if ours.numel() else 0.0
    return {"max_abs_output_difference": difference, "max_relative_output_difference": difference / max(largest, 1e-30)}


def versions_of(*modules: str) -> dict[str, str]:
    out = {}
    for name in modules:
        try:
            out[name] = getattr(__import__(name), "__version__", "?")
        except ImportError:
            out[name] = "not installed"
    return out


# ---------------------------------------------------------------- full-batch GCN


class InputDropoutGNN(nn.Module):
    """PyG's ``GCN`` with dropout on its input features, as in Kipf & Welling and geoconv's GCN."""

    def __init__(self, gnn: nn.Module, dropout: float) -> None:
        super().__init__()
        self.gnn, self.dropout = gnn, dropout

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return self.gnn(F.dropout(x, self.dropout, self.training), edge_index)


def gcn_pair(in_channels: int, hidden_channels: int, out_channels: int, dropout: float, device: str):
    """geoconv's GCN and PyG's (with input dropout) holding the same weights; PyG's is None without torch_geometric."""
    from geoconv.models import GCN

    ours = GCN(in_channels, hidden_channels, out_channels, num_layers=2, dropout=dropout).to(device)
    if pyg_available() is not None:
        return ours, None
    from torch_geometric.nn import GCN as PyGGCN

    gnn = PyGGCN(in_channels, hidden_channels, num_layers=2, out_channels=out_channels, dropout=dropout)
    with torch.no_grad():
        for mine, theirs in zip(ours.convs, gnn.convs):
            theirs.lin.weight.copy_(mine.weight)
            theirs.bias.copy_(mine.bias)
    return ours, InputDropoutGNN(gnn, dropout).to(device)


def full_batch_gcn(workload: str, graph, mask: Tensor | None, args: argparse.Namespace, *, hidden: int, steps: int,
                   dataset: str) -> Result:
    result = Result()
    torch.manual_seed(args.seed)
    num_classes = int(graph.y.max()) + 1
    ours, theirs = gcn_pair(graph.x.shape[1], hidden, num_classes, 0.5, args.device)
    x, edge_index, y = graph.x, graph.edge_index, graph.y
    target = y if mask is None else y[mask]

    def step(model: nn.Module, optimizer: torch.optim.Optimizer, forward: Callable[[], Tensor]) -> Callable[[], None]:
        def run() -> None:
            model.train()
            optimizer.zero_grad()
            out = forward()
            loss = F.cross_entropy(out if mask is None else out[mask], target)
            loss.backward()
            optimizer.step()
        return run

    sides = {"geoconv": step(ours, torch.optim.Adam(ours.parameters(), lr=0.01, weight_decay=5e-4), lambda: ours(graph))}
    result.extra.update(dataset=dataset, nodes=graph.num_nodes, edges=graph.num_edges, in_channels=graph.x.shape[1],
                        hidden_channels=hidden, out_channels=num_classes, dropout=0.5,
                        optimizer="Adam(lr=0.01, weight_decay=5e-4)")
    if theirs is None:
        result.extra["reference"] = f"not available: {pyg_available()}"
    else:
        with torch.no_grad():
            ours.eval(), theirs.eval()
            result.extra.update(output_difference(ours(graph), theirs(x, edge_index)))
        sides["torch_geometric"] = step(theirs, torch.optim.Adam(theirs.parameters(), lr=0.01, weight_decay=5e-4),
                                        lambda: theirs(x, edge_index))
        result.extra["reference"] = "torch_geometric.nn.GCN (input dropout added)"
    timings = time_steps(sides, steps, args)
    record_step(result, workload, timings, "geoconv", "torch_geometric" if theirs is not None else None, steps)
    return result


def run_gcn_cora(args: argparse.Namespace) -> Result:
    from geoconv.datasets import Planetoid

    graph = Planetoid("Cora", root=args.data_root).to(args.device)
    return full_batch_gcn("gcn-cora", graph, graph.train_mask, args, hidden=16, steps=args.cora_steps, dataset="Cora")


def run_gcn_random(args: argparse.Namespace) -> Result:
    from geoconv.data import Graph

    generator = torch.Generator().manual_seed(args.seed)
    graph = Graph(x=torch.randn(args.nodes, args.channels, generator=generator),
                  edge_index=torch.randint(0, args.nodes, (2, args.edges), generator=generator),
                  y=torch.randint(0, 16, (args.nodes,), generator=generator)).to(args.device)
    return full_batch_gcn("gcn-random", graph, None, args, hidden=args.channels, steps=1,
                          dataset=f"random graph ({args.nodes} nodes, {args.edges} edges)")


# ---------------------------------------------------------------- GraphSAINT


class PyGSaintGCN(nn.Module):
    """geoconv.tasks.graphsaint's GCN in PyG: GCNConv(normalize=False) on given propagation weights."""

    def __init__(self, ours: nn.Module) -> None:
        from torch_geometric.nn import GCNConv

        super().__init__()
        self.dropout = ours.dropout
        self.convs = nn.ModuleList()
        for conv in ours.convs:
            theirs = GCNConv(conv.in_channels, conv.out_channels, normalize=False, add_self_loops=False)
            with torch.no_grad():
                theirs.lin.weight.copy_(conv.weight)
                theirs.bias.copy_(conv.bias)
            self.convs.append(theirs)

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor) -> Tensor:
        for i, conv in enumerate(self.convs):
            x = F.dropout(x, self.dropout, self.training)
            x = conv(x, edge_index, edge_weight)
            if i < len(self.convs) - 1:
                x = F.relu(x)
        return x


def run_saint(args: argparse.Namespace) -> Result:
    from geoconv.sampling import GraphSAINTRandomWalkSampler
    from geoconv.tasks import graphsaint as task

    result = Result()
    graph = task.prepare(task.load("tolokers", args.data_root), 0, True)
    graph = graph.replace(train_mask=graph.train_mask, val_mask=None, test_mask=None)
    num_train = int(graph.train_mask.sum())
    settings = dict(roots=args.saint_roots, walk_length=2, sample_coverage=args.saint_coverage)
    result.extra.update(dataset="tolokers", nodes=graph.num_nodes, edges=graph.num_edges, **settings,
                        model="GCN 10 -> 64 -> 2, dropout 0.5, Adam(lr=0.01, weight_decay=5e-4)")

    started = time.perf_counter(), time.process_time()
    sampler = GraphSAINTRandomWalkSampler(graph, args.saint_roots, walk_length=2, num_steps=args.saint_subgraphs,
                                          sample_coverage=args.saint_coverage, seed=args.seed)
    build_ours = Timing("geoconv GraphSAINTRandomWalkSampler", [time.perf_counter() - started[0]],
                        [time.process_time() - started[1]])
    subgraphs = [sampler.subgraph(step) for step in range(args.saint_subgraphs)]
    result.extra["subgraph_nodes"] = [sub.num_nodes for sub in subgraphs]
    result.extra["subgraph_edges"] = [sub.num_edges for sub in subgraphs]
    result.figures["saint geoconv sampler construction s"] = round(build_ours.median_s, 4)

    torch.manual_seed(args.seed)
    ours = task.GCN(graph.x.shape[1], 64, 2, 2, 0.5)

    def step_ours(optimizer: torch.optim.Optimizer) -> Callable[[], None]:
        next_subgraph = cycle(subgraphs)

        def run() -> None:
            sub = next_subgraph()
            ours.train()
            optimizer.zero_grad()
            logits = ours(sub.x, task.adjacency(sub, sub.edge_norm))
            loss = task.saint_loss(logits, sub.y, sub.node_norm, sub.train_mask, num_train)
            loss.backward()
            optimizer.step()
        return run

    sides = {"geoconv": step_ours(torch.optim.Adam(ours.parameters(), lr=0.01, weight_decay=5e-4))}
    missing = pyg_available()
    theirs = None
    if missing is None:
        theirs = PyGSaintGCN(ours)
        # The same subgraphs as PyG tensors: propagation weights with the self-loops appended, as a PyG user writes it.
        inputs = []
        for sub in subgraphs:
            loops = torch.arange(sub.num_nodes)
            inputs.append((sub.x, torch.cat([sub.edge_index, torch.stack([loops, loops])], 1), sub.gcn_weight, sub.edge_norm,
                           sub.loop_weight, sub.y, sub.node_norm, sub.train_mask))

        def step_theirs(optimizer: torch.optim.Optimizer) -> Callable[[], None]:
            next_input = cycle(inputs)

            def run() -> None:
                x, edge_index, gcn_weight, edge_norm, loop_weight, y, node_norm, train_mask = next_input()
                theirs.train()
                optimizer.zero_grad()
                logits = theirs(x, edge_index, torch.cat([gcn_weight * edge_norm, loop_weight]))
                loss = task.saint_loss(logits, y, node_norm, train_mask, num_train)
                loss.backward()
                optimizer.step()
            return run

        sides["torch_geometric"] = step_theirs(torch.optim.Adam(theirs.parameters(), lr=0.01, weight_decay=5e-4))
        with torch.no_grad():
            ours.eval(), theirs.eval()
            x, edge_index, gcn_weight, edge_norm, loop_weight, *_ = inputs[0]
            difference = (ours(subgraphs[0].x, task.adjacency(subgraphs[0], subgraphs[0].edge_norm)),
                          theirs(x, edge_index, torch.cat([gcn_weight * edge_norm, loop_weight])))
            result.extra.update(output_difference(*difference))
        result.extra["reference"] = "torch_geometric GCNConv(normalize=False) on the same subgraphs"
    else:
        result.extra["reference"] = f"not available: {missing}"
    timings = time_steps(sides, args.saint_steps, args)
    record_step(result, "saint", timings, "geoconv", "torch_geometric" if theirs is not None else None,
                args.saint_steps)

    # Data loading: sampler construction (with norms) and one subgraph per call.
    status = pyg_saint_status()
    result.extra["reference_sampler"] = status
    counter = itertools.count(args.saint_subgraphs)
    load_sides = {"geoconv sampler": lambda: sampler.subgraph(next(counter))}
    if status.startswith("available"):
        from torch_geometric.data import Data
        from torch_geometric.loader import GraphSAINTRandomWalkSampler as PyGSampler

        data = Data(x=graph.x, edge_index=graph.edge_index, y=graph.y, train_mask=graph.train_mask,
                    loop_weight=graph.loop_weight, edge_weight=graph.gcn_weight, num_nodes=graph.num_nodes)
        started = time.perf_counter(), time.process_time()
        pyg_sampler = PyGSampler(data, batch_size=args.saint_roots, walk_length=2, num_steps=args.saint_subgraphs,
                                 sample_coverage=args.saint_coverage, log=False)
        build_theirs = Timing("torch_geometric GraphSAINTRandomWalkSampler", [time.perf_counter() - started[0]],
                              [time.process_time() - started[1]])
        result.figures["saint reference sampler construction s"] = round(build_theirs.median_s, 4)
        result.comparisons.append(benchmarking.compare("saint sampler construction (norms, one run each)",
                                                       build_ours, build_theirs))
        pyg_iterator = iter(())

        def next_pyg() -> Any:
            nonlocal pyg_iterator
            try:
                return next(pyg_iterator)
            except StopIteration:
                pyg_iterator = iter(pyg_sampler)
                return next(pyg_iterator)

        load_sides["torch_geometric sampler"] = next_pyg
    loads = time_steps(load_sides, args.saint_steps, args)
    result.figures["saint geoconv subgraph s"] = round(loads["geoconv sampler"].median_s, 6)
    if "torch_geometric sampler" in loads:
        result.comparisons.append(benchmarking.compare("saint subgraph sampling (data loading)", loads["geoconv sampler"],
                                                       loads["torch_geometric sampler"]))
    return result


def pyg_saint_status() -> str:
    """Whether PyG's GraphSAINT sampler can run here (it needs torch_sparse's and torch_cluster's compiled ops)."""
    missing = pyg_available()
    if missing is not None:
        return f"not available: {missing}"
    try:
        import torch_cluster  # noqa: F401
        import torch_sparse  # noqa: F401
    except ImportError as error:
        return f"not available: PyG's GraphSAINT samplers need torch_sparse and torch_cluster ({error})"
    return "available: torch_geometric.loader.GraphSAINTRandomWalkSampler ({})".format(
        ", ".join(f"{k} {v}" for k, v in versions_of("torch_geometric", "torch_sparse", "torch_cluster").items()))


# ---------------------------------------------------------------- DGCNN


class PyGDGCNN(nn.Module):
    """geoconv's DGCNN classifier from PyG's EdgeConv on torch_cluster's kNN graph (self included, rebuilt in
    every layer as DynamicEdgeConv does) and PyG's pooling, with copies of geoconv's modules."""

    def __init__(self, ours: nn.Module) -> None:
        from torch_geometric.nn import EdgeConv

        super().__init__()
        self.k = ours.k
        self.convs = nn.ModuleList(EdgeConv(copy.deepcopy(conv.nn), aggr="max") for conv in ours.convs)
        for mine, theirs in zip(ours.convs, self.convs):
            theirs.nn.load_state_dict(mine.nn.state_dict())  # PyG's EdgeConv re-initialises its module
        self.embedding = copy.deepcopy(ours.embedding)
        self.head = copy.deepcopy(ours.head)
        self.classifier = copy.deepcopy(ours.classifier)

    def forward(self, x: Tensor, batch: Tensor) -> Tensor:
        import torch_cluster
        from torch_geometric.nn import global_max_pool, global_mean_pool

        outputs = []
        for conv in self.convs:
            edge_index = torch_cluster.knn_graph(x.detach(), self.k, batch, loop=True, flow="source_to_target")
            x = conv(x, edge_index)
            outputs.append(x)
        embedding = self.embedding(torch.cat(outputs, dim=1))
        pooled = torch.cat([global_max_pool(embedding, batch), global_mean_pool(embedding, batch)], dim=1)
        return self.classifier(self.head(pooled))


def run_dgcnn(args: argparse.Namespace) -> Result:
    from geoconv.data import Batch, Graph
    from geoconv.models import DGCNN

    result = Result()
    generator = torch.Generator().manual_seed(args.seed)
    pos = torch.randn(args.clouds, args.points, 3, generator=generator)
    pos = pos / pos.norm(dim=-1, keepdim=True)  # points on the unit sphere, one cloud per row
    batch_graph = Batch.from_graphs([Graph(pos=p) for p in pos]).to(args.device)
    y = torch.randint(0, 40, (args.clouds,), generator=generator).to(args.device)
    torch.manual_seed(args.seed)
    ours = DGCNN(3, (64, 64, 128, 256), 40, k=args.k).to(args.device)
    result.extra.update(dataset=f"random clouds ({args.clouds} x {args.points} points on the sphere)", k=args.k,
                        model="DGCNN(3, (64, 64, 128, 256), 40), SGD(lr=0.1, momentum=0.9, weight_decay=1e-4)")

    def step(model: nn.Module, forward: Callable[[], Tensor]) -> Callable[[], None]:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)

        def run() -> None:
            model.train()
            optimizer.zero_grad()
            F.cross_entropy(forward(), y).backward()
            optimizer.step()
        return run

    sides = {"geoconv": step(ours, lambda: ours(batch_graph))}
    status = pyg_knn_status()
    result.extra["reference"] = status
    theirs = None
    if status.startswith("available"):
        theirs = PyGDGCNN(ours).to(args.device)
        x, index = batch_graph.pos, batch_graph.batch
        with torch.no_grad():
            ours.eval(), theirs.eval()
            result.extra.update(output_difference(ours(batch_graph), theirs(x, index)))
        sides["torch_geometric"] = step(theirs, lambda: theirs(x, index))
    timings = time_steps(sides, 1, args)
    record_step(result, "dgcnn", timings, "geoconv", "torch_geometric" if theirs is not None else None, 1)
    return result


def pyg_knn_status() -> str:
    """Whether the PyG side can run: EdgeConv from torch_geometric, the kNN graph from torch_cluster (PyG 2.8's own
    DynamicEdgeConv and knn need pyg-lib instead)."""
    missing = pyg_available()
    if missing is not None:
        return f"not available: {missing}"
    try:
        import torch_cluster  # noqa: F401
    except ImportError as error:
        return f"not available: torch_cluster is not installed ({error}); the PyG side builds its kNN graph with it"
    return "available: torch_geometric EdgeConv + torch_cluster.knn_graph ({})".format(
        ", ".join(f"{k} {v}" for k, v in versions_of("torch_geometric", "torch_cluster").items()))


# ---------------------------------------------------------------- OGB molecules


def pyg_ogb_gcn(ours: nn.Module) -> nn.Module:
    """OGB's GCN baseline (``gnn_type='gcn'``, no virtual node) in PyG with OGB's encoders, weights of ``ours``."""
    from ogb.graphproppred.mol_encoder import AtomEncoder, BondEncoder
    from torch_geometric.nn import MessagePassing, global_mean_pool
    from torch_geometric.utils import degree

    class OGBGCNConv(MessagePassing):
        """h = W x + b; x'_i = sum_j ReLU(h_j + bond_ji) / sqrt(d_i d_j) + ReLU(h_i + root) / d_i, d = 1 + out-degree."""

        def __init__(self, channels: int) -> None:
            super().__init__(aggr="add")
            self.linear = nn.Linear(channels, channels)
            self.root_emb = nn.Embedding(1, channels)
            self.bond_encoder = BondEncoder(emb_dim=channels)

        def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
            h = self.linear(x)
            src, dst = edge_index
            deg = degree(src, h.size(0), dtype=h.dtype) + 1
            inv_sqrt = deg.pow(-0.5)
            norm = inv_sqrt[src] * inv_sqrt[dst]
            out = self.propagate(edge_index, x=h, edge_attr=self.bond_encoder(edge_attr), norm=norm)
            return out + F.relu(h + self.root_emb.weight) / deg.view(-1, 1)

        def message(self, x_j: Tensor, edge_attr: Tensor, norm: Tensor) -> Tensor:
            return norm.view(-1, 1) * F.relu(x_j + edge_attr)

    class OGBGCN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            channels = ours.hidden_channels
            self.dropout = ours.dropout
            self.atom_encoder = AtomEncoder(emb_dim=channels)
            self.convs = nn.ModuleList(OGBGCNConv(channels) for _ in range(ours.num_layers))
            self.norms = copy.deepcopy(ours.norms)
            self.head = copy.deepcopy(ours.head)

        def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor, batch: Tensor) -> Tensor:
            h = self.atom_encoder(x)
            for layer, (conv, norm) in enumerate(zip(self.convs, self.norms)):
                h = norm(conv(h, edge_index, edge_attr))
                if layer < len(self.convs) - 1:
                    h = F.relu(h)
                h = F.dropout(h, self.dropout, self.training)
            return self.head(global_mean_pool(h, batch))

    theirs = OGBGCN()
    with torch.no_grad():
        for mine, table in zip(ours.atom_encoder.embeddings, theirs.atom_encoder.atom_embedding_list):
            table.weight.copy_(mine.weight)
        for mine, conv in zip(ours.convs, theirs.convs):
            conv.linear.load_state_dict(mine.linear.state_dict())
            conv.root_emb.weight.copy_(mine.root)
            for a, b in zip(mine.bond_encoder.embeddings, conv.bond_encoder.bond_embedding_list):
                b.weight.copy_(a.weight)
    return theirs


def molhiv_graphs(args: argparse.Namespace) -> list:
    """ogbg-molhiv's graphs (all, through OGBMolDataset), or the first ``--molecules`` of HIV.csv featurised here."""
    if not args.molecules:
        from geoconv.datasets import OGBMolDataset

        return list(OGBMolDataset("ogbg-molhiv", root=args.data_root))
    from geoconv.datasets.base import data_root, fetch
    from geoconv.datasets.moleculenet import (SPECS, build_molecule_tensors, graphs_from_tensors, moleculenet_file,
                                              read_moleculenet_csv)

    smiles, _, labels = read_moleculenet_csv(fetch(moleculenet_file("hiv"), data_root(args.data_root)), SPECS["hiv"])
    tensors = build_molecule_tensors(smiles[: args.molecules], labels[: args.molecules], "ogb")
    return graphs_from_tensors(tensors, [smiles[i] for i in tensors["kept"].tolist()])


def run_molhiv(args: argparse.Namespace) -> Result:
    from geoconv.data import Batch
    from geoconv.models import OGBMolGNN

    result = Result()
    graphs = molhiv_graphs(args)
    generator = torch.Generator().manual_seed(args.seed)
    order = torch.randperm(len(graphs), generator=generator).tolist()
    size = args.batch_size
    chosen = [[graphs[i] for i in order[b * size:(b + 1) * size]] for b in range(min(args.molhiv_batches, len(graphs) // size))]
    batches = [Batch.from_graphs(group).to(args.device) for group in chosen]
    result.extra.update(dataset="ogbg-molhiv", molecules=len(graphs), batch_size=size, batches_cycled=len(batches),
                        atoms_per_batch=[b.num_nodes for b in batches],
                        model="OGBMolGNN(9, 300, 1, num_layers=5, dropout=0.5), Adam(lr=1e-3)")
    torch.manual_seed(args.seed)
    ours = OGBMolGNN(9, 300, 1, num_layers=5, dropout=0.5).to(args.device)

    def step(model: nn.Module, forward: Callable[[Any], Tensor], inputs: list) -> Callable[[], None]:
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        next_input = cycle(inputs)

        def run() -> None:
            batch, y = next_input()
            model.train()
            optimizer.zero_grad()
            F.binary_cross_entropy_with_logits(forward(batch), y).backward()
            optimizer.step()
        return run

    sides = {"geoconv": step(ours, ours, [(b, b.y.float()) for b in batches])}
    missing = pyg_available()
    try:
        import ogb  # noqa: F401
    except ImportError as error:
        missing = missing or f"ogb is not installed ({error}); pip install ogb"
    load_sides: dict[str, Callable[[], Any]] = {"geoconv Batch.from_graphs": lambda: Batch.from_graphs(chosen[0])}
    theirs = None
    if missing is None:
        from torch_geometric.data import Batch as PyGBatch
        from torch_geometric.data import Data

        theirs = pyg_ogb_gcn(ours).to(args.device)
        pyg_groups = [[Data(x=g.x, edge_index=g.edge_index, edge_attr=g.edge_attr, y=g.y) for g in group] for group in chosen]
        pyg_batches = [PyGBatch.from_data_list(group).to(args.device) for group in pyg_groups]
        sides["torch_geometric"] = step(theirs, lambda b: theirs(b.x, b.edge_index, b.edge_attr, b.batch),
                                        [(b, b.y.float()) for b in pyg_batches])
        with torch.no_grad():
            ours.eval(), theirs.eval()
            b, p = batches[0], pyg_batches[0]
            result.extra.update(output_difference(ours(b), theirs(p.x, p.edge_index, p.edge_attr, p.batch)))
        load_sides["torch_geometric Batch.from_data_list"] = lambda: PyGBatch.from_data_list(pyg_groups[0])
        result.extra["reference"] = "OGB's GCN in PyG MessagePassing with ogb AtomEncoder/BondEncoder ({})".format(
            ", ".join(f"{k} {v}" for k, v in versions_of("torch_geometric", "ogb").items()))
    else:
        result.extra["reference"] = f"not available: {missing}"
    timings = time_steps(sides, args.molhiv_steps, args)
    record_step(result, "molhiv", timings, "geoconv", "torch_geometric" if theirs is not None else None, args.molhiv_steps)
    loads = time_steps(load_sides, args.molhiv_steps, args)
    result.figures["molhiv geoconv collate s"] = round(loads["geoconv Batch.from_graphs"].median_s, 6)
    if theirs is not None:
        result.comparisons.append(benchmarking.compare(f"molhiv collate {size} molecules (data loading)",
                                                       loads["geoconv Batch.from_graphs"],
                                                       loads["torch_geometric Batch.from_data_list"]))
    return result


# ---------------------------------------------------------------- the bound


def so2_cost(lmax: int, mmax: int, channels: int, num_edges: int) -> tuple[float, float]:
    """(flops, bytes) of SO2Convolution's forward, as in the module docstring."""
    sizes = [lmax - m + 1 for m in range(mmax + 1)]
    coefficients = sizes[0] + 2 * sum(sizes[1:])
    flops = 2.0 * num_edges * channels**2 * (sizes[0] ** 2 + 3 * sum(n * n for n in sizes[1:]))
    weights = channels**2 * (sizes[0] ** 2 + 2 * sum(n * n for n in sizes[1:]))
    return flops, 4.0 * (2 * num_edges * coefficients * channels + weights)


def run_bound(args: argparse.Namespace) -> Result:
    from geoconv.nn import EdgeConv, GCNConv, LinearEdgeBlock, SO2Convolution
    from geoconv.ops.knn import knn_graph

    result = Result()
    generator = torch.Generator().manual_seed(args.seed)
    elements = args.copy_mb * 2**20 // 4
    source, destination = torch.randn(elements, generator=generator), torch.empty(elements)
    n = args.matmul_size
    a, b = torch.randn(n, n, generator=generator), torch.randn(n, n, generator=generator)
    product = torch.empty(n, n)

    # GCNConv on the random graph of gcn-random.
    N, E, C = args.nodes, args.edges, args.channels
    x = torch.randn(N, C, generator=generator)
    edge_index = torch.randint(0, N, (2, E), generator=generator)
    gcn = GCNConv(C, C)
    gcn_cached = GCNConv(C, C, cached=True)
    # EdgeConv: DGCNN's layer 2 on its kNN graph.
    points, k, c = args.clouds * args.points, args.k, 64
    features = torch.randn(points, c, generator=generator)
    clouds = torch.arange(args.clouds).repeat_interleave(args.points)
    knn = knn_graph(features, k, clouds, loop=True)
    # Linear(2C, C', bias=False) declared as a LinearEdgeBlock: what DGCNN's layers use (no [E, C'] tensor)
    edge_conv = EdgeConv(LinearEdgeBlock(c, c, batch_norm=False, negative_slope=None))
    # SO(2): eSCN's setting and the full one.
    so2_c, so2_e, lmax = 32, args.so2_edges, 6
    so2 = {mmax: SO2Convolution(so2_c, so2_c, lmax=lmax, mmax=mmax, bias=False) for mmax in (2, lmax)}
    so2_x = {mmax: torch.randn(so2_e, so2[mmax].sizes[0] + 2 * sum(so2[mmax].sizes[1:]), so2_c, generator=generator)
             for mmax in so2}

    def no_grad(function: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            with torch.no_grad():
                function()
        return run

    with torch.no_grad():
        gcn_cached(x, edge_index)  # fills the cache
        gcn_cached.weight.copy_(gcn.weight)
    sides = {
        "copy": no_grad(lambda: destination.copy_(source)),
        "matmul": no_grad(lambda: torch.mm(a, b, out=product)),
        "GCNConv": no_grad(lambda: gcn(x, edge_index)),
        "GCNConv cached": no_grad(lambda: gcn_cached(x, edge_index)),
        "EdgeConv": no_grad(lambda: edge_conv(features, knn)),
        **{f"SO2Convolution mmax={mmax}": no_grad(lambda mmax=mmax: so2[mmax](so2_x[mmax])) for mmax in so2},
    }
    timings = benchmarking.measure(sides, repeats=args.repeats, warmup=max(args.warmup, 1), device=args.device)
    bandwidth = 2 * elements * 4 / timings["copy"].median_s
    throughput = 2.0 * n**3 / timings["matmul"].median_s
    result.figures["memory bandwidth GB/s"] = round(bandwidth / 1e9, 2)
    result.figures["matmul GFLOP/s"] = round(throughput / 1e9, 2)
    loops = E + N
    models = {
        "GCNConv": (2.0 * N * C * C + 2.0 * loops * C, 16.0 * E + 4.0 * loops * C + 8.0 * N * C),
        "GCNConv cached": (2.0 * N * C * C + 2.0 * loops * C, 12.0 * loops + 4.0 * loops * C + 8.0 * N * C),
        "EdgeConv": (2.0 * points * c * 2 * c + 2.0 * knn.shape[1] * c,
                     4.0 * points * c + 16.0 * knn.shape[1] + 8.0 * points * 2 * c + 4.0 * knn.shape[1] * c + 4.0 * points * c),
        **{f"SO2Convolution mmax={mmax}": so2_cost(lmax, mmax, so2_c, so2_e) for mmax in so2},
    }
    kernels = {}
    for name, (flops, moved) in models.items():
        seconds = timings[name].median_s
        memory_time, compute_time = moved / bandwidth, flops / throughput
        fraction = max(memory_time, compute_time) / seconds
        kernels[name] = {"seconds": round(seconds, 6), "flops": flops, "bytes": moved,
                         "bound": "memory" if memory_time >= compute_time else "compute",
                         "bound_seconds": round(max(memory_time, compute_time), 6), "fraction_of_bound": round(fraction, 3),
                         "achieved_GB_s": round(moved / seconds / 1e9, 2), "achieved_GFLOP_s": round(flops / seconds / 1e9, 2)}
        result.figures[f"{name} fraction of bound"] = round(fraction, 3)
    result.extra.update(
        copy_mb=args.copy_mb, matmul_size=n, copy_s=round(timings["copy"].median_s, 6),
        matmul_s=round(timings["matmul"].median_s, 6),
        kernels=kernels,
        kernel_sizes={"GCNConv": f"N={N}, E={E}, C=C'={C}, forward, x without gradient",
                      "EdgeConv": f"N={points} ({args.clouds} x {args.points}), k={k}, E={knn.shape[1]}, C=C'={c}, "
                                  "Linear(2C, C', bias=False), max, forward",
                      "SO2Convolution": f"E={so2_e}, C=C'={so2_c}, lmax={lmax}, mmax 2 and {lmax}, no bias, forward"})
    return result


RUNNERS: dict[str, Callable[[argparse.Namespace], Result]] = {
    "gcn-cora": run_gcn_cora, "gcn-random": run_gcn_random, "saint": run_saint, "dgcnn": run_dgcnn,
    "molhiv": run_molhiv, "bound": run_bound,
}


def main(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=WORKLOADS, default=list(WORKLOADS),
                        help="workloads to run (default: " + " ".join(WORKLOADS) + ")")
    parser.add_argument("--data-root", default=None, help="data root (default $GEOCONV_DATA)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nodes", type=int, default=100_000, help="gcn-random and bound: nodes")
    parser.add_argument("--edges", type=int, default=1_000_000, help="gcn-random and bound: edges")
    parser.add_argument("--channels", type=int, default=128, help="gcn-random and bound: features and hidden channels")
    parser.add_argument("--cora-steps", type=int, default=10, help="gcn-cora: steps per timed repeat")
    parser.add_argument("--clouds", type=int, default=16, help="dgcnn and bound: point clouds")
    parser.add_argument("--points", type=int, default=1024, help="dgcnn and bound: points per cloud")
    parser.add_argument("--k", type=int, default=20, help="dgcnn and bound: neighbours (self included)")
    parser.add_argument("--molecules", type=int, default=0,
                        help="molhiv: use the first N molecules of HIV.csv, featurised here (default 0: all of ogbg-molhiv)")
    parser.add_argument("--batch-size", type=int, default=32, help="molhiv: molecules per batch")
    parser.add_argument("--molhiv-batches", type=int, default=20, help="molhiv: random batches cycled through")
    parser.add_argument("--molhiv-steps", type=int, default=10, help="molhiv: steps per timed repeat")
    parser.add_argument("--saint-roots", type=int, default=2500, help="saint: walk roots per subgraph")
    parser.add_argument("--saint-coverage", type=float, default=100, help="saint: sample coverage of the norms")
    parser.add_argument("--saint-subgraphs", type=int, default=8, help="saint: subgraphs cycled through")
    parser.add_argument("--saint-steps", type=int, default=4, help="saint: steps (and subgraphs) per timed repeat")
    parser.add_argument("--copy-mb", type=int, default=256, help="bound: size of the copied tensor")
    parser.add_argument("--matmul-size", type=int, default=2048, help="bound: n of the n x n matmul")
    parser.add_argument("--so2-edges", type=int, default=10_000, help="bound: edges of the SO(2) convolution")
    benchmarking.add_arguments(parser, repeats=5)
    parser.set_defaults(threads=1)
    args = parser.parse_args(argv)
    benchmarking.stamped_out(args, "training")
    benchmarking.setup(args)

    results = benchmarking.run_workloads(args, RUNNERS)
    comparisons, figures, workloads = benchmarking.collect(results)
    ratios: dict[str, float | None] = {name: result.extra.get("ratio_geoconv_over_reference")
                                       for name, result in results.items() if name != "bound"}
    extra = {
        "benchmark": "training_step", "threads_used": torch.get_num_threads(),
        "training_step_ratio": ratios, "ratio_definition": "geoconv median seconds per step / reference median seconds per step",
        "references": {name: workloads[name].get("reference") for name in workloads if name != "bound"},
        "workloads": workloads, "reference_versions": versions_of("torch_geometric", "torch_sparse", "torch_cluster",
                                                                   "torch_scatter", "ogb"),
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
    }
    if "bound" in workloads:
        extra["bound"] = {key: workloads["bound"][key] for key in ("kernels", "copy_s", "matmul_s")}
    selected = [name for name in args.only if name in DATASETS]
    return benchmarking.finish(args, suite="training", dataset=", ".join(dict.fromkeys(DATASETS[n] for n in selected)) or "-",
                               model=", ".join(dict.fromkeys(MODELS[n] for n in selected)) or "-", comparisons=comparisons,
                               figures=figures, extra=extra)


if __name__ == "__main__":
    main()
