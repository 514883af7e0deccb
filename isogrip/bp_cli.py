"""``isogrip bp``: add, list and import blood-pressure readings."""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
from pathlib import Path

from rich.console import Console
from rich.table import Table

from isogrip.errors import BpValueError, IsogripError
from isogrip.storage.history import parse_bp
from isogrip.storage.store import Store


class BpCsvError(IsogripError, ValueError):
    """A blood-pressure CSV file cannot be imported (the message names the line)."""


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


def run_bp(args: argparse.Namespace, store: Store, console: Console) -> int:
    """Run ``isogrip bp add|list|import``."""
    if args.bp_command == "add":
        sbp, dbp = parse_bp(args.reading)
        store.add_bp_reading(sbp=sbp, dbp=dbp, pulse=args.pulse, participant=args.participant,
                             context=args.context)
        advice = ""
        if sbp >= 180 or dbp >= 110:
            advice = " This is high: do not train today, and talk to your doctor if it stays high."
        console.print(f"Saved {sbp}/{dbp} mmHg." + advice, highlight=False)
        return 0
    if args.bp_command == "import":
        n = import_bp_csv(store, args.file, args.participant)
        console.print(f"Added {n} readings.", highlight=False)
        return 0
    readings = store.list_bp_readings(args.participant)
    if not readings:
        console.print("No blood-pressure readings yet. Add one with 'isogrip bp add 128/82'.")
        return 0
    table = Table("taken (local time)", "mmHg", "pulse", "context", "participant", "source")
    for r in readings:
        when = _dt.datetime.fromisoformat(r.taken_at).astimezone().strftime("%Y-%m-%d %H:%M")
        table.add_row(when, f"{r.sbp}/{r.dbp}", "" if r.pulse is None else str(r.pulse),
                      r.context or "", r.participant or "", r.source)
    console.print(table)
    return 0
