"""Reading and writing files safely: the one place isogrip opens a user's file.

Every file isogrip writes (exports, reports, settings, captures) goes through
:func:`atomic_output`: a temporary file with a unique name made by ``mkstemp`` in the
target folder, written, flushed and fsynced, given mode ``0o600``, renamed over the
target and checked. A full disk, a crash or a power cut leaves the earlier file or the
whole new one, never a cut-off one; a symlink planted in the folder is never followed
(``mkstemp`` creates a new file with ``O_EXCL``, and the rename replaces the link
itself, not what it points to).

Every file isogrip reads that came from outside (settings, protocols, imports, blood
pressure files, captures) goes through :func:`read_limited_bytes`: it must be a regular
file (a FIFO or a device would block for ever, ``/dev/zero`` would never end) no larger
than a limit that fits its kind.

Folders isogrip creates get mode ``0o700`` and files ``0o600`` whatever the umask:
health data stays readable only by its owner.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from isogrip.errors import InputFileError, StorageError

_log = logging.getLogger(__name__)

#: Mode of folders isogrip creates (owner only).
DIR_MODE = 0o700
#: Mode of files isogrip creates (owner read/write only).
FILE_MODE = 0o600
#: A temporary file older than this (s) belongs to a writer that was killed.
STALE_TEMP_S = 3600.0
#: Size limits (bytes) of the files isogrip reads, by kind: far above any real file of
#: that kind, far below what would exhaust memory.
SMALL_FILE_LIMIT = 1 << 20  # settings, protocols, summaries
TABLE_FILE_LIMIT = 64 << 20  # events, blood-pressure tables, captures
SAMPLES_FILE_LIMIT = 1 << 30  # a whole session's samples


def reason(exc: OSError) -> str:
    """A short human reason for an OS error (without the file name repeated)."""
    return (exc.strerror or str(exc) or type(exc).__name__).rstrip(".")


# ------------------------------------------------------------------------------ reading
def read_limited_bytes(path: Path | str, limit: int, what: str = "file") -> bytes:
    """The whole content of a regular file no larger than ``limit`` bytes.

    The file is opened without blocking (a FIFO with no writer would otherwise wait
    for ever), checked to be a regular file, and read to at most ``limit`` bytes (a
    file that grows while it is read is caught too).

    Args:
        path: The file.
        limit: The largest size accepted, in bytes.
        what: What the file is, for the message (e.g. ``"settings file"``).

    Raises:
        FileNotFoundError: There is no such file (callers often treat that apart).
        InputFileError: Not a regular file, too large, or unreadable; the message is
            one line naming the file.
    """
    p = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(p, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise InputFileError(f"cannot read the {what} {p}: {reason(exc)}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(f"the {what} {p} is not a regular file; give a file "
                                 "(not a folder, pipe or device)")
        if info.st_size > limit:
            raise InputFileError(f"the {what} {p} is too large ({_size(info.st_size)}; "
                                 f"at most {_size(limit)})")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise InputFileError(f"the {what} {p} is too large (at most {_size(limit)})")
        return b"".join(chunks)
    except OSError as exc:
        if isinstance(exc, InputFileError):
            raise
        raise InputFileError(f"cannot read the {what} {p}: {reason(exc)}") from None
    finally:
        os.close(fd)


def read_limited_text(path: Path | str, limit: int, what: str = "file",
                      encoding: str = "utf-8") -> str:
    """The text of a regular file no larger than ``limit`` bytes (see :func:`read_limited_bytes`).

    Raises:
        FileNotFoundError: There is no such file.
        InputFileError: As :func:`read_limited_bytes`, or the text is not ``encoding``.
    """
    data = read_limited_bytes(path, limit, what)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputFileError(f"the {what} {path} is not {encoding.upper()} text "
                             f"(byte {exc.start})") from None


def _size(n: int) -> str:
    """A size as people read it; just over a limit still reads as more than the limit."""
    if n and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    return f"{n:,} bytes"  # exact: 1 GiB + 1 byte must not read as "1024 MiB"


# ------------------------------------------------------------------------------ folders
def make_private_dirs(path: Path | str) -> None:
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


# ------------------------------------------------------------------------------ writing
def durable_replace(tmp: Path | str, path: Path | str) -> None:
    """Give a finished temporary file its final name so that a power cut cannot tear it.

    The file's data is flushed to the disk before the rename, and the rename itself
    (the folder entry) after it. Renaming alone is atomic against a crash of the
    program, but after a power cut some file systems keep the new name with the old
    (or no) data. With this a power cut leaves either the earlier file or the whole new
    one. Flushing the folder is best effort: some file systems (network shares, FUSE)
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


