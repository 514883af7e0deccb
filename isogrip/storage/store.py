"""The SQLite session store.

One database file (``isogrip.sqlite3`` in the data folder) holds every session: its
metadata, phase changes, events, MVC trials and results, hold results and the raw
force samples. ``docs/data-formats.md`` documents the schema column by column.

The connection runs in WAL mode with ``synchronous=FULL``: a commit is durable against
a crash of the program and against a power cut (the write-ahead log is flushed to the
disk at each commit; the recorder commits about once a second, so this costs one flush
a second), and writers never block readers. Samples are stored
in chunks (one row per recorder flush) of little-endian float64 arrays, which keeps
writing far faster than any force device and the file compact.

Threading: the connection is opened with ``check_same_thread=False`` so that it can be
created in one thread and used in another (the runtime thread writes during a session;
the CLI or GUI read afterwards). Only one thread should use a :class:`Store` at a time;
an internal lock serialises calls, so an overlap is safe but waits.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import enum
import json
import math
import os
import socket
import sqlite3
import sys
import threading
import uuid as _uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from isogrip.bp_check import BpEntry
from isogrip.errors import (
    BpValueError,
    DatabaseBusyError,
    DatabaseDamagedError,
    SessionNotFoundError,
    StorageError,
)
from isogrip.files import FILE_MODE
from isogrip.ids import participant_or_none
from isogrip.storage.paths import (
    DB_FILENAME,
    database_path,
    default_data_dir,
    prepare_data_dir,
)
from isogrip.storage.recovery import UseLock, backup_damaged
from isogrip.storage.recovery import start_new_database as start_new_database

#: Version of the database layout, kept in ``PRAGMA user_version``.
SCHEMA_VERSION: Final = 2
#: ``PRAGMA application_id`` of isogrip databases (ASCII "IGRP").
APPLICATION_ID: Final = 0x49475250
#: Session states. ``running`` is replaced by one of the others when a session ends,
#: or by ``interrupted`` at the next start if the program died meanwhile.
STATUSES: Final = ("running", "complete", "aborted", "interrupted")
#: Final states accepted by :meth:`Store.finish_session`.
FINAL_STATUSES: Final = ("complete", "aborted", "interrupted")
#: Byte layout of every array in the ``samples`` table.
SAMPLE_DTYPE: Final = np.dtype("<f8")
#: Seconds to wait for another process's write lock before giving up.
BUSY_TIMEOUT_S: Final = 10.0

_SCHEMA: Final = (
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        status TEXT NOT NULL DEFAULT 'running'
            CHECK (status IN ('running', 'complete', 'aborted', 'interrupted')),
        protocol_name TEXT NOT NULL,
        protocol_json TEXT NOT NULL,
        device TEXT NOT NULL,
        device_info_json TEXT,
        participant TEXT,
        app_version TEXT NOT NULL,
        t0_s REAL,
        note TEXT,
        host TEXT,
        pid INTEGER
    )
    """,
    "CREATE INDEX sessions_participant ON sessions (participant)",
    "CREATE INDEX sessions_status ON sessions (status)",
    """
    CREATE TABLE phases (
        session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        t_s REAL,
        phase TEXT NOT NULL,
        hand TEXT,
        rep INTEGER,
        trial INTEGER,
        target_n REAL,
        band_low_n REAL,
        band_high_n REAL,
        mvc_n REAL,
        PRIMARY KEY (session_id, seq)
    )
    """,
    """
    CREATE TABLE mvc_trials (
        session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        hand TEXT NOT NULL,
        trial INTEGER NOT NULL,
        t_start_s REAL,
        t_end_s REAL,
        score_n REAL,
        raw_peak_n REAL,
        time_to_peak_s REAL,
        plausible INTEGER NOT NULL,
        message TEXT,
        used INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (session_id, hand, trial)
    )
    """,
    """
    CREATE TABLE mvc (
        session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        hand TEXT NOT NULL,
        mvc_n REAL,
        best_trial INTEGER,
        flags TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (session_id, hand)
    )
    """,
    """
    CREATE TABLE holds (
        session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        rep INTEGER NOT NULL,
        attempt INTEGER NOT NULL DEFAULT 1,
        hand TEXT,
        t_go_s REAL,
        t_end_s REAL,
        target_n REAL,
        band_low_n REAL,
        band_high_n REAL,
        mvc_n REAL,
        completed INTEGER NOT NULL,
        time_in_band_pct REAL,
        mean_pct_mvc REAL,
        cv_mean_pct REAL,
        drift_pct_mvc_per_min REAL,
        gap_s REAL,
        metrics_json TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (session_id, rep, attempt)
    )
    """,
    """
    CREATE TABLE events (
        session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        t_s REAL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (session_id, seq)
    )
    """,
    """
    CREATE TABLE samples (
        session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        chunk INTEGER NOT NULL,
        t_first_s REAL,
        n INTEGER NOT NULL,
        t_s BLOB NOT NULL,
        t_device_s BLOB,
        force_n BLOB NOT NULL,
        PRIMARY KEY (session_id, chunk)
    )
    """,
)

#: Steps that bring a database of version ``v - 1`` to version ``v`` (key ``v``). A new
#: database gets ``_SCHEMA`` followed by every step.
_MIGRATIONS: Final[dict[int, tuple[str, ...]]] = {
    2: (
        """
        CREATE TABLE bp_readings (
            id INTEGER PRIMARY KEY,
            participant TEXT,
            taken_at TEXT NOT NULL,
            sbp INTEGER NOT NULL,
            dbp INTEGER NOT NULL,
            pulse INTEGER,
            context TEXT CHECK (context IN ('pre', 'post', 'rest') OR context IS NULL),
            session_id INTEGER REFERENCES sessions (id) ON DELETE SET NULL,
            source TEXT NOT NULL DEFAULT 'manual',
            note TEXT
        )
        """,
        "CREATE INDEX bp_participant ON bp_readings (participant, taken_at)",
    ),
}

