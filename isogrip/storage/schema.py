"""The database layout: its tables, its version, and the steps that update it.

The version is kept in ``PRAGMA user_version`` and the file is marked as isogrip's
with ``PRAGMA application_id``, so a file of another program is never written to and
a file of a newer isogrip is never misread. ``docs/data-formats.md`` documents the
tables column by column.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from pathlib import Path
from typing import Final

from isogrip.errors import StorageError

#: Version of the database layout, kept in ``PRAGMA user_version``.
SCHEMA_VERSION: Final = 3
#: ``PRAGMA application_id`` of isogrip databases (ASCII "IGRP").
APPLICATION_ID: Final = 0x49475250

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
    3: (
        # A training programme: its plan (the numbers it was started with) and every
        # step it took (start, intensity change, extension, ...) with its reason.
        """
        CREATE TABLE programmes (
            id INTEGER PRIMARY KEY,
            participant TEXT,
            started_on TEXT NOT NULL,
            protocol_name TEXT NOT NULL,
            plan_json TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
            ended_at TEXT
        )
        """,
        "CREATE INDEX programmes_participant ON programmes (participant, status)",
        """
        CREATE TABLE programme_steps (
            programme_id INTEGER NOT NULL REFERENCES programmes (id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            recorded_at TEXT NOT NULL,
            kind TEXT NOT NULL,
            intensity_pct REAL,
            session_id INTEGER REFERENCES sessions (id) ON DELETE SET NULL,
            reason TEXT NOT NULL,
            PRIMARY KEY (programme_id, seq)
        )
        """,
        # Where a reading's time came from (typed, the cuff's clock, or the moment it
        # was received from a cuff that sent none), which cuff and which of its users.
        "ALTER TABLE bp_readings ADD COLUMN device TEXT",
        "ALTER TABLE bp_readings ADD COLUMN cuff_user INTEGER",
        "ALTER TABLE bp_readings ADD COLUMN time_source TEXT NOT NULL DEFAULT 'entered'"
        " CHECK (time_source IN ('entered', 'cuff', 'received'))",
        # A cuff resends its memory: the same reading from the same cuff is stored once.
        "CREATE UNIQUE INDEX bp_cuff_reading ON bp_readings (device, IFNULL(cuff_user, -1),"
        " taken_at, sbp, dbp, IFNULL(pulse, -1)) WHERE time_source = 'cuff'",
    ),
}


@dataclasses.dataclass(frozen=True, slots=True)
class Layout:
    """What a database file says about itself.

    Attributes:
        application_id: ``PRAGMA application_id`` (0 for a file no program marked).
        version: ``PRAGMA user_version`` (0 for a new file).
        n_objects: Number of tables, indexes and the like already in the file.
    """

    application_id: int
    version: int
    n_objects: int

    @property
    def current(self) -> bool:
        """Whether the file already has this isogrip's layout."""
        return self.version >= SCHEMA_VERSION


def read_layout(conn: sqlite3.Connection) -> Layout:
    """Read the file's marks; the first read of the file, so damage shows here.

    Raises:
        sqlite3.DatabaseError: The file is not a readable SQLite database.
    """
    return Layout(
        application_id=int(conn.execute("PRAGMA application_id").fetchone()[0]),
        version=int(conn.execute("PRAGMA user_version").fetchone()[0]),
        n_objects=int(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]),
    )


def check_layout(path: Path, layout: Layout, hint: str) -> None:
    """Refuse a file of another program or of a newer isogrip.

    Args:
        path: The database file (for the message).
        layout: What the file says about itself.
        hint: What the user can do about a file that is not isogrip's.

    Raises:
        StorageError: The file is not one this isogrip may read or write.
    """
    app_id = layout.application_id
    if app_id not in (0, APPLICATION_ID) or (app_id == 0 and layout.n_objects > 0):
        raise StorageError(
            f"{path} is not an isogrip database (it belongs to another program); {hint}"
        )
    if layout.version > SCHEMA_VERSION:
        raise StorageError(
            f"{path} was written by a newer isogrip (database version {layout.version}; "
            f"this isogrip reads up to version {SCHEMA_VERSION}). Update isogrip, or "
            "choose another data folder with --data-dir."
        )


def create_schema(conn: sqlite3.Connection) -> None:
    """Make the tables of a new file, or update an older layout, in one transaction.

    Raises:
        sqlite3.Error: The file could not be written (nothing is changed then).
    """
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
