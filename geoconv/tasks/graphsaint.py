"""GCN trained on GraphSAINT subgraphs vs full-batch GCN on the same split (Zeng et al., ICLR 2020).

Default graph: tolokers (Platonov et al., ICLR 2023: 11,758 workers, 519,000
undirected edges, 10 features, binary target), its ten published 50/25/25
splits (seed k uses split k mod 10), metric ROC-AUC (the paper's metric; its
GCN, with residual connections, layer norm and 512 hidden units, reaches 83.64).
Twitch (``twitch-DE``: LINKX's five splits) and Facebook100 (``fb100-<Name>``:
random 50/25/25 splits of the labelled nodes) also work.  Every mode trains the same 2-layer GCN from the same
initialisation; GraphSAINT multiplies the full-graph GCN weights of each
subgraph edge by ``edge_norm`` (1/alpha) and weights the loss of node v by
``node_norm`` (1/lambda), divided by the number of training nodes (the paper's
code); evaluation is full-batch; the test score is taken at the best
validation score.  One GraphSAINT epoch draws about N nodes in total.

The node sampler draws with P(u) proportional to the squared column norm of the
adjacency this GCN aggregates with, D^-1/2 (A + I) D^-1/2 (``--node-probability
paper``: the paper's D^-1 A), and computes its norms exactly from the inclusion
probabilities of 6,000 draws with replacement (``--node-norms estimated``: the
paper's pre-sampled estimate, ``--sample-coverage``).  On tolokers (degrees 1 to
2,138) the estimated ratios C(v) / C(u, v) of node pairs rarely drawn together
are extremely noisy (and 1e4 where C(u, v) = 0); that cost 6 points of ROC-AUC.

    python -m geoconv.tasks.graphsaint --threads 1                     # node, edge, rw and full batch, 3 seeds
    python -m geoconv.tasks.graphsaint --sampler rw --out results/graphsaint.json
    python -m geoconv.tasks.graphsaint --dataset fb100-Johns_Hopkins55    # gender (ROC-AUC, binary)

Measured (3 seeds, 120 epochs; test ROC-AUC at the best validation epoch; records in
examples/results/graphsaint/): full batch 74.40 +- 1.27; random walk 74.86 +- 0.52;
edge 74.87 +- 0.73; node 74.83 +- 0.73 (paper's D^-1 A with exact norms 72.58 +- 0.46,
with the pre-sampled estimate 68.61 +- 1.82; see README).

Multi-process training runs the same module, unchanged, under torchrun::

    torchrun --nproc_per_node=2 -m geoconv.tasks.graphsaint --sampler rw

Each process builds the sampler with the same seed (identical norms), then
draws its own subgraphs (``sampler.set_rank(rank)``); DistributedDataParallel
averages the gradients, so one optimiser step uses K subgraphs; rank 0 runs
the full-batch baseline, evaluates and writes ``--out``.  gloo is used on CPU,
nccl with ``--device cuda`` (one GPU per process).  On several machines, run on
every machine i = 0..M-1 (HOST = address of machine 0, reachable from all)::

    torchrun --nnodes=M --node_rank=i --nproc_per_node=K \\
        --master_addr=HOST --master_port=29500 -m geoconv.tasks.graphsaint --sampler rw

(set ``GLOO_SOCKET_IFNAME`` / ``NCCL_SOCKET_IFNAME`` to the network interface if
the machines have several).  The last line printed is the JSON record.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any, Sequence

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.data import Graph
from geoconv.experiment import finish, mean_std, progress, set_seed, setup
from geoconv.metrics import roc_auc
from geoconv.nn import GCNConv
from geoconv.ops import SparseAdjacency, add_self_loops, gcn_norm, remove_self_loops
from geoconv.sampling import (
    GraphSAINTEdgeSampler,
    GraphSAINTNodeSampler,
    GraphSAINTRandomWalkSampler,
    barrier,
    init_distributed,
    shutdown,
)
from geoconv.tasks.options import task_parser

SAMPLERS = ("node", "edge", "rw")


class GCN(nn.Module):
    """GCNConv stack on precomputed propagation weights (self-loops included by the caller)."""

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int, dropout: float) -> None:
        super().__init__()
        sizes = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        self.convs = nn.ModuleList(
            GCNConv(a, b, normalize=False, add_self_loops=False) for a, b in zip(sizes[:-1], sizes[1:])
        )
        self.dropout = dropout

    def forward(self, x: Tensor, adjacency: SparseAdjacency) -> Tensor:
        for i, conv in enumerate(self.convs):
            x = F.dropout(x, self.dropout, self.training)
            x = conv(x, adjacency)
            if i < len(self.convs) - 1:
                x = F.relu(x)
        return x


def load(name: str, root: str | None) -> Graph:
    """The dataset's graph with ``[N, S]`` masks (S published splits) or none."""
    from geoconv import datasets

    family, _, which = name.partition("-")
    if family == "twitch":
        return datasets.Twitch(which.upper(), root=root)
    if family == "fb100":
        return datasets.Facebook100(which, root=root)
    if family == "tolokers":
        return datasets.HeterophilousGraph("tolokers", root=root)
    raise ValueError(f"unknown dataset {name!r}: use twitch-<LANG>, fb100-<Name> or tolokers")


