"""Opening the database file, and running statements on it with one error mapping.

The connection runs in WAL mode with ``synchronous=FULL``: a commit is durable against
a crash of the program and against a power cut (the write-ahead log is flushed to the
disk at each commit; the recorder commits about once a second, so this costs one flush
a second), and writers never block readers.

Opening checks the file before anything is written to it: a folder, a pipe, a file of
another program, a file of a newer isogrip and a damaged or cut-off file are refused
with a :class:`~isogrip.errors.StorageError` that says what to do. Finding damage is
where the damaged file is copied for recovery (once; see
:func:`~isogrip.storage.recovery.backup_damaged`).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from isogrip.errors import DatabaseBusyError, StorageError
from isogrip.files import FILE_MODE
from isogrip.storage.paths import DB_FILENAME
from isogrip.storage.recovery import SIDECAR_SUFFIXES, backup_damaged, damaged_error
from isogrip.storage.schema import check_layout, create_schema, read_layout

#: Seconds to wait for another process's write lock before giving up.
BUSY_TIMEOUT_S: Final = 10.0


class LayoutNotCurrent(Exception):
    """Raised by a read-only open of a file whose layout must first be made or updated."""


def connect(path: Path, *, read_only: bool) -> sqlite3.Connection:
    """Open and check the database file, creating it (mode ``0o600``) if missing.

    Args:
        path: The database file (absolute).
        read_only: Open with SQLite ``mode=ro``: nothing is written, not even the
            journal mode or a checkpoint.

    Returns:
        A connection in autocommit mode (transactions are explicit), usable from
        any thread.

    Raises:
        LayoutNotCurrent: ``read_only`` and the file is new or has an older layout.
        DatabaseDamagedError: The file is damaged (a copy of it has been made).
        StorageError: The file cannot be used.
    """
    _check_path(path)
    try:
        conn = sqlite3.connect(
            f"file:{urllib.parse.quote(str(path))}?mode=ro" if read_only else str(path),
            uri=read_only,
            timeout=BUSY_TIMEOUT_S,
            isolation_level=None,  # explicit BEGIN/COMMIT only
            check_same_thread=False,
        )
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open database {path}: {exc}") from exc
    try:
        _prepare(conn, path, read_only=read_only)
    except BaseException:
        conn.close()
        raise
    tighten_sidecars(path)
    return conn


def _check_path(path: Path) -> None:
    """Refuse what is not a database file; create a missing one owner-only."""
    if path.is_dir():
        raise StorageError(f"{path} is a folder, not an isogrip database")
    if path.exists() and not path.is_file():  # stat only: a FIFO is never opened
        raise StorageError(f"{path} is not a regular file (a pipe or a device), not "
                           "an isogrip database")
    if not path.parent.is_dir():
        raise StorageError(f"cannot open database {path}: its folder does not exist")
    if not path.exists():
        # Created here rather than by SQLite, so that it is never readable by others.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            os.close(fd)
        except FileExistsError:
            pass
        except OSError as exc:
            raise StorageError(
                f"cannot create database {path}: {exc.strerror or exc}"
            ) from exc


def _prepare(conn: sqlite3.Connection, path: Path, *, read_only: bool) -> None:
    hint = "move it away or choose another data folder with --data-dir"
    try:
        layout = read_layout(conn)
    except sqlite3.DatabaseError as exc:
        if path.name == DB_FILENAME:
            # Our own file name in our data folder: damage, not someone else's file.
            backup = backup_damaged(path)
            raise damaged_error(path, str(exc), backup) from exc
        raise StorageError(f"{path} is not an isogrip database ({exc}); {hint}") from exc
    _check_not_truncated(conn, path)
    check_layout(path, layout, hint)
    if read_only:
        if not layout.current:
            raise LayoutNotCurrent
        return  # the journal mode is kept in the file; the rest is for writing
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":  # e.g. a file system without shared memory
            conn.execute("PRAGMA journal_mode = DELETE")
        # FULL, not NORMAL: NORMAL may lose the last commits (seconds of a session)
        # in a power cut; FULL costs one WAL flush per commit, about one a second.
        conn.execute("PRAGMA synchronous = FULL")
        if not layout.current:
            create_schema(conn)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot prepare database {path}: {exc}") from exc


def _check_not_truncated(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a database file shorter than its own header says (a cut-off copy).

    Only checked when no write-ahead log exists: with one, recent pages may live in
    the log rather than the main file.
    """
    if path.with_name(path.name + "-wal").exists():
        return
    try:
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
        size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        backup = backup_damaged(path)
        raise damaged_error(path, str(exc), backup) from exc
    actual = path.stat().st_size
    if actual < pages * size:
        backup = backup_damaged(path)
        raise damaged_error(path, f"the file has {actual} bytes, its header says "
                                  f"{pages * size}: it was cut off", backup)


