"""``isogrip scan``: the force devices nearby."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from isogrip.cli.common import Subparsers
from isogrip.errors import IsogripError

if TYPE_CHECKING:
    from rich.console import Console


def register(subparsers: Subparsers) -> None:
    """Add ``scan`` to the ``isogrip`` subcommands."""
    scan = subparsers.add_parser("scan", help="list nearby force devices")
    scan.add_argument("--timeout", type=float, default=5.0, metavar="S",
                      help="seconds to listen (default: %(default)s)")
    scan.add_argument("--all", action="store_true", help="also list unknown devices")
    scan.set_defaults(handler=list_devices)


def list_devices(args: argparse.Namespace, console: Console) -> int:
    """Listen for ``--timeout`` seconds and print the devices found, nearest first.

    Returns:
        0, or 1 when no device was found.
    """
    import asyncio

    from rich.table import Table

    from isogrip.ble_device.scanner import scan  # bleak, on demand

    if not args.timeout > 0:
        raise IsogripError(f"--timeout must be a positive number of seconds, got {args.timeout}")
    console.print(f"Listening for {args.timeout:g} s...")
    found = asyncio.run(scan(args.timeout, include_unknown=args.all))
    if not found:
        console.print("No force devices found. Switch the device on (squeeze it once to "
                      "wake it), bring it close, and make sure no phone app is connected "
                      "to it." + ("" if args.all else " Use --all to list every device."))
        return 1
    table = Table(title="Nearby devices (nearest first)")
    for col in ("Name", "Kind", "Address", "Signal (dBm)", "Use with"):
        table.add_column(col)
    for d in found:
        table.add_row(d.name or "-", d.kind_label, d.address, str(d.rssi),
                      f"--device {d.spec}")
    console.print(table)
    return 0
