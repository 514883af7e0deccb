"""The ``sessions`` table: creating, finishing, finding and listing sessions.

Also crash detection: a session whose program died stays ``running`` in the file;
:func:`mark_interrupted` finds such sessions at the next start of a command that
records, and says when they ended as far as the saved data tells.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import socket
import sys
import uuid as _uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

from isogrip.errors import SessionNotFoundError, StorageError
from isogrip.ids import participant_or_none
from isogrip.storage.connection import Database
from isogrip.storage.jsonio import dumps, iso_time, json_object
from isogrip.storage.rows import FINAL_STATUSES, SessionInfo, SessionRow
from isogrip.storage.samples_table import last_sample_time

_INTERRUPTED_NOTE: Final = (
    "isogrip stopped unexpectedly during this session; everything saved up to then is kept"
)

_ROW_SQL: Final = (
    "SELECT s.id, s.uuid, s.started_at, s.ended_at, s.status, s.protocol_name, s.device,"
    " s.participant,"
    " (SELECT count(DISTINCT h.rep) FROM holds h WHERE h.session_id = s.id"
    "  AND h.completed = 1),"
    " (SELECT m.mvc_n FROM mvc m WHERE m.session_id = s.id AND m.hand = 'left'),"
    " (SELECT m.mvc_n FROM mvc m WHERE m.session_id = s.id AND m.hand = 'right'),"
    " s.note"
    " FROM sessions s"
)


def not_found(session_id: object) -> SessionNotFoundError:
    """The error for a session id that is not in the store."""
    return SessionNotFoundError(
        f"no session {session_id}; list the sessions with `isogrip sessions`"
    )


def create_session(db: Database, *, started_at: _dt.datetime, protocol_name: str,
                   protocol: Mapping[str, Any], device: str, participant: str | None,
                   app_version: str, t0_s: float,
                   device_info: Mapping[str, Any] | None = None) -> int:
    """Start a session record (see :meth:`~isogrip.storage.store.Store.create_session`).

    The host and process id are stored so that :func:`mark_interrupted` can tell a
    session of a live program from one whose program died.
    """
    participant = participant_or_none(participant)  # an ID, never a name
    with db.transaction():
        cur = db.execute(
            "create a session",
            "INSERT INTO sessions (uuid, started_at, status, protocol_name, protocol_json,"
            " device, device_info_json, participant, app_version, t0_s, host, pid)"
            " VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                str(_uuid.uuid4()), iso_time(started_at), str(protocol_name),
                dumps(dict(protocol)), str(device),
                None if device_info is None else dumps(dict(device_info)),
                participant, str(app_version), float(t0_s), socket.gethostname(),
                os.getpid(),
            ),
        )
        session_id = cur.lastrowid
    assert session_id is not None
    return int(session_id)


def insert_session_record(db: Database, *, uuid: str, started_at: str, ended_at: str | None,
                          status: str, note: str | None, protocol_name: str,
                          protocol: Mapping[str, Any], device: str,
                          device_info: Mapping[str, Any] | None, participant: str | None,
                          app_version: str, t0_s: float,
                          preferred_id: int | None = None) -> int:
    """Add an imported, finished session (see :meth:`Store.insert_session_record`).

    Raises:
        StorageError: The session (same uuid) is already here, or it has not ended.
        ParticipantIdError: The participant is not an ID (a name, say).
    """
    participant = participant_or_none(participant)  # an ID, never a name
    if status not in FINAL_STATUSES:
        raise StorageError(f"an imported session must have ended; status {status!r}")
    with db.transaction():
        dup = db.fetch_all("check for the session", "SELECT id FROM sessions WHERE uuid = ?",
                           (uuid,))
        if dup:
            raise StorageError(f"this session is already in the store (session "
                               f"{dup[0][0]}); nothing was imported")
        free = preferred_id is not None and not has_session(db, preferred_id,
                                                            action="check the session id")
        cur = db.execute(
            "import a session",
            "INSERT INTO sessions (id, uuid, started_at, ended_at, status, protocol_name,"
            " protocol_json, device, device_info_json, participant, app_version, t0_s,"
            " note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (preferred_id if free else None, uuid, started_at, ended_at, status,
             protocol_name, dumps(dict(protocol)), device,
             None if device_info is None else dumps(dict(device_info)), participant,
             app_version, float(t0_s), note),
        )
        session_id = cur.lastrowid
    assert session_id is not None
    return int(session_id)


def finish_session(db: Database, session_id: int, status: str, ended_at: _dt.datetime,
                   note: str | None = None) -> None:
    """Record how and when a session ended.

    Raises:
        ValueError: ``status`` is not a final status.
        SessionNotFoundError: No such session.
    """
    if status not in FINAL_STATUSES:
        raise ValueError(f"status must be one of {', '.join(FINAL_STATUSES)}; got {status!r}")
    with db.transaction():
        cur = db.execute(
            "finish the session",
            "UPDATE sessions SET status = ?, ended_at = ?, note = ? WHERE id = ?",
            (status, iso_time(ended_at), note, int(session_id)),
        )
        if cur.rowcount == 0:
            raise not_found(session_id)


def mark_interrupted(db: Database) -> list[int]:
    """Mark sessions left ``running`` by a program that died as ``interrupted``.

    Returns:
        The ids of the sessions marked.
    """
    host, me = socket.gethostname(), os.getpid()
    marked: list[int] = []
    with db.transaction():
        rows = db.fetch_all(
            "list running sessions",
            "SELECT id, started_at, t0_s, host, pid FROM sessions WHERE status = 'running'",
        )
        for sid, started_at, t0_s, s_host, s_pid in rows:
            if s_host == host and s_pid is not None and (s_pid == me or _pid_alive(s_pid)):
                continue  # still recording (another window of this computer, say)
            db.execute(
                "mark a session interrupted",
                "UPDATE sessions SET status = 'interrupted', ended_at = ?, note = ?"
                " WHERE id = ?",
                (_estimated_end(db, sid, started_at, t0_s), _INTERRUPTED_NOTE, sid),
            )
            marked.append(int(sid))
    return marked


def _estimated_end(db: Database, session_id: int, started_at: str,
                   t0_s: float | None) -> str:
    """When a crashed session ended: its start plus the time of its last saved data."""
    last = _last_time(db, session_id)
    if last is not None and t0_s is not None:
        with contextlib.suppress(ValueError, OverflowError):
            start = _dt.datetime.fromisoformat(started_at)
            return iso_time(start + _dt.timedelta(seconds=max(0.0, last - t0_s)))
    return started_at


def _last_time(db: Database, session_id: int) -> float | None:
    """Latest session clock time saved for a session (samples, events, phases)."""
    times: list[float] = []
    t = last_sample_time(db, session_id)
    if t is not None:
        times.append(t)
    for table in ("events", "phases"):
        (v,) = db.fetch_one(
            "read times", f"SELECT max(t_s) FROM {table} WHERE session_id = ?", (session_id,)
        )
        if v is not None:
            times.append(float(v))
    return max(times) if times else None


def _pid_alive(pid: int) -> bool:
    """Whether a process with this id runs (POSIX only; ``False`` when unknown)."""
    if sys.platform == "win32" or pid <= 0:
        return False  # os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _session_row(r: Sequence[Any]) -> SessionRow:
    return SessionRow(
        id=int(r[0]), uuid=r[1], started_at=r[2], ended_at=r[3], status=r[4],
        protocol_name=r[5], device=r[6], participant=r[7], n_holds_done=int(r[8]),
        mvc_left_n=r[9], mvc_right_n=r[10], note=r[11],
    )


def list_sessions(db: Database, participant: str | None = None) -> list[SessionRow]:
    """All sessions, oldest first, optionally for one participant only."""
    if participant is None:
        rows = db.fetch_all("list sessions", _ROW_SQL + " ORDER BY s.id")
    else:
        rows = db.fetch_all("list sessions", _ROW_SQL + " WHERE s.participant = ? ORDER BY s.id",
                            (participant,))
    return [_session_row(r) for r in rows]


def get_session(db: Database, session_id: int) -> SessionRow:
    """One session's list line.

    Raises:
        SessionNotFoundError: No such session.
    """
    rows = db.fetch_all("read a session", _ROW_SQL + " WHERE s.id = ?", (int(session_id),))
    if not rows:
        raise not_found(session_id)
    return _session_row(rows[0])


def get_session_info(db: Database, session_id: int) -> SessionInfo:
    """Every stored field of one session.

    Raises:
        SessionNotFoundError: No such session.
    """
    rows = db.fetch_all(
        "read a session",
        "SELECT id, uuid, started_at, ended_at, status, protocol_name, protocol_json,"
        " device, device_info_json, participant, app_version, t0_s, note"
        " FROM sessions WHERE id = ?",
        (int(session_id),),
    )
    if not rows:
        raise not_found(session_id)
    r = rows[0]
    return SessionInfo(
        id=int(r[0]), uuid=r[1], started_at=r[2], ended_at=r[3], status=r[4],
        protocol_name=r[5], protocol=json_object(r[6]), device=r[7],
        device_info=None if r[8] is None else json_object(r[8]), participant=r[9],
        app_version=r[10], t0_s=0.0 if r[11] is None else float(r[11]), note=r[12],
    )


# ---------------------------------------------------------------- typed lookups
def has_session(db: Database, session_id: int, *, action: str = "find a session") -> bool:
    """Whether a session with this id is stored."""
    return db.fetch_one(action, "SELECT 1 FROM sessions WHERE id = ?",
                        (int(session_id),)) is not None


def checked_id(db: Database, session_id: int) -> int:
    """``session_id`` as an int, once it is known to be stored.

    Raises:
        SessionNotFoundError: No such session.
    """
    if not has_session(db, session_id, action="read a session"):
        raise not_found(session_id)
    return int(session_id)


def latest_session_id(db: Database, n: int = 1) -> int | None:
    """The id of the ``n``-th most recent session (1: the latest), or ``None``."""
    if n < 1:
        raise ValueError(f"n counts from 1 (the latest session); got {n}")
    row = db.fetch_one("find the last session",
                       "SELECT id FROM sessions ORDER BY id DESC LIMIT 1 OFFSET ?", (n - 1,))
    return None if row is None else int(row[0])


def session_ids_by_uuid_prefix(db: Database, prefix: str, limit: int = 2) -> list[int]:
    """Ids of up to ``limit`` sessions whose uuid starts with ``prefix`` (exactly)."""
    rows = db.fetch_all(
        "find a session",
        "SELECT id FROM sessions WHERE substr(uuid, 1, ?) = ? ORDER BY id LIMIT ?",
        (len(prefix), prefix, int(limit)),
    )
    return [int(r[0]) for r in rows]