def prepare(graph: Graph, seed: int, standardize: bool) -> Graph:
    """One split (published split ``seed mod S``, else a random 50/25/25 split of the labelled nodes)
    and the full-graph GCN weights: ``gcn_weight`` per edge, ``loop_weight`` per node."""
    num_nodes = graph.num_nodes
    if "train_mask" in graph:
        column = seed % graph.train_mask.shape[1]
        masks = {m: getattr(graph, m)[:, column] for m in ("train_mask", "val_mask", "test_mask")}
    else:
        labelled = (graph.y >= 0).nonzero().view(-1)
        order = labelled[torch.randperm(labelled.numel(), generator=torch.Generator().manual_seed(seed))]
        cut = [int(0.5 * order.numel()), int(0.75 * order.numel())]
        masks = {}
        for name, part in zip(("train_mask", "val_mask", "test_mask"), (order[: cut[0]], order[cut[0]: cut[1]], order[cut[1]:])):
            masks[name] = torch.zeros(num_nodes, dtype=torch.bool).index_fill_(0, part, True)
    x = graph.x.float()
    if standardize:
        # Column z-scores: tolokers' raw features are counts and rates on very different scales.
        x = (x - x.mean(0)) / x.std(0).clamp(min=1e-6)
    edge_index, _ = remove_self_loops(graph.edge_index)
    # gcn_norm lists the edges first, in order, then one self-loop per node.
    _, weight = gcn_norm(edge_index, None, num_nodes)
    return Graph(
        x=x, edge_index=edge_index, y=graph.y,
        node_data={**masks, "loop_weight": weight[edge_index.shape[1]:]},
        edge_data={"gcn_weight": weight[: edge_index.shape[1]]},
    )


def adjacency(graph: Graph, edge_norm: Tensor | None = None) -> SparseAdjacency:
    """The GCN's propagation weights of ``graph`` (times GraphSAINT's ``edge_norm`` on a subgraph), self-loops added."""
    weight = graph.gcn_weight if edge_norm is None else graph.gcn_weight * edge_norm
    edge_index, weight = add_self_loops(graph.edge_index, weight, num_nodes=graph.num_nodes)
    weight[graph.num_edges:] = graph.loop_weight
    return SparseAdjacency(edge_index, weight, graph.num_nodes)


