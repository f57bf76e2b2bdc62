r"""Whole training steps against the official reference code, run beside the project (never part of it).

One training step is forward, loss, backward and the optimiser step on data already in memory.  Both
sides of a workload have the same architecture, widths, dropout, loss, optimiser and hyper-parameters,
see the same inputs and run in this process, timed by :func:`geoconv.benchmarking.measure`
(warm-up, interleaved repeats, median, wall and CPU time).  The reference code is a checkout the user
gives by path; this repository holds none of it, nor anything that fetches it.  Its commit (``git
rev-parse HEAD`` of the checkout) is recorded, and a reference that is not given, not importable or
missing a dependency is recorded as ``not available: <why>``: geoconv's side is then timed alone.

Workloads (``--only NAME ...``; default all):

``nsd-diag``, ``nsd-general``
    Diag- and Gen-NSD on film (7,600 nodes, 53,318 directed edges, 932 row-normalised features,
    5 classes, split 0) with the project's film configuration (:data:`geoconv.tasks.sheaf_diffusion.CONFIGS`;
    the official repository released no film script, so this is the configuration geoconv trains film with,
    inside the paper's search space): d = 3, 2 layers, 16 channels per stalk dimension, input dropout 0.5,
    dropout 0.7, left and right weights, ELU, normalised Laplacian, no fixed low/high-pass dimensions,
    Adam lr 0.02 with weight decay 6.69e-4 on both parameter groups.  geoconv's
    ``DiagSheafDiffusion`` / ``GeneralSheafDiffusion`` (cross-entropy on logits) against
    ``DiscreteDiagSheafDiffusion`` / ``DiscreteGeneralSheafDiffusion`` of twitter-research/neural-sheaf-diffusion
    (``--nsd-repo PATH``; its ``train()`` of exp/run.py: NLL on log-softmax), the same edge_index (what the
    official loader makes of film: self-loops removed, made undirected; identical to geoconv's).  The
    official code imports torch_householder at module level (a compiled extension used only by O(d)-NSD);
    when it is missing a stand-in that raises is installed, and the record says so.  The two models are
    checked to be the same: equal parameter counts, and for Diag equal outputs (eval mode) once the
    official weights are copied into geoconv's model.

``escn-mmax2``, ``escn-mmax6``
    eSCN energy training at lmax 6 with mmax 2 (eSCN's setting) and mmax 6 = lmax, on ``--escn-graphs``
    4 random molecules of ``--escn-atoms`` 24 atoms (9 elements, positions uniform in a 4 A cube, every pair
    within the 5 A cutoff joined in both directions: about 2,200 edges): geoconv's ``GridESCN`` (eSCN as
    published) against fairchem's ``eSCN`` model (``regress_forces=False``) from a checkout of FAIR-Chem/fairchem
    (``--fairchem-repo PATH``), of which only ``models/escn/{escn,so3}.py`` and ``models/scn/{sampling,
    smearing}.py`` are imported (the package and its registry, graph and base-class modules are replaced
    by small stand-ins; the graph is handed over precomputed, ``generate_graph`` is not run).  Same model on
    both sides: 2 layers, 32 spherical channels, 64 hidden channels in the SO(2) bottlenecks, 32 edge
    channels, 32 Gaussians over the cutoff, 9 + 1 element embeddings, 128 readout points; Adam lr 1e-3, MSE
    on the energy; both start from fairchem's initial weights (:func:`copy_fairchem_escn_weights`).  Before
    timing, :func:`escn_agreement` checks that they are the same function: in float64, with fairchem's
    weights copied into ``GridESCN``, equal parameter counts and the energies' largest relative difference
    (``agreement.max_rel_diff``), at fairchem's initialisation and with every parameter redrawn from
    N(0, 2 / fan_in) (at initialisation the messages hardly move the energy), together with the node
    features sampled at the readout points.  fairchem draws a random roll about each edge for its frames and
    geoconv's frames are deterministic; the grid activation is not exactly roll-invariant, so fairchem is
    given geoconv's frames for that check and the difference its own random rolls make is reported beside
    it (``*_fairchem_random_roll``).  geoconv's simplified ``ESCN`` (full-rank SO(2) convolutions and a gate:
    not the same function, 2.48 M parameters against 0.53 M) is timed in the same interleaved repeats and
    recorded as ``geoconv_gate_step_s`` and ``ratio_geoconv_gate_over_reference``, so the rows stay
    comparable with the earlier records.  The record states the parameter counts and the matmul flops of
    one step of each side (``torch.utils.flop_counter``).  fairchem's eSCN needs e3nn.

``meshcnn``
    MeshCNN classification, SHREC's configuration (``MeshConvNet``: widths 64, 128, 256, 256, pooling to
    600, 450, 300, 180 edges, group norm with 16 groups, 1 residual block, head 100, Adam lr 2e-4,
    cross-entropy), on a batch of ``--meshes`` 16 meshes of 750 edges (geoconv's procedural shape classes,
    :func:`geoconv.datasets.mesh_shapes.offline_shape_classes` without the real meshes, so no data is
    needed): geoconv's ``MeshCNNClassifier`` on ``mesh_graph`` features against ranahanocka/MeshCNN's
    ``MeshConvNet`` on its own ``Mesh`` objects and features, read from .obj files written to a temporary
    folder (``--meshcnn-repo PATH``).  MeshCNN's pooling edits its ``Mesh`` objects in place, so every
    reference step gets a fresh deep copy of the batch's meshes, made before the timing (its data loader
    rebuilds them every epoch); as in its training loop, its input features require grad.  Its feature
    cache is written by this script with ``ve`` as an object array, which is what MeshCNN's own
    ``np.savez_compressed`` call did before numpy 1.24 (it fails on numpy 2).

The last line is the schema record (:mod:`geoconv.records`): one comparison ``<workload> training step``
per measured workload, on wall and on CPU time; figures ``<workload> geoconv step s`` (and ``reference
step s``); at the top level ``declared_comparisons`` (every comparison this script can make, with
``status`` ``measured``, ``not available: ...`` or ``not run (not selected with --only)``),
``training_step_ratio`` (``{workload: geoconv time / reference time}``, null when not measured),
``references`` (what each reference was, with its commit, or why it is not available) and ``workloads``
(the per-workload details).

    python benchmarks/training_references.py --nsd-repo ../ref-nsd --fairchem-repo ../ref-fairchem \
        --meshcnn-repo ../ref-meshcnn --out benchmarks/results/bench/
    python benchmarks/training_references.py --only nsd-diag --nsd-repo ../ref-nsd --repeats 9

Measured here (2-core machine held idle, 1 thread, median of 7 interleaved repeats after 2 warm-ups, torch
2.13 CPU; neural-sheaf-diffusion 11e21b5, fairchem 31c0963, MeshCNN 5bf0b89; record
``benchmarks/results/bench/training-references-20261206T045956Z.json``, matmul 141 GFLOP/s), seconds per
training step; the eSCN rows time ``GridESCN``, the published architecture, with the agreement check of
the same run and geoconv's simplified ``ESCN`` (full-rank SO(2) convolutions with a gate: not the same
function) timed beside:

===========  =======  =========  =================  ==================  ==========================
workload     geoconv  reference  geoconv/reference  energies agree to   ESCN (gate) / reference
===========  =======  =========  =================  ==================  ==========================
nsd-diag       0.145     0.339              0.43
nsd-general    0.326     0.673              0.48
escn-mmax2     0.482     0.858              0.56    7.0e-15 (533,536)   0.473 s, 0.55
escn-mmax6     1.210     2.180              0.56    1.8e-15 (928,800)   0.689 s, 0.32
meshcnn        1.130     3.163              0.36
===========  =======  =========  =================  ==================  ==========================

Earlier records: ``training-references-20261206T025321Z.json`` (eSCN rows with the gate ``ESCN``: 0.55 and
0.30; the machine ran slower), ``training-references-20261206T042338Z.json`` (``--only escn-mmax2
escn-mmax6``, the first GridESCN run: 0.57 and 0.52) and ``training-references-20261206T003307Z.json``
(before the eSCN first-block changes: 1.00 and 0.64 with the gate model).

"energies agree to": the largest relative difference of the float64 energies with fairchem's weights
copied and fairchem given geoconv's frames (parameters redrawn from N(0, 2 / fan_in); 2e-16 at fairchem's
initialisation), with the equal parameter counts in brackets; the node features sampled at the readout
points agree to 1.3e-14 and 7e-15.  With fairchem's own random rolls the energies differ by 1.5e-3 and
4.7e-4: the roll dependence of the reference's grid activation, not a difference of the two codes.  A
GridESCN step does 15.5 GFLOP of matrix products against fairchem's 20.3 at mmax 2 and 34.8 against
44.3 at mmax 6 (geoconv applies the first and last channel maps of the grid MLP to the coefficients,
where they commute with the grid, and rotates with the block-sparse edge frames), at 23% and 20% of the
machine's matmul throughput against fairchem's 17% and 14% (record 045956Z).
"""

