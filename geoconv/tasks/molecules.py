"""Molecular property prediction: neural graph fingerprints, Morgan fingerprints + MLP, OGB's GCN.

Datasets: MoleculeNet (esol, freesolv, lipophilicity, bbbp, bace, hiv, tox21, clintox, sider)
and OGB (ogbg-molhiv, ogbg-molesol, ...; scored with ogb.graphproppred.Evaluator).
Models:
  nfp          neural graph fingerprint (Duvenaud et al. 2015) + MLP; Duvenaud's 62/6 one-hot
               features on MoleculeNet, OGB's embedded integer features on ogbg-*
  morgan-mlp   ECFP4 (radius 2, 2048 bits, RDKit fingerprint generator) + 2-layer MLP
  gcn          OGB's GCN baseline: 5 BondGCNConv layers, 300 channels, dropout 0.5, mean pooling
  gcn-virtual  the same with a virtual node

The reported test score is the one at the epoch of the best validation score.

  # Duvenaud's ESOL setting: 5 random 80/10/10 splits (paper: RMSE 0.52 +- 0.07)
  python -m geoconv.tasks.molecules --dataset esol --model nfp --seeds 5
  # the ESOL configuration with the best validation RMSE here (5-model ensembles per split)
  python -m geoconv.tasks.molecules --dataset esol --model nfp --seeds 5 --features ogb --hidden-channels 96 \
      --num-layers 2 --batch-size 16 --lr 0.003 --fingerprint-length 64 --cosine --ema 0.99 --epochs 60 --ensemble 5
  # OGB leaderboard recipe (GCN 0.7606 +- 0.0097 ROC-AUC over 10 seeds, 100 epochs)
  python -m geoconv.tasks.molecules --dataset ogbg-molhiv --model gcn --seeds 10 --epochs 100
  # reduced setting for a CPU
  python -m geoconv.tasks.molecules --dataset ogbg-molhiv --model gcn --seeds 1 --epochs 5 --threads 1

The last line printed is a JSON record (test metric mean / std over seeds, per-seed values, settings).
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from geoconv.chem import morgan_fingerprints
from geoconv.data import DataLoader
from geoconv.datasets import MoleculeNet, OGBMolDataset
from geoconv.experiment import finish, mean_std, progress, set_seed, setup
from geoconv.metrics import mean_roc_auc
from geoconv.models import FingerprintMLP, NeuralFingerprintNet, OGBMolGNN
from geoconv.tasks.options import add_option, task_parser

MODELS = ("nfp", "morgan-mlp", "gcn", "gcn-virtual")
# Published numbers: geoconv.catalogue.PUBLISHED (what `geoconv report` compares with).


def load(args):
    """(dataset, task_type, evaluate(y_true, y_pred) -> float, higher_is_better)."""
    if args.dataset.startswith("ogbg-"):
        dataset = OGBMolDataset(args.dataset, root=args.data_root)
        higher = dataset.eval_metric != "rmse"
        return dataset, dataset.task_type, dataset.evaluate, higher
    features = args.features or ("duvenaud" if args.model == "nfp" else "ogb")
    dataset = MoleculeNet(args.dataset, root=args.data_root, features=features)
    if dataset.task_type == "regression":
        return dataset, "regression", rmse, False
    return dataset, "classification", mean_roc_auc, True


def rmse(y_true: torch.Tensor, y_pred: torch.Tensor) -> float:
    mask = ~torch.isnan(y_true)
    return math.sqrt(float(((y_true[mask] - y_pred[mask]) ** 2).mean()))


def masked_loss(out: torch.Tensor, y: torch.Tensor, task_type: str, mean: torch.Tensor, std: torch.Tensor):
    mask = ~torch.isnan(y)
    if task_type == "regression":
        return F.mse_loss(out[mask], ((y - mean) / std)[mask])
    return F.binary_cross_entropy_with_logits(out[mask], y[mask])


def build_model(args, dataset, num_tasks: int):
    if args.model == "nfp":
        categorical = dataset[0].x.dtype == torch.long
        return NeuralFingerprintNet(
            dataset[0].x.shape[1], args.hidden_channels, num_tasks, num_layers=args.num_layers, dropout=args.dropout,
            edge_channels=dataset[0].edge_attr.shape[1], fingerprint_length=args.fingerprint_length,
            head_channels=args.head_channels, categorical=categorical, normalize=not args.no_batch_norm)
    return OGBMolGNN(dataset[0].x.shape[1], args.hidden_channels, num_tasks, num_layers=args.num_layers,
                     dropout=args.dropout,
                     virtual_node=args.model == "gcn-virtual")


@torch.no_grad()
def predict(model, data, args, mean, std, fingerprints=None) -> torch.Tensor:
    model.eval()
    outputs = []
    if fingerprints is not None:
        for start in range(0, len(data), 1024):
            outputs.append(model.forward_tensors(fingerprints[data[start:start + 1024]]))
    else:
        for batch in DataLoader(data, batch_size=256):
            outputs.append(model(batch.to(args.device)).cpu())
    out = torch.cat(outputs)
    return out * std + mean if args.task_type == "regression" else out


def train_model(args, model, dataset, split, parts, evaluate, higher, seed: int, mean, std, fingerprints=None,
                desc: str = "") -> dict:
    """Train one model; returns its best-validation epoch, scores, weights and (valid, test) predictions."""
    y = dataset.y
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.epochs) if args.cosine else None
    best = {"valid": -math.inf if higher else math.inf, "test": math.nan, "epoch": -1, "predictions": None}
    generator = torch.Generator().manual_seed(seed)
    # --ema: the scores (and the selected epoch) are those of an exponential moving average of the weights
    averaged = (torch.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(args.ema), use_buffers=True)
        if args.ema else None)
    started = time.perf_counter()
    epochs_run = 0
    for epoch in progress(range(args.epochs), disable=args.no_progress, desc=desc):
        if args.time_limit and time.perf_counter() - started > 60 * args.time_limit:
            break  # bounded wall time: the record states how many epochs ran
        epochs_run = epoch + 1
        model.train()
        if fingerprints is not None:
            order = split["train"][torch.randperm(len(split["train"]), generator=generator)]
            batches = [(fingerprints[order[i:i + args.batch_size]], y[order[i:i + args.batch_size]])
                       for i in range(0, len(order), args.batch_size)]
        else:
            loader = DataLoader(parts["train"], batch_size=args.batch_size, shuffle=True, generator=generator)
            batches = ((batch.to(args.device), None) for batch in loader)
        for inputs, targets in batches:
            if targets is None:
                targets = inputs.y
                if len(targets) < 2 and isinstance(model, OGBMolGNN):
                    continue  # BatchNorm needs two graphs
            optimizer.zero_grad()
            out = model.forward_tensors(inputs) if fingerprints is not None else model(inputs)
            loss = masked_loss(out, targets.to(args.device), args.task_type, mean, std)
            loss.backward()
            optimizer.step()
            if averaged is not None:
                averaged.update_parameters(model)
        if scheduler is not None:
            scheduler.step()
        scored = averaged.module if averaged is not None else model
        predictions = {name: predict(scored, parts[name], args, mean, std, fingerprints) for name in ("valid", "test")}
        scores = {name: evaluate(y[split[name]], predictions[name]) for name in ("valid", "test")}
        if (scores["valid"] > best["valid"]) if higher else (scores["valid"] < best["valid"]):
            best = {"valid": scores["valid"], "test": scores["test"], "epoch": epoch, "predictions": predictions}
    best["epochs_run"] = epochs_run
    best["train_time_s"] = round(time.perf_counter() - started, 1)
    return best


def split_of(dataset, args: argparse.Namespace, seed: int) -> dict[str, torch.Tensor]:
    """Seed ``seed``'s train / valid / test indices (OGB datasets have one fixed scaffold split)."""
    split = dataset.splits() if isinstance(dataset, OGBMolDataset) else dataset.splits(args.split, seed=seed)
    return {"train": split["train"], "valid": split["val"], "test": split["test"]}  # the task's record keys


