"""``isogrip protocols``: the built-in protocols and their parameters."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from isogrip.cli.common import Subparsers

if TYPE_CHECKING:
    from rich.console import Console


def register(subparsers: Subparsers) -> None:
    """Add ``protocols`` to the ``isogrip`` subcommands."""
    protocols = subparsers.add_parser(
        "protocols", help="list the built-in protocols and their parameters")
    protocols.set_defaults(handler=list_protocols)


def list_protocols(args: argparse.Namespace, console: Console) -> int:
    """Print a table of the built-in protocols; the default one is marked."""
    from rich.table import Table

    from isogrip.protocols.loader import DEFAULT_PROTOCOL, builtin_protocols

    table = Table(title="Built-in protocols (or give --protocol path/to/file.toml)")
    for col in ("Name", "Holds", "Target", "Band", "Rest", "Hands", "Description"):
        table.add_column(col)
    for p in builtin_protocols():
        target = f"{p.target_pct:g} % MVC"
        if p.display_scale != 1:
            target += f" (shown x{p.display_scale:g})"
        table.add_row(
            p.name + (" (default)" if p.name == DEFAULT_PROTOCOL else ""),
            f"{p.reps} x {p.hold_s:g} s",
            target,
            f"±{p.green_pct:g} / ±{p.amber_pct:g} %",
            f"{p.rest_s:g} s",
            p.hands.value,
            p.title,
        )
    console.print(table)
    return 0
