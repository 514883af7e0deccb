"""Readings from a Bluetooth blood-pressure cuff into the log, each stored once.

A cuff sends its whole memory every time it connects, so the same reading arrives
again and again. What is stored once, and what cannot be:

* A reading with the cuff's own time stamp (``time_source = 'cuff'``) is stored once
  per cuff (its address), cuff user, time and values: the unique index
  ``bp_cuff_reading`` of ``bp_readings`` refuses a second copy, in this read or in any
  later one. The cuff's clock is local time; it is stored in UTC as this computer's
  time zone says, so a computer moved to another time zone stores the old readings
  again.
* A reading without a time stamp (``time_source = 'received'``) is stored at the time
  of the read. Within one read, a run of such readings that repeats the read's earlier
  ones whole and in the same order is the cuff sending its memory again, and is
  dropped; so are two readings in a row with the same values and user (they cannot be
  told apart from one sent twice). Across separate reads they cannot be told apart at
  all: a cuff without a clock that resends its memory at every connection adds it to
  the log again each time.

A time-stamped reading may have been typed in already (the person typed the numbers,
then pressed "Read from cuff"). A row without a device (``time_source = 'entered'``:
typed, or imported from a file) of the same participant, with the same systolic and
diastolic pressure and the same pulse (or none), taken within :data:`TYPED_WINDOW` of
the cuff's time stamp, is that measurement: it is not stored again (the home averages
would count it twice) but the typed row takes the cuff's address, user, time, pulse and
``time_source = 'cuff'``, keeping its id, context, session and note. Updating rather
than skipping loses nothing already recorded, and a later read of the same memory then
finds the cuff's copy by the unique index and adds nothing. The closest typed row in
time is taken, and each typed row stands for one cuff reading only (once matched it
has a device). Readings without a time stamp are never matched: they carry no time
of their own to match by.

A reading the log refuses (not plausible, or a clock far in the future) is skipped
and reported; the others are stored.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Sequence
from typing import Final, NamedTuple, Protocol

from isogrip.bp_check import BpEntry, check_taken_at
from isogrip.errors import BpValueError
from isogrip.ids import participant_or_none
from isogrip.storage.bp_table import BP_COLUMNS, bp_row, checked_context
from isogrip.storage.connection import Database
from isogrip.storage.jsonio import iso_time
from isogrip.storage.rows import BpReading

#: A cuff reading this close to the time of the read is the one just taken.
FRESH: Final = _dt.timedelta(minutes=10)
#: A typed reading this close to a cuff's time stamp (either side) can be that reading:
#: typing follows the cuff by a minute or two, and the cuff's clock may be a few minutes
#: off; a protocol's readings a minute apart are matched one to one.
TYPED_WINDOW: Final = _dt.timedelta(minutes=15)
#: ``source`` of readings from a Bluetooth cuff.
SOURCE: Final = "ble"
#: The user id a cuff sends for "unknown user" (Bluetooth SIG); stored as ``NULL``.
UNKNOWN_USER: Final = 0xFF


class CuffMeasurement(Protocol):
    """What is read from a cuff's measurement (as ``BpMeasurement`` has it)."""

    @property
    def systolic(self) -> float:
        """Systolic pressure."""

    @property
    def diastolic(self) -> float:
        """Diastolic pressure."""

    @property
    def pulse_bpm(self) -> float | None:
        """Pulse, beats per minute, if sent."""

    @property
    def timestamp(self) -> _dt.datetime | None:
        """The cuff's time stamp (its local time), if sent."""

    @property
    def user_id(self) -> int | None:
        """The cuff's user number, if sent."""

    def to_mmhg(self) -> CuffMeasurement:
        """The same reading in mmHg."""


@dataclasses.dataclass(frozen=True, slots=True)
class JustTaken:
    """What the newest reading is when it was taken just now (see :data:`FRESH`).

    Attributes:
        context: Its context (``pre`` before a session, ``post`` after one).
        session_id: The session to link it to, if it exists already.
    """

    context: str
    session_id: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class CuffImport:
    """What one read of a cuff added to the log.

    Attributes:
        added: Readings stored now.
        already: Readings that were in the log already: stored by an earlier read, or
            typed in (``matched`` of them).
        resent: Copies within this read that were dropped (the cuff sent them twice).
        refused: Why each reading the log refused was skipped.
        newest: The newest reading of this read, as stored (``None``: none stored).
        just_taken: ``newest`` again when it was marked as just taken, else ``None``.
    """

    added: int = 0
    already: int = 0
    resent: int = 0
    refused: tuple[str, ...] = ()
    newest: BpReading | None = None
    just_taken: BpReading | None = None
    matched: int = 0


