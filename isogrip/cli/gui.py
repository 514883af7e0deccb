"""``isogrip gui``: the desktop app, which is also what ``isogrip`` alone opens."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from isogrip.cli.common import EXIT_NO_DESKTOP, Subparsers, speed

if TYPE_CHECKING:
    from rich.console import Console


def register(subparsers: Subparsers) -> None:
    """Add ``gui`` to the ``isogrip`` subcommands."""
    gui = subparsers.add_parser("gui", help="open the desktop app (the default command)")
    gui.add_argument("--device", default=None, help="device spec to preselect, e.g. sim")
    gui.add_argument("--speed", type=speed, default=1.0,
                     help="clock speed of simulated sessions (default: real time)")
    gui.set_defaults(handler=run_gui)


def run_gui(args: argparse.Namespace, console: Console | None) -> int:
    """Open the desktop app; where there is no display, say so and show the commands.

    Also the handler of ``isogrip`` without a command, which then exits with 0 (the
    help is what was asked for), whereas ``isogrip gui`` fails with 2. Where a display
    exists but Qt could not start (its X11 libraries are missing), both say what to
    install and exit with 3 instead of letting Qt abort the process.
    """
    if display_available():
        problem = desktop_problem()
        if problem is None:
            return open_app(args)
        print(f"isogrip: {problem} Meanwhile the terminal works: 'isogrip demo --terminal', "
              "'isogrip run', 'isogrip --help'.", file=sys.stderr)
        return EXIT_NO_DESKTOP
    print("isogrip: no display found, so the desktop app cannot open here. "
          "Use the commands below (e.g. 'isogrip run').", file=sys.stderr)
    from isogrip.cli import build_parser  # the package builds it from every command

    build_parser().print_help()
    return 0 if args.command is None else 2


def display_available() -> bool:
    """Whether the desktop app can open a window here."""
    from isogrip.ui.app import display_available as available

    return available()


def desktop_problem() -> str | None:
    """Why the desktop app cannot start although a display exists; None if it can."""
    from isogrip.ui.app import desktop_problem as problem

    return problem()


def open_app(args: argparse.Namespace) -> int:
    """Run the desktop app with the options of ``gui`` or ``demo``."""
    from isogrip.ui.app import run_app  # Qt is imported only for the desktop app

    device = getattr(args, "device", None)  # demo: "sim:good" unless given
    return run_app(data_dir=args.data_dir, device=device, speed=getattr(args, "speed", 1.0))
