"""Tutorial: predict a property of molecules with a graph network (MoleculeNet / OGB).

Each molecule is a small graph: atoms are nodes (x: atom features), bonds are
edges (edge_attr: bond features), and a batch of molecules is one disconnected
graph.  Models:
  gcn          OGB's GCN baseline: 5 bond-aware GCN layers, 300 channels, mean pooling per molecule
  gcn-virtual  the same with a virtual node linked to every atom
  nfp          neural graph fingerprint (Duvenaud et al. 2015) + MLP
The reported test score is the one at the epoch of the best validation score.

    python examples/molecular_property.py --dataset bbbp --model gcn --split scaffold --seeds 3 --epochs 30
    python examples/molecular_property.py --dataset ogbg-molhiv --model gcn --seeds 1 --epochs 5 --threads 1

The last line printed is a JSON record (metric, test_mean / test_std over seeds, per-seed values, settings).
Ensembles, EMA of the weights, cosine learning rates, time limits and the Morgan-fingerprint MLP live in
the task (``python -m geoconv.tasks.molecules --help``); this script hands such runs to it.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone without installing

from geoconv.data import DataLoader  # noqa: E402
from geoconv.experiment import progress, set_seed, setup  # noqa: E402
from geoconv.models import NeuralFingerprintNet, OGBMolGNN  # noqa: E402
from geoconv.tasks import molecules as task  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    args = task.apply_model_defaults(task.build_parser().parse_args(argv))
    if args.model == "morgan-mlp" or args.ensemble > 1 or args.ema or args.cosine or args.time_limit:
        return task.main(argv)  # the experiment options beyond this tutorial
    setup(args)

    # 1. Data: a list of molecule graphs with y [1, T] (T targets, NaN where a label is missing) and the
    #    metric of the dataset (RMSE for regression, ROC-AUC for classification).
    start = time.perf_counter()
    dataset, args.task_type, evaluate, higher = task.load(args)
    prepare_time = time.perf_counter() - start
    y, num_targets = dataset.y, dataset.y.shape[1]

    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    results = []
    for seed in seeds:
        # Train / validation / test molecules (random or scaffold split; OGB's fixed split for ogbg-*).
        split = task.split_of(dataset, args, seed)
        parts = {name: dataset[index] for name, index in split.items()}
        # Regression targets are standardised with the training molecules' mean and std.
        mean, std = task.target_scaling(y[split["train"]], args.task_type)

        # 2. Model: message passing over the bonds, then one vector per molecule (pooling), then a linear head.
        set_seed(seed)
        if args.model == "nfp":
            model = NeuralFingerprintNet(
                dataset[0].x.shape[1], args.hidden_channels, num_targets, num_layers=args.num_layers,
                dropout=args.dropout, edge_channels=dataset[0].edge_attr.shape[1],
                fingerprint_length=args.fingerprint_length, head_channels=args.head_channels,
                categorical=dataset[0].x.dtype == torch.long, normalize=not args.no_batch_norm)
        else:
            model = OGBMolGNN(dataset[0].x.shape[1], args.hidden_channels, num_targets, num_layers=args.num_layers,
                              dropout=args.dropout, virtual_node=args.model == "gcn-virtual")
        model = model.to(args.device)
        optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)

        # 3. Training: mini-batches of molecules; after each epoch, score validation and test.
        generator = torch.Generator().manual_seed(seed)
        best = {"valid": -math.inf if higher else math.inf, "test": math.nan, "epoch": -1}
        started = time.perf_counter()
        for epoch in progress(range(args.epochs), disable=args.no_progress, desc=f"seed {seed}"):
            model.train()
            for batch in DataLoader(parts["train"], batch_size=args.batch_size, shuffle=True, generator=generator):
                batch = batch.to(args.device)
                if len(batch.y) < 2 and isinstance(model, OGBMolGNN):
                    continue  # batch normalisation needs two molecules
                optimizer.zero_grad()
                # Mean squared error (regression) or binary cross-entropy (classification) over known labels.
                loss = task.masked_loss(model(batch), batch.y, args.task_type, mean, std)
                loss.backward()
                optimizer.step()

            # 4. Evaluation: keep the test score of the epoch with the best validation score.
            scores = {name: evaluate(y[split[name]], task.predict(model, parts[name], args, mean, std))
                      for name in ("valid", "test")}
            if (scores["valid"] > best["valid"]) if higher else (scores["valid"] < best["valid"]):
                best = {**scores, "epoch": epoch}
        best.update(epochs_run=args.epochs, train_time_s=round(time.perf_counter() - started, 1))
        results.append(best)
        print(f"seed {seed}: test {best['test']:.4f} (best validation epoch {best['epoch']})", file=sys.stderr)

    # 5. The record: metric, mean and std over seeds, settings, versions; the last line printed (and --out).
    return task.record(args, dataset, seeds, results, prepare_time)


if __name__ == "__main__":
    main()
