"""Tutorial: predict a quantum-chemical property of small molecules with eSCN (QM9).

QM9 holds 130,831 molecules of up to 9 heavy atoms: atomic numbers z [N], 3-D positions
pos [N, 3], and 19 targets per molecule (U0: energy at 0 K, gap: HOMO-LUMO gap, ...).
eSCN (Passaro & Zitnick, ICML 2023) links atoms closer than a cutoff and passes
rotation-equivariant messages (spherical-harmonic features up to degree lmax),
computed cheaply as SO(2) convolutions in each edge's own frame.  The baseline is the
same network with lmax = 0 (invariant features only, SchNet-like).  A target is fitted
as y = sum over atoms of b_Z + std * model: the per-element offsets b_Z come from a
least-squares fit on the training molecules, so the network learns the residual.

On a CPU, use a training subset and a few epochs (the published setting is 110,000 training molecules and
hundreds of GPU epochs):

    python examples/qm9.py --target U0 --train-size 2000 --val-size 300 --test-size 1000 --epochs 3 \\
        --batch-size 8 --lr 2e-3 --hidden-channels 16 --num-layers 2 --threads 1

The last line printed is a JSON record with ``test_mae`` per model in the target's unit.
``python -m geoconv.tasks.qm9`` runs the same.
"""

from __future__ import annotations

import copy
import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone without installing

from geoconv.data import DataLoader  # noqa: E402
from geoconv.datasets.qm9 import TARGETS  # noqa: E402
from geoconv.experiment import progress, set_seed, setup  # noqa: E402
from geoconv.models import ESCN  # noqa: E402
from geoconv.ops import scatter  # noqa: E402
from geoconv.tasks import qm9 as task  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    # --target, --model escn|invariant|both, --train-size, --lmax, --hidden-channels, --num-layers, --lr, ...
    args = task.build_parser().parse_args(argv)
    setup(args)
    target = TARGETS.index(args.target)

    # 1. Data: molecules with z, pos and the radius graph (edge_index within --cutoff Å); the standard split.
    dataset, splits = task.load(args)
    loaders = {name: DataLoader(dataset[splits[name]], batch_size=2 * args.batch_size) for name in ("val", "test")}

    runs = {}
    for name in task.model_names(args):
        runs[name] = []
        for seed in range(args.seeds):
            set_seed(seed)
            # 2. Model: eSCN with the degrees lmax / orders mmax of its features (0 / 0: the invariant baseline).
            lmax = 0 if name == "invariant" else args.lmax
            mmax = 0 if name == "invariant" else (min(args.lmax, 2) if args.mmax is None else args.mmax)
            model = ESCN(10, args.hidden_channels, 1, num_layers=args.num_layers, lmax=lmax, mmax=mmax,
                         cutoff=args.cutoff, avg_num_neighbors=args.avg_num_neighbors).to(args.device)
            torch.nn.init.zeros_(model.head[-1].weight)  # start from the offsets: an untrained model predicts 0
            offsets, scale = task.element_offsets(dataset, splits["train"], target)
            offsets = offsets.to(args.device)

            # 3. Training: L1 loss on the scaled residual; AdamW, linear warm-up then cosine decay per step.
            generator = torch.Generator().manual_seed(seed)
            train_loader = DataLoader(dataset[splits["train"]], batch_size=args.batch_size, shuffle=True,
                                      generator=generator)
            optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
            total_steps = max(args.epochs * len(train_loader), 1)
            warmup = min(200, total_steps // 10)
            schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: (
                (step + 1) / (warmup + 1) if step < warmup
                else 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(total_steps - warmup, 1)))))
            best_val, best_state = float("inf"), None
            for epoch in range(args.epochs):
                model.train()
                for batch in progress(train_loader, disable=args.no_progress, desc=f"{name} epoch {epoch + 1}"):
                    batch = batch.to(args.device)
                    optimizer.zero_grad()
                    base = scatter(offsets[batch.z], batch.batch, dim=0, dim_size=batch.num_graphs)
                    residual = (batch.y[:, target].double() - base) / scale
                    loss = (model(batch)[:, 0].double() - residual).abs().mean()
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
                    optimizer.step()
                    schedule.step()
                # 4. Evaluation: keep the weights of the epoch with the best validation MAE.
                val_mae = task.mean_absolute_error(model, loaders["val"], offsets, scale, target, args.device)
                print(f"{name} epoch {epoch + 1}: validation MAE {val_mae:.2f}", file=sys.stderr)
                if val_mae < best_val:
                    best_val, best_state = val_mae, copy.deepcopy(model.state_dict())
            model.load_state_dict(best_state)
            runs[name].append({
                "test_mae": task.mean_absolute_error(model, loaders["test"], offsets, scale, target, args.device),
                "best_val_mae": best_val, "lmax": lmax, "mmax": mmax,
                "parameters": sum(p.numel() for p in model.parameters()),
                "offsets_only_test_mae": task.mean_absolute_error(task.ZeroModel(), loaders["test"], offsets, scale,
                                                                  target, args.device),
            })

    # 5. The record (test MAE per model, settings, versions): the last line printed, and --out.
    return task.record(args, splits, runs)


if __name__ == "__main__":
    main()