BP_CONTEXTS: Final = ("pre", "post", "rest")

#: Hold metrics that also get their own column in ``holds`` (all are in metrics_json).
HOLD_METRIC_COLUMNS: Final = (
    "time_in_band_pct",
    "mean_pct_mvc",
    "cv_mean_pct",
    "drift_pct_mvc_per_min",
    "gap_s",
)

_INTERRUPTED_NOTE: Final = (
    "isogrip stopped unexpectedly during this session; everything saved up to then is kept"
)


# ---------------------------------------------------------------------------- rows
@dataclasses.dataclass(frozen=True, slots=True)
class SessionRow:
    """One line of the session list.

    Attributes:
        id: Session id (small integer, unique in this database).
        uuid: Globally unique session id (for merging databases).
        started_at: Start time, ISO 8601 with UTC offset.
        ended_at: End time (ISO 8601), or ``None`` while running.
        status: ``running``, ``complete``, ``aborted`` or ``interrupted``.
        protocol_name: Name of the protocol that ran.
        device: Device spec string (e.g. ``"sim"``, ``"progressor"``).
        participant: Participant ID, or ``None``.
        n_holds_done: Number of holds completed.
        mvc_left_n: Left-hand MVC in newtons, or ``None`` if not measured.
        mvc_right_n: Right-hand MVC in newtons, or ``None`` if not measured.
        note: Why the session stopped (for aborted or interrupted sessions), or ``None``.
    """

    id: int
    uuid: str
    started_at: str
    ended_at: str | None
    status: str
    protocol_name: str
    device: str
    participant: str | None
    n_holds_done: int
    mvc_left_n: float | None
    mvc_right_n: float | None
    note: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class SessionInfo:
    """Every stored field of one session (the ``sessions`` row, JSON decoded).

    Attributes:
        id: Session id.
        uuid: Globally unique session id.
        started_at: Start time, ISO 8601 with UTC offset.
        ended_at: End time, or ``None`` while running.
        status: Session state (see :data:`STATUSES`).
        protocol_name: Protocol name.
        protocol: The full protocol definition as it ran.
        device: Device spec string.
        device_info: What the device reported about itself, or ``None``.
        participant: Participant ID, or ``None``.
        app_version: isogrip version that recorded the session.
        t0_s: Session clock value at the start; every ``t_s`` in the database is on
            this clock, so ``t_s - t0_s`` is the time since the start.
        note: Why the session stopped, or ``None``.
    """

    id: int
    uuid: str
    started_at: str
    ended_at: str | None
    status: str
    protocol_name: str
    protocol: dict[str, Any]
    device: str
    device_info: dict[str, Any] | None
    participant: str | None
    app_version: str
    t0_s: float
    note: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class PhaseRow:
    """A phase change (the phase lasts until the next row's ``t_s``).

    Attributes:
        seq: Order of recording within the session (0, 1, 2...).
        t_s: Session clock time of the change, in seconds (``None`` if it was NaN).
        phase: Phase name as the protocol engine reports it (e.g. ``"hold"``).
        hand: ``"left"``/``"right"``, or ``None`` if the phase has no hand.
        rep: Hold number (1-based), or ``None``.
        trial: MVC trial number (1-based), or ``None``.
        target_n: Target force in newtons, or ``None``.
        band_low_n: Lower edge of the target band (N), or ``None``.
        band_high_n: Upper edge of the target band (N), or ``None``.
        mvc_n: MVC the target derives from (N), or ``None``.
    """

    seq: int
    t_s: float | None
    phase: str
    hand: str | None = None
    rep: int | None = None
    trial: int | None = None
    target_n: float | None = None
    band_low_n: float | None = None
    band_high_n: float | None = None
    mvc_n: float | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class EventRow:
    """A recorded event.

    Attributes:
        seq: Order of recording within the session.
        t_s: Session clock time in seconds (``None`` if it was NaN).
        kind: Event kind (e.g. ``"phase"``, ``"warning"``).
        detail: Event data (decoded JSON object).
    """

    seq: int
    t_s: float | None
    kind: str
    detail: dict[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class MvcTrialRow:
    """One maximal effort.

    Attributes:
        hand: ``"left"`` or ``"right"``.
        trial: Trial number for that hand (1-based).
        t_start_s: Session clock time the effort window opened (s).
        t_end_s: Session clock time the effort window closed (s).
        score_n: The trial's score (N).
        raw_peak_n: Highest raw sample (N).
        time_to_peak_s: Seconds from the start of the effort to the peak.
        plausible: Whether the effort looked like a real maximal squeeze.
        message: Explanation when not plausible (or any note), else ``None``.
        used: ``False`` when the trial was redone or discarded.
    """

    hand: str
    trial: int
    t_start_s: float | None
    t_end_s: float | None
    score_n: float | None
    raw_peak_n: float | None
    time_to_peak_s: float | None
    plausible: bool
    message: str | None
    used: bool


@dataclasses.dataclass(frozen=True, slots=True)
class MvcRow:
    """The MVC chosen for one hand.

    Attributes:
        hand: ``"left"`` or ``"right"``.
        mvc_n: Maximal voluntary contraction in newtons.
        best_trial: Number of the trial it came from.
        flags: Quality flags (e.g. ``"disagreement"``).
    """

    hand: str
    mvc_n: float | None
    best_trial: int | None
    flags: list[str]


@dataclasses.dataclass(frozen=True, slots=True)
class HoldRow:
    """One submaximal hold (one attempt at one repetition).

    Attributes:
        rep: Repetition number (1-based).
        attempt: 1 for the first attempt; a hold interrupted by a pause is recorded
            as incomplete and its repeat gets attempt 2, 3...
        hand: ``"left"`` or ``"right"``.
        t_go_s: Session clock time of the "go" cue (s).
        t_end_s: Session clock time the hold ended (s).
        target_n: Target force (N).
        band_low_n: Lower edge of the target band (N).
        band_high_n: Upper edge of the target band (N).
        mvc_n: MVC the target derives from (N).
        completed: Whether the hold ran its full duration.
        time_in_band_pct: Percentage of the hold spent in the band.
        mean_pct_mvc: Mean force as % MVC.
        cv_mean_pct: Coefficient of variation of the force (%).
        drift_pct_mvc_per_min: Slope of the force in % MVC per minute.
        gap_s: Seconds without samples during the hold.
        metrics: Every metric computed for the hold (includes the five above).
    """

    rep: int
    attempt: int
    hand: str | None
    t_go_s: float | None
    t_end_s: float | None
    target_n: float | None
    band_low_n: float | None
    band_high_n: float | None
    mvc_n: float | None
    completed: bool
    time_in_band_pct: float | None
    mean_pct_mvc: float | None
    cv_mean_pct: float | None
    drift_pct_mvc_per_min: float | None
    gap_s: float | None
    metrics: dict[str, Any]


# ---------------------------------------------------------------------------- helpers
@dataclasses.dataclass(frozen=True, slots=True)
class BpReading:
    """One blood-pressure reading.

    Attributes:
        id: Row id.
        participant: Participant ID, or ``None``.
        taken_at: When it was taken (ISO 8601, UTC).
        sbp: Systolic pressure, mmHg.
        dbp: Diastolic pressure, mmHg.
        pulse: Pulse, beats per minute, if given.
        context: ``pre`` / ``post`` (a session) or ``rest``; ``None`` if unknown.
        session_id: The session it belongs to, if any.
        source: ``manual``, ``csv`` or a device kind.
        note: Free text.
    """

    id: int
    participant: str | None
    taken_at: str
    sbp: int
    dbp: int
    pulse: int | None
    context: str | None
    session_id: int | None
    source: str
    note: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class MvcHistoryRow:
    """An MVC of one hand in one session, with the session's start and participant."""

    session_id: int
    started_at: str
    participant: str | None
    status: str
    hand: str
    mvc_n: float
    reused: bool


def to_jsonable(obj: Any) -> Any:
    """Turn a value into plain JSON types: NaN and infinities become ``None``.

    Handles dicts (keys become strings), lists, tuples, sets, numpy scalars and
    arrays, enums (their value), datetimes (ISO 8601) and paths; anything else becomes
    its ``str()``.
    """
    if isinstance(obj, enum.Enum):
        return to_jsonable(obj.value)
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, Mapping):
        return {str(to_jsonable(k)): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, _dt.datetime | _dt.date):
        return obj.isoformat()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return str(obj)


