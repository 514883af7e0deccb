"""``isogrip bp import``: reading a blood-pressure CSV file into the log.

A blood-pressure file is UTF-8 CSV (a byte order mark is allowed) of at most 64 MiB
whose first line names the columns: ``taken_at``, ``sbp`` and ``dbp``, and optionally
``pulse``, ``context`` (``pre``, ``post`` or ``rest``) and ``note`` (one line, at most
500 characters). ``taken_at`` is ISO 8601, from 1900 up to a day after
now; without a UTC offset it is the local time of this computer. The whole file is
checked before anything is added: one bad line adds nothing, and the message (one
line) names the file, the line and the column. A line that is the same reading at the
same time as an earlier line is refused; a reading already in the log (the file
imported before) is skipped, so importing a file again adds only what is new.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, NamedTuple

from isogrip.bp_check import (
    BP_NOTE_MAX,
    BpEntry,
    check_note,
    parse_taken_at,
    shown,
    whole_number,
)
from isogrip.errors import BpValueError, IsogripError
from isogrip.files import TABLE_FILE_LIMIT, read_limited_text
from isogrip.ids import participant_or_none
from isogrip.storage.bp_table import BP_CONTEXTS
from isogrip.storage.jsonio import iso_time
from isogrip.storage.store import Store

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
