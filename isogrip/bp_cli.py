"""``isogrip bp``: add, list and import blood-pressure readings; the check before a run.

The limits that advise against training come from the settings file, the same ones
the desktop app uses, so ``isogrip run``, ``isogrip bp add`` and the app agree.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from isogrip.ble_device.bp_monitor import BpMeasurement
from isogrip.bp_check import BpCheck, BpEntry, BpLimits, high_bp_advice
from isogrip.errors import BpValueError, IsogripError
from isogrip.settings import load_settings
from isogrip.storage.history import parse_bp
from isogrip.storage.store import Store


class BpCsvError(IsogripError, ValueError):
    """A blood-pressure CSV file cannot be imported (the message names the line)."""


class HighBloodPressureError(IsogripError):
    """The reading before a run is at or above the limits and training was not confirmed."""


def settings_limits() -> BpLimits:
    """The limits in force (the settings file; its defaults when it is missing)."""
    settings, _ = load_settings()
    return BpLimits(settings.sbp_limit, settings.dbp_limit)


def entry_from_text(text: str, pulse: int | None) -> BpEntry:
    """A reading typed as ``128/82`` (and an optional pulse), checked for typing errors.

    Raises:
        BpValueError: Not ``upper/lower``, or not a reading a person can have.
    """
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


def _when(text: str, where: str) -> _dt.datetime:
    try:
        when = _dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise BpCsvError(f"{where}: taken_at must be a date and time such as "
                         f"2026-11-23 08:15, got {text!r}") from None
    return when if when.tzinfo else when.astimezone()  # naive = local time


def import_bp_csv(store: Store, path: Path, participant: str | None) -> int:
    """Add every reading of a CSV file (``taken_at,sbp,dbp[,pulse][,context]``).

    The whole file is checked first: one bad line adds nothing and names the line.

    Returns:
        The number of readings added.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise BpCsvError(f"{path}: cannot be read ({exc})") from exc
    if not rows or not {"taken_at", "sbp", "dbp"} <= set(rows[0]):
        raise BpCsvError(f"{path}: the first line must name the columns taken_at,sbp,dbp "
                         "(pulse and context are optional)")
    parsed = []
    for line, row in enumerate(rows, start=2):
        where = f"{path}, line {line}"
        try:
            sbp, dbp = int(row["sbp"]), int(row["dbp"])
            pulse = int(row["pulse"]) if (row.get("pulse") or "").strip() else None
        except (TypeError, ValueError):
            raise BpCsvError(f"{where}: sbp, dbp and pulse must be whole numbers") from None
        context = (row.get("context") or "").strip() or None
        parsed.append((_when(row["taken_at"] or "", where), sbp, dbp, pulse, context, where))
    with store.transaction():
        for when, sbp, dbp, pulse, context, where in parsed:
            try:
                store.add_bp_reading(sbp=sbp, dbp=dbp, pulse=pulse, taken_at=when,
                                     participant=participant, context=context, source="csv")
            except BpValueError as exc:
                raise BpCsvError(f"{where}: {exc}") from exc
    return len(parsed)


def store_readings(store: Store, readings: list[BpMeasurement], *,
                   participant: str | None, context: str | None) -> int:
    """Add readings from a cuff to the log (in mmHg, at the cuff's time stamps).

    Readings without a time stamp are taken as now. A reading the log refuses (an
    implausible value) stops the whole batch: nothing is added.

    Returns:
        The number added.
    """
    now = _dt.datetime.now(_dt.UTC)
    with store.transaction():
        for r in readings:
            mm = r.to_mmhg()
            when = r.timestamp.astimezone() if r.timestamp else now
            store.add_bp_reading(
                sbp=round(mm.systolic), dbp=round(mm.diastolic),
                pulse=None if mm.pulse_bpm is None else round(mm.pulse_bpm),
                taken_at=when, participant=participant, context=context, source="ble")
    return len(readings)


def run_bp(args: argparse.Namespace, store: Store, console: Console) -> int:
    """Run ``isogrip bp add|list|import``."""
    if args.bp_command == "add":
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
    if args.bp_command == "read":
        import asyncio

        from isogrip.ble_device.bp_monitor import read_monitor

        console.print("Waiting for the cuff: switch it on or take a measurement...")
        readings = asyncio.run(read_monitor(args.address, timeout_s=args.timeout))
        n = store_readings(store, readings, participant=args.participant,
                           context=args.context)
        for reading in readings:
            mm = reading.to_mmhg()
            console.print(f"{mm.systolic:.0f}/{mm.diastolic:.0f} mmHg"
                          + (f", pulse {mm.pulse_bpm:.0f}" if mm.pulse_bpm else ""),
                          highlight=False)
        console.print(f"Added {n} readings from the cuff.", highlight=False)
        return 0 if n else 1
    if args.bp_command == "import":
        n = import_bp_csv(store, args.file, args.participant)
        console.print(f"Added {n} readings.", highlight=False)
        return 0
    log = store.list_bp_readings(args.participant)
    if not log:
        console.print("No blood-pressure readings yet. Add one with 'isogrip bp add 128/82'.")
        return 0
    table = Table("taken (local time)", "mmHg", "pulse", "context", "participant", "source")
    for r in log:
        when = _dt.datetime.fromisoformat(r.taken_at).astimezone().strftime("%Y-%m-%d %H:%M")
        table.add_row(when, f"{r.sbp}/{r.dbp}", "" if r.pulse is None else str(r.pulse),
                      r.context or "", r.participant or "", r.source)
    console.print(table)
    return 0