def tighten_sidecars(path: Path) -> None:
    """Make sure the WAL and shared-memory files of ``path`` are owner-only too."""
    for suffix in SIDECAR_SUFFIXES:
        side = path.with_name(path.name + suffix)
        with contextlib.suppress(OSError):
            if side.exists() and (side.stat().st_mode & 0o077):
                os.chmod(side, FILE_MODE)


class Database:
    """An open connection, with the lock, transaction state and error mapping around it.

    Every statement goes through :meth:`execute` or :meth:`fetch_all`, so every SQLite
    failure becomes a :class:`~isogrip.errors.StorageError` that names the database
    and the action. An internal lock serialises calls, so an overlap between threads
    is safe but waits.

    Args:
        path: The database file (for messages and the sidecar check).
        conn: The connection, from :func:`connect`.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.lock = threading.RLock()
        self._conn: sqlite3.Connection | None = conn
        self._in_tx = False
        self._sidecars_checked = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._conn is None

    def connection(self) -> sqlite3.Connection:
        """The open connection.

        Raises:
            StorageError: The database has been closed.
        """
        if self._conn is None:
            raise StorageError(f"the database {self.path} has been closed")
        return self._conn

    def close(self) -> None:
        """Close the connection (safe to call twice)."""
        with self.lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()

    def fail(self, action: str, exc: sqlite3.Error) -> StorageError:
        """The error to raise for ``exc``, raised while trying to ``action``.

        A damaged file is copied for recovery here, where the damage is found.
        """
        if "malformed" in str(exc) or "not a database" in str(exc):
            backup = backup_damaged(self.path)
            return damaged_error(self.path, f"could not {action}: {exc}", backup)
        if getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY,
                                                      sqlite3.SQLITE_LOCKED):
            return DatabaseBusyError(f"database {self.path}: could not {action}: another "
                                     "program is writing to it (the database is locked)")
        return StorageError(f"database {self.path}: could not {action}: {exc}")

    def execute(self, action: str, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Run one statement; ``action`` ("save an event") goes into the error message.

        Raises:
            StorageError: The statement failed (see :meth:`fail`).
        """
        with self.lock:
            try:
                return self.connection().execute(sql, params)
            except sqlite3.Error as exc:
                raise self.fail(action, exc) from exc

    def fetch_all(self, action: str, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run one query and return every row (see :meth:`execute`)."""
        with self.lock:
            try:
                return self.connection().execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise self.fail(action, exc) from exc

    def fetch_one(self, action: str, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one query and return its first row, or ``None`` (see :meth:`execute`)."""
        with self.lock:
            try:
                return self.connection().execute(sql, params).fetchone()
            except sqlite3.Error as exc:
                raise self.fail(action, exc) from exc

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one atomic, durable commit (nested blocks join the outer).

        Raises:
            StorageError: The transaction could not begin or commit.
        """
        with self.lock:
            conn = self.connection()
            if self._in_tx:
                yield
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self.fail("start a transaction", exc) from exc
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
                raise self.fail("save", exc) from exc
            finally:
                self._in_tx = False
            self._tighten_sidecars_once()

    def _tighten_sidecars_once(self) -> None:
        # SQLite makes the -wal and -shm files at the first write, with the umask's mode.
        if not self._sidecars_checked:
            tighten_sidecars(self.path)
            self._sidecars_checked = True
