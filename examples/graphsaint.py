"""Tutorial: train a GCN on sampled subgraphs with GraphSAINT (Zeng et al., ICLR 2020), beside full batch.

A large graph may not fit in memory for full-batch training.  GraphSAINT trains on
small subgraphs instead (drawn by node, by edge or by short random walks) and
corrects the bias of the sampling with two normalisations the sampler computes:
``edge_norm`` (1 / alpha) multiplies the weight of each subgraph edge, and
``node_norm`` (1 / lambda) weights the loss of each sampled node.  Evaluation runs
on the full graph; the test score is taken at the best validation score.

Default graph: tolokers (11,758 nodes, 519,000 edges, binary target, ROC-AUC, ten published splits; seed k
uses split k mod 10).  ``twitch-<LANG>`` and ``fb100-<Name>`` also work.

    python examples/graphsaint.py --threads 1                  # node, edge, rw samplers and full batch, 3 seeds
    python examples/graphsaint.py --sampler rw --dataset fb100-Reed98 --seeds 1 --epochs 20

The last line printed is a JSON record (test score per mode, loss curves).  Several processes
(DistributedDataParallel): ``torchrun --nproc_per_node=2 -m geoconv.tasks.graphsaint --sampler rw``.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone without installing

from geoconv.experiment import progress, set_seed, setup  # noqa: E402
from geoconv.tasks import graphsaint as task  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    # --dataset, --sampler node edge rw, --hidden-channels, --num-layers, --lr, --epochs, --seeds, --roots, ...
    args = task.build_parser().parse_args(argv)
    setup(args)

    # 1. Data: one graph with x, edge_index, y and [N, S] masks of S published splits.
    base = task.load(args.dataset, args.data_root)
    args.metric = "roc_auc" if int(base.y.max()) == 1 else "accuracy"

    results = {mode: [] for mode in task.modes_of(args)}
    for seed in range(args.seeds):
        # One split, standardised features, and the GCN weights D^-1/2 (A + I) D^-1/2 of every edge.
        graph = task.prepare(base, seed, args.standardize).to(args.device)
        full_adjacency = task.adjacency(graph)
        num_train = int(graph.train_mask.sum())
        for mode in results:
            # 2. Model: GCN layers on precomputed edge weights; the same initialisation for every mode.
            set_seed(seed)
            model = task.GCN(graph.x.shape[1], args.hidden_channels, int(graph.y.max()) + 1, args.num_layers,
                             args.dropout).to(args.device)
            optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
            torch.manual_seed(seed * 7919)  # dropout masks (the task offsets this seed by the process rank)
            sampler = None
            if mode != "full":
                sampler = task.make_sampler(mode, graph, args, seed)  # computes the norms once
                sampler.set_rank(0)

            # 3. Training: one full-batch step per epoch, or one step per sampled subgraph.
            start = task.evaluate(model, graph, full_adjacency, args.metric)
            best, curve = {"val": -math.inf}, []
            for epoch in progress(range(args.epochs), disable=args.no_progress, desc=f"{mode} seed {seed}"):
                model.train()
                losses = []
                if sampler is None:
                    optimizer.zero_grad()
                    logits = model(graph.x, full_adjacency)
                    loss = F.cross_entropy(logits[graph.train_mask], graph.y[graph.train_mask])
                    loss.backward()
                    optimizer.step()
                    losses.append(loss.item())
                else:
                    sampler.set_epoch(epoch)
                    for sub in sampler:  # a Graph with node_id, edge_norm, node_norm and the masks
                        optimizer.zero_grad()
                        logits = model(sub.x, task.adjacency(sub, sub.edge_norm))
                        per_node = F.cross_entropy(logits, sub.y.clamp(min=0), reduction="none")
                        # sum of CE / lambda over the subgraph's training nodes, / |train|: unbiased for the mean CE
                        loss = (per_node * sub.node_norm * sub.train_mask).sum() / num_train
                        loss.backward()
                        optimizer.step()
                        losses.append(loss.item())
                curve.append(sum(losses) / len(losses))

                # 4. Evaluation on the full graph every --eval-every epochs; keep the best validation epoch.
                if (epoch + 1) % args.eval_every == 0 or epoch + 1 == args.epochs:
                    scores = task.evaluate(model, graph, full_adjacency, args.metric)
                    if scores["val"] > best["val"]:
                        best = {**scores, "epoch": epoch + 1}
            end = task.evaluate(model, graph, full_adjacency, args.metric)
            run = {"mode": mode, "seed": seed, "curve": curve, "best_val": best["val"],
                   "test_at_best_val": best["test"], "best_epoch": best["epoch"], "final_test": end["test"],
                   "train_loss_start": start["train_loss"], "train_loss_end": end["train_loss"]}
            if sampler is not None:
                run.update(steps_per_epoch=sampler.num_steps, num_presampled=sampler.num_presampled)
            results[mode].append(run)
            print(f"{mode} seed {seed}: test {best['test']:.2f}", file=sys.stderr)

    # 5. The record (mean / std per mode, gap to full batch, loss curves): the last line printed, and --out.
    return task.record(args, results)


if __name__ == "__main__":
    main()
