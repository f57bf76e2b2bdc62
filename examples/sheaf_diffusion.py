"""Tutorial: node classification on heterophilic graphs with Neural Sheaf Diffusion (Bodnar et al., NeurIPS 2022).

On a heterophilic graph linked nodes tend to have DIFFERENT labels (web pages of
Texas, Wisconsin, Cornell; film actors), so a GCN that averages neighbours blurs
the classes.  A sheaf gives every node a small vector space (a stalk of dimension
d) and every edge learned restriction maps between the stalks of its ends; the
diffusion x <- x - sigma(Delta_F (I (x) W1) x W2) then moves features along edges
through those maps, which can flip or rotate them instead of averaging.  The maps
are diagonal (``diag``), orthogonal (``bundle``, O(d)) or general d x d (``general``).

Each dataset has 10 fixed 60/20/20 splits; the figure is the test accuracy at the best
validation epoch (early stopping), mean and std over the splits.  Per-dataset defaults are
the paper's released configurations (see ``python -m geoconv.tasks.sheaf_diffusion --help``).

    python examples/sheaf_diffusion.py --dataset texas --model bundle --threads 1
    python examples/sheaf_diffusion.py --dataset wisconsin --model gcn --splits 3

The last line printed is a JSON record with test_acc_mean / test_acc_std (percent).
Random hyper-parameter search: ``python -m geoconv.tasks.sheaf_diffusion_sweep``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone without installing

from geoconv.data.transforms import normalize_features  # noqa: E402
from geoconv.datasets import GeomGCNGraph  # noqa: E402
from geoconv.experiment import progress, set_seed, setup  # noqa: E402
from geoconv.models import GCN  # noqa: E402
from geoconv.tasks import sheaf_diffusion as task  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    # --dataset, --model, --splits, --stalk-dim, --hidden-channels, --num-layers, --lr, --epochs, ...; unset
    # options come from the dataset's released configuration.
    args = task.parse_args(argv)
    setup(args)

    # 1. Data: one graph, row-normalised features, and its 10 standard splits (masks).
    dataset = GeomGCNGraph(args.dataset, root=args.data_root)
    features = normalize_features(dataset).x

    results = []
    for split in range(args.splits):
        graph = dataset.with_split(split).replace(x=features).to(args.device)
        for seed in range(args.seeds):
            set_seed(split * 1000 + seed)
            # 2. Model: sheaf diffusion layers with their restriction-map learners (or a 2-layer GCN baseline).
            if args.model == "gcn":
                model = GCN(graph.x.shape[1], args.hidden_channels, dataset.num_classes, num_layers=2,
                            dropout=args.dropout, cached=True)
            else:
                model = task.MODELS[args.model](
                    graph.x.shape[1], args.hidden_channels, dataset.num_classes, stalk_dim=args.stalk_dim,
                    num_layers=args.num_layers, dropout=args.dropout, input_dropout=args.input_dropout,
                    second_linear=args.second_linear, left_weights=args.left_weights,
                    right_weights=args.right_weights, use_act=args.use_act, normalize=args.normalised,
                    add_low_pass=args.low_pass, add_high_pass=args.high_pass, orthogonal_map=args.orthogonal_map,
                    edge_weights=args.edge_weights and args.model == "bundle", cached=True)
            model = model.to(args.device)
            # The sheaf learners get their own weight decay (--sheaf-decay).
            optimizer = torch.optim.Adam(task.parameter_groups(model, args), lr=args.lr)

            # 3. Training: full batch; stop when the validation loss (or accuracy) has not improved for
            #    --patience epochs.
            best, bad_epochs = (-1.0, float("inf")), 0
            result = {"val": 0.0, "test": 0.0, "epoch": 0}
            for epoch in progress(range(args.epochs), disable=args.no_progress, desc=f"split {split}"):
                model.train()
                optimizer.zero_grad()
                logits = model.forward_tensors(graph.x, graph.edge_index)
                loss = F.cross_entropy(logits[graph.train_mask], graph.y[graph.train_mask])
                loss.backward()
                optimizer.step()

                # 4. Evaluation every epoch: (accuracy, loss) per mask; keep the test accuracy of the best epoch.
                scores = task.evaluate(model, graph)
                val_acc, val_loss = scores["val"]
                if args.stop_on == "loss":
                    improved = val_loss < best[1]
                else:  # accuracy, ties broken by the lower loss
                    improved = val_acc > best[0] or (val_acc == best[0] and val_loss < best[1])
                if improved:
                    best, bad_epochs = (val_acc, val_loss), 0
                    result = {"val": val_acc, "test": scores["test"][0], "epoch": epoch}
                else:
                    bad_epochs += 1
                    if bad_epochs >= args.patience:
                        break
            results.append({**result, "epochs_run": epoch + 1})
            print(f"split {split} seed {seed}: test {result['test']:.2f} val {result['val']:.2f} "
                  f"best epoch {result['epoch']}", file=sys.stderr, flush=True)

    # 5. The record (mean / std over splits, per-run values, configuration): the last line printed, and --out.
    return task.record(args, results)


if __name__ == "__main__":
    main()
