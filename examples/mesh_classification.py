"""Tutorial: classify triangle meshes with MeshCNN (Hanocka et al., SIGGRAPH 2019).

MeshCNN works on the EDGES of a mesh: each edge has 5 geometric features (dihedral
angle, two inner angles, two edge-length ratios) and exactly four neighbouring
edges (the other sides of its two triangles).  Mesh convolutions mix an edge with
its four neighbours in an order-invariant way; mesh pooling collapses the edges
the network finds least important, so the mesh itself gets coarser layer by layer.

Datasets: ``offline`` (default) is a GENERATED set built on this machine, not a published benchmark
(5 procedural shape classes and 3 real meshes of the data root, randomly rotated, scaled, jittered and
decimated to 750 edges); ``shrec16`` / ``shrec10`` / ``cubes`` are MeshCNN's releases.

    python examples/mesh_classification.py --dataset offline --epochs 30 --threads 1
    python examples/mesh_classification.py --dataset shrec16 --epochs 200 --augment

The last line printed is a JSON record with test_acc_mean / test_acc_std (percent).
``python -m geoconv.tasks.mesh`` runs the same.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone without installing

from geoconv.data import Batch  # noqa: E402
from geoconv.data.mesh_transforms import MeshAugment  # noqa: E402
from geoconv.experiment import progress, set_seed, setup  # noqa: E402
from geoconv.models import MeshCNNClassifier  # noqa: E402
from geoconv.tasks import mesh as task  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    # --dataset, --hidden-channels (per layer), --pool (edges left after each pooling), --lr, --epochs, ...
    args = task.apply_dataset_defaults(task.build_parser().parse_args(argv))
    setup(args)

    # 1. Data: meshes as (pos [V, 3], face [F, 3], label); a train / test split of each class.
    train, test, names, description = task.load(args)
    print(f"dataset: {description}; {len(train)} train / {len(test)} test meshes", file=sys.stderr)

    results = []
    for seed in range(args.seeds):
        set_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        # Mesh graphs: one node per mesh edge, edge_attr = its 5 features, standardised with the
        # training meshes' mean and std.
        plain = task.to_graphs(train, None, None, features=args.features)
        features = torch.cat([g.edge_attr for g in plain])
        mean, std = features.mean(0), features.std(0).clamp(min=1e-6)
        train_graphs = task.to_graphs(train, None, None, mean, std, features=args.features)
        test_graphs = task.to_graphs(test, None, None, mean, std, features=args.features)

        # 2. Model: mesh convolutions with residual blocks and group norm, a pooling after each width,
        #    a mean over the remaining edges, then an MLP classifier.
        model = MeshCNNClassifier(5, task.ints(args.hidden_channels), len(names),
                                  pool_targets=task.ints(args.pool), head_channels=args.head_channels, blocks=args.blocks, norm=args.norm, groups=args.groups)
        optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999))

        # 3. Training: shuffled mini-batches of meshes; with --augment, the training meshes are re-drawn
        #    every epoch (scaling, edge flips, vertex slides).
        augment = MeshAugment() if args.augment else None
        for _ in progress(range(args.epochs), disable=args.no_progress, desc=f"seed {seed}"):
            if augment is not None:
                train_graphs = task.to_graphs(train, augment, generator, mean, std, features=args.features)
            model.train()
            order = torch.randperm(len(train_graphs), generator=generator).tolist()
            for start in range(0, len(order), args.batch_size):
                batch = Batch.from_graphs([train_graphs[i] for i in order[start:start + args.batch_size]])
                optimizer.zero_grad()
                loss = F.cross_entropy(model(batch), batch.y)
                loss.backward()
                optimizer.step()

        # 4. Evaluation: accuracy of the last epoch's model.
        results.append({"train": task.accuracy(model, train_graphs, args.batch_size),
                        "test": task.accuracy(model, test_graphs, args.batch_size)})
        print(f"seed {seed}: test accuracy {results[-1]['test']:.2f} %", file=sys.stderr)

    # 5. The record (mean / std over seeds, settings, versions): the last line printed, and --out.
    return task.record(args, train, test, names, description, results)


if __name__ == "__main__":
    main()
