"""Where isogrip keeps its data, and making sure that place is usable.

The data folder holds one SQLite database (:data:`DB_FILENAME`). It is chosen, in
order, by the ``--data-dir`` command-line option (passed in by the caller), the
``ISOGRIP_DATA_DIR`` environment variable, and the platform's per-user data folder
(``platformdirs.user_data_dir("isogrip")``, e.g. ``~/.local/share/isogrip`` on Linux).

Folders that isogrip creates get mode ``0o700`` (only the owner can enter them); the
files inside get ``0o600``. Health data stays readable only by the user.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import platformdirs

from isogrip.errors import StorageError
from isogrip.files import (  # noqa: F401  (re-exported: the storage layer's file rules)
    DIR_MODE,
    FILE_MODE,
    durable_replace,
    make_private_dirs,
)
from isogrip.files import reason as _reason

#: Environment variable that overrides the default data folder.
DATA_DIR_ENV = "ISOGRIP_DATA_DIR"
#: File name of the session database inside the data folder.
DB_FILENAME = "isogrip.sqlite3"


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
