"""GraphSAINT sampler throughput: geoconv vs what torch_geometric can run here, on ego-Twitter;
pre-sampling (normalisation) time; a synthetic 2,000,000-node graph for bounded time and memory.

torch_geometric's GraphSAINT samplers store the graph as a torch_sparse
``SparseTensor`` and extract subgraphs with torch_sparse's compiled
``saint_subgraph`` (random walks with torch_cluster).  When torch_sparse is not
installed they cannot be constructed; the record then says so (with the
error).  When they can be built, each sampler is also timed against PyG's own
(``pyg_subgraphs_per_s``, ``speedup_vs_pyg``: one pass of PyG's loader, the
way users iterate it, same budgets, no normalisation pre-sampling on either
side).  Either way it compares with the closest thing that runs without
compiled extensions:

* ``pyg_utils_baseline``: PyG's algorithm with PyG's own pure-PyTorch
  ``torch_geometric.utils.subgraph`` (an edge mask over all E edges per
  subgraph) in place of ``saint_subgraph``; node draws exactly as PyG's
  samplers make them, with PyG's code (node: rows of uniformly drawn edges;
  edge: PyG's top-k of ``log(U) / p`` over all E edges, its double-reciprocal
  probability included; random walk: a vectorised torch walk on a CSR, as
  torch_cluster's kernel walks every walker in parallel).  It is
  *not* the compiled PyG path; its ratio says how much the CSR extraction
  gains over the O(E) mask that is available without compiled extensions.

The timed samplers have no norms (``sample_coverage=0``, like PyG's loader
here), so they need only the subgraph structure, not edge ids; the sampler
built for the pre-sampling time is also timed
(``geoconv_subgraphs_per_s_with_norms``: edge ids and ``edge_norm`` gathers
included).

Both sides run in this process, timed by :func:`geoconv.benchmarking.measure`
(``--warmup`` untimed epochs, then ``--repeats`` interleaved epochs, median; the
machine is shared, so absolute numbers are noisy; ratios are more stable).  Peak
memory = growth of this process's max RSS.  The last line is the schema record
(:mod:`geoconv.records`) with one comparison per sampler and reference.

``--device``: the graph, geoconv's samplers and the pure-torch baseline run
there (the samplers draw on the graph's device); torch_geometric's own loader
(a CPU ``SparseTensor`` iterated on the host) stays on the CPU.

    python benchmarks/graphsaint.py                       # ego-Twitter + 2M-node synthetic graph
    python benchmarks/graphsaint.py --no-synthetic --steps 10 --repeats 3

``--table``: the random-walk sampler (``--roots`` roots, ``--walk-length``)
against torch_geometric's compiled one on three forms of input, each as the
user hands it over: ego-Twitter *raw* (the file's undirected edge list
followed by its reverse: both directions listed, the 14 self-loops twice,
unsorted), ego-Twitter *coalesced* (sorted, no duplicates, symmetric) and
SNAP Slashdot *directed* (coalesced, one direction).  For each form, without
norms (``sample_coverage=0`` on both sides) and with them (both sides
pre-sample ``--table-coverage * N`` nodes and attach ``node_norm`` /
``edge_norm``), it times one subgraph (median over ``--repeats`` interleaved
epochs of ``--steps`` subgraphs) with 1 and 2 torch threads, on the idle
machine and under load (``--load`` busy processes spawned for those columns),
and the construction of both samplers (median of ``--construction-repeats``
builds, interleaved): without norms, alone and followed by the first
subgraph (both sides defer part of their set-up to first use), and with
norms (the pre-sampling of ``--table-coverage * N`` nodes included).  geoconv's samplers run
with their default ``num_threads=1`` whatever torch's setting; PyG's use
torch's.  Note that PyG walks the directed graph along its edges, geoconv the
symmetrised graph, so on Slashdot the two draw different subgraphs (the mean
sizes are recorded).

    python benchmarks/graphsaint.py --table --load 2 --steps 20 --repeats 5
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from geoconv import benchmarking  # noqa: E402
from geoconv.benchmarking import peak_rss_mb  # noqa: E402

from geoconv.data import Graph  # noqa: E402
from geoconv.sampling import (  # noqa: E402
    GraphSAINTEdgeSampler,
    GraphSAINTNodeSampler,
    GraphSAINTRandomWalkSampler,
)


def pyg_samplers_status(edge_index: torch.Tensor, num_nodes: int) -> dict:
    """Try to build torch_geometric's GraphSAINT samplers; report what happened."""
    try:
        import torch_geometric
        from torch_geometric.data import Data
        from torch_geometric.loader import GraphSAINTRandomWalkSampler as PyGRandomWalk
    except ImportError as error:
        return {"available": False, "error": f"torch_geometric not importable: {error}"}
    try:
        PyGRandomWalk(Data(edge_index=edge_index[:, :10], num_nodes=num_nodes), batch_size=1, walk_length=1, num_steps=1)
    except Exception as error:  # noqa: BLE001 - the point is to record why it cannot run
        return {"available": False, "version": torch_geometric.__version__, "error": f"{type(error).__name__}: {error}"}
    return {"available": True, "version": torch_geometric.__version__}