def dumps(obj: Any) -> str:
    """Compact JSON (no spaces, UTF-8 kept, NaN written as ``null``)."""
    return json.dumps(to_jsonable(obj), separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def iso_time(when: _dt.datetime) -> str:
    """ISO 8601 text with a UTC offset; a naive datetime is taken as local time."""
    if when.tzinfo is None:
        when = when.astimezone()
    return when.isoformat(timespec="milliseconds")


def _f(x: Any) -> float | None:
    """A float for SQLite, or ``None`` (NaN is stored as NULL by SQLite anyway)."""
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def _i(x: Any) -> int | None:
    return None if x is None else int(x)


def _s(x: Any) -> str | None:
    if x is None:
        return None
    if isinstance(x, enum.Enum):
        return str(x.value)
    return str(x)


def _f64(a: ArrayLike) -> NDArray[np.float64]:
    return np.ascontiguousarray(a, dtype=SAMPLE_DTYPE)


def _unblob(b: bytes) -> NDArray[np.float64]:
    return np.frombuffer(b, dtype=SAMPLE_DTYPE).astype(np.float64)


def _json_obj(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        v = json.loads(text)
    except ValueError:
        return {"value": text}
    return v if isinstance(v, dict) else {"value": v}


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


# ---------------------------------------------------------------------------- store
class Store:
    """The session database.

    Opening validates the file: a file that is not an SQLite database, an SQLite
    database of another program, or one written by a newer isogrip raises
    :class:`~isogrip.errors.StorageError`. A missing file is created (mode ``0o600``)
    with the current schema.

    Every database failure is raised as :class:`~isogrip.errors.StorageError`.

    Args:
        path: The database file (its folder must exist).
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path).expanduser().absolute()
        self._lock = threading.RLock()
        self._in_tx = False
        self._sidecars_checked = False
        # Held while open, so that no other isogrip sets the file aside meanwhile.
        self._use_lock = UseLock(self.path)
        try:
            self._conn: sqlite3.Connection | None = self._connect()
        except BaseException:
            self._use_lock.release()
            raise

    @classmethod
    def open(cls, data_dir: Path | str | None = None) -> Store:
        """Open (creating if needed) the database in a data folder.

        Args:
            data_dir: The data folder; default :func:`~isogrip.storage.paths.default_data_dir`.

        Raises:
            StorageError: The folder cannot be used or the file is not usable.
        """
        folder = prepare_data_dir(default_data_dir() if data_dir is None else Path(data_dir))
        return cls(database_path(folder))

    # ------------------------------------------------------------------ lifecycle
    def _connect(self) -> sqlite3.Connection:
        path = self.path
        if path.is_dir():
            raise StorageError(f"{path} is a folder, not an isogrip database")
        if path.exists() and not path.is_file():  # stat only: a FIFO is never opened
            raise StorageError(f"{path} is not a regular file (a pipe or a device), not "
                               "an isogrip database")
        if not path.parent.is_dir():
            raise StorageError(f"cannot open database {path}: its folder does not exist")
        if not path.exists():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
                os.close(fd)
            except FileExistsError:
                pass
            except OSError as exc:
                raise StorageError(
                    f"cannot create database {path}: {exc.strerror or exc}"
                ) from exc
        try:
            conn = sqlite3.connect(
                str(path),
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,  # explicit BEGIN/COMMIT only
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open database {path}: {exc}") from exc
        try:
            self._prepare(conn)
        except BaseException:
            conn.close()
            raise
        self._tighten_sidecars()
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        path = self.path
        hint = "move it away or choose another data folder with --data-dir"
        try:
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            n_objects = int(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            if path.name == DB_FILENAME:
                # Our own file name in our data folder: damage, not someone else's file.
                raise _damaged(path, str(exc)) from exc
            raise StorageError(f"{path} is not an isogrip database ({exc}); {hint}") from exc
        self._check_not_truncated(conn)
        if app_id not in (0, APPLICATION_ID) or (app_id == 0 and n_objects > 0):
            raise StorageError(
                f"{path} is not an isogrip database (it belongs to another program); {hint}"
            )
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"{path} was written by a newer isogrip (database version {version}; this "
                f"isogrip reads up to version {SCHEMA_VERSION}). Update isogrip, or choose "
                "another data folder with --data-dir."
            )
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":  # e.g. a file system without shared memory
                conn.execute("PRAGMA journal_mode = DELETE")
            # FULL, not NORMAL: NORMAL may lose the last commits (seconds of a session)
            # in a power cut; FULL costs one WAL flush per commit, about one a second.
            conn.execute("PRAGMA synchronous = FULL")
            if version < SCHEMA_VERSION:
                self._create_schema(conn)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot prepare database {path}: {exc}") from exc

    def _check_not_truncated(self, conn: sqlite3.Connection) -> None:
        """Refuse a database file shorter than its own header says (a cut-off copy).

        Only checked when no write-ahead log exists: with one, recent pages may live in
        the log rather than the main file.
        """
        path = self.path
        if path.with_name(path.name + "-wal").exists():
            return
        try:
            pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
            size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise _damaged(path, str(exc)) from exc
        actual = path.stat().st_size
        if actual < pages * size:
            raise _damaged(path, f"the file has {actual} bytes, its header says "
                                 f"{pages * size}: it was cut off")

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Check again under the write lock: another process may have done it.
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version == 0:
                for stmt in _SCHEMA:
                    conn.execute(stmt)
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                version = 1
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for stmt in _MIGRATIONS[step]:
                    conn.execute(stmt)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise

    def _tighten_sidecars(self) -> None:
        """Make sure the WAL and shared-memory files are owner-only too."""
        for suffix in ("-wal", "-shm", "-journal"):
            side = self.path.with_name(self.path.name + suffix)
            with contextlib.suppress(OSError):
                if side.exists() and (side.stat().st_mode & 0o077):
                    os.chmod(side, FILE_MODE)

    def close(self) -> None:
        """Close the database (safe to call twice)."""
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._use_lock.release()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._conn is None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StorageError(f"the database {self.path} has been closed")
        return self._conn

    def _fail(self, action: str, exc: sqlite3.Error) -> StorageError:
        if "malformed" in str(exc) or "not a database" in str(exc):
            return _damaged(self.path, f"could not {action}: {exc}")
        if getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY,
                                                      sqlite3.SQLITE_LOCKED):
            return DatabaseBusyError(f"database {self.path}: could not {action}: another "
                                     "program is writing to it (the database is locked)")
        return StorageError(f"database {self.path}: could not {action}: {exc}")

    def _exec(self, action: str, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._db().execute(sql, params)
            except sqlite3.Error as exc:
                raise self._fail(action, exc) from exc

    def _all(self, action: str, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._db().execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise self._fail(action, exc) from exc

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one atomic, durable commit.

        Everything written inside the ``with`` block is committed at its end, or
        rolled back if it raises. Nested blocks join the outer transaction.

        Raises:
            StorageError: The transaction could not begin or commit.
        """
        with self._lock:
            conn = self._db()
            if self._in_tx:
                yield
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._fail("start a transaction", exc) from exc
            self._in_tx = True
            try:
                yield
            except BaseException:
                self._in_tx = False
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise self._fail("save", exc) from exc
            finally:
                self._in_tx = False
            self._tighten_sidecars_once()

    def _tighten_sidecars_once(self) -> None:
        if not self._sidecars_checked:
            self._tighten_sidecars()
            self._sidecars_checked = True

    # ------------------------------------------------------------------ sessions
    def create_session(
        self,
        *,
        started_at: _dt.datetime,
        protocol_name: str,
        protocol: Mapping[str, Any],
        device: str,
        participant: str | None,
        app_version: str,
        t0_s: float,
        device_info: Mapping[str, Any] | None = None,
    ) -> int:
        """Start a new session record (status ``running``).

        Args:
            started_at: Wall-clock start (a naive datetime is taken as local time).
            protocol_name: Protocol name.
            protocol: The full protocol definition (stored as JSON).
            device: Device spec string.
            participant: Participant ID (an ID, never a name), or ``None``.
            app_version: isogrip version.
            t0_s: Session clock value at the start.
            device_info: What the device reported about itself.

        Returns:
            The new session id.

        Raises:
            ParticipantIdError: The participant is not an ID (a name, say).
        """
        participant = participant_or_none(participant)  # an ID, never a name
        with self.transaction():
            cur = self._exec(
                "create a session",
                "INSERT INTO sessions (uuid, started_at, status, protocol_name, protocol_json,"
                " device, device_info_json, participant, app_version, t0_s, host, pid)"
                " VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    str(_uuid.uuid4()),
                    iso_time(started_at),
                    str(protocol_name),
                    dumps(dict(protocol)),
                    str(device),
                    None if device_info is None else dumps(dict(device_info)),
                    participant,
                    str(app_version),
                    float(t0_s),
                    socket.gethostname(),
                    os.getpid(),
                ),
            )
            session_id = cur.lastrowid
        assert session_id is not None
        return int(session_id)

    def insert_session_record(
        self,
        *,
        uuid: str,
        started_at: str,
        ended_at: str | None,
        status: str,
        note: str | None,
        protocol_name: str,
        protocol: Mapping[str, Any],
        device: str,
        device_info: Mapping[str, Any] | None,
        participant: str | None,
        app_version: str,
        t0_s: float,
        preferred_id: int | None = None,
    ) -> int:
        """Add a finished session read from an export (``isogrip import``).

        The session keeps its uuid; it keeps its id too when that id is free here.

        Raises:
            StorageError: The session (same uuid) is already in this store, or a value
                is not acceptable.
            ParticipantIdError: The participant is not an ID (a name, say).
        """
        participant = participant_or_none(participant)  # an ID, never a name
        if status not in FINAL_STATUSES:
            raise StorageError(f"an imported session must have ended; status {status!r}")
        with self.transaction():
            dup = self._all("check for the session", "SELECT id FROM sessions WHERE uuid = ?",
                            (uuid,))
            if dup:
                raise StorageError(f"this session is already in the store (session "
                                   f"{dup[0][0]}); nothing was imported")
            free = preferred_id is not None and not self._all(
                "check the session id", "SELECT 1 FROM sessions WHERE id = ?", (preferred_id,))
            cur = self._exec(
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

    def finish_session(
        self,
        session_id: int,
        status: str,
        ended_at: _dt.datetime,
        note: str | None = None,
    ) -> None:
        """Record how and when a session ended.

        Args:
            session_id: The session.
            status: ``complete``, ``aborted`` or ``interrupted``.
            ended_at: Wall-clock end.
            note: Why it stopped (for aborted sessions), or ``None``.

        Raises:
            ValueError: ``status`` is not a final status.
            SessionNotFoundError: No such session.
        """
        if status not in FINAL_STATUSES:
            raise ValueError(f"status must be one of {', '.join(FINAL_STATUSES)}; got {status!r}")
        with self.transaction():
            cur = self._exec(
                "finish the session",
                "UPDATE sessions SET status = ?, ended_at = ?, note = ? WHERE id = ?",
                (status, iso_time(ended_at), note, int(session_id)),
            )
            if cur.rowcount == 0:
                raise self._not_found(session_id)

    def mark_interrupted(self) -> list[int]:
        """Mark sessions left ``running`` by a program that died as ``interrupted``.

        Called at startup. A session whose recording process still runs on this
        computer (another isogrip window, say) is left alone. The end time is
        estimated from the last saved sample or event.

        Returns:
            The ids of the sessions marked.
        """
        host, me = socket.gethostname(), os.getpid()
        marked: list[int] = []
        with self.transaction():
            rows = self._all(
                "list running sessions",
                "SELECT id, started_at, t0_s, host, pid FROM sessions WHERE status = 'running'",
            )
            for sid, started_at, t0_s, s_host, s_pid in rows:
                if s_host == host and s_pid is not None and (s_pid == me or _pid_alive(s_pid)):
                    continue
                ended = started_at
                last = self._last_time(sid)
                if last is not None and t0_s is not None:
                    with contextlib.suppress(ValueError, OverflowError):
                        start = _dt.datetime.fromisoformat(started_at)
                        ended = iso_time(start + _dt.timedelta(seconds=max(0.0, last - t0_s)))
                self._exec(
                    "mark a session interrupted",
                    "UPDATE sessions SET status = 'interrupted', ended_at = ?, note = ?"
                    " WHERE id = ?",
                    (ended, _INTERRUPTED_NOTE, sid),
                )
                marked.append(int(sid))
        return marked

    def _last_time(self, session_id: int) -> float | None:
        """Latest session clock time saved for a session (samples, events, phases)."""
        times: list[float] = []
        row = self._exec(
            "read samples",
            "SELECT t_s FROM samples WHERE session_id = ? ORDER BY chunk DESC LIMIT 1",
            (session_id,),
        ).fetchone()
        if row is not None and len(row[0]) >= SAMPLE_DTYPE.itemsize:
            t = _unblob(row[0])
            t = t[np.isfinite(t)]
            if t.size:
                times.append(float(t.max()))
        for table in ("events", "phases"):
            (v,) = self._exec(
                "read times", f"SELECT max(t_s) FROM {table} WHERE session_id = ?", (session_id,)
            ).fetchone()
            if v is not None:
                times.append(float(v))
        return max(times) if times else None

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

    @staticmethod
    def _session_row(r: Sequence[Any]) -> SessionRow:
        return SessionRow(
            id=int(r[0]), uuid=r[1], started_at=r[2], ended_at=r[3], status=r[4],
            protocol_name=r[5], device=r[6], participant=r[7], n_holds_done=int(r[8]),
            mvc_left_n=r[9], mvc_right_n=r[10], note=r[11],
        )

    def list_sessions(self, participant: str | None = None) -> list[SessionRow]:
        """All sessions, oldest first, optionally for one participant only."""
        if participant is None:
            rows = self._all("list sessions", self._ROW_SQL + " ORDER BY s.id")
        else:
            rows = self._all(
                "list sessions",
                self._ROW_SQL + " WHERE s.participant = ? ORDER BY s.id",
                (participant,),
            )
        return [self._session_row(r) for r in rows]

    def _not_found(self, session_id: object) -> SessionNotFoundError:
        return SessionNotFoundError(
            f"no session {session_id}; list the sessions with `isogrip sessions`"
        )

    def get_session(self, session_id: int) -> SessionRow:
        """One session's list line.

        Raises:
            SessionNotFoundError: No such session.
        """
        rows = self._all("read a session", self._ROW_SQL + " WHERE s.id = ?", (int(session_id),))
        if not rows:
            raise self._not_found(session_id)
        return self._session_row(rows[0])

    def get_session_info(self, session_id: int) -> SessionInfo:
        """Every stored field of one session.

        Raises:
            SessionNotFoundError: No such session.
        """
        rows = self._all(
            "read a session",
            "SELECT id, uuid, started_at, ended_at, status, protocol_name, protocol_json,"
            " device, device_info_json, participant, app_version, t0_s, note"
            " FROM sessions WHERE id = ?",
            (int(session_id),),
        )
        if not rows:
            raise self._not_found(session_id)
        r = rows[0]
        return SessionInfo(
            id=int(r[0]), uuid=r[1], started_at=r[2], ended_at=r[3], status=r[4],
            protocol_name=r[5], protocol=_json_obj(r[6]), device=r[7],
            device_info=None if r[8] is None else _json_obj(r[8]), participant=r[9],
            app_version=r[10], t0_s=0.0 if r[11] is None else float(r[11]), note=r[12],
        )

    def resolve_session(self, ref: str | int) -> int:
        """Find a session from what a user typed.

        Args:
            ref: A session id (``"12"``), ``"last"``/``"latest"`` (the most recent
                session), or the first 6 or more characters of its uuid.

        Returns:
            The session id.

        Raises:
            SessionNotFoundError: Nothing (or more than one session) matches.
        """
        text = str(ref).strip()
        if text.lower() in ("last", "latest"):
            row = self._exec("find the last session",
                             "SELECT max(id) FROM sessions").fetchone()
            if row is None or row[0] is None:
                raise SessionNotFoundError(
                    "no sessions recorded yet; start one with `isogrip run`"
                )
            return int(row[0])
        if text.isdigit():
            row = self._exec("find a session", "SELECT id FROM sessions WHERE id = ?",
                             (int(text),)).fetchone()
            if row is not None:
                return int(row[0])
            if len(text) < 6:
                raise self._not_found(text)
        prefix = text.lower()
        if len(prefix) >= 6 and all(c in "0123456789abcdef-" for c in prefix):
            rows = self._all(
                "find a session",
                "SELECT id FROM sessions WHERE substr(uuid, 1, ?) = ? LIMIT 2",
                (len(prefix), prefix),
            )
            if len(rows) == 1:
                return int(rows[0][0])
            if len(rows) > 1:
                raise SessionNotFoundError(
                    f"{text!r} matches more than one session; give more characters of the "
                    "uuid, or the session id from `isogrip sessions`"
                )
            raise SessionNotFoundError(
                f"no session's uuid starts with {text!r}; list the sessions with "
                "`isogrip sessions`"
            )
        raise SessionNotFoundError(
            f"{text!r} is not a session: give a session id, 'last', or at least 6 "
            "characters of a uuid (see `isogrip sessions`)"
        )

    # ------------------------------------------------------------------ writes
    def next_indices(self, session_id: int) -> tuple[int, int, int]:
        """Next free (sample chunk, phase seq, event seq) numbers for a session."""
        out: list[int] = []
        for table, col in (("samples", "chunk"), ("phases", "seq"), ("events", "seq")):
            (v,) = self._exec(
                "read the session",
                f"SELECT coalesce(max({col}) + 1, 0) FROM {table} WHERE session_id = ?",
                (int(session_id),),
            ).fetchone()
            out.append(int(v))
        return out[0], out[1], out[2]

    def write_samples(
        self,
        session_id: int,
        chunk: int,
        t: ArrayLike,
        t_device: ArrayLike | None,
        force: ArrayLike,
    ) -> int:
        """Store one chunk of samples.

        Args:
            session_id: The session.
            chunk: Chunk number (0, 1, 2... in time order).
            t: Session clock times (s).
            t_device: Device clock times (s), NaN where unknown, or ``None`` if the
                device has no clock.
            force: Forces (N), stored exactly as given (NaN included).

        Returns:
            The number of samples written.

        Raises:
            ValueError: The arrays differ in length.
        """
        tt, ff = _f64(t).ravel(), _f64(force).ravel()
        td = None if t_device is None else _f64(t_device).ravel()
        n = tt.size
        if ff.size != n or (td is not None and td.size != n):
            raise ValueError("t, t_device and force must have the same length")
        self._exec(
            "save samples",
            "INSERT INTO samples (session_id, chunk, t_first_s, n, t_s, t_device_s, force_n)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                int(session_id), int(chunk), _f(tt[0]) if n else None, n,
                tt.tobytes(), None if td is None else td.tobytes(), ff.tobytes(),
            ),
        )
        return n

    def write_phase(
        self,
        session_id: int,
        seq: int,
        t_s: float,
        phase: str,
        hand: str | None = None,
        rep: int | None = None,
        trial: int | None = None,
        target_n: float | None = None,
        band_low_n: float | None = None,
        band_high_n: float | None = None,
        mvc_n: float | None = None,
    ) -> None:
        """Store a phase change (see :class:`PhaseRow`)."""
        self._exec(
            "save a phase",
            "INSERT INTO phases (session_id, seq, t_s, phase, hand, rep, trial, target_n,"
            " band_low_n, band_high_n, mvc_n) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                int(session_id), int(seq), _f(t_s), _s(phase), _s(hand), _i(rep), _i(trial),
                _f(target_n), _f(band_low_n), _f(band_high_n), _f(mvc_n),
            ),
        )

    def write_event(
        self,
        session_id: int,
        seq: int,
        t_s: float,
        kind: str,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Store an event; ``detail`` is saved as compact JSON (NaN as null)."""
        self._exec(
            "save an event",
            "INSERT INTO events (session_id, seq, t_s, kind, detail) VALUES (?, ?, ?, ?, ?)",
            (int(session_id), int(seq), _f(t_s), _s(kind), dumps(dict(detail or {}))),
        )

    def write_mvc_trial(
        self,
        session_id: int,
        hand: str,
        trial: int,
        t_start_s: float | None,
        t_end_s: float | None,
        score_n: float | None,
        raw_peak_n: float | None,
        time_to_peak_s: float | None,
        plausible: bool,
        message: str | None,
        used: bool = True,
    ) -> None:
        """Store an MVC trial (replacing a trial with the same hand and number)."""
        self._exec(
            "save an MVC trial",
            "INSERT OR REPLACE INTO mvc_trials (session_id, hand, trial, t_start_s, t_end_s,"
            " score_n, raw_peak_n, time_to_peak_s, plausible, message, used)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                int(session_id), _s(hand), int(trial), _f(t_start_s), _f(t_end_s), _f(score_n),
                _f(raw_peak_n), _f(time_to_peak_s), int(bool(plausible)), _s(message) or None,
                int(bool(used)),
            ),
        )

    def write_mvc_trial_used(self, session_id: int, hand: str, trial: int, used: bool) -> None:
        """Mark an MVC trial as used or not (a redone trial is not used)."""
        self._exec(
            "update an MVC trial",
            "UPDATE mvc_trials SET used = ? WHERE session_id = ? AND hand = ? AND trial = ?",
            (int(bool(used)), int(session_id), _s(hand), int(trial)),
        )

    def write_mvc(
        self,
        session_id: int,
        hand: str,
        mvc_n: float | None,
        best_trial: int | None,
        flags: Sequence[str],
    ) -> None:
        """Store (or replace) the MVC chosen for a hand."""
        self._exec(
            "save an MVC",
            "INSERT OR REPLACE INTO mvc (session_id, hand, mvc_n, best_trial, flags)"
            " VALUES (?, ?, ?, ?, ?)",
            (int(session_id), _s(hand), _f(mvc_n), _i(best_trial),
             dumps([_s(f) for f in flags])),
        )

    def write_hold(
        self,
        session_id: int,
        rep: int,
        attempt: int,
        hand: str | None,
        t_go_s: float | None,
        t_end_s: float | None,
        target_n: float | None,
        band_low_n: float | None,
        band_high_n: float | None,
        mvc_n: float | None,
        completed: bool,
        metrics: Mapping[str, Any],
    ) -> None:
        """Store one hold attempt; the metrics in :data:`HOLD_METRIC_COLUMNS` also get columns."""
        cols = [_f(metrics.get(k)) if _is_number(metrics.get(k)) else None
                for k in HOLD_METRIC_COLUMNS]
        self._exec(
            "save a hold",
            "INSERT OR REPLACE INTO holds (session_id, rep, attempt, hand, t_go_s, t_end_s,"
            " target_n, band_low_n, band_high_n, mvc_n, completed, time_in_band_pct,"
            " mean_pct_mvc, cv_mean_pct, drift_pct_mvc_per_min, gap_s, metrics_json)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                int(session_id), int(rep), int(attempt), _s(hand), _f(t_go_s), _f(t_end_s),
                _f(target_n), _f(band_low_n), _f(band_high_n), _f(mvc_n), int(bool(completed)),
                *cols, dumps(dict(metrics)),
            ),
        )

    # ------------------------------------------------------------------ reads
    def _check(self, session_id: int) -> int:
        sid = int(session_id)
        row = self._exec("read a session", "SELECT 1 FROM sessions WHERE id = ?",
                         (sid,)).fetchone()
        if row is None:
            raise self._not_found(session_id)
        return sid

    def count_samples(self, session_id: int) -> int:
        """Number of samples stored for a session (without loading them)."""
        sid = self._check(session_id)
        (v,) = self._exec("count samples",
                          "SELECT coalesce(sum(n), 0) FROM samples WHERE session_id = ?",
                          (sid,)).fetchone()
        return int(v)

    def load_samples(
        self, session_id: int
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Every sample of a session, in recording order.

        Returns:
            ``(t, t_device, force)``: session clock times (s), device clock times (s;
            NaN where the device gave none) and forces (N), as new float64 arrays.

        Raises:
            SessionNotFoundError: No such session.
        """
        sid = self._check(session_id)
        rows = self._all(
            "read samples",
            "SELECT n, t_s, t_device_s, force_n FROM samples WHERE session_id = ?"
            " ORDER BY chunk",
            (sid,),
        )
        total = sum(int(r[0]) for r in rows)
        t = np.empty(total, np.float64)
        td = np.full(total, np.nan, np.float64)
        f = np.empty(total, np.float64)
        i = 0
        for n, bt, btd, bf in rows:
            n = int(n)
            t[i:i + n] = np.frombuffer(bt, dtype=SAMPLE_DTYPE, count=n)
            if btd is not None:
                td[i:i + n] = np.frombuffer(btd, dtype=SAMPLE_DTYPE, count=n)
            f[i:i + n] = np.frombuffer(bf, dtype=SAMPLE_DTYPE, count=n)
            i += n
        return t, td, f

    def load_phases(self, session_id: int) -> list[PhaseRow]:
        """Phase changes of a session, in recording order."""
        sid = self._check(session_id)
        rows = self._all(
            "read phases",
            "SELECT seq, t_s, phase, hand, rep, trial, target_n, band_low_n, band_high_n,"
            " mvc_n FROM phases WHERE session_id = ? ORDER BY seq",
            (sid,),
        )
        return [PhaseRow(*r) for r in rows]

    def load_events(self, session_id: int) -> list[EventRow]:
        """Events of a session, in recording order."""
        sid = self._check(session_id)
        rows = self._all(
            "read events",
            "SELECT seq, t_s, kind, detail FROM events WHERE session_id = ? ORDER BY seq",
            (sid,),
        )
        return [EventRow(seq=r[0], t_s=r[1], kind=r[2], detail=_json_obj(r[3])) for r in rows]

    def load_mvc_trials(self, session_id: int) -> list[MvcTrialRow]:
        """MVC trials of a session, by start time (then hand and number)."""
        sid = self._check(session_id)
        rows = self._all(
            "read MVC trials",
            "SELECT hand, trial, t_start_s, t_end_s, score_n, raw_peak_n, time_to_peak_s,"
            " plausible, message, used FROM mvc_trials WHERE session_id = ?"
            " ORDER BY t_start_s, hand, trial",
            (sid,),
        )
        return [
            MvcTrialRow(
                hand=r[0], trial=r[1], t_start_s=r[2], t_end_s=r[3], score_n=r[4],
                raw_peak_n=r[5], time_to_peak_s=r[6], plausible=bool(r[7]), message=r[8],
                used=bool(r[9]),
            )
            for r in rows
        ]

    def load_mvc(self, session_id: int) -> list[MvcRow]:
        """The MVC chosen for each measured hand."""
        sid = self._check(session_id)
        rows = self._all(
            "read MVC",
            "SELECT hand, mvc_n, best_trial, flags FROM mvc WHERE session_id = ? ORDER BY hand",
            (sid,),
        )
        out: list[MvcRow] = []
        for hand, mvc_n, best, flags in rows:
            try:
                fl = json.loads(flags or "[]")
            except ValueError:
                fl = []
            out.append(MvcRow(hand=hand, mvc_n=mvc_n, best_trial=best,
                              flags=[str(x) for x in fl] if isinstance(fl, list) else []))
        return out

    def load_holds(self, session_id: int) -> list[HoldRow]:
        """Hold attempts of a session, by repetition and attempt."""
        sid = self._check(session_id)
        rows = self._all(
            "read holds",
            "SELECT rep, attempt, hand, t_go_s, t_end_s, target_n, band_low_n, band_high_n,"
            " mvc_n, completed, time_in_band_pct, mean_pct_mvc, cv_mean_pct,"
            " drift_pct_mvc_per_min, gap_s, metrics_json FROM holds WHERE session_id = ?"
            " ORDER BY rep, attempt",
            (sid,),
        )
        return [
            HoldRow(
                rep=r[0], attempt=r[1], hand=r[2], t_go_s=r[3], t_end_s=r[4], target_n=r[5],
                band_low_n=r[6], band_high_n=r[7], mvc_n=r[8], completed=bool(r[9]),
                time_in_band_pct=r[10], mean_pct_mvc=r[11], cv_mean_pct=r[12],
                drift_pct_mvc_per_min=r[13], gap_s=r[14], metrics=_json_obj(r[15]),
            )
            for r in rows
        ]


    # ------------------------------------------------------------------ history
    def list_mvc(self, participant: str | None = None) -> list[MvcHistoryRow]:
        """Every recorded MVC with its session's start, oldest session first.

        Args:
            participant: Only this participant's sessions (``None``: everyone's, as in
                :meth:`list_sessions`).
        """
        sql = ("SELECT s.id, s.started_at, s.participant, s.status, m.hand, m.mvc_n, m.flags"
               " FROM mvc m JOIN sessions s ON s.id = m.session_id WHERE m.mvc_n IS NOT NULL")
        params: tuple[Any, ...] = ()
        if participant is not None:
            sql += " AND s.participant = ?"
            params = (participant,)
        rows = self._all("read MVC history", sql + " ORDER BY s.started_at, s.id", params)
        out = []
        for sid, started, who, status, hand, mvc_n, flags in rows:
            try:
                fl = json.loads(flags or "[]")
            except ValueError:
                fl = []
            out.append(MvcHistoryRow(int(sid), started, who, status, hand, float(mvc_n),
                                     isinstance(fl, list) and "reused" in fl))
        return out

    # ------------------------------------------------------------------ blood pressure
    def add_bp_reading(
        self,
        *,
        sbp: Any,
        dbp: Any,
        pulse: Any = None,
        taken_at: _dt.datetime | None = None,
        participant: str | None = None,
        context: str | None = None,
        session_id: int | None = None,
        source: str = "manual",
        note: str | None = None,
    ) -> int:
        """Add a blood-pressure reading to the log.

        Returns:
            The new row id.

        Raises:
            BpValueError: A value is not plausible (the message says which and why).
            ParticipantIdError: The participant is not an ID (a name, say).
            StorageError: The database could not be written.
        """
        participant = participant_or_none(participant)  # an ID, never a name
        reading = BpEntry.checked(sbp, dbp, pulse)
        if context is not None and context not in BP_CONTEXTS:
            raise BpValueError(f"context must be one of {', '.join(BP_CONTEXTS)}, "
                               f"got {context!r}")
        when = taken_at or _dt.datetime.now(_dt.UTC)
        with self.transaction():
            cur = self._exec(
                "save a blood-pressure reading",
                "INSERT INTO bp_readings (participant, taken_at, sbp, dbp, pulse, context,"
                " session_id, source, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                # UTC text sorts in time order, so ORDER BY taken_at is chronological.
                (participant, iso_time(when.astimezone(_dt.UTC)), reading.sbp, reading.dbp,
                 reading.pulse, context, session_id, source, note),
            )
        return int(cur.lastrowid or 0)

    def set_bp_session(self, reading_id: int, session_id: int) -> None:
        """Link a reading to the session it was taken for.

        A ``pre`` reading is entered before its session exists.
        """
        self._exec("link a blood-pressure reading",
                   "UPDATE bp_readings SET session_id = ? WHERE id = ?",
                   (int(session_id), int(reading_id)))

    def list_bp_readings(self, participant: str | None = None, *,
                         since: _dt.datetime | None = None) -> list[BpReading]:
        """Blood-pressure readings, oldest first.

        Args:
            participant: Only this participant's readings (``None``: everyone's).
            since: Only readings taken at or after this time.
        """
        sql = ("SELECT id, participant, taken_at, sbp, dbp, pulse, context, session_id,"
               " source, note FROM bp_readings WHERE 1")
        params: list[Any] = []
        if participant is not None:
            sql += " AND participant = ?"
            params.append(participant)
        if since is not None:
            sql += " AND taken_at >= ?"
            params.append(iso_time(since.astimezone(_dt.UTC)))
        rows = self._all("read blood-pressure readings", sql + " ORDER BY taken_at, id",
                         params)
        return [BpReading(int(r[0]), r[1], r[2], int(r[3]), int(r[4]),
                          None if r[5] is None else int(r[5]), r[6],
                          None if r[7] is None else int(r[7]), r[8], r[9]) for r in rows]


def _damaged(path: Path, detail: str) -> DatabaseDamagedError:
    """The error that explains a damaged database, with its one backup copy made."""
    backup = backup_damaged(path)
    kept = f"A copy is kept at {backup}. " if backup else ""
    return DatabaseDamagedError(
        f"the database {path} is damaged ({detail}). {kept}Start a new, empty database "
        "with --new-database (the damaged file stays for recovery), or choose another "
        "data folder with --data-dir.", str(path), None if backup is None else str(backup))


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool)
