"""The SQLite session store: one facade over the modules that do the work.

One database file (``isogrip.sqlite3`` in the data folder) holds every session (its
metadata, phases, events, MVC trials and results, holds, raw force samples) and the
blood-pressure log; ``docs/data-formats.md`` documents the schema. Each method of
:class:`Store` hands its work to the module of its responsibility: ``connection``
(opening, pragmas, transactions, error mapping), ``schema``, ``recovery`` (damaged
files), ``sessions_table`` (with crash detection), ``samples_table``, ``results_table``
and ``bp_table``; the rows read back are in ``rows``. What a user types to name a
session is read by the command line (:mod:`isogrip.cli.session_ref`), not here.

Threading: the connection can be created in one thread and used in another (the
runtime thread writes during a session; the CLI or GUI read afterwards). Only one
thread should use a :class:`Store` at a time; an internal lock serialises calls, so an
overlap is safe but waits.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from numpy.typing import ArrayLike

from isogrip.storage import (
    bp_cuff,
    bp_table,
    connection,
    results_table,
    samples_table,
    sessions_table,
)
from isogrip.storage.bp_table import BP_CONTEXTS
from isogrip.storage.connection import BUSY_TIMEOUT_S, Database, LayoutNotCurrent
from isogrip.storage.jsonio import dumps, iso_time, to_jsonable
from isogrip.storage.paths import database_path, default_data_dir, prepare_data_dir
from isogrip.storage.programme_table import ProgrammeTable
from isogrip.storage.recovery import UseLock, start_new_database
from isogrip.storage.results_table import HOLD_METRIC_COLUMNS
from isogrip.storage.rows import (
    FINAL_STATUSES,
    STATUSES,
    BpReading,
    EventRow,
    HoldRow,
    MvcHistoryRow,
    MvcRow,
    MvcTrialRow,
    PhaseRow,
    SessionInfo,
    SessionRow,
)
from isogrip.storage.samples_table import SAMPLE_DTYPE, Samples
from isogrip.storage.schema import APPLICATION_ID, SCHEMA_VERSION

# Kept importable from here: many callers (and other projects' scripts) name them so.
__all__ = [
    "APPLICATION_ID", "BP_CONTEXTS", "BUSY_TIMEOUT_S", "FINAL_STATUSES",
    "HOLD_METRIC_COLUMNS", "SAMPLE_DTYPE", "SCHEMA_VERSION", "STATUSES", "BpReading",
    "EventRow", "HoldRow", "MvcHistoryRow", "MvcRow", "MvcTrialRow", "PhaseRow",
    "SessionInfo", "SessionRow", "Store", "database_path", "dumps", "iso_time",
    "start_new_database", "to_jsonable",
]


class Store:
    """The session database.

    Opening validates the file: a file that is not an SQLite database, an SQLite
    database of another program, or one written by a newer isogrip raises
    :class:`~isogrip.errors.StorageError`; a damaged one raises
    :class:`~isogrip.errors.DatabaseDamagedError` after one copy of it is kept. A
    missing file is created (mode ``0o600``) with the current schema.

    Every database failure is raised as :class:`~isogrip.errors.StorageError`.

    Args:
        path: The database file (its folder must exist).
        read_only: Open the file read-only (SQLite ``mode=ro``): every write fails,
            and reading leaves the file as it was (no checkpoint at close). A file that
            is new or has an older layout is first made or updated as without it.
    """

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = Path(path).expanduser().absolute()
        self._read_only = read_only
        # Held while open, so that no other isogrip sets the file aside meanwhile.
        self._use_lock = UseLock(self.path)
        try:
            try:
                conn = self._connect()
            except LayoutNotCurrent:
                self._read_only = False  # the layout is made or updated, then read
                conn = self._connect()
        except BaseException:
            self._use_lock.release()
            raise
        self._database = Database(self.path, conn)

    @classmethod
    def open(cls, data_dir: Path | str | None = None, *, read_only: bool = False) -> Store:
        """Open (creating if needed) the database in a data folder.

        Args:
            data_dir: The data folder; default :func:`~isogrip.storage.paths.default_data_dir`.
            read_only: Only read (see :class:`Store`); for commands that only look.

        Raises:
            StorageError: The folder cannot be used or the file is not usable.
        """
        folder = prepare_data_dir(default_data_dir() if data_dir is None else Path(data_dir))
        return cls(database_path(folder), read_only=read_only)

    # ------------------------------------------------------------------ lifecycle
    def _connect(self) -> sqlite3.Connection:
        return connection.connect(self.path, read_only=self._read_only)

    def _db(self) -> sqlite3.Connection:
        return self._database.connection()

    def close(self) -> None:
        """Close the database (safe to call twice)."""
        with self._database.lock:
            self._database.close()
            self._use_lock.release()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._database.closed

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def transaction(self) -> AbstractContextManager[None]:
        """Group writes into one atomic, durable commit.

        Everything written inside the ``with`` block is committed at its end, or
        rolled back if it raises. Nested blocks join the outer transaction.

        Raises:
            StorageError: The transaction could not begin or commit.
        """
        return self._database.transaction()

    @property
    def programmes(self) -> ProgrammeTable:
        """The training programmes and their steps."""
        return ProgrammeTable(self._database)

    def _checked(self, session_id: int) -> int:
        return sessions_table.checked_id(self._database, session_id)

    # ------------------------------------------------------------------ sessions
    def create_session(self, *, started_at: _dt.datetime, protocol_name: str,
                       protocol: Mapping[str, Any], device: str, participant: str | None,
                       app_version: str, t0_s: float,
                       device_info: Mapping[str, Any] | None = None) -> int:
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
        return sessions_table.create_session(
            self._database, started_at=started_at, protocol_name=protocol_name,
            protocol=protocol, device=device, participant=participant,
            app_version=app_version, t0_s=t0_s, device_info=device_info)

    def insert_session_record(self, *, uuid: str, started_at: str, ended_at: str | None,
                              status: str, note: str | None, protocol_name: str,
                              protocol: Mapping[str, Any], device: str,
                              device_info: Mapping[str, Any] | None, participant: str | None,
                              app_version: str, t0_s: float,
                              preferred_id: int | None = None) -> int:
        """Add a finished session read from an export (``isogrip import``).

        The session keeps its uuid; it keeps its id too when that id is free here.

        Raises:
            StorageError: The session (same uuid) is already in this store, or a value
                is not acceptable.
            ParticipantIdError: The participant is not an ID (a name, say).
        """
        return sessions_table.insert_session_record(
            self._database, uuid=uuid, started_at=started_at, ended_at=ended_at,
            status=status, note=note, protocol_name=protocol_name, protocol=protocol,
            device=device, device_info=device_info, participant=participant,
            app_version=app_version, t0_s=t0_s, preferred_id=preferred_id)

    def finish_session(self, session_id: int, status: str, ended_at: _dt.datetime,
                       note: str | None = None) -> None:
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
        sessions_table.finish_session(self._database, session_id, status, ended_at, note)

    def mark_interrupted(self) -> list[int]:
        """Mark sessions left ``running`` by a program that died as ``interrupted``.

        Called at startup. A session whose recording process still runs on this
        computer (another isogrip window, say) is left alone. The end time is
        estimated from the last saved sample or event.

        Returns:
            The ids of the sessions marked.
        """
        return sessions_table.mark_interrupted(self._database)

    def list_sessions(self, participant: str | None = None) -> list[SessionRow]:
        """All sessions, oldest first, optionally for one participant only."""
        return sessions_table.list_sessions(self._database, participant)

    def get_session(self, session_id: int) -> SessionRow:
        """One session's list line (raises ``SessionNotFoundError`` if there is none)."""
        return sessions_table.get_session(self._database, session_id)

    def get_session_info(self, session_id: int) -> SessionInfo:
        """Every stored field of one session (raises ``SessionNotFoundError``)."""
        return sessions_table.get_session_info(self._database, session_id)

    def has_session(self, session_id: int) -> bool:
        """Whether a session with this id is stored."""
        return sessions_table.has_session(self._database, session_id)

    def latest_session_id(self, n: int = 1) -> int | None:
        """The id of the ``n``-th most recent session (1: the latest), or ``None``.

        Raises:
            ValueError: ``n`` is below 1.
        """
        return sessions_table.latest_session_id(self._database, n)

    def session_ids_by_uuid_prefix(self, prefix: str, limit: int = 2) -> list[int]:
        """Ids of up to ``limit`` sessions whose uuid starts with ``prefix`` (lower case)."""
        return sessions_table.session_ids_by_uuid_prefix(self._database, prefix, limit)

    # ------------------------------------------------------------------ writes
    def next_indices(self, session_id: int) -> tuple[int, int, int]:
        """Next free (sample chunk, phase seq, event seq) numbers for a session."""
        return results_table.next_indices(self._database, session_id)

    def write_samples(self, session_id: int, chunk: int, t: ArrayLike,
                      t_device: ArrayLike | None, force: ArrayLike) -> int:
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
        return samples_table.write_samples(self._database, session_id, chunk, t, t_device,
                                           force)

    def write_phase(self, session_id: int, seq: int, t_s: float, phase: str,
                    hand: str | None = None, rep: int | None = None, trial: int | None = None,
                    target_n: float | None = None, band_low_n: float | None = None,
                    band_high_n: float | None = None, mvc_n: float | None = None) -> None:
        """Store a phase change (see :class:`PhaseRow`)."""
        results_table.write_phase(self._database, session_id, seq, t_s, phase, hand, rep,
                                  trial, target_n, band_low_n, band_high_n, mvc_n)

    def write_event(self, session_id: int, seq: int, t_s: float, kind: str,
                    detail: Mapping[str, Any] | None = None) -> None:
        """Store an event; ``detail`` is saved as compact JSON (NaN as null)."""
        results_table.write_event(self._database, session_id, seq, t_s, kind, detail)

    def write_mvc_trial(self, session_id: int, hand: str, trial: int,
                        t_start_s: float | None, t_end_s: float | None, score_n: float | None,
                        raw_peak_n: float | None, time_to_peak_s: float | None,
                        plausible: bool, message: str | None, used: bool = True) -> None:
        """Store an MVC trial (replacing a trial with the same hand and number)."""
        results_table.write_mvc_trial(self._database, session_id, hand, trial, t_start_s,
                                      t_end_s, score_n, raw_peak_n, time_to_peak_s,
                                      plausible, message, used)

    def write_mvc_trial_used(self, session_id: int, hand: str, trial: int, used: bool) -> None:
        """Mark an MVC trial as used or not (a redone trial is not used)."""
        results_table.write_mvc_trial_used(self._database, session_id, hand, trial, used)

    def write_mvc(self, session_id: int, hand: str, mvc_n: float | None,
                  best_trial: int | None, flags: Sequence[str]) -> None:
        """Store (or replace) the MVC chosen for a hand."""
        results_table.write_mvc(self._database, session_id, hand, mvc_n, best_trial, flags)

    def write_hold(self, session_id: int, rep: int, attempt: int, hand: str | None,
                   t_go_s: float | None, t_end_s: float | None, target_n: float | None,
                   band_low_n: float | None, band_high_n: float | None, mvc_n: float | None,
                   completed: bool, metrics: Mapping[str, Any]) -> None:
        """Store one hold attempt; the metrics in :data:`HOLD_METRIC_COLUMNS` also get columns."""
        results_table.write_hold(self._database, session_id, rep, attempt, hand, t_go_s,
                                 t_end_s, target_n, band_low_n, band_high_n, mvc_n,
                                 completed, metrics)

    # ------------------------------------------------------------------ reads
    # Each read checks the session first: an unknown id is an error, not an empty list.
    def count_samples(self, session_id: int) -> int:
        """Number of samples stored for a session (without loading them)."""
        return samples_table.count_samples(self._database, self._checked(session_id))

    def load_samples(self, session_id: int) -> Samples:
        """Every sample of a session, in recording order.

        Returns:
            ``(t, t_device, force)``: session clock times (s), device clock times (s;
            NaN where the device gave none) and forces (N), as new float64 arrays.

        Raises:
            SessionNotFoundError: No such session.
        """
        return samples_table.load_samples(self._database, self._checked(session_id))

    def load_phases(self, session_id: int) -> list[PhaseRow]:
        """Phase changes of a session, in recording order."""
        return results_table.load_phases(self._database, self._checked(session_id))

    def load_events(self, session_id: int) -> list[EventRow]:
        """Events of a session, in recording order."""
        return results_table.load_events(self._database, self._checked(session_id))

    def load_mvc_trials(self, session_id: int) -> list[MvcTrialRow]:
        """MVC trials of a session, by start time (then hand and number)."""
        return results_table.load_mvc_trials(self._database, self._checked(session_id))

    def load_mvc(self, session_id: int) -> list[MvcRow]:
        """The MVC chosen for each measured hand."""
        return results_table.load_mvc(self._database, self._checked(session_id))

    def load_holds(self, session_id: int) -> list[HoldRow]:
        """Hold attempts of a session, by repetition and attempt."""
        return results_table.load_holds(self._database, self._checked(session_id))

    def list_mvc(self, participant: str | None = None) -> list[MvcHistoryRow]:
        """Every recorded MVC with its session's start, oldest session first.

        Args:
            participant: Only this participant's sessions (``None``: everyone's, as in
                :meth:`list_sessions`).
        """
        return results_table.list_mvc(self._database, participant)

    # ------------------------------------------------------------------ blood pressure
    def add_bp_reading(self, *, sbp: Any, dbp: Any, pulse: Any = None,
                       taken_at: _dt.datetime | None = None, participant: str | None = None,
                       context: str | None = None, session_id: int | None = None,
                       source: str = "manual", note: str | None = None) -> int:
        """Add a blood-pressure reading to the log.

        Returns:
            The new row id.

        Raises:
            BpValueError: A value is not plausible (the message says which and why).
            ParticipantIdError: The participant is not an ID (a name, say).
            StorageError: The database could not be written.
        """
        return bp_table.add_bp_reading(
            self._database, sbp=sbp, dbp=dbp, pulse=pulse, taken_at=taken_at,
            participant=participant, context=context, session_id=session_id,
            source=source, note=note)

    def set_bp_session(self, reading_id: int, session_id: int) -> None:
        """Link a reading to the session it was taken for.

        A ``pre`` reading is entered before its session exists.
        """
        bp_table.set_bp_session(self._database, reading_id, session_id)

    def list_bp_readings(self, participant: str | None = None, *,
                         since: _dt.datetime | None = None) -> list[BpReading]:
        """Blood-pressure readings, oldest first.

        Args:
            participant: Only this participant's readings (``None``: everyone's).
            since: Only readings taken at or after this time.
        """
        return bp_table.list_bp_readings(self._database, participant, since=since)

    def add_cuff_readings(self, measurements: Sequence[bp_cuff.CuffMeasurement], *,
                          device: str, participant: str | None = None,
                          context: str | None = None, now: _dt.datetime | None = None,
                          just_taken: bp_cuff.JustTaken | None = None) -> bp_cuff.CuffImport:
        """Store a cuff's readings, each once (:func:`.bp_cuff.add_cuff_readings`)."""
        return bp_cuff.add_cuff_readings(self._database, measurements, device=device,
                                         participant=participant, context=context, now=now,
                                         just_taken=just_taken)
