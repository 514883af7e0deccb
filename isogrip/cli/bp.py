"""``isogrip bp``: add, read, list and import blood-pressure readings; the check before a run.

The limits that advise against training come from the settings file, the same ones
the desktop app uses, so ``isogrip run``, ``isogrip bp add`` and the app agree. The
format of a file for ``bp import`` is described in :mod:`isogrip.cli.bp_csv`.

``bp list`` and ``bp summary`` (:mod:`isogrip.cli.bp_summary`) only read: they open
the database read-only. The others record, so they
also mark sessions left "running" by a crash as interrupted.

This module is imported to build the parser, so its functions import what they need.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from isogrip.cli.bp_summary import add_summary_parser, run_summary
from isogrip.cli.common import Subparsers, open_store
from isogrip.errors import BpValueError, IsogripError
from isogrip.ids import participant_or_none

if TYPE_CHECKING:
    from rich.console import Console

    from isogrip.bp_check import BpCheck, BpEntry, BpLimits
    from isogrip.storage.store import Store

#: Where a reading was taken: before or after a session, or at rest.
_CONTEXTS = ("pre", "post", "rest")


class HighBloodPressureError(IsogripError):
    """The reading before a run is at or above the limits and training was not confirmed."""


def register(subparsers: Subparsers) -> None:
    """Add ``bp`` and its actions to the ``isogrip`` subcommands."""
    bp = subparsers.add_parser("bp", help="blood-pressure log")
    bp.set_defaults(handler=run_bp)
    actions = bp.add_subparsers(dest="bp_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a reading, e.g. 'isogrip bp add 128/82 "
                             "--pulse 64'")
    add.add_argument("reading", help="systolic/diastolic in mmHg, e.g. 128/82")
    add.add_argument("--pulse", type=int, default=None, help="beats per minute")
    add.add_argument("--participant", default=None, metavar="ID")
    add.add_argument("--context", choices=_CONTEXTS, default="rest",
                     help="before or after a session, or at rest (default: rest)")
    read = actions.add_parser("read", help="read a Bluetooth blood-pressure cuff "
                              "(standard 0x1810) and add its readings")
    read.add_argument("--address", default=None, help="the cuff's address (default: "
                      "the first cuff found)")
    read.add_argument("--timeout", type=float, default=15.0, metavar="S",
                      help="stop after this long without a new reading")
    read.add_argument("--participant", default=None, metavar="ID")
    read.add_argument("--context", choices=_CONTEXTS, default="rest")
    listing = actions.add_parser("list", help="list the readings")
    listing.add_argument("--participant", default=None, metavar="ID")
    add_summary_parser(actions)  # read-only, in isogrip/cli/bp_summary.py
    csv = actions.add_parser("import", help="add readings from a CSV file with columns "
                             "taken_at,sbp,dbp[,pulse][,context]")
    csv.add_argument("file", type=Path)
    csv.add_argument("--participant", default=None, metavar="ID")


def run_bp(args: argparse.Namespace, console: Console) -> int:
    """Run ``isogrip bp add|read|list|import``.

    Raises:
        ParticipantIdError: ``--participant`` is not an ID; checked before anything else
            (no file is read, no cuff is waited for).
    """
    if args.bp_command == "summary":
        return run_summary(args, console)
    if args.bp_command == "list":
        store = open_store(args, records=False)
        try:
            return _list(args, store, console)
        finally:
            store.close()
    args.participant = participant_or_none(args.participant)  # an ID, never a name
    store = open_store(args, records=True)
    try:
        if args.bp_command == "add":
            return _add(args, store, console)
        if args.bp_command == "read":
            return _read(args, store, console)
        return _import(args, store, console)
    finally:
        store.close()


def _add(args: argparse.Namespace, store: Store, console: Console) -> int:
    entry = entry_from_text(args.reading, args.pulse)
    store.add_bp_reading(sbp=entry.sbp, dbp=entry.dbp, pulse=entry.pulse,
                         participant=args.participant, context=args.context)
    limits = settings_limits()
    advice = ""
    if limits.too_high(entry):
        advice = (f" This is high (at or above {limits}): do not train today, and talk "
                  "to your doctor if it stays high.")
    console.print(f"Saved {entry}." + advice, highlight=False)
    return 0


def _read(args: argparse.Namespace, store: Store, console: Console) -> int:
    import asyncio

    from isogrip.ble_device.bp_monitor import read_cuff  # bleak, on demand

    console.print("Waiting for the cuff: switch it on or take a measurement...")
    got = asyncio.run(read_cuff(args.address, timeout_s=args.timeout))
    done = store.add_cuff_readings(got.readings, device=got.address,
                                   participant=args.participant, context=args.context)
    for reading in got.readings:
        mm = reading.to_mmhg()
        console.print(f"{mm.systolic:.0f}/{mm.diastolic:.0f} mmHg"
                      + (f", pulse {mm.pulse_bpm:.0f}" if mm.pulse_bpm else ""),
                      highlight=False)
    for why in done.refused:
        console.print(f"Not added: {why}", highlight=False)
    console.print(cuff_summary(done.added, done.already), highlight=False)
    return 0 if got.readings else 1


def cuff_summary(added: int, already: int) -> str:
    """What a read of the cuff added, e.g. "3 new readings, 5 already stored."."""
    new = f"{added} new reading{'' if added == 1 else 's'}"
    return f"{new}, {already} already stored." if already else f"{new}."


def _import(args: argparse.Namespace, store: Store, console: Console) -> int:
    from isogrip.cli.bp_csv import import_bp_csv

    done = import_bp_csv(store, args.file, args.participant)
    already = f" ({done.already} already in the log, skipped)" if done.already else ""
    console.print(f"Added {done.added} readings.{already}", highlight=False)
    return 0


def _list(args: argparse.Namespace, store: Store, console: Console) -> int:
    from rich.table import Table

    from isogrip.timefmt import local_time

    log = store.list_bp_readings(args.participant)
    if not log:
        console.print("No blood-pressure readings yet. Add one with 'isogrip bp add 128/82'.")
        return 0
    table = Table("taken (local time)", "mmHg", "pulse", "context", "participant", "source")
    for r in log:
        when = local_time(r.taken_at)
        table.add_row(when, f"{r.sbp}/{r.dbp}", "" if r.pulse is None else str(r.pulse),
                      r.context or "", r.participant or "", r.source)
    console.print(table)
    return 0


def settings_limits() -> BpLimits:
    """The limits in force (the settings file; its defaults when it is missing)."""
    from isogrip.bp_check import BpLimits
    from isogrip.settings import load_settings

    settings, _ = load_settings()
    return BpLimits(settings.sbp_limit, settings.dbp_limit)


def entry_from_text(text: str, pulse: int | None) -> BpEntry:
    """A reading typed as ``128/82`` (and an optional pulse), checked for typing errors.

    Raises:
        BpValueError: Not ``upper/lower``, or not a reading a person can have.
    """
    from isogrip.bp_check import BP_READING_TEXT_MAX, BpEntry, shown
    from isogrip.storage.history import parse_bp

    if len(text) > BP_READING_TEXT_MAX:  # parse_bp would repeat all of it
        raise BpValueError(f"write the reading as upper/lower, e.g. 128/82; got "
                           f"{shown(text)}")
    sbp, dbp = parse_bp(text)
    return BpEntry.checked(sbp, dbp, pulse)


def pre_session_check(text: str | None, pulse: int | None, *, limits: BpLimits,
                      train_anyway: bool, ask: Callable[[str], str] | None,
                      say: Callable[[str], None]) -> BpCheck | None:
    """The optional blood-pressure check before ``isogrip run``, as in the desktop app.

    With ``ask`` (a person at a terminal) an empty ``text`` asks for a reading, a
    typing error asks again, and a high reading asks for a deliberate "train". Without
    ``ask``, a high reading starts only with ``train_anyway``.

    Returns:
        The check to record with the session, or ``None`` when no reading was given.

    Raises:
        BpValueError: A reading given on the command line is a typing error.
        HighBloodPressureError: High, and training was not confirmed.
    """
    from isogrip.bp_check import BpCheck, high_bp_advice

    entry = None if text is None else entry_from_text(text, pulse)
    while entry is None and ask is not None:
        typed = ask("Blood pressure before training (e.g. 128/82), or Enter to skip: ")
        if not typed.strip():
            return None
        try:
            entry = entry_from_text(typed, None)
        except BpValueError as exc:
            say(str(exc))
    if entry is None:
        return None
    if not limits.too_high(entry):
        return BpCheck(entry, limits)
    say(high_bp_advice(entry, limits))
    if not train_anyway and (ask is None or ask(
            "Type 'train' only if your doctor has told you this is safe, or press Enter "
            "to stop: ").strip().lower() != "train"):
        raise HighBloodPressureError(
                f"not starting: {entry} is at or above {limits}. Rest and measure again "
                "later (use --train-anyway only if your doctor has told you this is safe).")
    return BpCheck(entry, limits, trained_anyway=True)