from __future__ import annotations

import argparse
import copy
import importlib
import os
import subprocess
import sys
import tempfile
import types
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's geoconv

from geoconv import benchmarking  # noqa: E402
from geoconv.benchmarking import Timing  # noqa: E402
from geoconv.records import Comparison  # noqa: E402

WORKLOADS = ("nsd-diag", "nsd-general", "escn-mmax2", "escn-mmax6", "meshcnn")
# What each workload compares: (dataset, geoconv side, reference side, the flag that locates the reference).
DECLARED = {
    "nsd-diag": ("film", "geoconv DiagSheafDiffusion",
                 "twitter-research/neural-sheaf-diffusion DiscreteDiagSheafDiffusion", "--nsd-repo"),
    "nsd-general": ("film", "geoconv GeneralSheafDiffusion",
                    "twitter-research/neural-sheaf-diffusion DiscreteGeneralSheafDiffusion", "--nsd-repo"),
    "escn-mmax2": ("random molecules", "geoconv GridESCN lmax 6 mmax 2", "FAIR-Chem/fairchem eSCN lmax 6 mmax 2",
                   "--fairchem-repo"),
    "escn-mmax6": ("random molecules", "geoconv GridESCN lmax 6 mmax 6", "FAIR-Chem/fairchem eSCN lmax 6 mmax 6",
                   "--fairchem-repo"),
    "meshcnn": ("procedural meshes (750 edges)", "geoconv MeshCNNClassifier", "ranahanocka/MeshCNN MeshConvNet",
                "--meshcnn-repo"),
}


class Result:
    """What one workload adds to the record."""

    def __init__(self, workload: str) -> None:
        self.workload = workload
        self.comparisons: list[Comparison] = []
        self.figures: dict[str, float] = {}
        self.extra: dict[str, Any] = {}
        self.ratio: float | None = None


def git_commit(repo: Path) -> str:
    """``git rev-parse HEAD`` of a checkout, or why it is unknown."""
    try:
        return subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def import_beside(path: Path, modules: Sequence[str], packages: Sequence[str]) -> list[types.ModuleType]:
    """Import ``modules`` from the checkout at ``path``, whose top-level ``packages`` (``models``, ``utils``, ...)
    other reference checkouts also use: those names are cleared from ``sys.modules`` before the import and
    restored after it, so two references live side by side in one process."""
    def owned(name: str) -> bool:
        return any(name == package or name.startswith(package + ".") for package in packages)

    saved = {name: module for name, module in sys.modules.items() if owned(name)}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(path))
    try:
        return [importlib.import_module(module) for module in modules]
    finally:
        sys.path.remove(str(path))
        for name in [name for name in sys.modules if owned(name)]:
            del sys.modules[name]
        sys.modules.update(saved)


def record_step(result: Result, timings: dict[str, Timing]) -> None:
    """The training-step comparison of ``geoconv`` with the other side of ``timings`` (labelled by the reference's
    name), or, without a reference, geoconv's time alone."""
    workload = result.workload
    ours = timings["geoconv"]
    result.figures[f"{workload} geoconv step s"] = round(ours.median_s, 6)
    result.extra["geoconv_step_cpu_s"] = round(ours.median_cpu_s, 6)
    reference = next((timing for label, timing in timings.items() if label != "geoconv"), None)
    if reference is not None:
        comparison = benchmarking.compare(f"{workload} training step", ours, reference)
        result.comparisons.append(comparison)
        result.comparisons.append(benchmarking.compare(f"{workload} training step", ours, reference, clock="cpu"))
        result.figures[f"{workload} reference step s"] = round(reference.median_s, 6)
        result.extra["reference_step_cpu_s"] = round(reference.median_cpu_s, 6)
        result.ratio = round(1.0 / comparison.ratio, 3)
        result.extra["ratio_geoconv_over_reference"] = result.ratio
        result.extra["ratio_geoconv_over_reference_cpu"] = round(ours.median_cpu_s / reference.median_cpu_s, 3)