class _Row(NamedTuple):
    """One reading as it goes into the table (and the key it is stored once by)."""

    taken_at: str
    time_source: str
    sbp: int
    dbp: int
    pulse: int | None
    user: int | None


def add_cuff_readings(db: Database, measurements: Sequence[CuffMeasurement], *,
                      device: str, participant: str | None = None,
                      context: str | None = None, now: _dt.datetime | None = None,
                      just_taken: JustTaken | None = None) -> CuffImport:
    """Store what a cuff sent, each reading once (see the module's notes).

    Args:
        db: The database.
        measurements: The readings in the order the cuff sent them.
        device: The cuff's Bluetooth address.
        participant: Participant ID, or ``None``.
        context: Context of the readings from the cuff's memory (``rest``, ...).
        now: When they were received (default: now); the time of readings that
            came without one.
        just_taken: Mark the newest reading so when it was taken just now (within
            :data:`FRESH` of ``now``, or sent without a time) and belongs to no
            session yet.

    Raises:
        BpValueError: ``context`` is not a context, or ``device`` is empty.
        ParticipantIdError: The participant is not an ID.
        StorageError: The database could not be written (nothing is stored then).
    """
    participant = participant_or_none(participant)
    context = checked_context(context)
    if just_taken is not None:
        checked_context(just_taken.context)
    device = device.strip().upper()
    if not device:
        raise BpValueError("a cuff reading needs the cuff's address")
    now = (now or _dt.datetime.now(_dt.UTC)).astimezone(_dt.UTC)
    rows, refused = _rows(measurements, now)
    kept = _without_resends(rows)
    if not kept:
        return CuffImport(refused=refused)
    added, ids, matched = 0, list[int](), set[int]()
    with db.transaction():
        for row in kept:  # the write lock is held: what is looked up stays so
            found = _stored_id(db, row, device)
            if found is None and row.time_source == "cuff":
                found = _match_typed(db, row, device, participant, context)
                if found is not None:
                    matched.add(found)
            if found is None:
                found = _insert(db, row, device, participant, context)
                added += 1
            ids.append(found)
        last = max(range(len(kept)), key=lambda i: (kept[i].taken_at, i))
        newest = _fetch(db, ids[last])
        taken = None
        if just_taken is not None and _fresh(newest, now) and newest.session_id is None \
                and newest.context in (None, context, just_taken.context):
            db.execute("mark the reading just taken",
                       "UPDATE bp_readings SET context = ?, session_id = ? WHERE id = ?",
                       (just_taken.context, just_taken.session_id, newest.id))
            newest = taken = _fetch(db, newest.id)
    return CuffImport(added, len(kept) - added, len(rows) - len(kept), refused, newest, taken,
                      len(matched))


def _rows(measurements: Sequence[CuffMeasurement],
          now: _dt.datetime) -> tuple[list[_Row], tuple[str, ...]]:
    """The readings as table rows (mmHg, UTC), and why each refused one was refused."""
    rows: list[_Row] = []
    refused: list[str] = []
    for m in measurements:
        try:
            mm = m.to_mmhg()
            pulse = None if mm.pulse_bpm is None else round(mm.pulse_bpm)
            entry = BpEntry.checked(round(mm.systolic), round(mm.diastolic), pulse)
            if m.timestamp is None:
                taken, source = now, "received"
            else:
                taken, source = check_taken_at(m.timestamp, now=now), "cuff"
        except (BpValueError, ValueError, OverflowError) as exc:
            refused.append(f"{m.systolic:g}/{m.diastolic:g}: {exc}")
            continue
        user = None if m.user_id in (None, UNKNOWN_USER) else m.user_id
        rows.append(_Row(iso_time(taken), source, entry.sbp, entry.dbp, entry.pulse, user))
    return rows, tuple(refused)


