"""The ``programmes`` and ``programme_steps`` tables: a participant's programme, kept.

A programme row holds the plan it was started with (as JSON, so later defaults never
change a running programme) and its first day. Its steps (intensity changes, missed
weeks) are derived from the recorded sessions by :mod:`isogrip.programme.review` and
written here as they first appear, with the sentence the person was shown, so the
record says what the person was told and when even if a later isogrip words it
differently. ``NULL`` participant means the home user who gives no ID.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
from collections.abc import Callable, Sequence
from typing import Any

from isogrip.ids import participant_or_none
from isogrip.programme.intensity import ProgrammeStep
from isogrip.programme.plan import ProgrammeError, ProgrammePlan
from isogrip.storage.connection import Database
from isogrip.storage.jsonio import dumps, iso_time
from isogrip.timefmt import local_datetime


@dataclasses.dataclass(frozen=True, slots=True)
class ProgrammeRow:
    """A stored programme.

    Attributes:
        id: Row id.
        participant: Participant ID, or ``None``.
        started_on: Its first day (local date).
        plan: The rules it was started with.
        status: ``active`` or ``ended``.
        ended_at: When it was ended (ISO 8601), or ``None``.
    """

    id: int
    participant: str | None
    started_on: _dt.date
    plan: ProgrammePlan
    status: str
    ended_at: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class StoredStep:
    """A programme step as recorded: the step and when it was written."""

    seq: int
    recorded_at: str
    kind: str
    intensity_pct: float | None
    session_id: int | None
    reason: str


def _where_participant(participant: str | None) -> tuple[str, list[Any]]:
    if participant is None:
        return "participant IS NULL", []
    return "participant = ?", [participant]


def _row(r: Sequence[Any]) -> ProgrammeRow:
    try:
        plan = ProgrammePlan.from_json(json.loads(r[3]))
        started = _dt.date.fromisoformat(r[2])
    except (ValueError, TypeError) as exc:
        raise ProgrammeError(f"programme {r[0]} in the database cannot be read: {exc}") \
            from None
    return ProgrammeRow(int(r[0]), r[1], started, plan, r[4], r[5])


class ProgrammeTable:
    """The programmes of one database (``store.programmes``).

    Args:
        db: The open database.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def active(self, participant: str | None) -> ProgrammeRow | None:
        """The participant's active programme, or ``None``."""
        where, params = _where_participant(participant_or_none(participant))
        row = self._db.fetch_one("read the programme",
                           "SELECT id, participant, started_on, plan_json, status, ended_at"
                           f" FROM programmes WHERE {where} AND status = 'active'"
                           " ORDER BY id DESC LIMIT 1", params)
        return None if row is None else _row(row)

    def all(self, participant: str | None = None) -> list[ProgrammeRow]:
        """Every programme (one participant's, or everyone's), oldest first."""
        sql = "SELECT id, participant, started_on, plan_json, status, ended_at FROM programmes"
        params: list[Any] = []
        if participant is not None:
            sql += " WHERE participant = ?"
            params.append(participant)
        rows = self._db.fetch_all("read programmes", sql + " ORDER BY id", params)
        return [_row(r) for r in rows]

    def start(self, plan: ProgrammePlan, *, participant: str | None,
                        started_on: _dt.date, now: _dt.datetime, reason: str) -> ProgrammeRow:
        """Store a new programme and its ``start`` step.

        Raises:
            ProgrammeError: The participant already has an active programme.
        """
        participant = participant_or_none(participant)
        with self._db.transaction():
            existing = self.active(participant)
            if existing is not None:
                who = "You" if participant is None else f"Participant {participant}"
                raise ProgrammeError(
                    f"{who} already follow a programme started on {existing.started_on}; "
                    "end it first with 'isogrip programme end'")
            cur = self._db.execute("start a programme",
                             "INSERT INTO programmes (participant, started_on, protocol_name,"
                             " plan_json) VALUES (?, ?, ?, ?)",
                             (participant, started_on.isoformat(), plan.protocol_name,
                              dumps(plan.to_json())))
            pid = int(cur.lastrowid or 0)
            self._insert_step(pid, 1, now, "start", plan.target_pct, None, reason)
        row = self.active(participant)
        assert row is not None  # just written in this transaction
        return row

    def end(self, programme_id: int, now: _dt.datetime) -> None:
        """Mark a programme ended (its rows stay)."""
        self._db.execute("end the programme",
                   "UPDATE programmes SET status = 'ended', ended_at = ? WHERE id = ?",
                   (iso_time(now.astimezone(_dt.UTC)), int(programme_id)))

    def steps(self, programme_id: int) -> list[StoredStep]:
        """The recorded steps of a programme, in order."""
        rows = self._db.fetch_all("read programme steps",
                            "SELECT seq, recorded_at, kind, intensity_pct, session_id, reason"
                            " FROM programme_steps WHERE programme_id = ? ORDER BY seq",
                            (int(programme_id),))
        return [StoredStep(int(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in rows]

    def record_new_steps(self, programme_id: int, steps: Sequence[ProgrammeStep],
                         now: _dt.datetime) -> list[StoredStep]:
        """Write the derived steps not yet recorded (matched on kind, session and reason).

        Returns:
            Every recorded step after writing, in order.
        """
        with self._db.transaction():
            stored = self.steps(programme_id)
            seen = {(s.kind, s.session_id, s.reason) for s in stored}
            seq = max((s.seq for s in stored), default=0)
            for step in steps:
                key = (step.kind.value, step.session_id, step.reason)
                if key in seen:
                    continue
                seq += 1
                self._insert_step(programme_id, seq, now, step.kind.value, step.intensity_pct,
                             step.session_id, step.reason)
                seen.add(key)
        return self.steps(programme_id)

    def _insert_step(self, programme_id: int, seq: int, now: _dt.datetime, kind: str,
                     intensity_pct: float | None, session_id: int | None, reason: str) -> None:
        self._db.execute("record a programme step",
                   "INSERT INTO programme_steps (programme_id, seq, recorded_at, kind,"
                   " intensity_pct, session_id, reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (int(programme_id), seq, iso_time(now.astimezone(_dt.UTC)), kind,
                    intensity_pct, session_id, reason))

    def session_columns(self, participant: str | None
                        ) -> Callable[[int, str], dict[str, Any]]:
        """The programme columns of a session for the participant table.

        Returns:
            A function of a session's id and start giving ``programme_id``,
            ``programme_week`` (calendar weeks from the programme's first day, from 1)
            and ``programme_step`` (the sentence of the change it led to, if any).
        """
        programmes = self.all(participant)
        steps = {st.session_id: st.reason for p in programmes
                 for st in self.steps(p.id) if st.session_id is not None}

        def columns(session_id: int, started_at: str) -> dict[str, Any]:
            day = local_datetime(started_at).date()
            # The latest programme begun on or before the session's day.
            current = [p for p in programmes if p.started_on <= day and (
                p.ended_at is None or local_datetime(p.ended_at).date() >= day)]
            if not current:
                return {"programme_id": None, "programme_week": None, "programme_step": None}
            p = current[-1]
            return {"programme_id": p.id, "programme_week": (day - p.started_on).days // 7 + 1,
                    "programme_step": steps.get(session_id)}

        return columns
