"""``isogrip bp``: add, list and import blood-pressure readings; the check before a run.

The limits that advise against training come from the settings file, the same ones
the desktop app uses, so ``isogrip run``, ``isogrip bp add`` and the app agree.

A blood-pressure file (``bp import``) is UTF-8 CSV (a byte order mark is allowed) of
at most 64 MiB whose first line names the columns: ``taken_at``, ``sbp`` and ``dbp``,
and optionally ``pulse``, ``context`` (``pre``, ``post`` or ``rest``) and ``note`` (one
line, at most 500 characters). ``taken_at`` is ISO 8601, from 1900 up to a day after
now; without a UTC offset it is the local time of this computer. The whole file is
checked before anything is added: one bad line adds nothing, and the message (one
line) names the file, the line and the column. A line that is the same reading at the
same time as an earlier line is refused; a reading already in the log (the file
imported before) is skipped, so importing a file again adds only what is new.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, NamedTuple

from rich.console import Console
from rich.table import Table

from isogrip.ble_device.bp_monitor import BpMeasurement
from isogrip.bp_check import (
    BP_NOTE_MAX,
    BP_READING_TEXT_MAX,
    BpCheck,
    BpEntry,
    BpLimits,
    check_note,
    high_bp_advice,
    parse_taken_at,
    shown,
    whole_number,
)
from isogrip.errors import BpValueError, IsogripError
from isogrip.files import TABLE_FILE_LIMIT, read_limited_text
from isogrip.ids import participant_or_none
from isogrip.settings import load_settings
from isogrip.storage.history import parse_bp
from isogrip.storage.store import BP_CONTEXTS, Store, iso_time
from isogrip.timefmt import local_time

#: The columns of a blood-pressure file; the first three are required.
BP_COLUMNS: Final = ("taken_at", "sbp", "dbp", "pulse", "context", "note")
_REQUIRED: Final = BP_COLUMNS[:3]
#: The longest line of a blood-pressure file read (a line with the longest note, even
#: with every character quoted, fits); a longer line is refused, never parsed.
MAX_LINE_CHARS: Final = 4096
#: The most lines one row may run over (quoted line breaks, which a note then refuses);
#: beyond it a quote was not closed. With :data:`MAX_LINE_CHARS` this keeps every
#: field far below the csv module's own limit (128 KiB), which is never reached.
MAX_ROW_LINES: Final = 8


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


@dataclass(frozen=True)
class CsvReading:
    """One checked line of a blood-pressure file.

    Attributes:
        line: Its line in the file (the first line is 1, the column names).
        entry: The reading.
        taken_at: When it was taken (UTC).
        context: ``pre``, ``post``, ``rest`` or ``None``.
        note: The note, or ``None``.
    """

    line: int
    entry: BpEntry
    taken_at: _dt.datetime
    context: str | None
    note: str | None


class BpImport(NamedTuple):
    """What ``bp import`` did: readings added, and readings skipped as already in the log."""

    added: int
    already: int


def read_bp_csv(path: Path, *, now: _dt.datetime | None = None) -> list[CsvReading]:
    """Every reading of a blood-pressure file, each line checked (see the module doc).

    Nothing is written: the caller adds the readings only when the whole file is good.

    Args:
        path: The file.
        now: The present, for "in the future" (default: this computer's clock).

    Raises:
        BpCsvError: A line is not acceptable; the message is one line naming the file,
            the line and the column.
        InputFileError: The file is not a regular file, too large, or not UTF-8.
    """
    try:
        text = read_limited_text(path, TABLE_FILE_LIMIT, "blood-pressure file",
                                 encoding="utf-8-sig")
    except FileNotFoundError:
        raise BpCsvError(f"{path}: there is no such file") from None
    now = _dt.datetime.now(_dt.UTC) if now is None else now
    rows = _csv_rows(path, text)
    header = _header(path, next(rows, None))
    readings: list[CsvReading] = []
    seen: dict[tuple[str, int, int, int | None], int] = {}
    for line, values in rows:
        if not any(v.strip() for v in values):
            continue  # an empty line, or only commas
        reading = _reading(path, line, header, values, now)
        key = (iso_time(reading.taken_at), reading.entry.sbp, reading.entry.dbp,
               reading.entry.pulse)
        if key in seen:
            raise BpCsvError(f"{path}, line {line}, taken_at: the same reading "
                             f"({reading.entry}) at the same time as line {seen[key]}; "
                             "remove one of the two")
        seen[key] = line
        readings.append(reading)
    if not readings:
        raise BpCsvError(f"{path}: no readings after the first line (the column names)")
    return readings


def _csv_rows(path: Path, text: str) -> Iterator[tuple[int, list[str]]]:
    """The rows of a CSV text with the line each starts on, lines and rows bounded."""
    start = 1  # the line the row being read starts on

    def lines() -> Iterator[str]:
        for number, line in enumerate(io.StringIO(text, newline=""), start=1):
            if len(line) > MAX_LINE_CHARS:
                raise BpCsvError(_long_line(path, number, line, header))
            if number - start >= MAX_ROW_LINES:
                raise BpCsvError(f"{path}, line {start}: a quote (\") is not closed; the "
                                 f"row runs on over more than {MAX_ROW_LINES} lines")
            yield line

    header: list[str] = []
    reader = csv.reader(lines(), strict=True)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise BpCsvError(f"{path}, line {reader.line_num}: not valid CSV "
                             f"({exc})") from None
        if not header:
            header = [name.strip().lower() for name in row]
        yield start, row


def _long_line(path: Path, number: int, line: str, header: list[str]) -> str:
    """The message for a line longer than :data:`MAX_LINE_CHARS`, naming its column."""
    where = f"{path}, line {number}"
    if number == 1 or not header:
        return f"{where}: the first line is too long ({len(line)} characters; it " \
               "should name the columns taken_at,sbp,dbp[,pulse][,context][,note])"
    try:  # the column where the line gets too long
        cut = next(csv.reader([line[:MAX_LINE_CHARS]]), [])
    except csv.Error:
        cut = []
    column = header[len(cut) - 1] if 0 < len(cut) <= len(header) else None
    field = f", {column}" if column else ""
    note = f"; a note has at most {BP_NOTE_MAX} characters" if column == "note" else ""
    return (f"{where}{field}: the line is too long ({len(line)} characters; at most "
            f"{MAX_LINE_CHARS}){note}")


def _header(path: Path, first: tuple[int, list[str]] | None) -> list[str]:
    """The column names of the first line, checked."""
    wanted = ("the first line must name the columns taken_at,sbp,dbp "
              "(pulse, context and note are optional)")
    if first is None:
        raise BpCsvError(f"{path}: the file is empty; {wanted}")
    names = [name.strip().lower() for name in first[1]]
    for i, name in enumerate(names):
        if not name:
            raise BpCsvError(f"{path}, line 1, column {i + 1}: has no name; {wanted}")
        if name not in BP_COLUMNS:
            hint = (" (give the participant with --participant ID)"
                    if name == "participant" else "")
            raise BpCsvError(f"{path}, line 1, {shown(name)}: not a column isogrip "
                             f"reads{hint}; the columns are {', '.join(BP_COLUMNS)}")
        if name in names[:i]:
            raise BpCsvError(f"{path}, line 1, {name}: the column is named twice")
    missing = [c for c in _REQUIRED if c not in names]
    if missing:
        raise BpCsvError(f"{path}, line 1, {missing[0]}: missing; {wanted}")
    return names


def _reading(path: Path, line: int, header: list[str], values: list[str],
             now: _dt.datetime) -> CsvReading:
    """One data line, every column checked."""
    where = f"{path}, line {line}"
    if len(values) < len(header):
        raise BpCsvError(f"{where}, {header[len(values)]}: missing ({len(values)} values "
                         f"for {len(header)} columns)")
    if len(values) > len(header):
        raise BpCsvError(f"{where}, column {len(header) + 1}: a value after the last "
                         f"column ({len(values)} values for {len(header)} columns); a "
                         "value with a comma must be in quotes")
    row = dict(zip(header, values, strict=True))
    column = "taken_at"
    try:
        taken_at = parse_taken_at(row["taken_at"], now=now)
        column = "sbp"
        sbp = whole_number("sbp", row["sbp"])
        column = "dbp"
        dbp = whole_number("dbp", row["dbp"])
        column = "pulse"
        pulse_text = row.get("pulse", "")
        pulse = whole_number("pulse", pulse_text) if pulse_text.strip() else None
        column = "sbp/dbp"
        entry = BpEntry.checked(sbp, dbp, pulse)
        column = "context"
        context = row.get("context", "").strip().lower() or None
        if context is not None and context not in BP_CONTEXTS:
            raise BpValueError(f"must be one of {', '.join(BP_CONTEXTS)} or empty, got "
                               f"{shown(row['context'])}")
        column = "note"
        note = check_note(row.get("note"))
    except BpValueError as exc:
        raise BpCsvError(f"{where}, {column}: {exc}") from None
    return CsvReading(line, entry, taken_at, context, note)


def import_bp_csv(store: Store, path: Path, participant: str | None) -> BpImport:
    """Add every reading of a blood-pressure file (see the module doc for its format).

    The whole file is checked first: one bad line adds nothing and names the line. A
    reading already in the log for this participant (same time and values) is skipped.

    Returns:
        How many readings were added, and how many were already in the log.

    Raises:
        ParticipantIdError: ``participant`` is not an ID (checked before the file is read).
        BpCsvError: A line is not acceptable (nothing is added).
        InputFileError: The file cannot be read (nothing is added).
    """
    participant = participant_or_none(participant)
    readings = read_bp_csv(path)
    logged = {(r.taken_at, r.sbp, r.dbp, r.pulse)
              for r in store.list_bp_readings(participant) if r.participant == participant}
    new = [r for r in readings if (iso_time(r.taken_at), r.entry.sbp, r.entry.dbp,
                                   r.entry.pulse) not in logged]
    with store.transaction():
        for r in new:
            try:
                store.add_bp_reading(sbp=r.entry.sbp, dbp=r.entry.dbp, pulse=r.entry.pulse,
                                     taken_at=r.taken_at, participant=participant,
                                     context=r.context, source="csv", note=r.note)
            except BpValueError as exc:  # pragma: no cover - checked above
                raise BpCsvError(f"{path}, line {r.line}: {exc}") from exc
    return BpImport(len(new), len(readings) - len(new))


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
    """Run ``isogrip bp add|list|import``.

    Raises:
        ParticipantIdError: ``--participant`` is not an ID; checked before anything else
            (no file is read, no cuff is waited for).
    """
    participant = args.participant
    if args.bp_command in ("add", "read", "import"):
        participant = participant_or_none(participant)  # an ID, never a name
    if args.bp_command == "add":
        entry = entry_from_text(args.reading, args.pulse)
        store.add_bp_reading(sbp=entry.sbp, dbp=entry.dbp, pulse=entry.pulse,
                             participant=participant, context=args.context)
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
        n = store_readings(store, readings, participant=participant,
                           context=args.context)
        for reading in readings:
            mm = reading.to_mmhg()
            console.print(f"{mm.systolic:.0f}/{mm.diastolic:.0f} mmHg"
                          + (f", pulse {mm.pulse_bpm:.0f}" if mm.pulse_bpm else ""),
                          highlight=False)
        console.print(f"Added {n} readings from the cuff.", highlight=False)
        return 0 if n else 1
    if args.bp_command == "import":
        done = import_bp_csv(store, args.file, participant)
        already = (f" ({done.already} already in the log, skipped)" if done.already
                   else "")
        console.print(f"Added {done.added} readings.{already}", highlight=False)
        return 0
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
