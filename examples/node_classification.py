"""Tutorial: classify the papers of a citation graph with a GCN (Kipf & Welling, ICLR 2017).

Cora is one graph: 2,708 papers (nodes) with bag-of-words features, 10,556
citation links (directed edges, both ways), 7 topics.  140 labelled papers
train the model; it is scored on 1,000 others.  The paper's setting: 2 layers,
16 hidden units, dropout 0.5, Adam (lr 0.01, weight decay 5e-4 on the first
layer), 200 epochs, test accuracy of the last epoch (Cora 81.5, CiteSeer 70.3).

    python examples/node_classification.py --dataset cora --seeds 10

The last line printed is a JSON record with test_acc_mean / test_acc_std (percent).
The same run, without this file: ``python -m geoconv.tasks.node_classification``
(or ``geoconv train node-classification``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone without installing

from geoconv.data.transforms import normalize_features  # noqa: E402
from geoconv.datasets import Planetoid  # noqa: E402
from geoconv.experiment import progress, set_seed, setup  # noqa: E402
from geoconv.models import GCN  # noqa: E402
from geoconv.tasks import node_classification as task  # noqa: E402


@torch.no_grad()
def accuracy(model: GCN, x: torch.Tensor, graph, mask: torch.Tensor) -> float:
    """Percent of the nodes in ``mask`` whose predicted class is right."""
    model.eval()
    prediction = model.forward_tensors(x, graph.edge_index).argmax(dim=-1)
    return 100.0 * (prediction[mask] == graph.y[mask]).float().mean().item()


def main(argv: list[str] | None = None) -> dict:
    # The task's options: --dataset, --hidden-channels, --num-layers, --lr, --epochs, --seeds, --threads, ...
    args = task.build_parser().parse_args(argv)
    setup(args)

    # 1. Data: one Graph with x [N, C], edge_index [2, E], y [N] and train / val / test masks.
    dataset = Planetoid(args.dataset, root=args.data_root)
    graph = normalize_features(dataset).to(args.device)  # each paper's word counts sum to 1
    # Bag-of-words features are mostly zeros: as a sparse matrix, dropout draws only the stored entries.
    x = graph.x.to_sparse()

    results = []
    for seed in range(args.seeds):
        set_seed(seed)
        # 2. Model: GCN layers h' = D^-1/2 (A + I) D^-1/2 h W, with ReLU and dropout between them.
        model = GCN(graph.x.shape[1], args.hidden_channels, dataset.num_classes, num_layers=args.num_layers,
                    dropout=args.dropout, cached=True).to(args.device)
        # Weight decay on the first layer only, as in the paper's code.
        optimizer = torch.optim.Adam([
            {"params": model.convs[0].parameters(), "weight_decay": args.weight_decay},
            {"params": [p for conv in model.convs[1:] for p in conv.parameters()], "weight_decay": 0.0},
        ], lr=args.lr)

        # 3. Training: full batch, the loss only on the labelled training nodes.
        for _ in progress(range(args.epochs), disable=args.no_progress, desc=f"seed {seed}"):
            model.train()
            optimizer.zero_grad()
            out = model.forward_tensors(x, graph.edge_index)
            loss = F.cross_entropy(out[graph.train_mask], graph.y[graph.train_mask])
            loss.backward()
            optimizer.step()

        # 4. Evaluation: accuracy of the last epoch's model on the validation and test nodes.
        results.append({"val": accuracy(model, x, graph, graph.val_mask),
                        "test": accuracy(model, x, graph, graph.test_mask)})
        print(f"seed {seed}: test accuracy {results[-1]['test']:.2f} %", file=sys.stderr)

    # 5. The record: mean and std over seeds, settings, versions; printed as the last line (and to --out).
    return task.record(args, results)


if __name__ == "__main__":
    main()
