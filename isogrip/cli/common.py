"""What the ``isogrip`` subcommands share: exit codes, the console, the store, options.

This module is imported to build the parser (for ``isogrip --version`` too), so it
imports nothing heavy at module level: rich, numpy and the store come in the
functions that need them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from rich.console import Console

    from isogrip.storage.store import Store

EXIT_USER_ERROR = 2
#: The desktop app cannot open although a display exists (system libraries missing).
EXIT_NO_DESKTOP = 3
EXIT_INTERRUPTED = 130

#: A subcommand's handler: given the parsed arguments and the console, it returns
#: the exit status. Each command module sets it with ``set_defaults(handler=...)``.
Handler: TypeAlias = Callable[[argparse.Namespace, "Console"], int]
#: The subparsers object every command module's ``register`` adds its parser to.
Subparsers: TypeAlias = "argparse._SubParsersAction[CommandParser]"


class CommandParser(argparse.ArgumentParser):
    """The parser of one subcommand, whose options may be added on first use.

    Some options' defaults come from modules that import numpy (the protocols, the
    units). Adding those options only when their subcommand is parsed or its help is
    shown keeps ``isogrip --version`` and ``isogrip --help`` from importing them.

    Args:
        add_options: Called once with this parser before it first parses arguments
            or formats its help; ``None`` when every option is added at once.
        **kwargs: As for :class:`argparse.ArgumentParser`.
    """

    def __init__(self, *, add_options: Callable[[argparse.ArgumentParser], None] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._add_options = add_options

    def _add_pending_options(self) -> None:
        add, self._add_options = self._add_options, None
        if add is not None:
            add(self)

    def parse_known_args(  # Any: one signature for typeshed's three overloads
            self, args: Iterable[str] | None = None, namespace: Any = None,
    ) -> tuple[Any, list[str]]:
        """Add the pending options, then parse as :class:`argparse.ArgumentParser` does."""
        self._add_pending_options()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        """Add the pending options, then format the help."""
        self._add_pending_options()
        return super().format_help()


def make_console() -> Console:
    """The CLI's console: every string is shown as it is, never read as markup.

    Without this a protocol titled ``Study A [/] week 2`` would stop a session with
    a markup error, ``[sham]`` in a title would vanish, and ``:fire:`` in a note
    would turn into an emoji. Styles are given with :class:`~rich.text.Text`.
    """
    from rich.console import Console

    console = Console(markup=False, emoji=False)
    if not console.is_terminal:
        # Piped output: do not wrap tables at 80 columns.
        console = Console(markup=False, emoji=False, width=160)
    return console


def open_store(args: argparse.Namespace, *, records: bool) -> Store:
    """Open the database of ``--data-dir``.

    Args:
        args: The parsed arguments.
        records: Whether the command writes to the database. Only such a command
            marks sessions whose program died as interrupted (and says so); the
            others open the file read-only, so looking at the data never changes
            it, and a crash is reported by the next command that records.
    """
    from isogrip.storage.store import Store

    if not records:
        return Store.open(args.data_dir, read_only=True)
    store = Store.open(args.data_dir)
    try:
        tell_interrupted(store.mark_interrupted())
    except BaseException:
        store.close()
        raise
    return store


def tell_interrupted(ids: Sequence[int]) -> None:
    """Say which sessions were cut short by a crash and how to export them."""
    for sid in ids:
        print(f"isogrip: session {sid} was interrupted (isogrip stopped unexpectedly); "
              f"everything saved up to then is kept. Export it with: isogrip export {sid} "
              "--out FOLDER", file=sys.stderr)


def speed(text: str) -> float | None:
    """The ``--speed`` option: a factor above 0, or ``None`` for "as fast as possible".

    Raises:
        argparse.ArgumentTypeError: Neither a number above 0 nor ``max``.
    """
    if text.strip().lower() in ("max", "inf", "fastest"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"speed must be a number or 'max', got {text!r}"
        ) from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"speed must be greater than 0, got {text!r}")
    return value