def _without_resends(rows: list[_Row]) -> list[_Row]:
    """``rows`` without the copies a cuff sent twice in one read, in their order.

    A time-stamped reading is a copy when the same one came earlier. Readings without
    a time stamp are a copy when a run of them repeats, whole and in order, the run
    just before it: the cuff started over from the beginning of its memory.
    """
    seen: set[_Row] = set()
    stamped: list[int] = []
    for i, row in enumerate(rows):
        if row.time_source == "cuff" and row not in seen:
            seen.add(row)
            stamped.append(i)
    unstamped = [i for i, row in enumerate(rows) if row.time_source != "cuff"]
    while True:
        values = [rows[i] for i in unstamped]
        start = next((p for p in range(len(values) // 2, 0, -1)
                      if values[p:2 * p] == values[:p]), None)
        if start is None:
            break
        unstamped = unstamped[start:]  # the resend holds the first pass as its start
    return [rows[i] for i in sorted(stamped + unstamped)]


def _insert(db: Database, row: _Row, device: str, participant: str | None,
            context: str | None) -> int:
    """Store a row (not stored yet: see :func:`_stored_id`); its new id."""
    cur = db.execute(
        "save a reading from the cuff",
        "INSERT INTO bp_readings (participant, taken_at, sbp, dbp, pulse, context, source,"
        " device, cuff_user, time_source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (participant, row.taken_at, row.sbp, row.dbp, row.pulse, context, SOURCE, device,
         row.user, row.time_source))
    return int(cur.lastrowid or 0)


def _stored_id(db: Database, row: _Row, device: str) -> int | None:
    """The id of the stored copy of a time-stamped cuff reading, if it is stored."""
    if row.time_source != "cuff":
        return None  # no key to find it by
    found = db.fetch_one(
        "find a stored cuff reading",
        "SELECT id FROM bp_readings WHERE time_source = 'cuff' AND device = ?"
        " AND IFNULL(cuff_user, -1) = ? AND taken_at = ? AND sbp = ? AND dbp = ?"
        " AND IFNULL(pulse, -1) = ?",
        (device, -1 if row.user is None else row.user, row.taken_at, row.sbp, row.dbp,
         -1 if row.pulse is None else row.pulse))
    return None if found is None else int(found[0])


def _match_typed(db: Database, row: _Row, device: str, participant: str | None,
                 context: str | None) -> int | None:
    """Make the typed row that is this cuff reading its stored copy; its id, else ``None``.

    See the module's notes: no device, same participant, values and pulse (or none),
    within :data:`TYPED_WINDOW` of the cuff's time; the closest in time (then the first).
    """
    window = TYPED_WINDOW / _dt.timedelta(days=1)
    found = db.fetch_one(
        "find a typed copy of a cuff reading",
        "SELECT id FROM bp_readings WHERE device IS NULL AND time_source = 'entered'"
        " AND participant IS ? AND sbp = ? AND dbp = ? AND (pulse IS NULL OR pulse = ?)"
        " AND ABS(julianday(taken_at) - julianday(?)) <= ?"
        " ORDER BY ABS(julianday(taken_at) - julianday(?)), id LIMIT 1",
        (participant, row.sbp, row.dbp, row.pulse, row.taken_at, window, row.taken_at))
    if found is None:
        return None
    db.execute("recognise a typed reading as the cuff's",
               "UPDATE bp_readings SET device = ?, cuff_user = ?, taken_at = ?, pulse = ?,"
               " time_source = 'cuff', context = IFNULL(context, ?) WHERE id = ?",
               (device, row.user, row.taken_at, row.pulse, context, int(found[0])))
    return int(found[0])


def _fetch(db: Database, reading_id: int) -> BpReading:
    row = db.fetch_one("read a blood-pressure reading",
                       f"SELECT {BP_COLUMNS} FROM bp_readings WHERE id = ?", (reading_id,))
    return bp_row(row)


def _fresh(reading: BpReading, now: _dt.datetime) -> bool:
    """Whether a stored reading was taken just now (or came without a time)."""
    if reading.time_source == "received":
        return True
    taken = _dt.datetime.fromisoformat(reading.taken_at)
    return abs(now - taken) <= FRESH
