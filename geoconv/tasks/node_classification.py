"""GCN node classification on a Planetoid graph (Kipf & Welling, ICLR 2017).

The paper's setting: 2 layers, 16 hidden units, dropout 0.5, Adam with lr 0.01
and weight decay 5e-4 on the first layer's weights, 200 epochs, row-normalised
features, the public split; the test accuracy of the last epoch (paper: Cora
81.5, CiteSeer 70.3, PubMed 79.0).

    python -m geoconv.tasks.node_classification --dataset cora --seeds 10
    geoconv train node-classification --full

The last line printed is a JSON record with test_acc_mean / test_acc_std (percent).
"""

from __future__ import annotations

import argparse
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from geoconv.data import Graph
from geoconv.data.transforms import normalize_features
from geoconv.datasets import Planetoid
from geoconv.experiment import finish, mean_std, progress, set_seed, setup
from geoconv.models import GCN
from geoconv.tasks.options import task_parser

# Published accuracies: geoconv.catalogue.PUBLISHED (what `geoconv report` compares with).


def build_parser() -> argparse.ArgumentParser:
    parser = task_parser(__doc__, epochs=200, seeds=10, hidden_channels=16, num_layers=2, lr=0.01)
    parser.add_argument("--dataset", default="cora", choices=["cora", "citeseer", "pubmed"])
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--weight-decay", type=float, default=5e-4, help="on the first layer only (default 5e-4)")
    return parser


def build_model(args: argparse.Namespace, in_channels: int, out_channels: int) -> GCN:
    return GCN(in_channels, args.hidden_channels, out_channels, num_layers=args.num_layers, dropout=args.dropout,
               cached=True)


def build_optimizer(model: GCN, args: argparse.Namespace) -> torch.optim.Optimizer:
    """Adam with weight decay on the first layer only, as in the paper's code."""
    return torch.optim.Adam(
        [
            {"params": model.convs[0].parameters(), "weight_decay": args.weight_decay},
            {"params": [p for conv in model.convs[1:] for p in conv.parameters()], "weight_decay": 0.0},
        ],
        lr=args.lr,
    )


@torch.no_grad()
def evaluate(model: GCN, graph: Graph) -> dict[str, float]:
    """Accuracy (%) on the train / val / test masks."""
    model.eval()
    prediction = model.forward_tensors(graph.x.to_sparse(), graph.edge_index).argmax(dim=-1)
    correct = prediction == graph.y
    return {
        split: 100.0 * correct[getattr(graph, f"{split}_mask")].float().mean().item()
        for split in ("train", "val", "test")
    }


def train_one_seed(graph: Graph, num_classes: int, args: argparse.Namespace, seed: int) -> dict[str, float]:
    set_seed(seed)
    model = build_model(args, graph.x.shape[1], num_classes).to(args.device)
    optimizer = build_optimizer(model, args)
    # Bag-of-words features as a sparse matrix: dropout then draws only the stored entries.
    x, edge_index, y = graph.x.to_sparse(), graph.edge_index, graph.y
    best_val, test_at_best_val = 0.0, 0.0
    for _ in progress(range(args.epochs), disable=args.no_progress, desc=f"seed {seed}"):
        model.train()
        optimizer.zero_grad()
        out = model.forward_tensors(x, edge_index)
        loss = F.cross_entropy(out[graph.train_mask], y[graph.train_mask])
        loss.backward()
        optimizer.step()
        accuracies = evaluate(model, graph)
        if accuracies["val"] >= best_val:
            best_val, test_at_best_val = accuracies["val"], accuracies["test"]
    final = evaluate(model, graph)
    return {"test": final["test"], "val": final["val"], "test_at_best_val": test_at_best_val}


def record(args: argparse.Namespace, results: Sequence[dict[str, float]]) -> dict[str, Any]:
    """Print and write (``--out``) the run's record from each seed's ``{"test": ..., "val": ...}``."""
    test = [r["test"] for r in results]
    test_mean, test_std = mean_std(test)
    val_mean, _ = mean_std([r["val"] for r in results])
    return finish(args, {
        "task": "node_classification",
        "dataset": args.dataset,
        "model": "gcn",
        "seeds": args.seeds,
        "test_acc_mean": round(test_mean, 2),
        "test_acc_std": round(test_std, 2),
        "val_acc_mean": round(val_mean, 2),
        "values": [round(v, 2) for v in test],
        "metric_description": "accuracy (%) of the last epoch on the public split",
    })


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = build_parser().parse_args(argv)
    setup(args)
    dataset = Planetoid(args.dataset, root=args.data_root)
    graph = normalize_features(dataset).to(args.device)
    results = [train_one_seed(graph, dataset.num_classes, args, seed) for seed in range(args.seeds)]
    return record(args, results)


if __name__ == "__main__":
    main()