class PyGUtilsBaseline:
    """PyG's GraphSAINT draws + ``torch_geometric.utils.subgraph`` (see the module docstring)."""

    def __init__(self, kind: str, edge_index: torch.Tensor, num_nodes: int, batch_size: int, walk_length: int) -> None:
        from torch_geometric.utils import degree, subgraph

        self.subgraph = subgraph
        self.kind, self.edge_index, self.num_nodes = kind, edge_index, num_nodes
        self.batch_size, self.walk_length = batch_size, walk_length
        row, col = edge_index
        self.row = row
        self.device = edge_index.device
        order = torch.argsort(row, stable=True)
        self.col_sorted = col[order]
        self.rowptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=self.device)
        self.rowptr[1:] = torch.cumsum(torch.bincount(row, minlength=num_nodes), 0)
        if kind == "edge":
            deg_in = 1.0 / degree(col, num_nodes)
            deg_out = 1.0 / degree(row, num_nodes)
            # PyG's formula, double reciprocal included (so proportional to degree).
            self.probability = 1.0 / deg_in[row] + 1.0 / deg_out[col]

    def draw(self, generator: torch.Generator) -> torch.Tensor:
        if self.kind == "node":
            edge = torch.randint(0, self.row.numel(), (self.batch_size,), generator=generator, device=self.device)
            return self.row[edge].unique()
        if self.kind == "edge":
            # PyG's draw without replacement: top-k of log(U) / p over all E edges (O(E) per subgraph).
            score = torch.rand(self.row.numel(), generator=generator, device=self.device).log() / (self.probability + 1e-10)
            edge = score.topk(self.batch_size).indices
            return torch.cat([self.edge_index[1, edge], self.edge_index[0, edge]]).unique()
        current = torch.randint(0, self.num_nodes, (self.batch_size,), generator=generator, device=self.device)
        visited = [current]
        for _ in range(self.walk_length):
            begin = self.rowptr[current]
            deg = self.rowptr[current + 1] - begin
            offset = (torch.rand(current.numel(), generator=generator, device=self.device) * deg).long().clamp(max=(deg - 1).clamp(min=0))
            current = torch.where(deg > 0, self.col_sorted[(begin + offset).clamp(max=self.col_sorted.numel() - 1)], current)
            visited.append(current)
        return torch.cat(visited).unique()

    def sample(self, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        node = self.draw(generator)
        edge_index, _, edge_mask = self.subgraph(node, self.edge_index, relabel_nodes=True, num_nodes=self.num_nodes,
                                                 return_edge_mask=True)
        return node, edge_index


def pyg_sampler(kind: str, edge_index: torch.Tensor, num_nodes: int, batch_size: int, walk_length: int, steps: int):
    """torch_geometric's own GraphSAINT sampler (needs torch_sparse, and torch_cluster for random walks)."""
    from torch_geometric.data import Data
    from torch_geometric.loader import GraphSAINTEdgeSampler, GraphSAINTNodeSampler, GraphSAINTRandomWalkSampler

    data = Data(edge_index=edge_index, num_nodes=num_nodes)
    if kind == "node":
        return GraphSAINTNodeSampler(data, batch_size=batch_size, num_steps=steps, sample_coverage=0)
    if kind == "edge":
        return GraphSAINTEdgeSampler(data, batch_size=batch_size, num_steps=steps, sample_coverage=0)
    return GraphSAINTRandomWalkSampler(data, batch_size=batch_size, walk_length=walk_length, num_steps=steps,
                                       sample_coverage=0)


def pyg_epoch(loader, seed: int) -> tuple[int, int, int]:
    """(subgraphs, nodes, edges) of one pass of a PyG GraphSAINT loader."""
    torch.manual_seed(seed)  # PyG's samplers draw from the global generator
    nodes = edges = steps = 0
    for data in loader:
        nodes += data.num_nodes
        edges += data.num_edges
        steps += 1
    return steps, nodes, edges


def geoconv_sampler(kind: str, graph: Graph, batch_size: int, walk_length: int, steps: int, coverage: float, seed: int):
    if kind == "node":
        return GraphSAINTNodeSampler(graph, batch_size, num_steps=steps, sample_coverage=coverage, seed=seed)
    if kind == "edge":
        return GraphSAINTEdgeSampler(graph, batch_size, num_steps=steps, sample_coverage=coverage, seed=seed)
    return GraphSAINTRandomWalkSampler(graph, batch_size, num_steps=steps, sample_coverage=coverage,
                                       walk_length=walk_length, seed=seed)


def geoconv_epoch(sampler, steps: int) -> tuple[int, int, int]:
    """(subgraphs, nodes, edges) of one epoch of ``steps`` subgraphs."""
    nodes = edges = 0
    for step in range(steps):
        sub = sampler.subgraph(step)
        nodes += sub.num_nodes
        edges += sub.num_edges
    return steps, nodes, edges


def baseline_epoch(baseline: PyGUtilsBaseline, steps: int, seed: int) -> tuple[int, int, int]:
    generator = torch.Generator(device=baseline.device).manual_seed(seed)
    nodes = edges = 0
    for _ in range(steps):
        node, edge_index = baseline.sample(generator)
        nodes += node.numel()
        edges += edge_index.shape[1]
    return steps, nodes, edges


def timed_epochs(epoch, args) -> tuple[benchmarking.Timing, list[tuple[int, int, int]]]:
    """One side timed alone by the shared helper (epoch k gets k as its seed offset)."""
    counts: list[tuple[int, int, int]] = []
    timing = benchmarking.measure({"side": lambda: counts.append(epoch(len(counts)))},
                                  repeats=args.repeats, warmup=args.warmup, device=args.device)["side"]
    return timing, counts


def mean_size(counts: list[tuple[int, int, int]], which: int) -> float:
    return round(sum(c[which] for c in counts) / sum(c[0] for c in counts), 1)


def ego_twitter(args, comparisons: list) -> dict:
    from geoconv.datasets import SNAPGraph

    host_graph = SNAPGraph("ego-twitter-undirected", root=args.data_root)
    graph = host_graph.to(args.device)
    budgets = {"node": args.node_budget, "edge": args.edge_budget, "rw": args.roots}
    status = pyg_samplers_status(host_graph.edge_index, graph.num_nodes)
    result = {"graph": "ego-twitter-undirected", "num_nodes": graph.num_nodes, "num_directed_edges": graph.num_edges,
              "torch_geometric_graphsaint": status, "samplers": {}}
    for kind in args.samplers:
        sampler = geoconv_sampler(kind, graph, budgets[kind], args.walk_length, args.steps, 0, args.seed)
        baseline = PyGUtilsBaseline(kind, graph.edge_index, graph.num_nodes, budgets[kind], args.walk_length)
        pyg = (pyg_sampler(kind, host_graph.edge_index, graph.num_nodes, budgets[kind], args.walk_length, args.steps)
               if status["available"] else None)
        pyg_error = None
        counts: dict[str, list[tuple[int, int, int]]] = {"geoconv": [], "pyg_utils_baseline": [], "torch_geometric": []}

        def run_geoconv() -> None:
            sampler.set_epoch(len(counts["geoconv"]))
            counts["geoconv"].append(geoconv_epoch(sampler, args.steps))

        sides = {
            "geoconv": run_geoconv,
            "pyg_utils_baseline": lambda: counts["pyg_utils_baseline"].append(
                baseline_epoch(baseline, args.steps, args.seed + len(counts["pyg_utils_baseline"]))),
        }
        if pyg is not None:
            try:  # a first pass outside the timing: PyG's edge sampler may not be able to run at all
                pyg_epoch(pyg, args.seed)
            except (RuntimeError, MemoryError) as error:
                # PyG's edge sampler draws a [batch_size, E] random matrix per subgraph
                # (43 GB for 4,000 edges of ego-Twitter): record why it cannot run.
                pyg_error = f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"
            else:
                sides["torch_geometric"] = lambda: counts["torch_geometric"].append(
                    pyg_epoch(pyg, args.seed + len(counts["torch_geometric"])))
        timings = benchmarking.measure(sides, repeats=args.repeats, warmup=args.warmup, device=args.device)
        rates = {name: args.steps / timing.median_s for name, timing in timings.items()}
        for name, timing in timings.items():
            if name != "geoconv":
                comparisons.append(benchmarking.compare(f"{kind} sampler, {args.steps} subgraphs", timings["geoconv"], timing))
        start = time.perf_counter()
        with_norms = geoconv_sampler(kind, graph, budgets[kind], args.walk_length, args.steps, args.sample_coverage, args.seed)
        presample_seconds = time.perf_counter() - start
        # Training draws with norms: edge ids are then needed for edge_norm (not timed against PyG, whose
        # loader with sample_coverage=0 skips its norms too).
        norms_timing, _ = timed_epochs(lambda k: geoconv_epoch(with_norms, args.steps), args)
        result["samplers"][kind] = {
            "batch_size": budgets[kind],
            "geoconv_subgraphs_per_s": round(rates["geoconv"], 2),
            "pyg_utils_baseline_subgraphs_per_s": round(rates["pyg_utils_baseline"], 2),
            "speedup_vs_pyg_utils_baseline": round(rates["geoconv"] / rates["pyg_utils_baseline"], 2),
            "mean_nodes": mean_size(counts["geoconv"], 1),
            "mean_edges": mean_size(counts["geoconv"], 2),
            "baseline_mean_nodes": mean_size(counts["pyg_utils_baseline"], 1),
            "baseline_mean_edges": mean_size(counts["pyg_utils_baseline"], 2),
            **({"pyg_error": pyg_error} if pyg_error else {}),
            **({} if "torch_geometric" not in rates else {
                "pyg_subgraphs_per_s": round(rates["torch_geometric"], 2),
                "speedup_vs_pyg": round(rates["geoconv"] / rates["torch_geometric"], 2),
                "pyg_mean_nodes": mean_size(counts["torch_geometric"], 1),
                "pyg_mean_edges": mean_size(counts["torch_geometric"], 2),
            }),
            "sample_coverage": args.sample_coverage,
            "presampling_s": round(presample_seconds, 2),
            "presampled_subgraphs": with_norms.num_presampled,
            "geoconv_subgraphs_per_s_with_norms": round(args.steps / norms_timing.median_s, 2),
        }
        print(json.dumps({kind: result["samplers"][kind]}), file=sys.stderr, flush=True)
    return result


def synthetic_one(args, num_nodes: int) -> dict:
    """One circulant graph (i ~ i±1..±5, degree 10): setup time, per-subgraph time, peak memory (this process)."""
    rss_start = peak_rss_mb()
    start = time.perf_counter()
    src = torch.arange(num_nodes, device=args.device).repeat_interleave(10)
    offsets = torch.tensor([-5, -4, -3, -2, -1, 1, 2, 3, 4, 5], device=args.device).repeat(num_nodes)
    # Rows sorted by source, targets sorted within a row: the coalesced symmetric graph.
    dst = ((src + offsets) % num_nodes).view(num_nodes, 10).sort(dim=1).values.view(-1)
    graph = Graph(edge_index=torch.stack([src, dst]), num_nodes=num_nodes)
    del src, dst, offsets
    build_seconds = time.perf_counter() - start
    rss_graph = peak_rss_mb()
    start = time.perf_counter()
    sampler = GraphSAINTRandomWalkSampler(graph, args.roots, num_steps=args.steps, walk_length=args.walk_length,
                                          sample_coverage=args.synthetic_coverage, seed=args.seed)
    setup_seconds = time.perf_counter() - start
    rss_setup = peak_rss_mb()
    timing, counts = timed_epochs(lambda k: geoconv_epoch(sampler, args.steps), args)
    rate, mean_nodes, mean_edges = args.steps / timing.median_s, mean_size(counts, 1), mean_size(counts, 2)
    return {
        "num_nodes": num_nodes, "num_directed_edges": graph.num_edges,
        "graph_build_s": round(build_seconds, 2),
        "sampler_setup_s": round(setup_seconds, 2),
        "sample_coverage": args.synthetic_coverage, "presampled_subgraphs": sampler.num_presampled,
        "rw_subgraphs_per_s": round(rate, 2), "ms_per_subgraph": round(1000 / rate, 2),
        "mean_nodes": round(mean_nodes, 1), "mean_edges": round(mean_edges, 1),
        "peak_rss_mb_after_import": round(rss_start, 1),
        "peak_rss_mb_after_graph": round(rss_graph, 1),
        "peak_rss_mb_after_sampler_setup": round(rss_setup, 1),
        "peak_rss_mb_after_sampling": round(peak_rss_mb(), 1),
    }


def synthetic(args) -> dict:
    """Each size in a fresh process, so that its peak RSS is its own."""
    rows = []
    for num_nodes in args.synthetic_sizes:
        command = [sys.executable, __file__, "--synthetic-worker", str(num_nodes), "--roots", str(args.roots),
                   "--walk-length", str(args.walk_length), "--steps", str(args.steps), "--seed", str(args.seed),
                   "--synthetic-coverage", str(args.synthetic_coverage), "--threads", str(args.threads),
                   "--repeats", str(args.repeats), "--warmup", str(args.warmup), "--device", str(args.device)]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(output.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return {"graph": "circulant, degree 10 (coalesced, symmetric)", "roots": args.roots, "walk_length": args.walk_length,
            "sizes": rows}


# ---------------------------------------------------------------------- --table: input forms x norms x threads x load
def table_forms(args) -> dict[str, tuple[torch.Tensor, int]]:
    """``{form: (edge_index, num_nodes)}``: ego-Twitter raw and coalesced, Slashdot directed."""
    from geoconv.datasets import SNAPGraph
    from geoconv.datasets.base import data_root, read_bytes
    from geoconv.datasets.snap import parse_jlg

    coalesced = SNAPGraph("ego-twitter-undirected", root=args.data_root)  # fetched and verified
    listed, num_nodes, _ = parse_jlg(read_bytes(data_root(args.data_root) / "snap" / "ego-twitter-undirected.jlg"),
                                     "ego-twitter-undirected")
    directed = SNAPGraph("soc-slashdot0902-directed", root=args.data_root)
    return {
        "ego-Twitter raw": (torch.cat([listed, listed.flip(0)], dim=1), num_nodes),
        "ego-Twitter coalesced": (coalesced.edge_index, coalesced.num_nodes),
        "Slashdot directed": (directed.edge_index, directed.num_nodes),
    }


@contextlib.contextmanager
def busy_processes(count: int):
    """``count`` processes spinning on the CPU while the block runs (the loaded machine)."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        time.sleep(0.5 if count else 0)
        yield
    finally:
        for process in spinners:
            process.kill()
            process.wait()


def table_row(args, form: str, edge_index: torch.Tensor, num_nodes: int, coverage: float, pyg_ok: bool) -> list[dict]:
    """The timings of one input form and one norm setting, for every thread count and load."""
    graph = Graph(edge_index=edge_index, num_nodes=num_nodes)
    sides, counts = {}, {"geoconv": [], "torch_geometric": []}
    geoconv = GraphSAINTRandomWalkSampler(graph, args.roots, num_steps=args.steps, walk_length=args.walk_length,
                                          sample_coverage=coverage, seed=args.seed)
    sides["geoconv"] = lambda: counts["geoconv"].append(geoconv_epoch(geoconv, args.steps))
    if pyg_ok:
        from torch_geometric.data import Data
        from torch_geometric.loader import GraphSAINTRandomWalkSampler as PyGRandomWalk

        pyg = PyGRandomWalk(Data(edge_index=edge_index, num_nodes=num_nodes), batch_size=args.roots,
                            walk_length=args.walk_length, num_steps=args.steps, sample_coverage=coverage, log=False)
        sides["torch_geometric"] = lambda: counts["torch_geometric"].append(pyg_epoch(pyg, args.seed + len(counts["torch_geometric"])))
    rows = []
    for threads in args.table_threads:
        for load in (0, args.load) if args.load else (0,):
            torch.set_num_threads(threads)
            with busy_processes(load):
                timings = benchmarking.measure(sides, repeats=args.repeats, warmup=args.warmup)
            row = {"form": form, "norms": coverage > 0, "threads": threads, "busy_processes": load,
                   "geoconv_ms": round(1000 * timings["geoconv"].median_s / args.steps, 3),
                   "geoconv_mean_nodes": mean_size(counts["geoconv"], 1),
                   "geoconv_mean_edges": mean_size(counts["geoconv"], 2)}
            if "torch_geometric" in timings:
                row.update({"pyg_ms": round(1000 * timings["torch_geometric"].median_s / args.steps, 3),
                            "ratio": round(timings["torch_geometric"].median_s / timings["geoconv"].median_s, 3),
                            "pyg_mean_nodes": mean_size(counts["torch_geometric"], 1),
                            "pyg_mean_edges": mean_size(counts["torch_geometric"], 2)})
                row["comparison"] = benchmarking.compare(
                    f"rw sampler per subgraph, {form}, {'norms' if coverage else 'no norms'}, {threads} thread(s), "
                    f"{'loaded (' + str(load) + ' busy processes)' if load else 'idle'}",
                    timings["geoconv"], timings["torch_geometric"])
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "comparison"}), file=sys.stderr, flush=True)
    torch.set_num_threads(1)
    return rows


def construction_times(args, form: str, edge_index: torch.Tensor, num_nodes: int, pyg_ok: bool) -> dict:
    """Median seconds to build each sampler (builds interleaved, one thread, idle): without norms alone
    (``*_s``), without norms followed by the first subgraph (``*_first_s``: geoconv groups the edges on first
    use, PyG's ``SparseTensor`` computes its CSR pointers lazily too, so this is the time until the first
    minibatch), and with norms (``*_norms_s``: ``--table-coverage`` pre-sampling on both sides).

    ``reverse_sort_s``: one NumPy sort of the ``E`` reversed keys ``dst * N + src`` (built and sorted), the
    step that finds the reverse of every edge.  A sampler that walks the symmetrised graph needs it (or its
    equivalent) to symmetrise a directed graph or to find out that a graph is already symmetric, whereas
    PyG's walks follow the edges as given; it is timed here so that geoconv's time until the first subgraph
    can be read against that floor of its approach."""
    graph = Graph(edge_index=edge_index, num_nodes=num_nodes)
    seconds: dict[str, list[float]] = {f"{side}{kind}": [] for side in ("geoconv", "torch_geometric")
                                       for kind in ("", "_first", "_norms")}
    seconds["reverse_sort"] = []
    src_array, dst_array = edge_index[0].cpu().numpy(), edge_index[1].cpu().numpy()
    for _ in range(args.construction_repeats):
        start = time.perf_counter()
        reversed_keys = dst_array * num_nodes
        reversed_keys += src_array
        reversed_keys.sort()
        seconds["reverse_sort"].append(time.perf_counter() - start)
        del reversed_keys
        for coverage in (0, args.table_coverage):
            start = time.perf_counter()
            sampler = GraphSAINTRandomWalkSampler(graph, args.roots, num_steps=args.steps, walk_length=args.walk_length,
                                                  sample_coverage=coverage, seed=args.seed)
            if coverage:
                seconds["geoconv_norms"].append(time.perf_counter() - start)
            else:
                seconds["geoconv"].append(time.perf_counter() - start)
                sampler.subgraph(0)
                seconds["geoconv_first"].append(time.perf_counter() - start)
            if pyg_ok:
                from torch_geometric.data import Data
                from torch_geometric.loader import GraphSAINTRandomWalkSampler as PyGRandomWalk

                start = time.perf_counter()
                loader = PyGRandomWalk(Data(edge_index=edge_index, num_nodes=num_nodes), batch_size=args.roots,
                                       walk_length=args.walk_length, num_steps=args.steps, sample_coverage=coverage,
                                       log=False)
                if coverage:
                    seconds["torch_geometric_norms"].append(time.perf_counter() - start)
                else:
                    seconds["torch_geometric"].append(time.perf_counter() - start)
                    next(iter(loader))
                    seconds["torch_geometric_first"].append(time.perf_counter() - start)
    result: dict = {"form": form, "reverse_sort_s": round(statistics.median(seconds["reverse_sort"]), 4)}
    for kind in ("", "_first", "_norms"):
        result[f"geoconv{kind}_s"] = round(statistics.median(seconds[f"geoconv{kind}"]), 4)
        if seconds[f"torch_geometric{kind}"]:
            result[f"pyg{kind}_s"] = round(statistics.median(seconds[f"torch_geometric{kind}"]), 4)
            result[f"{kind.lstrip('_') + '_' if kind else ''}ratio"] = round(result[f"pyg{kind}_s"] / result[f"geoconv{kind}_s"], 3)
    print(json.dumps(result), file=sys.stderr, flush=True)
    return result


def table(args, comparisons: list, figures: dict) -> dict:
    forms = table_forms(args)
    some_edges = next(iter(forms.values()))
    status = pyg_samplers_status(some_edges[0], some_edges[1])
    torch.set_num_threads(1)
    construction = [construction_times(args, form, *data, status["available"]) for form, data in forms.items()]
    rows = []
    for form, data in forms.items():
        for coverage in (0, args.table_coverage):
            rows += table_row(args, form, *data, coverage, status["available"])
    for row in rows:
        comparison = row.pop("comparison", None)
        if comparison is not None:
            comparisons.append(comparison)
    for entry in construction:
        figures[f"construction s, {entry['form']}, geoconv"] = entry["geoconv_s"]
        figures[f"construction + first subgraph s, {entry['form']}, geoconv"] = entry["geoconv_first_s"]
        figures[f"construction with norms s, {entry['form']}, geoconv"] = entry["geoconv_norms_s"]
        figures[f"reverse-key sort s, {entry['form']}"] = entry["reverse_sort_s"]
        if "pyg_s" in entry:
            figures[f"construction s, {entry['form']}, torch_geometric"] = entry["pyg_s"]
            figures[f"construction + first subgraph s, {entry['form']}, torch_geometric"] = entry["pyg_first_s"]
            figures[f"construction with norms s, {entry['form']}, torch_geometric"] = entry["pyg_norms_s"]
    reached = [row["ratio"] >= 1.5 for row in rows if "ratio" in row and row["threads"] == 1 and not row["busy_processes"]]
    return {"torch_geometric_graphsaint": status, "roots": args.roots, "walk_length": args.walk_length,
            "steps": args.steps, "sample_coverage_with_norms": args.table_coverage, "busy_processes": args.load,
            "construction": construction, "rows": rows,
            "one_thread_idle_all_at_least_1_5": (all(reached) if reached else None)}


def main(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=None, help="data root holding snap/ego-twitter-undirected.jlg")
    parser.add_argument("--samplers", nargs="+", default=["node", "edge", "rw"], choices=["node", "edge", "rw"])
    parser.add_argument("--node-budget", type=int, default=6000)
    parser.add_argument("--edge-budget", type=int, default=4000)
    parser.add_argument("--roots", type=int, default=2000)
    parser.add_argument("--walk-length", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20, help="subgraphs per measurement")
    parser.add_argument("--sample-coverage", type=float, default=10, help="coverage of the timed pre-sampling")
    parser.add_argument("--no-synthetic", action="store_true")
    parser.add_argument("--no-ego-twitter", action="store_true")
    parser.add_argument("--synthetic-sizes", type=int, nargs="+", default=[200_000, 2_000_000])
    parser.add_argument("--synthetic-coverage", type=float, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--synthetic-worker", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--table", action="store_true",
                        help="only the random-walk table against torch_geometric: 3 input forms x norms x threads x load")
    parser.add_argument("--load", type=int, default=0, help="--table: busy processes for the loaded columns (0: idle only)")
    parser.add_argument("--table-threads", type=int, nargs="+", default=[1, 2], help="--table: torch thread counts")
    parser.add_argument("--table-coverage", type=float, default=1, help="--table: sample_coverage of the runs with norms")
    parser.add_argument("--construction-repeats", type=int, default=3, help="--table: sampler builds per side")
    benchmarking.add_arguments(parser, repeats=3, device_help=(
        "torch device of the graph, geoconv's samplers and the pure-torch baseline (default cpu); "
        "torch_geometric's own loader stays on the CPU"))
    parser.set_defaults(threads=1)
    args = parser.parse_args(argv)
    benchmarking.setup(args)
    if args.table:
        benchmarking.stamped_out(args, "graphsaint-table")
    if args.synthetic_worker is not None:
        row = synthetic_one(args, args.synthetic_worker)
        print(json.dumps(row))
        return row
    extra: dict = {"benchmark": "graphsaint", "steps": args.steps}
    comparisons: list = []
    figures: dict[str, float] = {}
    if args.table:
        extra["table"] = table(args, comparisons, figures)
        return benchmarking.finish(args, suite="graphsaint", dataset="ego-twitter (raw, coalesced), soc-slashdot0902 (directed)",
                                   model="GraphSAINTRandomWalkSampler vs torch_geometric", comparisons=comparisons,
                                   figures=figures, extra=extra)
    if not args.no_ego_twitter:
        extra["ego_twitter"] = ego_twitter(args, comparisons)
        for kind, row in extra["ego_twitter"]["samplers"].items():
            figures[f"ego-Twitter {kind} sampler geoconv subgraphs/s"] = row["geoconv_subgraphs_per_s"]
            figures[f"ego-Twitter {kind} pre-sampling s"] = row["presampling_s"]
    if not args.no_synthetic:
        extra["synthetic"] = synthetic(args)
        for row in extra["synthetic"]["sizes"]:
            figures[f"circulant {row['num_nodes']} nodes rw ms/subgraph"] = row["ms_per_subgraph"]
            figures[f"circulant {row['num_nodes']} nodes peak MB"] = row["peak_rss_mb_after_sampling"]
    datasets = (["ego-twitter"] if not args.no_ego_twitter else []) + (["synthetic circulant"] if not args.no_synthetic else [])
    return benchmarking.finish(args, suite="graphsaint", dataset=", ".join(datasets) or "none",
                               model="GraphSAINT samplers (" + ", ".join(args.samplers) + ")",
                               comparisons=comparisons, figures=figures, extra=extra)


if __name__ == "__main__":
    main()