# ---------------------------------------------------------------- Neural Sheaf Diffusion


_OFFICIAL: dict[str, tuple[Any, str]] = {}


def official_nsd(repo: str | None) -> tuple[types.ModuleType | None, str]:
    """``models.disc_models`` of a twitter-research/neural-sheaf-diffusion checkout, or None and why not."""
    if "nsd" not in _OFFICIAL:
        _OFFICIAL["nsd"] = _import_official_nsd(repo)
    return _OFFICIAL["nsd"]


def _import_official_nsd(repo: str | None) -> tuple[types.ModuleType | None, str]:
    if not repo:
        return None, "not available: the official code (twitter-research/neural-sheaf-diffusion) was not given; pass --nsd-repo PATH"
    path = Path(repo).resolve()
    if not (path / "models" / "disc_models.py").is_file():
        return None, f"not available: {path} holds no models/disc_models.py (a checkout of twitter-research/neural-sheaf-diffusion)"
    for dependency in ("torch_scatter", "torch_sparse", "torch_geometric"):
        try:
            __import__(dependency)
        except ImportError as error:
            return None, f"not available: the official NSD code needs {dependency} ({error})"
    notes = [f"twitter-research/neural-sheaf-diffusion at {git_commit(path)} from {path}"]
    try:
        import torch_householder  # noqa: F401
    except ImportError:
        stand_in = types.ModuleType("torch_householder")

        def orgqr(*_args: Any, **_kwargs: Any) -> None:
            raise RuntimeError("torch_householder is not installed (only O(d)-NSD calls it)")

        stand_in.torch_householder_orgqr = orgqr  # type: ignore[attr-defined]
        sys.modules["torch_householder"] = stand_in
        notes.append("torch_householder not installed: a stand-in that raises was imported (Diag and General never call it)")
    try:
        (disc_models,) = import_beside(path, ["models.disc_models"], ["models", "lib", "utils", "exp"])
    except Exception as error:  # noqa: BLE001 - recorded: the reference could not be imported
        return None, f"not available: importing models.disc_models from {path} failed ({type(error).__name__}: {error})"
    return disc_models, "available: " + "; ".join(notes)


def nsd_config() -> dict[str, Any]:
    """The project's film configuration (the official repository released none for film)."""
    from geoconv.tasks.sheaf_diffusion import COMMON, CONFIGS

    return {**COMMON, **CONFIGS["film"]}


_NSD_CACHE: dict[str, Any] = {}  # film and the matmul throughput, loaded / measured once per run


def nsd_graph(args: argparse.Namespace):
    if "graph" not in _NSD_CACHE:
        from geoconv.data.transforms import normalize_features
        from geoconv.datasets import GeomGCNGraph

        graph = GeomGCNGraph(args.nsd_dataset, root=args.data_root)
        _NSD_CACHE["graph"] = normalize_features(graph).with_split(0).to(args.device)
    return _NSD_CACHE["graph"]


def copy_nsd_weights(ours: nn.Module, theirs: nn.Module) -> None:
    """Official Diag- or Gen-NSD weights -> geoconv's model (same parametrisation, different names)."""
    with torch.no_grad():
        ours.lin_in.weight.copy_(theirs.lin1.weight)
        ours.lin_in.bias.copy_(theirs.lin1.bias)
        ours.lin_out.weight.copy_(theirs.lin2.weight)
        ours.lin_out.bias.copy_(theirs.lin2.bias)
        for layer in range(ours.num_layers):
            ours.left_weights[layer].copy_(theirs.lin_left_weights[layer].weight)
            ours.right_weights[layer].copy_(theirs.lin_right_weights[layer].weight)
            ours.epsilons[layer].copy_(theirs.epsilons[layer].view(-1))
            ours.sheaf_learners[layer].linear.weight.copy_(theirs.sheaf_learners[layer].linear1.weight)


