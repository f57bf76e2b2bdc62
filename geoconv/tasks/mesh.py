"""MeshCNN mesh classification (Hanocka et al., SIGGRAPH 2019).

Datasets:

* ``offline`` (default): a GENERATED set built on this machine, not a published
  benchmark: 5 procedural shape classes (sphere, torus, box, cylinder, cone) and
  3 real meshes from ../shared/data/meshes (Stanford bunny with its holes capped,
  fandisk, SHREC armadillo T54), each sample randomly rotated, anisotropically
  scaled, jittered and decimated to 750 edges
  (:func:`geoconv.datasets.mesh_shapes.offline_shape_classes`); stratified 75/25 split.
* ``shrec16`` / ``shrec10`` / ``cubes``: MeshCNN's releases (downloaded into the data root).
  Paper setting: channels 64 128 256 256, pooling 600 450 300 180 (Cubes: 210 last),
  group norm, 1 residual block, Adam lr 2e-4, batch 16, 200 epochs with 20 augmented
  copies per mesh; published accuracy 98.6% (SHREC split 16), 91.0% (split 10), 92.16% (Cubes).

    python -m geoconv.tasks.mesh --dataset offline --epochs 30 --threads 1
    python -m geoconv.tasks.mesh --dataset shrec16 --epochs 200 --augment

The last line printed is a JSON record with test_acc_mean / test_acc_std (percent).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from geoconv.data import Batch
from geoconv.data.mesh import mesh_graph
from geoconv.data.mesh_transforms import MeshAugment
from geoconv.datasets import MeshClassificationDataset
from geoconv.datasets.base import data_root
from geoconv.datasets.mesh_shapes import offline_shape_classes
from geoconv.experiment import finish, mean_std, progress, set_seed, setup
from geoconv.models import MeshCNNClassifier
from geoconv.tasks.options import add_option, task_parser

# Published accuracies: geoconv.catalogue.PUBLISHED (what `geoconv report` compares with).


def ints(text: str) -> tuple[int, ...]:
    """``"600,450,300"`` -> ``(600, 450, 300)``."""
    return tuple(int(v) for v in text.split(",") if v.strip())


def load(args: argparse.Namespace):
    """(train graphs, test graphs, class names, description)."""
    if args.dataset == "offline":
        root = data_root(args.data_root)
        # In a clone next to ../shared/data (this project's machines), use those meshes when no root is set.
        shared = Path(__file__).resolve().parents[3] / "shared" / "data"
        if args.data_root is None and not (root / "meshes").is_dir() and (shared / "meshes").is_dir():
            root = shared
        samples, names = offline_shape_classes(root, per_class=args.per_class, edges=args.edges, seed=1234)
        generator = torch.Generator().manual_seed(99)
        train, test = [], []
        for label in range(len(names)):
            members = [s for s in samples if s[2] == label]
            order = torch.randperm(len(members), generator=generator).tolist()
            cut = int(round(0.75 * len(members)))
            train += [members[i] for i in order[:cut]]
            test += [members[i] for i in order[cut:]]
        return train, test, names, "generated offline set (procedural shapes + real meshes remeshed/augmented)"
    name = "shrec16" if args.dataset in ("shrec16", "shrec10") else "cubes"
    per_class = 10 if args.dataset == "shrec10" else 16
    train = MeshClassificationDataset(name, "train", root=args.data_root, train_per_class=per_class,
                                      features=args.features)
    test = MeshClassificationDataset(name, "test", root=args.data_root, train_per_class=per_class,
                                     features=args.features)
    as_triples = lambda data: [(g.pos, g.face, int(g.y)) for g in data]  # noqa: E731
    return as_triples(train), as_triples(test), train.classes, f"MeshCNN release of {args.dataset}"


def to_graphs(samples, augment: MeshAugment | None, generator: torch.Generator | None, mean=None, std=None, *,
              features: str = "released"):
    """Mesh graphs (5 edge features each) of (pos, face, label) samples, augmented and standardised if asked."""
    graphs = []
    for pos, face, label in samples:
        if augment is not None:
            pos, face = augment(pos.double(), face, generator)
        graph = mesh_graph(pos.float(), face, y=label, check=False, features=features)
        if mean is not None:
            graph.edge_attr = (graph.edge_attr - mean) / std
        graphs.append(graph)
    return graphs


@torch.no_grad()
def accuracy(model, graphs, batch_size: int) -> float:
    """Percent of ``graphs`` classified right."""
    model.eval()
    correct = 0
    for start in range(0, len(graphs), batch_size):
        batch = Batch.from_graphs(graphs[start:start + batch_size])
        correct += int((model(batch).argmax(1) == batch.y).sum())
    return 100.0 * correct / max(len(graphs), 1)


def train_one_seed(train, test, num_classes: int, args, seed: int) -> dict:
    set_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    plain = to_graphs(train, None, None, features=args.features)
    features = torch.cat([g.edge_attr for g in plain])
    mean, std = features.mean(0), features.std(0).clamp(min=1e-6)
    train_graphs = to_graphs(train, None, None, mean, std, features=args.features)
    test_graphs = to_graphs(test, None, None, mean, std, features=args.features)
    model = MeshCNNClassifier(5, ints(args.hidden_channels), num_classes, pool_targets=ints(args.pool),
                              head_channels=args.head_channels, blocks=args.blocks, norm=args.norm, groups=args.groups)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999))
    augment = MeshAugment() if args.augment else None
    for epoch in progress(range(args.epochs), disable=args.no_progress, desc=f"seed {seed}"):
        if augment is not None:
            train_graphs = to_graphs(train, augment, generator, mean, std, features=args.features)
        model.train()
        order = torch.randperm(len(train_graphs), generator=generator).tolist()
        for start in range(0, len(order), args.batch_size):
            batch = Batch.from_graphs([train_graphs[i] for i in order[start:start + args.batch_size]])
            optimizer.zero_grad()
            loss = F.cross_entropy(model(batch), batch.y)
            loss.backward()
            optimizer.step()
    return {"train": accuracy(model, train_graphs, args.batch_size), "test": accuracy(model, test_graphs, args.batch_size)}


def build_parser() -> argparse.ArgumentParser:
    parser = task_parser(__doc__, epochs=30, seeds=1, hidden_channels=None, num_layers=None, lr=None,
                         has_hidden_channels=False, has_num_layers=False,
                         lr_help="Adam learning rate (default 1e-3 offline, 2e-4 MeshCNN)")
    parser.add_argument("--dataset", default="offline", choices=["offline", "shrec16", "shrec10", "cubes"])
    parser.add_argument("--per-class", type=int, default=16, help="offline set: meshes per class (default 16)")
    parser.add_argument("--edges", type=int, default=750, help="offline set: edges per mesh (default 750)")
    add_option(parser, "--hidden-channels", aliases=("--channels",), default=None,
               help="comma-separated widths of the mesh convolutions, one per pooling (default: 32,64,128 offline; "
                    "64,128,256,256 otherwise)")
    add_option(parser, "--head-channels", aliases=("--hidden",), type=int, default=100,
               help="width of the classifier's hidden layer (default 100)")
    parser.add_argument("--pool", default=None, help="comma-separated edge targets (default: 600,450,300 offline; 600,450,300,180 SHREC; 600,450,300,210 Cubes)")
    parser.add_argument("--features", default="released", choices=["released", "exact"],
                        help="edge features as MeshCNN's released code (norms + 0.1; default) or exact")
    parser.add_argument("--blocks", type=int, default=1)
    parser.add_argument("--norm", default="group", choices=["group", "batch", "none"])
    parser.add_argument("--groups", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--augment", action="store_true",
                        help="re-augment the training meshes every epoch (scaling, edge flips, vertex slides)")
    return parser


def apply_dataset_defaults(args: argparse.Namespace) -> argparse.Namespace:
    """Fill --hidden-channels, --pool and --lr left unset with the dataset's defaults."""
    offline = args.dataset == "offline"
    args.hidden_channels = args.hidden_channels or ("32,64,128" if offline else "64,128,256,256")
    args.pool = args.pool or ("600,450,300" if offline else ("600,450,300,210" if args.dataset == "cubes" else "600,450,300,180"))
    args.lr = args.lr or (1e-3 if offline else 2e-4)
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = apply_dataset_defaults(build_parser().parse_args(argv))
    setup(args)
    train, test, names, description = load(args)
    results = [train_one_seed(train, test, len(names), args, seed) for seed in range(args.seeds)]
    return record(args, train, test, names, description, results)


def record(args: argparse.Namespace, train, test, names: Sequence[str], description: str,
           results: Sequence[dict[str, float]]) -> dict[str, Any]:
    """Print and write (``--out``) the record from each seed's ``{"train": ..., "test": ...}`` accuracy."""
    test_mean, test_std = mean_std([r["test"] for r in results])
    train_mean, _ = mean_std([r["train"] for r in results])
    return finish(args, {
        "task": "mesh_classification",
        "dataset": args.dataset,
        "dataset_description": description,
        "classes": names,
        "num_train": len(train),
        "num_test": len(test),
        "model": "meshcnn",
        "seeds": args.seeds,
        "test_acc_mean": round(test_mean, 2),
        "test_acc_std": round(test_std, 2),
        "train_acc_mean": round(train_mean, 2),
        "values": [round(r["test"], 2) for r in results],
        "chance_acc": round(100.0 / len(names), 2),
        "metric_description": "accuracy (%) of the last epoch on the test split",
    })


if __name__ == "__main__":
    main()
