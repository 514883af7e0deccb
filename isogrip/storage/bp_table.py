"""The ``bp_readings`` table: the blood-pressure log, and what it accepts.

A reading is checked before it is stored (:meth:`isogrip.bp_check.BpEntry.checked`
for the values, :data:`BP_CONTEXTS` for the context), so the log never holds a typing
slip such as 1200/80. Times are stored as UTC text, which sorts in time order.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any, Final

from isogrip.bp_check import BpEntry
from isogrip.errors import BpValueError
from isogrip.ids import participant_or_none
from isogrip.storage.connection import Database
from isogrip.storage.jsonio import iso_time
from isogrip.storage.rows import BpReading

#: When a reading was taken: before or after a session, or at rest.
BP_CONTEXTS: Final = ("pre", "post", "rest")

#: The columns :func:`bp_row` reads, in its order.
BP_COLUMNS: Final = ("id, participant, taken_at, sbp, dbp, pulse, context, session_id,"
                     " source, note, device, cuff_user, time_source")


def checked_context(context: str | None) -> str | None:
    """``context`` if it is one of :data:`BP_CONTEXTS` (or ``None``).

    Raises:
        BpValueError: It is something else.
    """
    if context is not None and context not in BP_CONTEXTS:
        raise BpValueError(f"context must be one of {', '.join(BP_CONTEXTS)}, "
                           f"got {context!r}")
    return context


def add_bp_reading(db: Database, *, sbp: Any, dbp: Any, pulse: Any = None,
                   taken_at: _dt.datetime | None = None, participant: str | None = None,
                   context: str | None = None, session_id: int | None = None,
                   source: str = "manual", note: str | None = None) -> int:
    """Check and store a reading (see :meth:`~isogrip.storage.store.Store.add_bp_reading`).

    Returns:
        The new row id.
    """
    participant = participant_or_none(participant)  # an ID, never a name
    reading = BpEntry.checked(sbp, dbp, pulse)
    context = checked_context(context)
    when = taken_at or _dt.datetime.now(_dt.UTC)
    with db.transaction():
        cur = db.execute(
            "save a blood-pressure reading",
            "INSERT INTO bp_readings (participant, taken_at, sbp, dbp, pulse, context,"
            " session_id, source, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            # UTC text sorts in time order, so ORDER BY taken_at is chronological.
            (participant, iso_time(when.astimezone(_dt.UTC)), reading.sbp, reading.dbp,
             reading.pulse, context, session_id, source, note),
        )
    return int(cur.lastrowid or 0)


def set_bp_session(db: Database, reading_id: int, session_id: int) -> None:
    """Link a reading to the session it was taken for."""
    db.execute("link a blood-pressure reading",
               "UPDATE bp_readings SET session_id = ? WHERE id = ?",
               (int(session_id), int(reading_id)))


def list_bp_readings(db: Database, participant: str | None = None, *,
                     since: _dt.datetime | None = None) -> list[BpReading]:
    """Blood-pressure readings, oldest first (optionally one participant's, or recent)."""
    sql = f"SELECT {BP_COLUMNS} FROM bp_readings WHERE 1"
    params: list[Any] = []
    if participant is not None:
        sql += " AND participant = ?"
        params.append(participant)
    if since is not None:
        sql += " AND taken_at >= ?"
        params.append(iso_time(since.astimezone(_dt.UTC)))
    rows = db.fetch_all("read blood-pressure readings", sql + " ORDER BY taken_at, id", params)
    return [bp_row(r) for r in rows]


def bp_row(r: Sequence[Any]) -> BpReading:
    """A reading from a row of :data:`BP_COLUMNS`."""
    return BpReading(int(r[0]), r[1], r[2], int(r[3]), int(r[4]),
                     None if r[5] is None else int(r[5]), r[6],
                     None if r[7] is None else int(r[7]), r[8], r[9], r[10],
                     None if r[11] is None else int(r[11]), r[12])