def run_nsd(variant: str, args: argparse.Namespace) -> Result:
    from geoconv.models import DiagSheafDiffusion, GeneralSheafDiffusion

    result = Result(f"nsd-{variant}")
    config = nsd_config()
    graph = nsd_graph(args)
    num_features, num_classes = graph.x.shape[1], int(graph.y.max()) + 1
    result.extra.update(dataset=args.nsd_dataset, split=0, nodes=graph.num_nodes, edges=graph.num_edges,
                        configuration={key: config[key] for key in (
                            "stalk_dim", "num_layers", "hidden_channels", "lr", "weight_decay", "input_dropout",
                            "dropout", "low_pass", "high_pass", "second_linear", "left_weights", "right_weights",
                            "use_act", "normalised")},
                        configuration_source="geoconv.tasks.sheaf_diffusion.CONFIGS['film'] (no released film script upstream)")
    disc_models, status = official_nsd(args.nsd_repo)
    result.extra["reference"] = status
    mask, target = graph.train_mask, graph.y[graph.train_mask]
    decay = config["weight_decay"] if config["sheaf_decay"] is None else config["sheaf_decay"]

    torch.manual_seed(args.seed)
    cls = {"diag": DiagSheafDiffusion, "general": GeneralSheafDiffusion}[variant]
    ours = cls(num_features, config["hidden_channels"], num_classes, num_layers=config["num_layers"],
               dropout=config["dropout"], stalk_dim=config["stalk_dim"], input_dropout=config["input_dropout"],
               second_linear=config["second_linear"], left_weights=config["left_weights"],
               right_weights=config["right_weights"], use_act=config["use_act"], normalize=config["normalised"],
               add_low_pass=config["low_pass"], add_high_pass=config["high_pass"], cached=True).to(args.device)
    optimizer = torch.optim.Adam([{"params": ours.sheaf_parameters(), "weight_decay": decay},
                                  {"params": ours.other_parameters(), "weight_decay": config["weight_decay"]}],
                                 lr=config["lr"])

    def step_ours() -> None:
        ours.train()
        optimizer.zero_grad()
        F.cross_entropy(ours(graph)[mask], target).backward()
        optimizer.step()

    sides: dict[str, Callable[[], None]] = {"geoconv": step_ours}
    if disc_models is not None:
        options = {"d": config["stalk_dim"], "add_lp": config["high_pass"], "add_hp": config["low_pass"],
                   "hidden_channels": config["hidden_channels"], "device": args.device, "graph_size": graph.num_nodes,
                   "layers": config["num_layers"], "normalised": config["normalised"], "deg_normalised": False,
                   "linear": False, "input_dropout": config["input_dropout"], "dropout": config["dropout"],
                   "left_weights": config["left_weights"], "right_weights": config["right_weights"],
                   "sparse_learner": False, "use_act": config["use_act"], "input_dim": num_features,
                   "output_dim": num_classes, "sheaf_act": "tanh", "second_linear": config["second_linear"],
                   "orth": "householder", "edge_weights": config["edge_weights"], "max_t": 1.0}
        reference_cls = {"diag": disc_models.DiscreteDiagSheafDiffusion,
                         "general": disc_models.DiscreteGeneralSheafDiffusion}[variant]
        torch.manual_seed(args.seed)
        theirs = reference_cls(graph.edge_index, options).to(args.device)
        sheaf_params, other_params = theirs.grouped_parameters()
        their_optimizer = torch.optim.Adam([{"params": sheaf_params, "weight_decay": decay},
                                            {"params": other_params, "weight_decay": config["weight_decay"]}],
                                           lr=config["lr"])

        def step_theirs() -> None:  # exp/run.py's train()
            theirs.train()
            their_optimizer.zero_grad()
            F.nll_loss(theirs(graph.x)[mask], target).backward()
            their_optimizer.step()

        sides["neural-sheaf-diffusion"] = step_theirs
        result.extra["parameters"] = {"geoconv": sum(p.numel() for p in ours.parameters()),
                                      "neural-sheaf-diffusion": sum(p.numel() for p in theirs.parameters())}
        # The same function: the official weights copied into a geoconv model give the same log-probabilities
        # (eval mode; Gen-NSD's normalisation differs slightly: the official code clamps the normalised blocks).
        check = cls(num_features, config["hidden_channels"], num_classes, num_layers=config["num_layers"],
                    stalk_dim=config["stalk_dim"], cached=True).to(args.device).eval()
        copy_nsd_weights(check, theirs)
        theirs.eval()
        with torch.no_grad():
            difference = (F.log_softmax(check(graph), -1) - theirs(graph.x)).abs().max().item()
        result.extra["max_abs_output_difference_copied_weights"] = difference
    timings = benchmarking.measure(sides, repeats=args.repeats, warmup=args.warmup, device=args.device)
    record_step(result, timings)
    return result


# ---------------------------------------------------------------- eSCN


def _stand_in(name: str, path: Path | None = None) -> types.ModuleType:
    module = types.ModuleType(name)
    if path is not None:  # a package whose __init__ is not run: submodules load from its folder
        module.__path__ = [str(path)]
    sys.modules[name] = module
    return module


def _import_fairchem_escn(repo: str | None) -> tuple[types.ModuleType | None, str]:
    if not repo:
        return None, "not available: fairchem (FAIR-Chem/fairchem) was not given; pass --fairchem-repo PATH"
    path = Path(repo).resolve()
    source = path / "src" / "fairchem"
    if not (source / "core" / "models" / "escn" / "escn.py").is_file():
        return None, f"not available: {path} holds no src/fairchem/core/models/escn/escn.py (a checkout of FAIR-Chem/fairchem)"
    try:
        import e3nn  # noqa: F401
    except ImportError as error:
        return None, f"not available: fairchem's eSCN needs e3nn ({error})"
    if any(name == "fairchem" or name.startswith("fairchem.") for name in sys.modules):
        return None, "not available: a fairchem package is already imported in this process"
    # Only the eSCN files are imported: the package __init__ files (which pull in the whole trainer) are
    # skipped, and the registry, the conditional_grad decorator and the base classes become stand-ins.
    for name, folder in (("fairchem", ""), ("fairchem.core", "core"), ("fairchem.core.common", "core/common"),
                         ("fairchem.core.models", "core/models"), ("fairchem.core.models.escn", "core/models/escn"),
                         ("fairchem.core.models.scn", "core/models/scn")):
        _stand_in(name, source / folder)

    class Registry:
        def register_model(self, _name: str) -> Callable[[type], type]:
            return lambda cls: cls

    _stand_in("fairchem.core.common.registry").registry = Registry()  # type: ignore[attr-defined]
    _stand_in("fairchem.core.common.utils").conditional_grad = lambda _context: (lambda function: function)  # type: ignore[attr-defined]
    base = _stand_in("fairchem.core.models.base")
    for name in ("BackboneInterface", "GraphModelMixin", "HeadInterface"):
        setattr(base, name, type(name, (), {}))
    try:
        module = importlib.import_module("fairchem.core.models.escn.escn")
    except Exception as error:  # noqa: BLE001 - recorded: the reference could not be imported
        return None, f"not available: importing fairchem's escn.py from {path} failed ({type(error).__name__}: {error})"
    return module, (f"available: FAIR-Chem/fairchem at {git_commit(path)} from {path} (eSCN module files only; "
                    "registry, conditional_grad and base classes stood in for; graph precomputed)")


def official_escn(repo: str | None) -> tuple[types.ModuleType | None, str]:
    """fairchem's ``models/escn/escn.py`` from a FAIR-Chem/fairchem checkout, or None and why not."""
    if "escn" not in _OFFICIAL:
        _OFFICIAL["escn"] = _import_fairchem_escn(repo)
    return _OFFICIAL["escn"]


def escn_molecules(args: argparse.Namespace) -> dict[str, torch.Tensor]:
    """Random molecules: atomic numbers 1-9, positions uniform in a 4 A cube, every pair within the cutoff."""
    generator = torch.Generator().manual_seed(args.seed)
    graphs, atoms = args.escn_graphs, args.escn_atoms
    pos = torch.rand(graphs * atoms, 3, generator=generator) * 4.0
    z = torch.randint(1, 10, (graphs * atoms,), generator=generator)
    batch = torch.arange(graphs).repeat_interleave(atoms)
    close = (torch.cdist(pos, pos) < args.escn_cutoff) & (batch[:, None] == batch[None, :])
    close.fill_diagonal_(False)
    edge_index = close.nonzero().t().contiguous()
    target = torch.randn(graphs, generator=generator)
    return {name: value.to(args.device) for name, value in
            dict(pos=pos, z=z, batch=batch, edge_index=edge_index, target=target).items()}


