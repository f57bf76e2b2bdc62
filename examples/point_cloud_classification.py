"""Tutorial: classify 3-D point clouds with DGCNN (Wang et al., ACM TOG 2019).

A point cloud is a graph without edges: x = pos [N, 3].  DGCNN's EdgeConv layers
build a k-nearest-neighbour graph on the fly, in coordinate space for the first
layer and in feature space for the next ones, and compute for each point
max over neighbours j of MLP(x_i, x_j - x_i); a max and a mean over the points
then give one vector per cloud for the classifier.

    python examples/point_cloud_classification.py --dataset modelnet40_hdf5          # the paper's benchmark
    python examples/point_cloud_classification.py --dataset shapes --num-points 256 --k 10 --epochs 15 --threads 1

``--dataset shapes`` is an offline stand-in (clouds sampled from three real meshes of the data root and five
generated shapes; NOT a published benchmark).  The last line printed is a JSON record with the overall and
mean class test accuracy (percent) of the last epoch.  ``python -m geoconv.tasks.point_cloud`` runs the same.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone without installing

from geoconv.data import DataLoader  # noqa: E402
from geoconv.datasets import GraphDataset  # noqa: E402
from geoconv.experiment import progress, set_seed, setup  # noqa: E402
from geoconv.models import DGCNN  # noqa: E402
from geoconv.tasks import point_cloud as task  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    # --dataset, --num-points, --k, --embedding-channels, --lr, --epochs, --batch-size, ...
    args = task.build_parser().parse_args(argv)
    setup(args)

    # 1. Data: clouds of --num-points points (pos [P, 3]) and a class y; training clouds are randomly
    #    stretched and shifted each time they are drawn (the paper's augmentation).
    train, test, classes, note = task.load(args)
    print(f"dataset: {note}; {len(train)} train / {len(test)} test clouds", file=sys.stderr)

    results = []
    for seed in range(args.seeds):
        set_seed(seed)
        # 2. Model: four EdgeConv layers on dynamic k-NN graphs, then pooling and an MLP classifier.
        model = DGCNN(3, (64, 64, 128, 256), len(classes), dropout=args.dropout, k=args.k,
                      embedding_channels=args.embedding_channels).to(args.device)
        if args.optimizer == "sgd":  # the paper: SGD with momentum, cosine annealing to lr / 100
            optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=args.weight_decay)
        else:  # the reference code's alternative: Adam with lr / 100
            optimizer = torch.optim.Adam(model.parameters(), lr=args.lr / 100, weight_decay=args.weight_decay)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.epochs, eta_min=args.lr / 100)

        # 3. Training: mini-batches of clouds (one disconnected graph per batch), label-smoothed cross-entropy.
        generator = torch.Generator().manual_seed(seed)
        train_loader = DataLoader(train, batch_size=args.batch_size, shuffle=True,
                                  drop_last=len(train) > args.batch_size, generator=generator)
        for _ in progress(range(args.epochs), disable=args.no_progress, desc=f"seed {seed}"):
            model.train()
            for batch in train_loader:
                batch = batch.to(args.device)
                optimizer.zero_grad()
                loss = F.cross_entropy(model(batch), batch.y.view(-1), label_smoothing=args.label_smoothing)
                loss.backward()
                optimizer.step()
            scheduler.step()

        # 4. Evaluation: overall and mean per-class accuracy on the test clouds (and on the unaugmented
        #    training clouds, to see over- or under-fitting).
        result = task.evaluate(model, DataLoader(test, batch_size=args.batch_size), len(classes), args.device)
        unaugmented = DataLoader(GraphDataset(train.graphs), batch_size=args.batch_size)
        result["train_overall_acc"] = task.evaluate(model, unaugmented, len(classes), args.device)["overall_acc"]
        results.append(result)
        print(f"seed {seed}: test accuracy {result['overall_acc']:.2f} %", file=sys.stderr)

    # 5. The record (mean / std over seeds, settings, versions): the last line printed, and --out.
    return task.record(args, train, test, classes, note, results)


if __name__ == "__main__":
    main()
