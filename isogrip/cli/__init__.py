"""The ``isogrip`` command line.

Each module of this package registers its own subcommands: its ``register`` adds
their parsers to the subparsers and sets each one's handler with
``set_defaults(handler=...)``; :func:`main` builds the parser from
:data:`COMMAND_MODULES` and calls the handler of the command given. Without a
command, the desktop app opens (:func:`isogrip.cli.gui.run_gui`).

User errors (unknown device or protocol, bad protocol file, unusable data folder)
print one clear line and exit with status 2; no traceback.

Much of what the CLI prints comes from files and devices (protocol titles, device
names, notes, paths), so its console prints text literally: rich markup and emoji
codes are off (see :func:`~isogrip.cli.common.make_console`), and the few styled
words are :class:`~rich.text.Text` built by the commands.

Importing this package and building the parser import nothing heavy (no numpy,
bleak, Qt or the store), so ``isogrip --version`` and ``isogrip --help`` are quick;
the handlers import what they need.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from isogrip import __version__
from isogrip.cli import bp, gui, programme, protocols, run, scan, sessions
from isogrip.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_USER_ERROR,
    CommandParser,
    Handler,
    make_console,
)
from isogrip.errors import IsogripError

__all__ = ["COMMAND_MODULES", "EXIT_INTERRUPTED", "EXIT_USER_ERROR", "build_parser", "main"]

#: The modules whose ``register(subparsers)`` add the subcommands, in the order
#: ``isogrip --help`` lists them.
COMMAND_MODULES: tuple[ModuleType, ...] = (run, gui, programme, sessions, bp, protocols,
                                            scan)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="isogrip",
        description="Isometric handgrip training: measure your maximal grip, then hold "
        "30 % of it for 4 x 2 minutes with live feedback. Not a medical device.",
    )
    parser.add_argument("--version", action="version", version=f"isogrip {__version__}")
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="data folder (default: $ISOGRIP_DATA_DIR or your user data folder)",
    )
    parser.add_argument(
        "--new-database", action="store_true",
        help="move a damaged database aside (it is kept) and start a new, empty one")
    parser.add_argument(
        "--yes", action="store_true",
        help="with --new-database: set the database aside even though it is not damaged")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       parser_class=CommandParser)
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``isogrip`` command.

    Returns:
        The process exit status.
    """
    args = build_parser().parse_args(argv)
    # No command: the desktop app, as ``isogrip gui``.
    handler: Handler = getattr(args, "handler", gui.run_gui)
    try:
        if args.new_database:
            _start_new_database(args)
        if handler is gui.run_gui:  # the desktop app: no console, so no rich to import
            return gui.run_gui(args, None)
        return handler(args, make_console())
    except IsogripError as exc:
        print(f"isogrip: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("isogrip: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _start_new_database(args: argparse.Namespace) -> None:
    """``--new-database``: set the database aside, before the command runs."""
    from isogrip.storage.paths import database_path, default_data_dir
    from isogrip.storage.recovery import start_new_database

    moved = start_new_database(database_path(args.data_dir or default_data_dir()),
                               confirmed=args.yes)
    if moved is not None:
        print(f"isogrip: the old database was moved to {moved}; a new one is started.",
              file=sys.stderr)