def flush_to_disk(path: Path | str) -> None:
    """Flush a file's data to the disk (``fsync``; ``F_FULLFSYNC`` on macOS).

    Raises:
        OSError: The file could not be flushed.
    """
    _fsync_path(Path(path), directory=False)


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


@contextlib.contextmanager
def atomic_output(path: Path | str) -> Iterator[Path]:
    """A temporary file next to ``path`` that becomes ``path`` once the block succeeds.

    The block writes the temporary file (by name, for writers that open files
    themselves). On success it gets mode ``0o600``, is checked to hold what was
    written (its size after the flush), and replaces ``path`` durably
    (:func:`durable_replace`); on any failure it is deleted, so nothing half-written
    is left behind and the earlier file is kept. Temporary files of ``path`` that a
    killed writer left behind (older than :data:`STALE_TEMP_S`) are removed first.

    Raises:
        StorageError: The file cannot be created, written or renamed (an ``OSError``
            in the block included); the message is one line naming the file.
    """
    path = Path(path)
    _remove_stale_temps(path)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise StorageError(f"cannot write to {path.parent}: {reason(exc)}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, FILE_MODE)
        if tmp.is_symlink() or not tmp.is_file():
            raise OSError(f"{tmp.name} was replaced while it was written")
        durable_replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise StorageError(f"cannot write {path}: {reason(exc)}; "
                           "nothing was changed") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomic(path: Path | str, write: Callable[[IO[bytes]], None]) -> Path:
    """Write a file through :func:`atomic_output`, with ``write`` filling it.

    The written size is checked against the file's size on the disk before the rename,
    so a writer that swallowed a short write cannot leave a cut-off file.

    Raises:
        StorageError: The file cannot be written (the message names it and says why).
    """
    path = Path(path)
    with atomic_output(path) as tmp:
        with tmp.open("wb") as fh:
            write(fh)
            fh.flush()
            written = fh.tell()
        if tmp.stat().st_size != written:
            raise OSError(f"only {tmp.stat().st_size} of {written} bytes reached the disk")
    return path


def write_atomic_bytes(path: Path | str, data: bytes) -> Path:
    """Write ``data`` as the whole of ``path`` atomically (see :func:`write_atomic`)."""
    def write(fh: IO[bytes]) -> None:
        fh.write(data)

    return write_atomic(path, write)


def write_atomic_text(path: Path | str, text: str) -> Path:
    """Write UTF-8 ``text`` as the whole of ``path`` atomically (see :func:`write_atomic`)."""
    return write_atomic_bytes(path, text.encode("utf-8"))


def _remove_stale_temps(path: Path) -> None:
    """Delete ``.NAME.*.tmp`` files of ``path`` old enough that no writer can own them."""
    now = time.time()
    with contextlib.suppress(OSError):
        for old in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
            with contextlib.suppress(OSError):
                if not old.is_symlink() and now - old.stat().st_mtime > STALE_TEMP_S:
                    old.unlink()


# ------------------------------------------------------------------------------ moving aside
def move_aside(path: Path | str, wanted: Path | str) -> Path:
    """Move ``path`` to ``wanted``, or to ``wanted`` with ``.1``, ``.2``... if taken.

    The move never overwrites anything: on POSIX the new name is made with a hard link
    (which fails if the name exists) and the old one removed after it; elsewhere with a
    rename, which refuses an existing name there.

    Returns:
        The name the file now has.

    Raises:
        OSError: The file could not be moved (it is then still at ``path``).
    """
    src, base = Path(path), Path(wanted)
    for n in range(1000):
        dst = base if n == 0 else base.with_name(f"{base.name}.{n}")
        try:
            _move_no_overwrite(src, dst)
        except FileExistsError:
            continue
        return dst
    raise FileExistsError(f"no free name next to {base}")


def _move_no_overwrite(src: Path, dst: Path) -> None:
    if os.name != "posix":
        os.rename(src, dst)  # refuses an existing name on Windows
        return
    try:
        os.link(src, dst, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError:  # no hard links on this file system (FAT, some FUSE)
        if os.path.lexists(dst):
            raise FileExistsError(dst) from None
        os.rename(src, dst)
        return
    os.unlink(src)