def target_scaling(train_y: torch.Tensor, task_type: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, std) per target of the training molecules for regression (labels missing as NaN); (0, 1) else."""
    if task_type == "regression":
        mean = torch.nanmean(train_y, 0)
        return mean, torch.nanmean((train_y - mean) ** 2, 0).sqrt().clamp(min=1e-6)
    return torch.zeros(train_y.shape[1]), torch.ones(train_y.shape[1])


def run_seed(args, dataset, evaluate, higher, seed: int, fingerprints=None) -> dict:
    """Train ``args.ensemble`` models on seed ``seed``'s split; with more than one, the scores are those of
    the mean of the members' predictions, each member taken at its own best validation epoch."""
    split = split_of(dataset, args, seed)
    y = dataset.y
    mean, std = target_scaling(y[split["train"]], args.task_type)
    num_tasks = y.shape[1]
    parts = {name: (index if fingerprints is not None else dataset[index]) for name, index in split.items()}
    members = []
    for member in range(args.ensemble):
        member_seed = seed if member == 0 else 1000 * seed + member  # member 0 is the single-model run
        set_seed(member_seed)
        if args.model == "morgan-mlp":
            model = FingerprintMLP(fingerprints.shape[1], args.head_channels, num_tasks, dropout=args.dropout)
        else:
            model = build_model(args, dataset, num_tasks)
        desc = f"seed {seed}" + (f" member {member}" if args.ensemble > 1 else "")
        members.append(train_model(args, model.to(args.device), dataset, split, parts, evaluate, higher,
                                   member_seed, mean, std, fingerprints, desc))
    result = {key: members[0][key] for key in ("valid", "test", "epoch", "epochs_run", "train_time_s")}
    if args.ensemble > 1:
        for name in ("valid", "test"):
            # a classification ensemble averages probabilities, a regression ensemble the predictions
            outputs = [m["predictions"][name] for m in members]
            if args.task_type != "regression":
                outputs = [torch.sigmoid(o) for o in outputs]
            result[name] = evaluate(y[split[name]], torch.stack(outputs).mean(0))
        result["member_test"] = [m["test"] for m in members]
        result["member_valid"] = [m["valid"] for m in members]
        result["epoch"] = [m["epoch"] for m in members]
        result["train_time_s"] = round(sum(m["train_time_s"] for m in members), 1)
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = task_parser(__doc__, epochs=150, seeds=5, hidden_channels=None, num_layers=None, lr=1e-3,
                         hidden_help="hidden width (default: 300 gcn, 128 nfp)",
                         layers_help="message-passing layers (default: 5 gcn, 4 nfp)")
    parser.add_argument("--dataset", default="esol")
    parser.add_argument("--model", default="nfp", choices=MODELS)
    parser.add_argument("--split", default="random", choices=["random", "scaffold"],
                        help="MoleculeNet split (ogbg-* always use OGB's scaffold split)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: 32 (gcn), 64 (nfp), 128 (morgan-mlp)")
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--dropout", type=float, default=None, help="default: 0.5 (gcn), 0.0 (nfp), 0.2 (morgan-mlp)")
    parser.add_argument("--fingerprint-length", type=int, default=128)
    parser.add_argument("--features", default=None, choices=["duvenaud", "ogb"],
                        help="MoleculeNet atom features (default: duvenaud for nfp, ogb otherwise)")
    parser.add_argument("--cosine", action="store_true", help="cosine learning-rate decay to 0 over the epochs")
    parser.add_argument("--first-seed", type=int, default=0, help="run seeds first-seed .. first-seed + seeds - 1")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="stop a seed's training after this many minutes (the record lists the epochs run)")
    add_option(parser, "--head-channels", aliases=("--mlp-hidden",), type=int, default=None,
               help="width of the MLP after the readout (default: 100 nfp, 512 morgan-mlp)")
    parser.add_argument("--ema", type=float, default=None, metavar="DECAY",
                        help="score an exponential moving average of the weights (e.g. 0.99) instead of the weights")
    parser.add_argument("--no-batch-norm", action="store_true", help="nfp: no batch normalisation in the layers")
    parser.add_argument("--ensemble", type=int, default=1,
                        help="models per seed (different initialisations), scored by their mean prediction; "
                             "the record also lists each member's own score")
    return parser


