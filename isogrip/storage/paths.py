"""Where isogrip keeps its data, and making sure that place is usable.

The data folder holds one SQLite database (:data:`DB_FILENAME`). It is chosen, in
order, by the ``--data-dir`` command-line option (passed in by the caller), the
``ISOGRIP_DATA_DIR`` environment variable, and the platform's per-user data folder
(``platformdirs.user_data_dir("isogrip")``, e.g. ``~/.local/share/isogrip`` on Linux).

Folders that isogrip creates get mode ``0o700`` (only the owner can enter them); the
files inside get ``0o600``. Health data stays readable only by the user.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from pathlib import Path

import platformdirs

from isogrip.errors import StorageError

_log = logging.getLogger(__name__)

#: Environment variable that overrides the default data folder.
DATA_DIR_ENV = "ISOGRIP_DATA_DIR"
#: File name of the session database inside the data folder.
DB_FILENAME = "isogrip.sqlite3"
#: Mode of folders isogrip creates (owner only).
DIR_MODE = 0o700
#: Mode of files isogrip creates (owner read/write only).
FILE_MODE = 0o600


def default_data_dir() -> Path:
    """The data folder to use when none is given on the command line.

    Returns:
        ``$ISOGRIP_DATA_DIR`` (with ``~`` expanded) when it is set and not empty,
        otherwise the platform's per-user data folder for ``isogrip``.
    """
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("isogrip", appauthor=False))


def database_path(data_dir: Path) -> Path:
    """The database file inside a data folder."""
    return Path(data_dir) / DB_FILENAME


def make_private_dirs(path: Path) -> None:
    """Create ``path`` and any missing parents, giving each new folder mode ``0o700``.

    Folders that already exist are left as they are.

    Raises:
        OSError: A folder could not be created (e.g. a parent is a regular file).
    """
    path = Path(path)
    missing: list[Path] = []
    p = path
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:
            if not d.is_dir():
                raise
            continue  # created by someone else meanwhile: leave it alone
        # mkdir's mode is filtered by the umask; make it exact.
        with contextlib.suppress(OSError):
            os.chmod(d, DIR_MODE)
    if not path.is_dir():
        raise NotADirectoryError(f"{path} exists and is not a folder")


def prepare_data_dir(path: Path | str) -> Path:
    """Create the data folder if needed and check that isogrip can write to it.

    New folders get mode ``0o700``. Writability is checked by creating and deleting a
    temporary file, which catches read-only mounts and permission problems that a
    mode check would miss (for instance when running as root).

    Args:
        path: The data folder (``~`` is expanded).

    Returns:
        The folder as an absolute path.

    Raises:
        StorageError: The folder cannot be created or written to. The message names
            the folder and says how to choose another.
    """
    folder = Path(path).expanduser().absolute()
    try:
        make_private_dirs(folder)
        fd, tmp = tempfile.mkstemp(prefix=".isogrip-write-test-", dir=folder)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise StorageError(
            f"cannot write to data folder {folder}: {_reason(exc)}. "
            f"Choose another with --data-dir or {DATA_DIR_ENV}."
        ) from exc
    return folder


def _reason(exc: OSError) -> str:
    """A short human reason for an OS error (without the file name repeated)."""
    return (exc.strerror or str(exc) or type(exc).__name__).rstrip(".")


def durable_replace(tmp: Path | str, path: Path | str) -> None:
    """Give a finished temporary file its final name so that a power cut cannot tear it.

    The file's data is flushed to the disk before the rename, and the rename itself
    (the folder entry) after it. Renaming alone is atomic against a crash of the
    program, but after a power cut some file systems keep the new name with the old
    (or no) data: then an export or the settings would be empty or cut off. With this
    a power cut leaves either the earlier file or the whole new one.

    Flushing the folder is best effort: some file systems (network shares, FUSE)
    refuse it, and by then the file is complete under its name.

    Raises:
        OSError: The file could not be flushed or renamed.
    """
    _fsync_path(Path(tmp), directory=False)
    os.replace(tmp, path)
    if sys.platform == "win32":  # Windows cannot open a folder to flush it
        return
    try:
        _fsync_path(Path(path).parent, directory=True)
    except OSError as exc:
        _log.debug("could not flush folder %s: %s", Path(path).parent, exc)


def _fsync_path(path: Path, *, directory: bool) -> None:
    fd = os.open(path, os.O_RDONLY if directory else os.O_RDWR)
    try:
        if sys.platform == "darwin":  # plain fsync stops at the drive's cache there
            import fcntl

            try:
                fcntl.fcntl(fd, fcntl.F_FULLFSYNC)
                return
            except OSError:  # not supported by this file system
                pass
        os.fsync(fd)
    finally:
        os.close(fd)