def matmul_flops(step: Callable[[], None]) -> float:
    """Flops of the matrix products (mm, bmm, addmm, ...) of one call, as torch.utils.flop_counter counts them."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        step()
    return float(counter.get_total_flops())


ESCN_SIZES = dict(lmax=6, num_layers=2, sphere_channels=32, hidden_channels=64, edge_channels=32, num_radial=32,
                  elements=10)


def fairchem_escn(module: types.ModuleType, mmax: int, cutoff: float) -> nn.Module:
    """fairchem's ``eSCN`` with :data:`ESCN_SIZES` (energies only), built in the current default dtype."""
    sizes = ESCN_SIZES
    return module.eSCN(use_pbc=False, regress_forces=False, otf_graph=False, cutoff=cutoff,
                       max_num_elements=sizes["elements"], num_layers=sizes["num_layers"], lmax_list=[sizes["lmax"]],
                       mmax_list=[mmax], sphere_channels=sizes["sphere_channels"],
                       hidden_channels=sizes["hidden_channels"], edge_channels=sizes["edge_channels"],
                       distance_resolution=cutoff / sizes["num_radial"])


def grid_escn(mmax: int, cutoff: float) -> nn.Module:
    """geoconv's ``GridESCN`` with the same hyper-parameters as :func:`fairchem_escn`."""
    from geoconv.models import GridESCN

    sizes = ESCN_SIZES
    return GridESCN(sizes["elements"], sizes["sphere_channels"], 1, num_layers=sizes["num_layers"], lmax=sizes["lmax"],
                    mmax=mmax, inner_channels=sizes["hidden_channels"], edge_channels=sizes["edge_channels"],
                    num_radial=sizes["num_radial"], cutoff=cutoff)


def copy_fairchem_escn_weights(ours: nn.Module, theirs: nn.Module) -> None:
    """Copy the parameters of fairchem's ``eSCN`` into geoconv's ``GridESCN`` (same shapes, one to one)."""
    pairs = [(ours.atom_embedding, theirs.sphere_embedding), (ours.head[0], theirs.energy_block.fc1),
             (ours.head[2], theirs.energy_block.fc2), (ours.head[4], theirs.energy_block.fc3)]
    for conv, update, block in zip(ours.convs, ours.updates, theirs.layer_blocks, strict=True):
        edge = block.message_block.edge_block
        pairs += [(conv.distance, edge.fc1_dist), (conv.source_embedding, edge.source_embedding),
                  (conv.target_embedding, edge.target_embedding), (conv.edge_mlp, edge.fc1_edge_attr),
                  (update.lin1, block.fc1_sphere), (update.lin2, block.fc2_sphere), (update.lin3, block.fc3_sphere)]
        for so2, reference in ((conv.source_conv, block.message_block.so2_block_source),
                               (conv.target_conv, block.message_block.so2_block_target)):
            pairs += [(so2.radial[0], reference.fc1_dist0), (so2.down_real[0], reference.fc1_m0),
                      (so2.up_real[0], reference.fc2_m0)]
            for m, order in enumerate(reference.so2_conv, start=1):
                pairs += [(so2.radial[m], order.fc1_dist), (so2.down_real[m], order.fc1_r), (so2.up_real[m], order.fc2_r),
                          (so2.down_imag[m - 1], order.fc1_i), (so2.up_imag[m - 1], order.fc2_i)]
    copied = set()
    with torch.no_grad():
        for mine, theirs_module in pairs:
            for name, value in theirs_module.named_parameters(recurse=False):
                getattr(mine, name).copy_(value)
                copied.add(id(getattr(mine, name)))
    missing = [name for name, value in ours.named_parameters() if id(value) not in copied]
    if missing:
        raise RuntimeError(f"fairchem's eSCN has no counterpart for GridESCN's {missing}")


def escn_agreement(module: types.ModuleType, mmax: int, data: dict[str, torch.Tensor], graphs: int,
                   cutoff: float, seed: int) -> dict[str, Any]:
    """Energies of fairchem's eSCN and of GridESCN with fairchem's weights copied, in float64, on ``data``.

    fairchem draws a random roll about every edge axis for its frames, geoconv's frames are deterministic;
    the grid nonlinearity of the message block is not exactly roll-invariant (``2 mmax + 1`` longitudes), so
    the same function is checked with fairchem's ``_init_edge_rot_mat`` returning geoconv's frames, and the
    roll's effect is reported beside it.  At fairchem's initialisation the messages hardly move the energy,
    so the check is repeated with every parameter redrawn from N(0, 2 / fan_in), and the sampled node
    features fairchem's energy block reads are compared as well.
    """
    from geoconv.ops.so3 import default_dtype, edge_frame
    from geoconv.ops.sphere_grid import spiral_sampling_matrix

    def relative(a: torch.Tensor, b: torch.Tensor) -> float:
        return float((a - b).abs().max() / b.abs().max())

    report: dict[str, Any] = {"dtype": "float64"}
    with default_dtype(torch.float64):
        torch.manual_seed(seed)
        theirs = fairchem_escn(module, mmax, cutoff)
        ours = grid_escn(mmax, cutoff).double()
        edge_index, pos = data["edge_index"].cpu(), data["pos"].cpu().double()
        z, batch = data["z"].cpu(), data["batch"].cpu()
        vector = pos[edge_index[0]] - pos[edge_index[1]]
        graph = types.SimpleNamespace(edge_index=edge_index, edge_distance=vector.norm(dim=1), edge_distance_vec=vector)
        theirs.generate_graph = lambda _data: graph
        inputs = types.SimpleNamespace(pos=pos, atomic_numbers=z, batch=batch,
                                       natoms=torch.bincount(batch, minlength=graphs))
        random_frames = theirs._init_edge_rot_mat
        # D^1 of geoconv's frame is the 3x3 rotation itself (e3nn's l = 1 basis is x, y, z).
        same_frames = edge_frame(vector, ESCN_SIZES["lmax"], mmax).blocks[1]
        captured: dict[str, torch.Tensor] = {}
        theirs.energy_block.register_forward_hook(lambda _m, args, _out: captured.__setitem__("samples", args[0].detach()))
        report["parameters"] = {"geoconv": sum(p.numel() for p in ours.parameters()),
                                "fairchem": sum(p.numel() for p in theirs.parameters() if p.requires_grad)}
        report["parameter_counts_equal"] = report["parameters"]["geoconv"] == report["parameters"]["fairchem"]
        for weights in ("initial", "redrawn"):
            if weights == "redrawn":
                generator = torch.Generator().manual_seed(seed + 1)
                with torch.no_grad():
                    for name, value in theirs.named_parameters():
                        if value.requires_grad:
                            fan_in = value.shape[1] if value.dim() == 2 and "embedding" not in name else 1
                            value.copy_(torch.randn(value.shape, generator=generator, dtype=value.dtype)
                                        * (2.0 / fan_in) ** 0.5)
            copy_fairchem_escn_weights(ours, theirs)
            with torch.no_grad():
                energy = ours.forward_tensors(z, pos, edge_index, batch, graphs)[:, 0]
                samples = (spiral_sampling_matrix(ours.lmax, ours.num_sphere_samples)
                           @ ours.node_features(z, pos, edge_index)).reshape(-1, ours.hidden_channels)
                theirs._init_edge_rot_mat = lambda *_args: same_frames
                their_energy = theirs(inputs)["energy"]
                report[f"{weights}_weights_energy_max_rel_diff"] = relative(energy, their_energy)
                report[f"{weights}_weights_sampled_features_max_rel_diff"] = relative(samples, captured["samples"])
                theirs._init_edge_rot_mat = random_frames
                torch.manual_seed(seed)
                rolled = theirs(inputs)["energy"]
                report[f"{weights}_weights_energy_max_rel_diff_fairchem_random_roll"] = relative(energy, rolled)
                report[f"{weights}_weights_sampled_features_max_rel_diff_fairchem_random_roll"] = relative(
                    samples, captured["samples"])
            report[f"{weights}_weights_energies"] = [round(float(value), 12) for value in their_energy]
    report["max_rel_diff"] = max(report["initial_weights_energy_max_rel_diff"], report["redrawn_weights_energy_max_rel_diff"])
    return report