def saint_loss(logits: Tensor, y: Tensor, node_norm: Tensor, train_mask: Tensor, num_train: int) -> Tensor:
    r"""GraphSAINT's normalised loss on one subgraph: :math:`\frac{1}{|V_{train}|} \sum_{v \in V_s \cap V_{train}} \ell_v / \lambda_v`.

    ``node_norm`` holds :math:`1 / \lambda_v`; summed over the subgraph's training nodes and divided by the
    number of training nodes of the whole graph, it is an unbiased estimate of the mean cross-entropy.
    Labels below 0 (unlabelled nodes) are masked out by ``train_mask``.
    """
    per_node = F.cross_entropy(logits, y.clamp(min=0), reduction="none")
    return (per_node * node_norm * train_mask).sum() / num_train


@torch.no_grad()
def evaluate(model: nn.Module, graph: Graph, adj: SparseAdjacency, metric: str) -> dict[str, float]:
    """Full-batch scores (%) on the train / val / test masks, and the training loss."""
    model.eval()
    logits = model(graph.x, adj)
    out = {}
    for split in ("train", "val", "test"):
        mask = getattr(graph, f"{split}_mask")
        if metric == "roc_auc":
            out[split] = 100.0 * roc_auc(logits[mask].softmax(-1)[:, 1], graph.y[mask])
        else:
            out[split] = 100.0 * float((logits[mask].argmax(-1) == graph.y[mask]).float().mean())
    train = graph.train_mask
    out["train_loss"] = float(F.cross_entropy(logits[train], graph.y[train]))
    return out


def make_sampler(kind: str, graph: Graph, args: argparse.Namespace, seed: int):
    """The GraphSAINT sampler ``kind`` (node, edge, rw) of the options, with about N sampled nodes per epoch."""
    common = dict(num_steps=1, sample_coverage=args.sample_coverage, seed=seed)
    if kind == "node":
        exact = args.node_norms == "exact"
        # P(u) from the columns of the adjacency the GCN aggregates with (its symmetric weights and self-loops).
        weights = dict(edge_weight=graph.gcn_weight, self_loop_weight=graph.loop_weight) if args.node_probability == "gcn" else {}
        sampler = GraphSAINTNodeSampler(graph, args.node_budget, **{**common, "sample_coverage": 0 if exact else args.sample_coverage},
                                        exact_norms=exact, **weights)
    elif kind == "edge":
        sampler = GraphSAINTEdgeSampler(graph, args.edge_budget, **common)
    else:
        sampler = GraphSAINTRandomWalkSampler(graph, args.roots, walk_length=args.walk_length, **common)
    if args.steps_per_epoch:
        sampler.num_steps = args.steps_per_epoch
    elif getattr(sampler, "exact_norms", False):
        # One epoch ~ N sampled nodes: a subgraph holds sum of the inclusion probabilities nodes on average.
        sampler.num_steps = max(1, round(graph.num_nodes / float(sampler.inclusion_probability.sum())))
    elif sampler.num_presampled:
        # One epoch ~ N sampled nodes: the pre-sampling drew sample_coverage * N nodes in num_presampled subgraphs.
        sampler.num_steps = max(1, round(sampler.num_presampled / max(args.sample_coverage, 1e-9)))
    else:
        sampler.num_steps = 1
    return sampler


def mode_name(mode: str, args) -> str:
    """The record's name of a mode; the node sampler's non-default variants are named apart (own result rows)."""
    if mode == "full":
        return "full_batch"
    if mode == "node" and (args.node_probability, args.node_norms) != ("gcn", "exact"):
        return f"saint_node_{args.node_probability}_{args.node_norms}"
    return f"saint_{mode}"


