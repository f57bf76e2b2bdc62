"""Time of the OGB node-property recipes (geoconv/tasks/ogbn.py) on random graphs of the OGB sizes.

The ogbn-* data are not on this machine, so the full-profile run times are
*estimated*: a random graph with the dataset's number of nodes, undirected
edges and input channels (times ``--scale``, average degree kept) is trained
with the recipe's own code (:func:`geoconv.tasks.ogbn.train_one`) for a few
epochs (products: ``--steps`` of its 30 GraphSAINT subgraphs of 20,000 roots),
and one full-graph evaluation forward is timed.  Full-batch epochs and the
evaluation scale with the graph (divided by ``--scale``); a products step
depends on the subgraph (20,000 roots), not on N, and is not rescaled.  A
uniform random graph has no communities, so random-walk subgraphs of products
hold fewer edges than on the real graph: its figure is a lower bound.

Prints one JSON line: ``train_epoch_seconds`` and ``eval_seconds`` measured,
``full_epoch_seconds`` / ``full_eval_seconds`` extrapolated to the real size, and
``full_profile_hours`` = 10 runs x (epochs x epoch + evaluations x evaluation).
Timings on a CPU shared with other jobs are upper bounds.

    python benchmarks/ogbn_epoch.py --recipe arxiv --threads 2
    python benchmarks/ogbn_epoch.py --recipe proteins --scale 0.1 --epochs 2
    python benchmarks/ogbn_epoch.py --recipe products --scale 0.1 --steps 3
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geoconv import benchmarking  # noqa: E402
from geoconv.data import Graph  # noqa: E402
from geoconv.ops import to_undirected  # noqa: E402
from geoconv.sampling import init_distributed  # noqa: E402
from geoconv.tasks import ogbn  # noqa: E402

# nodes, undirected edges (pairs), input channels, outputs, multi-label (OGB's dataset statistics)
SIZES = {
    "arxiv": (169_343, 1_157_799, 128, 40, False),  # to_symmetric: 2,315,598 directed edges
    "products": (2_449_029, 61_859_140, 100, 47, False),
    "proteins": (132_534, 39_561_252, 8, 112, True),
}


def random_task(recipe: str, scale: float, seed: int = 0) -> ogbn.Task:
    nodes, pairs, channels, outputs, multilabel = SIZES[recipe]
    num_nodes, num_pairs = max(int(nodes * scale), 100), max(int(pairs * scale), 100)
    generator = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, num_nodes, (2, num_pairs), generator=generator)
    edge_index, _ = to_undirected(edge_index[:, edge_index[0] != edge_index[1]], None, num_nodes)
    x = torch.randn(num_nodes, channels, generator=generator)
    if multilabel:
        y = torch.randint(0, 2, (num_nodes, outputs), generator=generator)
    else:
        y = torch.randint(0, outputs, (num_nodes,), generator=generator)
    order = torch.randperm(num_nodes, generator=generator)
    masks = {}
    for name, part in zip(("train_mask", "val_mask", "test_mask"), order.tensor_split([num_nodes // 2, 3 * num_nodes // 4])):
        masks[name] = torch.zeros(num_nodes, dtype=torch.bool).index_fill_(0, part, True)
    graph = Graph(x=x, edge_index=edge_index, y=y, node_data=masks)
    # Scoring is not what is timed: a cheap accuracy stands in for OGB's evaluator.
    return ogbn.Task(graph, f"random-{recipe}", "acc", multilabel, outputs,
                     lambda y_true, y_pred: float((y_true.reshape(-1) == y_pred.reshape(-1)).float().mean()))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", choices=sorted(SIZES), required=True)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the nodes and edges (default 1)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs timed (full batch; default 3)")
    parser.add_argument("--steps", type=int, default=3, help="products: subgraphs timed (default 3)")
    # --repeats / --warmup are accepted for the shared vocabulary; the epochs above are the repeats here.
    benchmarking.add_arguments(parser, repeats=1, warmup=0)
    args = parser.parse_args(argv)
    benchmarking.setup(args)
    recipe = ogbn.RECIPES[args.recipe]
    task = random_task(args.recipe, args.scale)
    options = argparse.Namespace(
        hidden_channels=recipe.hidden_channels, num_layers=recipe.num_layers, dropout=recipe.dropout, lr=recipe.lr,
        epochs=1 if recipe.sampler else args.epochs, eval_every=10**9, eval_start=10**9, no_progress=True,
        roots=ogbn.SAINT_DEFAULTS["roots"], walk_length=ogbn.SAINT_DEFAULTS["walk_length"], steps_per_epoch=args.steps,
    )
    context = init_distributed("cuda" if str(args.device).startswith("cuda") else "cpu")
    if not context.is_distributed:  # alone, the device asked for (cuda:1 included); under torchrun, the rank's GPU
        context = dataclasses.replace(context, device=torch.device(args.device))
    task.graph = task.graph.to(context.device)
    run = ogbn.train_one(task, recipe, options, 0, context)
    model = ogbn.NodeModel(task.graph.x.shape[1], recipe.hidden_channels, task.num_outputs, recipe.num_layers,
                           recipe.dropout, conv=recipe.model, batch_norm=recipe.batch_norm).to(context.device)
    adjacency = ogbn.propagation(task.graph, recipe.model)
    start = time.perf_counter()
    ogbn.evaluate(model, task, adjacency)
    benchmarking.synchronize(context.device)
    eval_seconds = time.perf_counter() - start
    if recipe.sampler:
        epoch = run["epoch_seconds"][0] * ogbn.SAINT_DEFAULTS["steps_per_epoch"] / args.steps
        full_epoch = epoch  # per-subgraph cost does not depend on N
    else:
        epoch = statistics.median(run["epoch_seconds"])
        full_epoch = epoch / args.scale
    full_eval = eval_seconds / args.scale
    evaluations = len(range(recipe.eval_start, recipe.epochs + 1, recipe.eval_every)) if recipe.eval_every else recipe.epochs
    hours = recipe.runs * (recipe.epochs * full_epoch + evaluations * full_eval) / 3600.0
    figures = {
        "train_epoch_seconds": round(epoch, 3), "eval_seconds": round(eval_seconds, 3),
        "full_epoch_seconds": round(full_epoch, 2), "full_eval_seconds": round(full_eval, 2),
        "full_profile_hours": round(hours, 2),
    }
    extra = {
        "recipe": args.recipe, "scale": args.scale, "num_nodes": task.graph.num_nodes, "num_edges": task.graph.num_edges,
        "evaluations_per_run": evaluations, "runs": recipe.runs, "epochs_per_run": recipe.epochs, **figures,
        "note": "estimate: random graph of the OGB size",
    }
    return benchmarking.finish(args, suite="ogbn-epoch", dataset=f"random graph of ogbn-{args.recipe}'s size",
                               model=args.recipe + " recipe", figures=figures, extra=extra).to_dict()


if __name__ == "__main__":
    main()
