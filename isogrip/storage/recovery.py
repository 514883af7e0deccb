"""Keeping a damaged database, and starting a new one without losing the old.

Three rules, because a database is the only copy of a person's sessions:

* **Who uses it.** Every open :class:`~isogrip.storage.store.Store` holds a shared
  lock on ``<database>.lock`` (:class:`UseLock`). Setting a database aside takes the
  lock exclusively, so it never happens while a session, an import or the desktop app
  of another isogrip has the file open. (On Windows the file cannot be renamed while
  it is open, which gives the same protection.)
* **Only what is damaged.** :func:`start_new_database` moves a database aside only when
  opening it finds damage, or when the caller says the user confirmed it.
* **Nothing overwritten.** The moved file gets a name no file has
  (:func:`isogrip.files.move_aside`), and a damaged file is copied once, however many
  commands run against it (:func:`backup_damaged`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import logging
import os
import shutil
import sqlite3
import stat
import sys
import tempfile
from pathlib import Path
from typing import IO

from isogrip.errors import DatabaseDamagedError, StorageError
from isogrip.files import FILE_MODE, flush_to_disk, move_aside, reason

_log = logging.getLogger(__name__)

#: The files SQLite keeps beside a database, which belong to it.
SIDECAR_SUFFIXES = ("-wal", "-shm", "-journal")


class UseLock:
    """An advisory lock saying "an isogrip has this database open".

    Shared by every open store; taken exclusively to set the database aside. Where the
    file system has no locks (some network shares), or on Windows, it does nothing.

    Args:
        database: The database file the lock belongs to.
        exclusive: Take it exclusively (fails at once if anyone holds it).

    Raises:
        StorageError: ``exclusive`` and another isogrip has the database open.
    """

    def __init__(self, database: Path, *, exclusive: bool = False) -> None:
        self.path = database.with_name(database.name + ".lock")
        # A file object, not a bare descriptor: a store dropped without close() still
        # gives the lock back when it is collected.
        self._file: IO[bytes] | None = None
        if sys.platform == "win32":
            return
        import fcntl

        try:
            fh = open(self.path, "ab", opener=_private_opener)  # noqa: SIM115
        except OSError as exc:
            if exc.errno in (errno.ENXIO, errno.ELOOP):  # a FIFO or a link in its place
                raise self._not_regular() from None
            _log.debug("no use lock for %s: %s", database, exc)
            return
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            # Opened without blocking (a FIFO would wait for a writer for ever); a lock
            # on a pipe or a device would say nothing about who uses the database.
            fh.close()
            raise self._not_regular()
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB if exclusive
                        else fcntl.LOCK_SH)
        except BlockingIOError:
            fh.close()
            raise StorageError(
                f"the database {database} is in use by another isogrip (a session, an "
                "import or the desktop app); close it first. Nothing was moved.") from None
        except OSError as exc:  # no locking on this file system
            fh.close()
            _log.debug("no use lock for %s: %s", database, exc)
            return
        self._file = fh

    def _not_regular(self) -> StorageError:
        return StorageError(f"{self.path} is not a regular file (a pipe, device or link); "
                            "remove it (isogrip makes it anew), then try again")

    def release(self) -> None:
        """Give the lock back (safe to call twice)."""
        fh, self._file = self._file, None
        if fh is not None:
            fh.close()  # closing the file releases the flock


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK, FILE_MODE)


def backup_damaged(path: Path) -> Path | None:
    """Copy a damaged database once, for recovery.

    A copy made earlier of the same file (same size and modification time: the copy
    keeps both) is reused, so every command run against a damaged database does not
    add another full copy. The copy is written under a temporary name and then given
    its own name, so a full disk never leaves a cut-off copy that looks like a backup.

    Returns:
        The backup, or ``None`` if none could be made.
    """
    try:
        info = path.stat()
        for old in sorted(path.parent.glob(f"{path.name}.damaged-*")):
            o = old.stat()
            if (o.st_size, o.st_mtime_ns) == (info.st_size, info.st_mtime_ns):
                return old
        stamp = _stamp()
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            shutil.copyfile(path, tmp)
            shutil.copystat(path, tmp)
            os.chmod(tmp, FILE_MODE)
            flush_to_disk(tmp)  # whole on the disk before it gets its name
            return move_aside(tmp, path.with_name(f"{path.name}.damaged-{stamp}"))
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
    except OSError as exc:
        _log.warning("could not copy the damaged database %s: %s", path, reason(exc))
        return None


def damaged_error(path: Path, detail: str, backup: Path | None) -> DatabaseDamagedError:
    """The error that explains a damaged database and what the user can do.

    Only words: the copy for recovery is the caller's explicit step
    (:func:`backup_damaged`, made where the damage is found), so building or raising
    this error never touches the disk.

    Args:
        path: The damaged database.
        detail: What was found (SQLite's message, or the size that does not add up).
        backup: The copy made of it, or ``None`` if none could be made.
    """
    kept = f"A copy is kept at {backup}. " if backup else ""
    return DatabaseDamagedError(
        f"the database {path} is damaged ({detail}). {kept}Start a new, empty database "
        "with --new-database (the damaged file stays for recovery), or choose another "
        "data folder with --data-dir.", str(path), None if backup is None else str(backup))


def damage_of(path: Path) -> DatabaseDamagedError | None:
    """The damage opening ``path`` finds, or ``None`` if it opens as an isogrip database.

    Raises:
        StorageError: The file cannot be judged (not an isogrip database, unreadable).
    """
    from isogrip.storage.store import Store

    try:
        Store(path).close()
    except DatabaseDamagedError as exc:
        return exc
    return None


def start_new_database(path: Path | str, *, confirmed: bool = False) -> Path | None:
    """Move a database (and its log files) aside so that a new, empty one is created.

    Args:
        path: The database file.
        confirmed: The user asked for it although the database is not damaged.

    Returns:
        Where the database now is, or ``None`` if there was none.

    Raises:
        StorageError: The database is not damaged and ``confirmed`` is false, another
            isogrip has it open, or it could not be moved (it is then where it was).
    """
    path = Path(path).expanduser().absolute()
    if not path.exists():
        return None
    if not confirmed and damage_of(path) is None:
        raise StorageError(
            f"the database {path} is not damaged ({_count_sessions(path)}); nothing was "
            "moved. To set it aside anyway and start an empty one, add --yes.")
    lock = UseLock(path, exclusive=True)
    try:
        stamp = _stamp()
        moved = move_aside(path, path.with_name(f"{path.name}.replaced-{stamp}"))
        try:
            for suffix in SIDECAR_SUFFIXES:
                side = path.with_name(path.name + suffix)
                if side.exists():
                    move_aside(side, moved.with_name(moved.name + suffix))
        except OSError:
            # A database without its log would lose the log's commits: put it back.
            move_aside(moved, path)
            raise
    except OSError as exc:
        raise StorageError(f"could not move the database {path} aside: {reason(exc)}; "
                           "it is where it was") from None
    finally:
        lock.release()
    return moved


def _stamp() -> str:
    """The local time to the second, for the names of kept files."""
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def _count_sessions(path: Path) -> str:
    """"it holds 3 sessions", read without changing anything."""
    try:
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as c:
            n = int(c.execute("SELECT count(*) FROM sessions").fetchone()[0])
    except sqlite3.Error:
        return "it opens normally"
    return f"it holds {n} session{'' if n == 1 else 's'}"