def run_escn(mmax: int, args: argparse.Namespace) -> Result:
    from geoconv.models import ESCN

    sizes = ESCN_SIZES
    lmax, layers, channels, hidden = sizes["lmax"], sizes["num_layers"], sizes["sphere_channels"], sizes["hidden_channels"]
    edge_channels, radial, elements = sizes["edge_channels"], sizes["num_radial"], sizes["elements"]
    result = Result(f"escn-mmax{mmax}")
    data = escn_molecules(args)
    graphs = args.escn_graphs
    result.extra.update(dataset="random molecules", graphs=graphs, atoms=int(data["z"].numel()),
                        edges=int(data["edge_index"].shape[1]), lmax=lmax, mmax=mmax, num_layers=layers,
                        sphere_channels=channels, hidden_channels=hidden, edge_channels=edge_channels,
                        num_radial=radial, cutoff=args.escn_cutoff, optimizer="Adam(lr=1e-3)", loss="MSE on the energy")
    module, status = official_escn(args.fairchem_repo)
    result.extra["reference"] = status

    def trainer(model: nn.Module, energy: Callable[[], torch.Tensor]) -> Callable[[], None]:
        optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)

        def step() -> None:
            model.train()
            optimizer.zero_grad()
            F.mse_loss(energy(), data["target"]).backward()
            optimizer.step()
        return step

    torch.manual_seed(args.seed)
    ours = grid_escn(mmax, args.escn_cutoff).to(args.device)
    sides: dict[str, Callable[[], None]] = {}
    parameters: dict[str, int] = {}
    if module is not None:
        result.extra["agreement"] = escn_agreement(module, mmax, data, graphs, args.escn_cutoff, args.seed)
        torch.manual_seed(args.seed)
        theirs = fairchem_escn(module, mmax, args.escn_cutoff).to(args.device)
        copy_fairchem_escn_weights(ours, theirs)  # both sides start from the same weights
        edge_index = data["edge_index"]  # fairchem: row 0 source, row 1 target (it sums onto row 1), as geoconv
        vector = data["pos"][edge_index[0]] - data["pos"][edge_index[1]]
        graph = types.SimpleNamespace(edge_index=edge_index, edge_distance=vector.norm(dim=1), edge_distance_vec=vector)
        theirs.generate_graph = lambda _data: graph
        batch = types.SimpleNamespace(pos=data["pos"], atomic_numbers=data["z"], batch=data["batch"],
                                      natoms=torch.bincount(data["batch"], minlength=graphs))
        sides["fairchem"] = trainer(theirs, lambda: theirs(batch)["energy"])
        parameters["fairchem"] = sum(p.numel() for p in theirs.parameters() if p.requires_grad)
    sides = {"geoconv": trainer(ours, lambda: ours.forward_tensors(data["z"], data["pos"], data["edge_index"],
                                                                   data["batch"], graphs)[:, 0]), **sides}
    parameters["geoconv"] = sum(p.numel() for p in ours.parameters() if p.requires_grad)
    # geoconv's simplified ESCN (full-rank SO(2) convolutions and a gate; a different function), timed beside
    # them as before so that the rows stay comparable with earlier records.
    torch.manual_seed(args.seed)
    gate = ESCN(elements, channels, 1, num_layers=layers, lmax=lmax, mmax=mmax, inner_channels=hidden,
                edge_channels=edge_channels, num_radial=radial, cutoff=args.escn_cutoff).to(args.device)
    sides["geoconv_gate"] = trainer(gate, lambda: gate.forward_tensors(data["z"], data["pos"], data["edge_index"],
                                                                       data["batch"], graphs)[:, 0])
    parameters["geoconv_gate"] = sum(p.numel() for p in gate.parameters() if p.requires_grad)
    result.extra["parameters"] = parameters
    flops = {side: matmul_flops(step) for side, step in sides.items()}
    result.extra["matmul_gflop_per_step"] = {side: round(value / 1e9, 3) for side, value in flops.items()}
    timings = benchmarking.measure(sides, repeats=args.repeats, warmup=args.warmup, device=args.device)
    # What bounds a step: the matmul work it does, at what fraction of this machine's matmul throughput.
    peak = matmul_throughput(args)
    result.extra["machine_matmul_gflop_per_s"] = round(peak / 1e9, 2)
    result.extra["achieved_matmul_gflop_per_s"] = {side: round(flops[side] / timings[side].median_s / 1e9, 2) for side in sides}
    result.extra["fraction_of_matmul_peak"] = {side: round(flops[side] / timings[side].median_s / peak, 3) for side in sides}
    gate_timing = timings.pop("geoconv_gate")
    result.extra["geoconv_gate_step_s"] = round(gate_timing.median_s, 6)
    result.extra["geoconv_gate_step_cpu_s"] = round(gate_timing.median_cpu_s, 6)
    if "fairchem" in timings:
        result.extra["ratio_geoconv_gate_over_reference"] = round(gate_timing.median_s / timings["fairchem"].median_s, 3)
    record_step(result, timings)
    return result


