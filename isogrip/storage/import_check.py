"""Validate a whole export folder before ``isogrip import`` writes anything.

:func:`check_export` reads ``summary.json``, ``events.csv`` and ``samples.csv``
(regular files only, each within its size limit: :mod:`isogrip.files`), checks every
field against the format of ``docs/data-formats.md`` with the checkers of
:mod:`isogrip.storage.import_fields`, and returns one :class:`ValidatedExport`: typed
rows ready to be written, nothing left to interpret. The first problem found stops
the import with :class:`~isogrip.storage.import_fields.ImportFileError`, whose message
is one line ``FILE, line N: FIELD: why``.

Beyond single values it checks what the other commands rely on: sample times never
decrease, trials and holds are not listed twice, ends do not come before starts, the
stored protocol loads (:func:`~isogrip.protocols.loader.protocol_from_dict`), the
participant is an ID (:mod:`isogrip.ids`), and the EDF+ export of the session stays
within bounds (its sample grid, and the annotations it must fit into data records).
The derived columns of ``samples.csv`` (``force_kg`` onwards) are not read: every
export recomputes them.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final, NoReturn

import numpy as np
from numpy.typing import NDArray

from isogrip.files import SAMPLES_FILE_LIMIT, TABLE_FILE_LIMIT
from isogrip.protocols.events import EventKind, Phase, Stage
from isogrip.storage.csv_numbers import CsvLines, Decimals, leading_decimals, split_lines
from isogrip.storage.export import (
    EVENT_COLUMNS,
    EVENTS_CSV,
    SAMPLES_CSV,
    SUMMARY_JSON,
)
from isogrip.storage.import_fields import (
    MAX_DEVICE_CLOCK_S,
    MAX_FORCE_N,
    MAX_INDEX,
    MAX_MESSAGE,
    MAX_TIME_S,
    MIN_TIME_S,
    ImportFileError,
    Where,
    choice,
    decode,
    integer,
    number,
    obj,
    parse_json,
    read_export_file,
    show,
    text,
)
from isogrip.storage.import_summary import (
    HANDS,
    ExportHold,
    SessionHeader,
    optional_force,
    read_summary,
)
from isogrip.storage.rows import EventRow, MvcRow, MvcTrialRow, PhaseRow
from isogrip.storage.samples_csv import SAMPLE_COLUMNS

F64 = NDArray[np.float64]

#: Most events in ``events.csv`` (a real session has a few hundred).
MAX_EVENTS: Final = 100_000
#: Longest event detail, characters of JSON (a real one has about 1 100).
MAX_DETAIL: Final = 16_384
#: Most samples per channel in the EDF+ export (span x rate; 35 h at 80 Hz).
MAX_EDF_POINTS: Final = 10_000_000
#: Most bytes of annotations the EDF+ export may need (record size x records).
MAX_EDF_ANNOTATIONS: Final = 256 << 20

_EVENT_KINDS: Final = frozenset(k.value for k in EventKind)
_PHASES: Final = tuple(p.value for p in Phase)
_STAGES: Final = tuple(s.value for s in Stage)
_PHASE_FORCES: Final = ("target_n", "band_low_n", "band_high_n", "mvc_n")
#: A number as the CSV files write it: optional minus, digits, optional decimals.
_DECIMAL: Final = r"-?[0-9]{1,12}(\.[0-9]{1,12})?"
_DECIMAL_RE: Final = re.compile(_DECIMAL)
#: The digits :data:`_DECIMAL` allows before and after the point.
_DECIMAL_DIGITS: Final = (12, 12)
assert SAMPLE_COLUMNS[:3] == ("t_s", "t_device_s", "force_n")  # the columns read


# ---------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class ValidatedExport:
    """Everything an export folder holds, checked; arrays are read-only.

    ``t_device`` is ``None`` when no sample has a device time.
    """

    header: SessionHeader
    events: tuple[EventRow, ...]
    phases: tuple[PhaseRow, ...]
    trials: tuple[MvcTrialRow, ...]
    mvc: tuple[MvcRow, ...]
    holds: tuple[ExportHold, ...]
    t: F64
    t_device: F64 | None
    force: F64





# ---------------------------------------------------------------------------- folder
def check_export(folder: Path | str) -> ValidatedExport:
    """Read and validate an export folder (nothing is written).

    Raises:
        ImportFileError: A file is missing, not a regular file, too large, or any
            field is malformed; the message names the file, line and field.
    """
    folder = Path(folder).expanduser()
    header, mvc, trials, holds = read_summary(folder / SUMMARY_JSON)
    events, phases = read_events(folder / EVENTS_CSV)
    t, t_dev, force = read_samples(folder / SAMPLES_CSV)
    if header.n_samples is not None and header.n_samples != t.size:
        raise ImportFileError(folder / SAMPLES_CSV, f"{t.size} samples, but summary.json "
                              f"says {header.n_samples}; the export is incomplete")
    check_edf_room(Where(folder / SAMPLES_CSV), header, t, events)
    has_clock = bool(np.isfinite(t_dev).any())
    for a in (t, t_dev, force):
        a.flags.writeable = False
    return ValidatedExport(header, events, phases, trials, mvc, holds, t,
                           t_dev if has_clock else None, force)


# ---------------------------------------------------------------------------- events
def read_events(path: Path) -> tuple[tuple[EventRow, ...], tuple[PhaseRow, ...]]:
    """Validate ``events.csv``; the phases are those of its ``phase`` events."""
    w = Where(path)
    content = decode(w, read_export_file(path, TABLE_FILE_LIMIT, "events file"))
    rows = csv.reader(io.StringIO(content, newline=""), strict=True)
    events: list[EventRow] = []
    phases: list[PhaseRow] = []
    here = w.at(1)
    try:
        if next(rows, None) != list(EVENT_COLUMNS):
            here.fail(None, "the header must be " + ",".join(EVENT_COLUMNS))
        here = w.at(rows.line_num + 1)
        for row in rows:
            if len(events) == MAX_EVENTS:
                here.fail(None, f"more than {MAX_EVENTS} events")
            ev = _event(here, len(events), row)
            events.append(ev)
            if ev.kind == EventKind.PHASE:
                phases.append(_phase(here, len(phases), ev))
            here = w.at(rows.line_num + 1)
    except csv.Error as exc:
        _csv_failure(here, content, exc)
    return tuple(events), tuple(phases)


def _csv_failure(w: Where, content: str, exc: csv.Error) -> NoReturn:
    """Refuse a line the csv module cannot read (naming the field that is too long)."""
    if "field larger than field limit" not in str(exc):
        w.fail(None, f"is not valid CSV ({exc})")
    lines = content.split("\n", w.line or 1)
    parts = lines[(w.line or 1) - 1].split(",", len(EVENT_COLUMNS) - 1)
    limit = csv.field_size_limit()
    field = next((n for n, p in zip(EVENT_COLUMNS, parts, strict=False) if len(p) > limit),
                 None)
    w.fail(field, f"is longer than {limit} characters (a detail has at most {MAX_DETAIL})")


def _event(w: Where, seq: int, row: list[str]) -> EventRow:
    if len(row) != len(EVENT_COLUMNS):
        w.fail(None, f"has {len(row)} fields; events.csv has {len(EVENT_COLUMNS)} "
                     f"({','.join(EVENT_COLUMNS)})")
    t_text, kind, detail_text = row
    t = None if t_text == "" else _decimal(w, "t_s", t_text, MIN_TIME_S, MAX_TIME_S)
    if kind not in _EVENT_KINDS:
        w.fail("kind", f"is not a kind of isogrip event, got {show(kind)}")
    if len(detail_text) > MAX_DETAIL:
        w.fail("detail", f"is longer than {MAX_DETAIL} characters ({len(detail_text)})")
    detail = obj(w, "detail", parse_json(w, "detail", detail_text))
    text(w, "detail.message", detail.get("message"), MAX_MESSAGE, lines=True, empty=True)
    return EventRow(seq, t, kind, dict(detail))


def _phase(w: Where, seq: int, ev: EventRow) -> PhaseRow:
    d = ev.detail
    phase = choice(w, "detail.phase", d.get("phase"), _PHASES, optional=False)
    assert phase is not None
    choice(w, "detail.stage", d.get("stage"), _STAGES)
    number(w, "detail.duration_s", d.get("duration_s"), 0.0, MAX_TIME_S)
    forces = [optional_force(w, f"detail.{k}", d.get(k)) for k in _PHASE_FORCES]
    return PhaseRow(seq, ev.t_s, phase, choice(w, "detail.hand", d.get("hand"), HANDS),
                       integer(w, "detail.rep", d.get("rep"), 0, MAX_INDEX),
                       integer(w, "detail.trial", d.get("trial"), 0, MAX_INDEX), *forces)


def _decimal(w: Where, field: str, s: str, lo: float, hi: float) -> float:
    """A number as the CSV files write it (``-12.345678``), in ``[lo, hi]``."""
    if not _DECIMAL_RE.fullmatch(s):
        w.fail(field, f"must be a number like 12.5, got {show(s)}")
    x = float(s)
    if not lo <= x <= hi:
        w.fail(field, f"must be between {lo:g} and {hi:g}, got {s}")
    return x


# ---------------------------------------------------------------------------- samples
def read_samples(path: Path) -> tuple[F64, F64, F64]:
    """Validate ``samples.csv``: ``(t, t_device, force)``, NaN where a field is empty.

    Times must be filled in, finite, within the session's range and never decrease;
    device times and forces may be empty (no clock, no valid value).
    """
    w = Where(path)
    data = read_export_file(path, SAMPLES_FILE_LIMIT, "samples file")
    end = data.find(b"\n")
    if (data if end < 0 else data[:end]).rstrip(b"\r") != ",".join(SAMPLE_COLUMNS).encode():
        w.at(1).fail(None, "the header must be " + ",".join(SAMPLE_COLUMNS))
    lines = _sample_lines(w, data)
    cols = leading_decimals(lines, 3, *_DECIMAL_DIGITS)  # t_s, t_device_s, force_n
    t = _sample_column(w, lines, cols[0], "t_s", MIN_TIME_S, MAX_TIME_S, required=True)
    t_dev = _sample_column(w, lines, cols[1], "t_device_s", -MAX_DEVICE_CLOCK_S,
                           MAX_DEVICE_CLOCK_S)
    force = _sample_column(w, lines, cols[2], "force_n", -MAX_FORCE_N, MAX_FORCE_N)
    back = np.flatnonzero(np.diff(t) < 0)
    if back.size:
        i = int(back[0]) + 1
        w.at(i + 2).fail("t_s", f"goes back in time ({t[i]:.6f} after {t[i - 1]:.6f}); "
                                "sample times never decrease")
    return t, t_dev, force


def _sample_lines(w: Where, data: bytes) -> CsvLines:
    """The rows of ``samples.csv``, one per line (:mod:`isogrip.storage.csv_numbers`).

    Quotes are not special (isogrip never quotes in this file) and empty lines are
    rows whose fields are all empty, so row ``i`` is line ``i + 2``; a line with the
    wrong number of fields is reported with its number.
    """
    lines = split_lines(data)
    counts = lines.field_counts()
    bad = np.flatnonzero((counts != len(SAMPLE_COLUMNS)) & (counts != 0))
    if bad.size:
        i = int(bad[0])
        w.at(i + 2).fail(None, f"has {int(counts[i])} fields; samples.csv has "
                               f"{len(SAMPLE_COLUMNS)}")
    return lines


def _sample_column(w: Where, lines: CsvLines, col: Decimals, name: str, lo: float,
                   hi: float, *, required: bool = False) -> F64:
    """One number column, every field a decimal (:data:`_DECIMAL`) within ``[lo, hi]``."""
    x, empty = col.values, col.empty
    first = np.flatnonzero(~col.ok & (~empty | required))
    if first.size:
        i = int(first[0])
        raw = lines.text(col.span, i)
        w.at(i + 2).fail(name, "is empty (every sample has a time)" if empty[i]
                         else f"must be a number like 12.5, got {show(raw)}")
    with np.errstate(invalid="ignore"):
        outside = np.flatnonzero((x < lo) | (x > hi))
    if outside.size:
        i = int(outside[0])
        w.at(i + 2).fail(name, f"must be between {lo:g} and {hi:g}, got {x[i]:g}")
    return x


# ---------------------------------------------------------------------------- EDF+
def check_edf_room(w: Where, header: SessionHeader, t: F64,
                   events: tuple[EventRow, ...]) -> None:
    """Refuse a session whose EDF+ export would be unboundedly large.

    The EDF+ writer (:func:`isogrip.storage.export_formats.write_edf`) resamples the
    span of the samples at the device's rate, and puts every event's annotation into
    the 1-s data record of its time or a later one, all records being as large as the
    fullest: events crowded at the end of a long recording would make every record
    large. The room needed is estimated as that writer lays it out.
    """
    from isogrip.storage.export_formats import DEFAULT_EDF_RATE_HZ, edf_event_text

    rate = (header.device_info or {}).get("nominal_rate_hz") or DEFAULT_EDF_RATE_HZ
    fs = max(1, round(float(rate)))
    t_start = min(0.0, float(t[0])) if t.size else 0.0
    span = float(t[-1]) - t_start if t.size else 1.0
    records = max(1, math.ceil((math.floor(span * fs) + 1) / fs))
    if records * fs > MAX_EDF_POINTS:
        w.fail("t_s", f"the samples span {span:.0f} s at {fs} Hz, more than the EDF+ "
                      f"export holds ({MAX_EDF_POINTS} values per channel)")
    timed = [ev for ev in events if ev.t_s is not None]
    onset = np.array([ev.t_s for ev in timed], np.float64) - t_start
    where = np.clip(onset, 0, records - 1).astype(np.int64)
    size = np.array([24 + len(edf_event_text(ev.kind, dict(ev.detail)).encode("utf-8",
                     "replace")) for ev in timed], np.float64)
    later = np.cumsum(np.bincount(where, size, records)[::-1])[::-1]
    need = float((later / np.arange(records, 0, -1)).max()) + float(size.max(initial=0))
    if records * (need + 512) > MAX_EDF_ANNOTATIONS:
        raise ImportFileError(w.path.with_name(EVENTS_CSV), "the events are too many or "
                              "too long for the EDF+ export of a recording this long "
                              f"({records} s): most crowd its end")
