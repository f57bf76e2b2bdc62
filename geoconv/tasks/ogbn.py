"""OGB node property prediction: OGB's reference recipes on ogbn-arxiv, ogbn-products and ogbn-proteins.

Three recipes, each as OGB's reference script of ``examples/nodeproppred/`` in
https://github.com/snap-stanford/ogb (leaderboard figures: test score at the
best validation epoch, mean +- std over 10 runs):

* ``arxiv`` (``arxiv/gnn.py``, GCN, 71.74 +- 0.29 accuracy): full-batch GCN,
  3 layers, 256 hidden, batch norm + ReLU + dropout 0.5 after the hidden
  layers, Adam lr 0.01, 500 epochs, evaluated every epoch.  The citation edges
  are made undirected (the reference's ``adj_t.to_symmetric()``), then GCN's
  self-loops and symmetric normalisation.
* ``products`` (``products/graph_saint.py``, GraphSAINT (SAGE aggr),
  79.08 +- 0.24 accuracy): GraphSAGE (mean aggregator, :class:`~geoconv.nn.SAGEConv`),
  3 layers, 256 hidden, dropout 0.5, Adam lr 0.01, 20 epochs of 30 subgraphs
  from :class:`~geoconv.sampling.GraphSAINTRandomWalkSampler` with 20,000 roots
  and walks of length 3, ``sample_coverage=0`` (no normalisation: the
  reference omits it), loss = mean NLL over each subgraph's training nodes;
  full-graph evaluation every 2 epochs from epoch 10.  These are the script's
  defaults since OGB commit cb1f235 (2020-06-10; unchanged to the current
  master); the first versions (a0b2e94 to 75614dc, before 2020-05-28) used
  lr 0.001, 8,000 roots, 20 steps and estimated norms (``--lr 0.001 --roots 8000
  --steps-per-epoch 20`` here, without the norms).
  Several processes through ``torchrun`` (see below).
* ``proteins`` (``proteins/gnn.py``, GCN, 72.51 +- 0.35 ROC-AUC): node features
  = mean of the 8 features of the node's edges; full-batch GCN on the binary
  adjacency with self-loops, symmetrically normalised once, 3 layers,
  256 hidden, no dropout, Adam lr 0.01, 1000 epochs, BCE over the 112 tasks,
  evaluated every 5 epochs; ROC-AUC averaged over the tasks.

OGB graphs are read by :class:`geoconv.datasets.OGBNodeDataset` (OGB's released
files under ``<data root>/ogb/ogbn_<name>/``, downloaded when absent) and scored
by ``ogb.nodeproppred.Evaluator``, unchanged.  ``--dataset tolokers`` (or
``twitch-DE``) runs the same training code on a graph stored here: the
published split ``seed mod S``, z-scored features, ROC-AUC for binary targets
(as the datasets' papers), the mean of edge features appended only where a
graph has some.  ``--fixture`` trains on a small graph written in OGB's exact
layout into a temporary folder (:func:`~geoconv.datasets.ogb_node.write_ogb_node_fixture`).

Profiles: (default) the reference setting with 1 seed; ``--full`` the reference
setting with 10 seeds (OGB's ``--runs 10``); ``--quick`` the fixture for ogbn-*
datasets, 5 epochs, 32 hidden channels, 1 seed.  Explicit options override a profile::

    python -m geoconv.tasks.ogbn --recipe arxiv --quick
    python -m geoconv.tasks.ogbn --recipe arxiv --full                     # ogbn-arxiv, 10 x 500 epochs
    python -m geoconv.tasks.ogbn --recipe products --full
    torchrun --nproc_per_node=4 -m geoconv.tasks.ogbn --recipe products --full
    python -m geoconv.tasks.ogbn --recipe proteins --full
    python -m geoconv.tasks.ogbn --recipe arxiv --dataset tolokers --epochs 50

Multi-process (products only): each process builds the sampler with the same
seed and draws its own subgraphs (``set_rank``); DistributedDataParallel
averages the gradients; rank 0 evaluates and writes the record
(:mod:`geoconv.sampling.distributed`, as ``examples/graphsaint.py``).

Estimated full-profile times (ESTIMATES, not measurements of the real data, which is
not on this machine): ``benchmarks/ogbn_epoch.py`` trains each recipe's own code on a
uniform random graph of the dataset's size (proteins and products at 10 % of the
nodes and edges, same average degree, evaluation extrapolated) on 1 thread of a
shared 2-core CPU: arxiv 10.2 s per training epoch + 3.4 s per evaluation, 10 x 500
epochs ~19 h; products 169 s per epoch (30 subgraphs of 20,000 roots; a lower bound:
real random-walk subgraphs hold more edges) + ~120 s per full-graph evaluation,
10 x 20 epochs ~11 h; proteins 27 s per epoch + 10 s per evaluation, 10 x 1000
epochs ~81 h.  The default profile (1 seed) takes a tenth; more CPU threads or
``torchrun`` processes (products) divide these.  On one GPU (not measured here; a
~50x speed-up over one CPU core assumed for these sparse and dense products) the
full profiles would take roughly 20 min (arxiv), 1 h (products, sampling on the
CPU) and 2 h (proteins).  Full-graph evaluation of products holds a few
``[2,449,029, 256]`` float32 activations (2.5 GB each).  The last JSON line
printed is the record (:func:`geoconv.experiment.finish`).
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed
import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.data import Graph
from geoconv.experiment import base_parser, finish, mean_std, progress, set_seed, setup
from geoconv.metrics import roc_auc
from geoconv.nn import GCNConv, SAGEConv
from geoconv.ops import SparseAdjacency, gcn_norm, remove_self_loops, scatter, to_undirected
from geoconv.sampling import GraphSAINTRandomWalkSampler, barrier, init_distributed, shutdown


@dataclass(frozen=True)
class Recipe:
    """One OGB reference setting (the values of the reference script's arguments)."""

    dataset: str
    model: str  # "gcn" or "sage"
    batch_norm: bool
    hidden_channels: int
    num_layers: int
    dropout: float
    lr: float
    epochs: int
    eval_every: int
    eval_start: int  # first epoch evaluated (products: 10)
    sampler: bool  # GraphSAINT random walks instead of full batch
    runs: int = 10


RECIPES = {
    "arxiv": Recipe("ogbn-arxiv", model="gcn", batch_norm=True, hidden_channels=256, num_layers=3, dropout=0.5,
                    lr=0.01, epochs=500, eval_every=1, eval_start=1, sampler=False),
    "products": Recipe("ogbn-products", model="sage", batch_norm=False, hidden_channels=256, num_layers=3, dropout=0.5,
                       lr=0.01, epochs=20, eval_every=2, eval_start=10, sampler=True),
    "proteins": Recipe("ogbn-proteins", model="gcn", batch_norm=False, hidden_channels=256, num_layers=3, dropout=0.0,
                       lr=0.01, epochs=1000, eval_every=5, eval_start=1, sampler=False),
}
# products: GraphSAINT random walks (reference --batch_size 20000 --walk_length 3 --num_steps 30)
SAINT_DEFAULTS = {"roots": 20000, "walk_length": 3, "steps_per_epoch": 30}
QUICK = {"epochs": 5, "hidden_channels": 32, "seeds": 1, "roots": 16, "steps_per_epoch": 4}


class NodeModel(nn.Module):
    """GCNConv or SAGEConv stack; hidden layers are followed by [batch norm], ReLU, dropout.

    Args:
        in_channels: as in :class:`geoconv.models.GCN`.
        hidden_channels: as in :class:`geoconv.models.GCN`.
        out_channels: as in :class:`geoconv.models.GCN`.
        num_layers: as in :class:`geoconv.models.GCN`.
        dropout: as in :class:`geoconv.models.GCN`.
        conv: ``"gcn"`` (GCNConv on a precomputed normalised :class:`~geoconv.ops.SparseAdjacency`)
            or ``"sage"`` (:class:`~geoconv.nn.SAGEConv`, mean adjacency).
        batch_norm: BatchNorm1d after every hidden convolution (OGB's arxiv GCN).
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int, dropout: float,
                 *, conv: str = "gcn", batch_norm: bool = False) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        sizes = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        if conv == "gcn":
            layers = [GCNConv(a, b, normalize=False, add_self_loops=False) for a, b in zip(sizes[:-1], sizes[1:])]
        elif conv == "sage":
            layers = [SAGEConv(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
        else:
            raise ValueError(f"conv must be 'gcn' or 'sage', got {conv!r}")
        self.convs = nn.ModuleList(layers)
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden_channels) for _ in range(num_layers - 1)) if batch_norm else None
        self.dropout = dropout

    def reset_parameters(self) -> None:
        for module in [*self.convs, *(self.norms or [])]:
            module.reset_parameters()

    def forward(self, x: Tensor, adjacency: SparseAdjacency) -> Tensor:
        for i, conv in enumerate(self.convs[:-1]):
            x = conv(x, adjacency)
            if self.norms is not None:
                x = self.norms[i](x)
            x = F.dropout(F.relu(x), self.dropout, self.training)
        return self.convs[-1](x, adjacency)


def propagation(graph: Graph, conv: str) -> SparseAdjacency:
    """The adjacency the model multiplies with: GCN's D^-1/2 (A + I) D^-1/2 or SAGE's mean."""
    if conv == "sage":
        return SAGEConv.mean_adjacency(graph.edge_index, graph.num_nodes)
    edge_index, weight = gcn_norm(graph.edge_index, None, graph.num_nodes)
    return SparseAdjacency(edge_index, weight, graph.num_nodes)


# ---------------------------------------------------------------- data


@dataclass
class Task:
    """A prepared graph (``x``, ``edge_index``, ``y``, masks) and how to score it."""

    graph: Graph
    dataset: str
    metric: str  # "acc" or "rocauc"
    multilabel: bool  # BCE over task columns (proteins) instead of softmax cross-entropy
    num_outputs: int
    evaluate: object  # (y_true, y_pred) -> score in [0, 1]


def edge_feature_mean(edge_index: Tensor, edge_attr: Tensor, num_nodes: int) -> Tensor:
    """Mean of the features of the edges arriving at each node (OGB proteins' ``adj_t.mean(dim=1)``)."""
    return scatter(edge_attr.float(), edge_index[1], 0, num_nodes, "mean")


def load_ogb(name: str, root: str | None, recipe: str) -> Task:
    from geoconv.datasets import OGBNodeDataset

    dataset = OGBNodeDataset(name, root=root, download=True, to_undirected=(recipe == "arxiv"))
    x = dataset.x if "x" in dataset else None
    if "edge_attr" in dataset:
        mean = edge_feature_mean(dataset.edge_index, dataset.edge_attr, dataset.num_nodes)
        x = mean if x is None else torch.cat([x, mean], dim=1)
    graph = Graph(x=x.float(), edge_index=dataset.edge_index, y=dataset.y,
                  node_data={m: getattr(dataset, m) for m in ("train_mask", "val_mask", "test_mask")})
    multilabel = dataset.num_tasks > 1
    return Task(graph, name, dataset.eval_metric, multilabel,
                dataset.num_tasks if multilabel else dataset.num_classes, dataset.evaluate)


def load_local(name: str, root: str | None, seed: int, recipe: str) -> Task:
    """tolokers or twitch-<LANG>: published split ``seed mod S``, z-scored features; under the proteins
    recipe a binary target is one BCE task scored by ROC-AUC (the proteins loss), else softmax classes."""
    from geoconv import datasets

    family, _, which = name.partition("-")
    if family == "tolokers":
        base = datasets.HeterophilousGraph("tolokers", root=root)
    elif family == "twitch":
        base = datasets.Twitch(which.upper(), root=root)
    else:
        raise ValueError(f"unknown dataset {name!r}: use ogbn-arxiv, ogbn-products, ogbn-proteins, tolokers or twitch-<LANG>")
    column = seed % base.train_mask.shape[1]
    masks = {m: getattr(base, m)[:, column] for m in ("train_mask", "val_mask", "test_mask")}
    x = base.x.float()
    x = (x - x.mean(0)) / x.std(0).clamp(min=1e-6)
    edge_index, _ = to_undirected(remove_self_loops(base.edge_index)[0], None, base.num_nodes)
    num_classes = int(base.y.max()) + 1
    metric = "rocauc" if num_classes == 2 else "acc"
    multilabel = recipe == "proteins" and num_classes == 2
    graph = Graph(x=x, edge_index=edge_index, y=base.y.view(-1, 1) if multilabel else base.y, node_data=masks)

    def evaluate(y_true: Tensor, y_pred: Tensor) -> float:
        if metric == "acc":
            return float((y_true.reshape(-1) == y_pred.reshape(-1)).float().mean())
        return roc_auc(y_pred.reshape(-1), y_true.reshape(-1))

    return Task(graph, name, metric, multilabel, 1 if multilabel else num_classes, evaluate)


# ---------------------------------------------------------------- training


def loss_of(task: Task, logits: Tensor, y: Tensor) -> Tensor:
    if task.multilabel:
        return F.binary_cross_entropy_with_logits(logits, y.float())
    return F.cross_entropy(logits, y)


@torch.no_grad()
def evaluate(model: nn.Module, task: Task, adjacency: SparseAdjacency) -> dict[str, float]:
    """Full-graph scores (percent) of the three split parts, by the task's evaluator."""
    model.eval()
    logits = model(task.graph.x, adjacency).cpu()
    if task.multilabel:
        prediction = logits  # OGB's ROC-AUC takes scores
    elif task.metric == "rocauc":
        prediction = logits.softmax(-1)[:, 1]
    else:
        prediction = logits.argmax(-1)
    y = task.graph.y.cpu()
    return {part: 100.0 * task.evaluate(y[mask], prediction[mask])
            for part, mask in (("train", task.graph.train_mask.cpu()), ("val", task.graph.val_mask.cpu()),
                               ("test", task.graph.test_mask.cpu()))}


def train_one(task: Task, recipe: Recipe, args: argparse.Namespace, seed: int, context) -> dict:
    """One run; returns the test score at the best validation score and the per-epoch times (rank 0)."""
    set_seed(seed)
    graph = task.graph
    model = NodeModel(graph.x.shape[1], args.hidden_channels, task.num_outputs, args.num_layers, args.dropout,
                      conv=recipe.model, batch_norm=recipe.batch_norm).to(context.device)
    full_adjacency = propagation(graph, recipe.model)
    distributed = recipe.sampler and context.is_distributed
    module = nn.parallel.DistributedDataParallel(model) if distributed else model
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    torch.manual_seed(seed * 7919 + context.rank)  # own dropout masks on every rank
    sampler = None
    if recipe.sampler:
        # sample_coverage=0: no GraphSAINT norms, as OGB's reference (plain mean loss over the subgraph's training nodes)
        sampler = GraphSAINTRandomWalkSampler(graph, args.roots, walk_length=args.walk_length,
                                              num_steps=args.steps_per_epoch, sample_coverage=0, seed=seed)
        sampler.set_rank(context.rank)
    best, curve, epoch_seconds = {"val": -math.inf}, [], []
    for epoch in progress(range(1, args.epochs + 1), disable=args.no_progress or not context.is_main,
                          desc=f"{task.dataset} seed {seed}"):
        module.train()
        start = time.perf_counter()
        losses = []
        if sampler is None:
            optimizer.zero_grad()
            train = graph.train_mask
            loss = loss_of(task, module(graph.x, full_adjacency)[train], graph.y[train])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        else:
            sampler.set_epoch(epoch)
            for sub in sampler:
                if not bool(sub.train_mask.any()):
                    continue
                optimizer.zero_grad()
                logits = module(sub.x, propagation(sub, recipe.model))
                loss = loss_of(task, logits[sub.train_mask], sub.y[sub.train_mask])
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
        epoch_seconds.append(time.perf_counter() - start)
        curve.append(sum(losses) / max(len(losses), 1))
        due = epoch >= args.eval_start and epoch % args.eval_every == 0
        if context.is_main and (due or epoch == args.epochs):
            scores = evaluate(model, task, full_adjacency)
            if scores["val"] > best["val"]:
                best = {**scores, "epoch": epoch}
    record = {"seed": seed, "curve": curve, "epoch_seconds": epoch_seconds}
    if context.is_main:
        record.update(best_val=best["val"], test_at_best_val=best["test"], train_at_best_val=best["train"],
                      best_epoch=best["epoch"])
    if distributed:
        # DDP all-reduces the gradients, so every rank must hold the same parameters after training.
        flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
        gathered = [torch.empty_like(flat) for _ in range(context.world_size)]
        torch.distributed.all_gather(gathered, flat)
        record["parameters_identical_across_ranks"] = all(torch.equal(gathered[0], g) for g in gathered)
    return record


def build_parser() -> argparse.ArgumentParser:
    parser = base_parser(__doc__, epochs=0, seeds=0)
    parser.set_defaults(epochs=None, seeds=None)
    parser.add_argument("--recipe", choices=sorted(RECIPES), required=True, help="OGB reference recipe")
    parser.add_argument("--dataset", default=None,
                        help="ogbn-arxiv | ogbn-products | ogbn-proteins | tolokers | twitch-<LANG> (default: the recipe's)")
    profile = parser.add_mutually_exclusive_group()
    profile.add_argument("--quick", action="store_true", help="fixture files for ogbn-*, 5 epochs, 32 hidden, 1 seed")
    profile.add_argument("--full", action="store_true", help="the reference setting over 10 seeds")
    parser.add_argument("--fixture", action="store_true", help="train on a small graph written in OGB's layout to a temp folder")
    parser.add_argument("--hidden-channels", type=int, default=None, help="hidden width (default: the recipe's, 256)")
    parser.add_argument("--num-layers", type=int, default=None, help="layers (default: the recipe's, 3)")
    parser.add_argument("--dropout", type=float, default=None, help="dropout (default: the recipe's)")
    parser.add_argument("--lr", type=float, default=None, help="Adam learning rate (default: the recipe's, 0.01)")
    parser.add_argument("--eval-every", type=int, default=None, help="evaluate every k epochs (default: the recipe's)")
    parser.add_argument("--eval-start", type=int, default=None, help="first epoch evaluated (default: the recipe's)")
    parser.add_argument("--roots", type=int, default=None, help="products: walk roots per subgraph (default 20000)")
    parser.add_argument("--walk-length", type=int, default=None, help="products: steps per walk (default 3)")
    parser.add_argument("--steps-per-epoch", type=int, default=None, help="products: subgraphs per epoch (default 30)")
    return parser


def resolve(args: argparse.Namespace) -> Recipe:
    """Fill unset options from the recipe and the profile (explicit options win)."""
    recipe = RECIPES[args.recipe]
    values = {"hidden_channels": recipe.hidden_channels, "num_layers": recipe.num_layers, "dropout": recipe.dropout,
              "lr": recipe.lr, "epochs": recipe.epochs, "eval_every": recipe.eval_every, "eval_start": recipe.eval_start,
              "seeds": recipe.runs if args.full else 1, **SAINT_DEFAULTS}
    if args.quick:
        values.update(QUICK, eval_start=1)
    for key, value in values.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.dataset = args.dataset or recipe.dataset
    args.fixture = args.fixture or (args.quick and args.dataset.startswith("ogbn-"))
    return recipe


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    recipe = resolve(args)
    setup(args)
    context = init_distributed("cuda" if str(args.device).startswith("cuda") else "cpu")
    if context.is_distributed and not recipe.sampler:
        raise SystemExit(f"recipe {args.recipe} trains full-batch on one process; only products uses several (torchrun)")
    try:
        with tempfile.TemporaryDirectory(prefix="geoconv-ogbn-") as scratch:
            root = args.data_root
            if args.fixture:
                if not args.dataset.startswith("ogbn-"):
                    raise SystemExit("--fixture writes an ogbn-* dataset; choose --dataset ogbn-arxiv|ogbn-products|ogbn-proteins")
                from geoconv.datasets.ogb_node import write_ogb_node_fixture

                # Written by rank 0 only would race; every rank writes its own copy of the same seeded files.
                root = str(Path(scratch) / f"rank{context.rank}")
                write_ogb_node_fixture(args.dataset, root, num_nodes=300, num_edges=1500, num_features=16)
            runs = []
            ogb_task = load_ogb(args.dataset, root, args.recipe) if args.dataset.startswith("ogbn-") else None
            for seed in range(args.seeds):
                # OGB has one split; the local graphs have several (seed k uses split k mod S)
                task = ogb_task or load_local(args.dataset, root, seed, args.recipe)
                task.graph = task.graph.to(context.device)
                runs.append(train_one(task, recipe, args, seed, context))
            barrier(context)
        if not context.is_main:
            return 0
        val_mean, val_std = mean_std([r["best_val"] for r in runs])
        seconds = [s for r in runs for s in r["epoch_seconds"]]
        finish(args, {
            "task": "ogbn",
            "dataset": args.dataset + (" (fixture)" if args.fixture else ""),
            "model": f"{recipe.model}{'-bn' if recipe.batch_norm else ''}{'-graphsaint-rw' if recipe.sampler else ''}",
            "metric": "test_" + {"rocauc": "roc_auc"}.get(task.metric, task.metric),  # one spelling: test_roc_auc
            "higher_is_better": True,
            "values": [round(r["test_at_best_val"], 2) for r in runs],
            "seeds": args.seeds,
            "curves": {"train_loss": [r["curve"] for r in runs]},
            "recipe": args.recipe,
            "metric_description": f"test {task.metric} (%) at the best validation epoch, full-graph evaluation",
            "world_size": context.world_size,
            "val_mean": round(val_mean, 2), "val_std": round(val_std, 2),
            "best_epoch_per_seed": [r["best_epoch"] for r in runs],
            "median_epoch_seconds": round(statistics.median(seconds), 4) if seconds else None,
            "num_nodes": task.graph.num_nodes, "num_edges": task.graph.num_edges,
            **({"parameters_identical_across_ranks": all(r["parameters_identical_across_ranks"] for r in runs)}
               if context.world_size > 1 and recipe.sampler else {}),
        })
        return 0
    finally:
        shutdown(context)


if __name__ == "__main__":
    raise SystemExit(main())