def matmul_throughput(args: argparse.Namespace, size: int = 1024) -> float:
    """Flop/s of a ``size`` x ``size`` float32 matmul on this machine (median of the repeats), measured once per run."""
    if "matmul" not in _NSD_CACHE:
        a = torch.randn(size, size, device=args.device)
        b = torch.randn(size, size, device=args.device)
        out = torch.empty(size, size, device=args.device)
        timing = benchmarking.measure({"matmul": lambda: torch.mm(a, b, out=out)}, repeats=max(args.repeats, 3),
                                      warmup=1, device=args.device)["matmul"]
        _NSD_CACHE["matmul"] = 2 * size**3 / timing.median_s
    return _NSD_CACHE["matmul"]


# ---------------------------------------------------------------- MeshCNN


def _import_meshcnn(repo: str | None) -> tuple[list[types.ModuleType] | None, str]:
    if not repo:
        return None, "not available: the official MeshCNN code (ranahanocka/MeshCNN) was not given; pass --meshcnn-repo PATH"
    path = Path(repo).resolve()
    if not (path / "models" / "networks.py").is_file() or not (path / "models" / "layers" / "mesh.py").is_file():
        return None, f"not available: {path} holds no models/networks.py and models/layers/mesh.py (a checkout of ranahanocka/MeshCNN)"
    try:
        modules = import_beside(path, ["models.layers.mesh", "models.layers.mesh_prepare", "models.networks"],
                                ["models", "data", "util", "options"])
    except Exception as error:  # noqa: BLE001 - recorded: the reference could not be imported
        return None, f"not available: importing MeshCNN's models from {path} failed ({type(error).__name__}: {error})"
    return modules, f"available: ranahanocka/MeshCNN at {git_commit(path)} from {path}"


def official_meshcnn(repo: str | None) -> tuple[list[types.ModuleType] | None, str]:
    """MeshCNN's ``models.layers.mesh``, ``models.layers.mesh_prepare`` and ``models.networks``, or None and why not."""
    if "meshcnn" not in _OFFICIAL:
        _OFFICIAL["meshcnn"] = _import_meshcnn(repo)
    return _OFFICIAL["meshcnn"]


def meshcnn_official_meshes(modules: list[types.ModuleType], samples: list, folder: Path) -> list:
    """MeshCNN ``Mesh`` objects of ``(pos, face, label)`` samples, through .obj files in ``folder``."""
    import numpy as np

    mesh_module, prepare, _ = modules
    options = types.SimpleNamespace(num_aug=1)
    meshes = []
    for index, (pos, face, _label) in enumerate(samples):
        path = folder / f"mesh{index}.obj"
        lines = [f"v {x:.8f} {y:.8f} {z:.8f}" for x, y, z in pos.tolist()]
        lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in face.tolist()]
        path.write_text("\n".join(lines) + "\n")
        # MeshCNN's fill_mesh computes the mesh and caches it with np.savez_compressed, which numpy >= 1.24
        # refuses for the ragged vertex-to-edge lists; write the cache as older numpy did (an object array).
        data = prepare.from_scratch(str(path), options)
        ve = np.empty(len(data.ve), dtype=object)
        for vertex, edges in enumerate(data.ve):
            ve[vertex] = edges
        np.savez_compressed(prepare.get_mesh_path(str(path), 1), gemm_edges=data.gemm_edges, vs=data.vs,
                            edges=data.edges, edges_count=data.edges_count, ve=ve, v_mask=data.v_mask,
                            filename=data.filename, sides=data.sides, edge_lengths=data.edge_lengths,
                            edge_areas=data.edge_areas, features=data.features)
        meshes.append(mesh_module.Mesh(file=str(path), opt=options, hold_history=False, export_folder=""))
    return meshes


