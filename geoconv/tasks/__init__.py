"""Training and evaluation of each task: what ``geoconv train TASK`` runs.

Every task is one module with a ``main(argv) -> record`` function and the same
flag vocabulary (:func:`geoconv.tasks.options.task_parser`): ``--hidden-channels``,
``--num-layers``, ``--lr``, ``--epochs``, ``--seeds``, ``--data-root``, ``--out``,
``--device``, ``--threads``, ``--no-progress``.  Each ends by printing one JSON
record (:func:`geoconv.experiment.finish`).  The modules are part of the
installed package, so a task runs without the repository::

    python -m geoconv.tasks.node_classification --dataset cora --seeds 10
    geoconv train node-classification --quick

:data:`TASKS` maps a ``geoconv train`` name to its module; adding a task is one
line here (and its profiles in :mod:`geoconv.catalogue`).
"""

from __future__ import annotations

import importlib
from types import ModuleType

TASKS: dict[str, str] = {
    "node-classification": "geoconv.tasks.node_classification",
    "graphsaint": "geoconv.tasks.graphsaint",
    "sheaf-diffusion": "geoconv.tasks.sheaf_diffusion",
    "sheaf-diffusion-sweep": "geoconv.tasks.sheaf_diffusion_sweep",
    "point-cloud": "geoconv.tasks.point_cloud",
    "mesh": "geoconv.tasks.mesh",
    "qm9": "geoconv.tasks.qm9",
    "molecules": "geoconv.tasks.molecules",
    # OGB's node-level reference recipes: one module, the recipe passed as --recipe (catalogue Task.args)
    "ogbn-arxiv": "geoconv.tasks.ogbn",
    "ogbn-products": "geoconv.tasks.ogbn",
    "ogbn-proteins": "geoconv.tasks.ogbn",
}


def module_name(task: str) -> str:
    """The module that runs ``task`` (a :data:`TASKS` name), e.g. ``geoconv.tasks.molecules``."""
    try:
        return TASKS[task]
    except KeyError:
        raise KeyError(f"unknown task {task!r}; the tasks are: {', '.join(TASKS)}") from None


def load(task: str) -> ModuleType:
    """Import the module of ``task``."""
    return importlib.import_module(module_name(task))