def train(mode: str, graph: Graph, args, seed: int, context) -> dict:
    """Train one mode ('full' or a sampler name); returns the scores and the loss curve (rank 0)."""
    set_seed(seed)
    num_classes = int(graph.y.max()) + 1
    model = GCN(graph.x.shape[1], args.hidden_channels, num_classes, args.num_layers, args.dropout).to(context.device)
    full_adj = adjacency(graph)
    distributed = mode != "full" and context.is_distributed
    module = nn.parallel.DistributedDataParallel(model) if distributed else model
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    torch.manual_seed(seed * 7919 + context.rank)  # different dropout masks on every rank
    metric = args.metric
    sampler = None
    if mode != "full":
        sampler = make_sampler(mode, graph, args, seed)
        sampler.set_rank(context.rank)
    num_train = int(graph.train_mask.sum())
    start = evaluate(model, graph, full_adj, metric) if context.is_main else None
    best = {"val": -math.inf}
    curve = []
    for epoch in progress(range(args.epochs), disable=args.no_progress or not context.is_main, desc=f"{mode} seed {seed}"):
        module.train()
        losses = []
        if sampler is None:
            optimizer.zero_grad()
            logits = module(graph.x, full_adj)
            loss = F.cross_entropy(logits[graph.train_mask], graph.y[graph.train_mask])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        else:
            sampler.set_epoch(epoch)
            for sub in sampler:
                optimizer.zero_grad()
                logits = module(sub.x, adjacency(sub, sub.edge_norm))
                loss = saint_loss(logits, sub.y, sub.node_norm, sub.train_mask, num_train)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
        curve.append(sum(losses) / len(losses))
        if context.is_main and ((epoch + 1) % args.eval_every == 0 or epoch + 1 == args.epochs):
            scores = evaluate(model, graph, full_adj, metric)
            if scores["val"] > best["val"]:
                best = {**scores, "epoch": epoch + 1}
    record = {"mode": mode, "seed": seed, "curve": curve}
    if context.is_main:
        end = evaluate(model, graph, full_adj, metric)
        record.update(best_val=best["val"], test_at_best_val=best["test"], best_epoch=best["epoch"],
                      final_test=end["test"], train_loss_start=start["train_loss"], train_loss_end=end["train_loss"])
        if sampler is not None:
            record["steps_per_epoch"] = sampler.num_steps
            record["num_presampled"] = sampler.num_presampled
    if distributed:
        flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
        gathered = [torch.empty_like(flat) for _ in range(context.world_size)]
        dist.all_gather(gathered, flat)
        record["parameters_identical_across_ranks"] = all(torch.equal(gathered[0], g) for g in gathered)
        if args.save_params:
            Path(args.save_params).mkdir(parents=True, exist_ok=True)
            torch.save(model.state_dict(), Path(args.save_params) / f"{mode}_seed{seed}_rank{context.rank}.pt")
    return record


def build_parser() -> argparse.ArgumentParser:
    parser = task_parser(__doc__, epochs=120, seeds=3, hidden_channels=64, num_layers=2, lr=0.01)
    parser.add_argument("--dataset", default="tolokers", help="tolokers, twitch-<LANG> or fb100-<Name> (default tolokers)")
    parser.add_argument("--sampler", nargs="+", default=list(SAMPLERS), choices=SAMPLERS, help="GraphSAINT samplers to run (default all)")
    parser.add_argument("--no-full-batch", action="store_true", help="skip the full-batch baseline")
    parser.add_argument("--standardize", action=argparse.BooleanOptionalAction, default=True,
                        help="z-score the feature columns (default on)")
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--sample-coverage", type=float, default=100, help="pre-sampled nodes per node for the norms (default 100)")
    parser.add_argument("--node-budget", type=int, default=6000, help="node sampler: draws per subgraph (with replacement)")
    parser.add_argument("--node-norms", choices=("exact", "estimated"), default="exact",
                        help="node sampler: closed-form norms (default) or the paper's pre-sampled estimate (--sample-coverage)")
    parser.add_argument("--node-probability", choices=("gcn", "paper"), default="gcn",
                        help="node sampler: P(u) ~ squared column norm of the GCN's own D^-1/2 (A+I) D^-1/2 (default) "
                             "or of the paper's D^-1 A")
    parser.add_argument("--edge-budget", type=int, default=3000, help="edge sampler: edges per subgraph")
    parser.add_argument("--roots", type=int, default=2500, help="random-walk sampler: roots per subgraph")
    parser.add_argument("--walk-length", type=int, default=2)
    parser.add_argument("--steps-per-epoch", type=int, default=0, help="subgraphs per epoch (default: about N sampled nodes)")
    parser.add_argument("--eval-every", type=int, default=5, help="evaluate every k epochs (default 5)")
    parser.add_argument("--save-params", default=None, help="(distributed) save every rank's final parameters to this folder")
    return parser