def run_meshcnn(args: argparse.Namespace) -> Result:
    from geoconv.data import Batch
    from geoconv.data.mesh import mesh_graph
    from geoconv.datasets.mesh_shapes import offline_shape_classes
    from geoconv.models import MeshCNNClassifier

    widths, pools, head, groups, edges = (64, 128, 256, 256), (600, 450, 300, 180), 100, 16, 750
    result = Result("meshcnn")
    classes = 5
    samples, _names = offline_shape_classes(None, per_class=-(-args.meshes // classes), edges=edges, seed=args.seed,
                                            include_real=False)
    samples = samples[:args.meshes]
    graphs = [mesh_graph(pos.float(), face, y=label, check=False) for pos, face, label in samples]
    batch = Batch.from_graphs(graphs).to(args.device)
    features = batch.edge_attr
    batch.edge_attr = (features - features.mean(0)) / features.std(0)
    result.extra.update(dataset="procedural meshes", meshes=len(samples),
                        edges_per_mesh=sorted({int(g.edge_attr.shape[0]) for g in graphs}), hidden_channels=list(widths),
                        pool_targets=list(pools), head_channels=head, norm=f"group ({groups} groups)", blocks=1,
                        optimizer="Adam(lr=2e-4, betas=(0.9, 0.999))")
    modules, status = official_meshcnn(args.meshcnn_repo)
    result.extra["reference"] = status

    torch.manual_seed(args.seed)
    ours = MeshCNNClassifier(5, widths, classes, pool_targets=pools, head_channels=head, blocks=1, norm="group",
                             groups=groups).to(args.device)
    optimizer = torch.optim.Adam(ours.parameters(), lr=2e-4, betas=(0.9, 0.999))

    def step_ours() -> None:
        ours.train()
        optimizer.zero_grad()
        F.cross_entropy(ours(batch), batch.y).backward()
        optimizer.step()

    sides: dict[str, Callable[[], None]] = {"geoconv": step_ours}
    parameters = {"geoconv": sum(p.numel() for p in ours.parameters())}
    with tempfile.TemporaryDirectory() as folder:
        if modules is not None:
            import numpy as np

            _, _, networks = modules
            meshes = meshcnn_official_meshes(modules, samples, Path(folder))
            counts = {int(mesh.edges_count) for mesh in meshes}
            if max(counts) > edges:
                raise RuntimeError(f"MeshCNN made meshes of {sorted(counts)} edges; its input size is {edges}")
            raw = np.stack([np.pad(mesh.extract_features(), ((0, 0), (0, edges - mesh.edges_count))) for mesh in meshes])
            x = torch.from_numpy(raw).float()
            x = ((x - x.mean((0, 2), keepdim=True)) / x.std((0, 2), keepdim=True)).to(args.device)
            target = batch.y
            # Same features up to the order of the edges: compare the sorted values per channel.
            ours_sorted = features.sort(0).values
            theirs_sorted = torch.from_numpy(raw).float().permute(0, 2, 1).reshape(-1, 5).sort(0).values
            result.extra["max_abs_feature_difference_sorted"] = (ours_sorted - theirs_sorted.to(ours_sorted)).abs().max().item()
            torch.manual_seed(args.seed)
            theirs = networks.MeshConvNet(networks.get_norm_layer("group", groups), 5, list(widths), classes, edges,
                                          list(pools), head, 1).to(args.device)
            their_optimizer = torch.optim.Adam(theirs.parameters(), lr=2e-4, betas=(0.9, 0.999))
            # Pooling edits the Mesh objects: one deep copy of the batch per call, made before the timing.
            copies = [copy.deepcopy(meshes) for _ in range(args.warmup + args.repeats)]

            def step_theirs() -> None:  # MeshCNN's ClassifierModel.optimize_parameters
                theirs.train()
                batch_meshes = copies.pop() if copies else copy.deepcopy(meshes)
                their_optimizer.zero_grad()
                F.cross_entropy(theirs(x.requires_grad_(True), batch_meshes), target).backward()
                their_optimizer.step()

            sides["MeshCNN"] = step_theirs
            parameters["MeshCNN"] = sum(p.numel() for p in theirs.parameters())
        result.extra["parameters"] = parameters
        timings = benchmarking.measure(sides, repeats=args.repeats, warmup=args.warmup, device=args.device)
    record_step(result, timings)
    return result


# ---------------------------------------------------------------- main


RUNNERS: dict[str, Callable[[argparse.Namespace], Result]] = {
    "nsd-diag": lambda args: run_nsd("diag", args),
    "nsd-general": lambda args: run_nsd("general", args),
    "escn-mmax2": lambda args: run_escn(2, args),
    "escn-mmax6": lambda args: run_escn(6, args),
    "meshcnn": run_meshcnn,
}


def main(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=WORKLOADS, default=list(WORKLOADS),
                        help="workloads to run (default: all)")
    parser.add_argument("--data-root", default=None, help="data root (default $GEOCONV_DATA)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nsd-repo", default=None, help="nsd-*: a checkout of twitter-research/neural-sheaf-diffusion")
    parser.add_argument("--nsd-dataset", default="film",
                        help="nsd-*: the Geom-GCN graph (default film; texas for a quick check, with film's configuration)")
    parser.add_argument("--fairchem-repo", default=None, help="escn-*: a checkout of FAIR-Chem/fairchem")
    parser.add_argument("--escn-graphs", type=int, default=4, help="escn-*: molecules in the batch")
    parser.add_argument("--escn-atoms", type=int, default=24, help="escn-*: atoms per molecule")
    parser.add_argument("--escn-cutoff", type=float, default=5.0, help="escn-*: radius of the graph and of the envelope")
    parser.add_argument("--meshcnn-repo", default=None, help="meshcnn: a checkout of ranahanocka/MeshCNN")
    parser.add_argument("--meshes", type=int, default=16, help="meshcnn: meshes in the batch")
    benchmarking.add_arguments(parser, repeats=5, warmup=2)
    parser.set_defaults(threads=1)
    args = parser.parse_args(argv)
    benchmarking.stamped_out(args, "training-references")
    benchmarking.setup(args)

    results = benchmarking.run_workloads(args, RUNNERS)
    comparisons, figures, workloads = benchmarking.collect(results)
    ratios: dict[str, float | None] = {name: result.ratio for name, result in results.items()}
    # Every comparison this script can make is declared, with what became of it in this run.
    references = {name: workloads[name]["reference"] if name in workloads else "not run (not selected with --only)"
                  for name in WORKLOADS}
    declared = [{"name": f"{name} training step", "dataset": workloads.get(name, {}).get("dataset", DECLARED[name][0]),
                 "ours": DECLARED[name][1], "reference": DECLARED[name][2], "reference_flag": DECLARED[name][3],
                 "status": "measured" if ratios.get(name) is not None else references[name]} for name in WORKLOADS]
    extra = {
        "benchmark": "training_step_references", "threads_used": torch.get_num_threads(),
        "declared_comparisons": declared,
        "training_step_ratio": ratios,
        "ratio_definition": "geoconv median wall seconds per step / reference median wall seconds per step",
        "references": references,
        "workloads": workloads,
        "reference_versions": versions_of("torch_geometric", "torch_sparse", "torch_scatter", "e3nn"),
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
    }
    selected = list(dict.fromkeys(entry["dataset"] for entry in declared if entry["name"].split()[0] in workloads))
    return benchmarking.finish(args, suite="training-references", dataset=", ".join(selected) or "-",
                               model=", ".join(DECLARED[name][1].removeprefix("geoconv ") for name in args.only) or "-",
                               comparisons=comparisons, figures=figures, extra=extra)


def versions_of(*modules: str) -> dict[str, str]:
    """Versions of the reference-side packages that are importable (``{}`` entries missing otherwise)."""
    from importlib import metadata

    found = {}
    for module in modules:
        try:
            found[module] = metadata.version(module)
        except metadata.PackageNotFoundError:
            continue
    return found


if __name__ == "__main__":
    main()
