"""The flag vocabulary every task shares.

One spelling per idea, as in the models' constructors: ``--hidden-channels``,
``--num-layers``, ``--lr``, plus the run options of
:func:`geoconv.experiment.base_parser` (``--epochs``, ``--seeds``,
``--data-root``, ``--out``, ``--device``, ``--threads``, ``--no-progress``).
Older spellings that committed commands use (``--hidden``, ``--layers``, ...)
still parse, as hidden aliases that write the same value.
"""

from __future__ import annotations

import argparse
from typing import Any, Sequence

from geoconv.experiment import base_parser


def add_option(parser: argparse.ArgumentParser, name: str, *, aliases: Sequence[str] = (), **kwargs: Any) -> None:
    """Add ``name`` and, hidden from ``--help``, its older spellings ``aliases`` (same destination)."""
    action = parser.add_argument(name, **kwargs)
    hidden = {key: value for key, value in kwargs.items() if key not in ("help", "default", "metavar")}
    for alias in aliases:
        parser.add_argument(alias, dest=action.dest, default=argparse.SUPPRESS, help=argparse.SUPPRESS, **hidden)


def task_parser(description: str, *, epochs: int, seeds: int = 1, hidden_channels: int | None,
                num_layers: int | None, lr: float | None, hidden_aliases: Sequence[str] = ("--hidden",),
                layer_aliases: Sequence[str] = ("--layers",), hidden_help: str = "", layers_help: str = "",
                lr_help: str = "",
                has_hidden_channels: bool = True, has_num_layers: bool = True) -> argparse.ArgumentParser:
    """:func:`geoconv.experiment.base_parser` plus ``--hidden-channels``, ``--num-layers`` and ``--lr``.

    A default of ``None`` means "chosen by the task" (per model or per dataset); say which in ``*_help``.
    ``has_hidden_channels=False`` / ``has_num_layers=False`` leave the option out, for a task that defines
    it differently (a list of widths) or a model whose depth is fixed (rather than accepting a value it
    would ignore).
    """
    parser = base_parser(description, epochs=epochs, seeds=seeds)
    if has_hidden_channels:
        add_option(parser, "--hidden-channels", aliases=hidden_aliases, type=int, default=hidden_channels,
                   help=hidden_help or f"hidden width (default {hidden_channels})")
    if has_num_layers:
        add_option(parser, "--num-layers", aliases=layer_aliases, type=int, default=num_layers,
                   help=layers_help or f"number of layers (default {num_layers})")
    parser.add_argument("--lr", type=float, default=lr, help=lr_help or f"learning rate (default {lr})")
    return parser