def modes_of(args: argparse.Namespace) -> list[str]:
    """``full`` (unless --no-full-batch), then the samplers asked for."""
    return ([] if args.no_full_batch else ["full"]) + list(args.sampler)


def main(argv: Sequence[str] | None = None) -> dict[str, Any] | None:
    args = build_parser().parse_args(argv)
    setup(args)
    context = init_distributed("cuda" if str(args.device).startswith("cuda") else "cpu")
    try:
        base = load(args.dataset, args.data_root)
        args.metric = "roc_auc" if int(base.y.max()) == 1 else "accuracy"
        modes = modes_of(args)
        results = {mode: [] for mode in modes}
        for seed in range(args.seeds):
            graph = prepare(base, seed, args.standardize).to(context.device)
            for mode in modes:
                if mode == "full" and context.is_distributed:
                    # The baseline needs no data parallelism: rank 0 runs it while the others wait.
                    if context.is_main:
                        results[mode].append(train(mode, graph, args, seed, context))
                    barrier(context)
                else:
                    results[mode].append(train(mode, graph, args, seed, context))
        if not context.is_main:
            return None
        return record(args, results, context.world_size)
    finally:
        shutdown(context)


def record(args: argparse.Namespace, results: dict[str, list[dict]], world_size: int = 1) -> dict[str, Any]:
    """Print and write (``--out``) the record from each mode's runs (one dict per seed, as :func:`train` returns)."""
    metrics, per_mode = {}, {}
    for mode, runs in results.items():
        name = mode_name(mode, args)
        test_mean, test_std = mean_std([r["test_at_best_val"] for r in runs])
        metrics[f"test_{args.metric}_{name}"] = {"mean": round(test_mean, 2), "std": round(test_std, 2)}
        per_mode[name] = {
            "test_mean": round(test_mean, 2), "test_std": round(test_std, 2),
            "test_per_seed": [round(r["test_at_best_val"], 2) for r in runs],
            "val_mean": round(mean_std([r["best_val"] for r in runs])[0], 2),
            "train_loss_start": [round(r["train_loss_start"], 4) for r in runs],
            "train_loss_end": [round(r["train_loss_end"], 4) for r in runs],
            **({k: runs[0][k] for k in ("steps_per_epoch", "num_presampled") if k in runs[0]}),
            **({"parameters_identical_across_ranks": all(r["parameters_identical_across_ranks"] for r in runs)}
               if "parameters_identical_across_ranks" in runs[0] else {}),
        }
    if "full" in results:
        full = per_mode["full_batch"]["test_mean"]
        for name, value in per_mode.items():
            if name != "full_batch":
                value["gap_to_full_batch"] = round(value["test_mean"] - full, 2)
    names = list(per_mode)
    return finish(args, {
        "task": "node_classification_graphsaint",
        "dataset": args.dataset,
        # One result per mode: the first is the record's own, the others its variants.
        "model": f"gcn/{names[0]}",
        "metric": f"test_{args.metric}",
        "higher_is_better": True,
        "values": per_mode[names[0]]["test_per_seed"],
        "variants": [{"model": f"gcn/{name}", "values": per_mode[name]["test_per_seed"]} for name in names[1:]],
        "seeds": args.seeds,
        "metric_description": f"test {args.metric} (%) at the best validation epoch, full-batch evaluation",
        "world_size": world_size,
        "metrics": metrics,
        "modes": per_mode,
        "curves": {mode_name(m, args) + "_train_loss": [r["curve"] for r in runs] for m, runs in results.items()},
    })


if __name__ == "__main__":
    main()