def apply_model_defaults(args: argparse.Namespace) -> argparse.Namespace:
    """Fill the options left at None with the chosen model's defaults."""
    gcn = args.model.startswith("gcn")
    defaults = {
        "batch_size": 32 if gcn else (64 if args.model == "nfp" else 128),
        "dropout": 0.5 if gcn else (0.0 if args.model == "nfp" else 0.2),
        "hidden_channels": 300 if gcn else 128, "num_layers": 5 if gcn else 4,
        "head_channels": 512 if args.model == "morgan-mlp" else 100,
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = apply_model_defaults(build_parser().parse_args(argv))
    setup(args)
    start = time.perf_counter()
    dataset, args.task_type, evaluate, higher = load(args)
    fingerprints = morgan_fingerprints(dataset.smiles, radius=2, size=2048) if args.model == "morgan-mlp" else None
    prepare_time = time.perf_counter() - start
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    results = [run_seed(args, dataset, evaluate, higher, seed, fingerprints) for seed in seeds]
    return record(args, dataset, seeds, results, prepare_time)


def record(args: argparse.Namespace, dataset, seeds: Sequence[int], results: Sequence[dict[str, Any]],
           prepare_time: float) -> dict[str, Any]:
    """Print and write (``--out``) the run's record from each seed's result (``valid``, ``test``, ``epoch``,
    ``epochs_run``, ``train_time_s`` and, for an ensemble, ``member_test``)."""
    test = [r["test"] for r in results]
    test_mean, test_std = mean_std(test)
    metric = getattr(dataset, "eval_metric", "rmse" if args.task_type == "regression" else "rocauc")
    return finish(args, {
        "task": "molecular_property",
        "dataset": args.dataset,
        "model": args.model,
        "metric": "test_" + {"rocauc": "roc_auc"}.get(metric, metric),  # one spelling: test_roc_auc
        "higher_is_better": metric != "rmse",
        "split": "ogb-scaffold" if isinstance(dataset, OGBMolDataset) else args.split,
        "data_source": getattr(dataset, "source", None),
        "num_molecules": len(dataset),
        "num_invalid_smiles": dataset.num_invalid,
        "seeds": seeds,
        "epochs": args.epochs,
        "epochs_run_per_seed": [r["epochs_run"] for r in results],
        "train_time_s_per_seed": [r["train_time_s"] for r in results],
        "test_mean": round(test_mean, 4),
        "test_std": round(test_std, 4),
        "values": [round(v, 4) for v in test],
        "valid_per_seed": [round(r["valid"], 4) for r in results],
        "best_epoch_per_seed": [r["epoch"] for r in results],
        **({"ensemble": args.ensemble,
            "member_test_per_seed": [[round(v, 4) for v in r["member_test"]] for r in results],
            "member_test_mean": round(mean_std([v for r in results for v in r["member_test"]])[0], 4)}
           if args.ensemble > 1 else {}),
        "prepare_time_s": round(prepare_time, 1),
    })


if __name__ == "__main__":
    main()
