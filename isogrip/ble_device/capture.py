"""Packet captures: text files with one notification (or advertisement) per line.

Format: ``<receive time in s> <hex bytes>``, e.g. ``0.0125 0110000020410a000000``;
blank lines and lines starting with ``#`` are ignored. Used by codec tests and by the
``replay:`` device. Captures are read and written through :mod:`isogrip.files`
(regular files of bounded size only; written atomically, owner-only).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from isogrip.errors import InputFileError, IsogripError
from isogrip.files import TABLE_FILE_LIMIT, read_limited_text, write_atomic_text


class CaptureFileError(IsogripError, ValueError):
    """A capture file cannot be read; the message names the file and line."""


def read_capture(path: str | Path) -> list[tuple[float, bytes]]:
    """Read a capture file.

    Raises:
        CaptureFileError: Missing file, not a regular file (a FIFO, a device), larger
            than :data:`~isogrip.files.TABLE_FILE_LIMIT`, not UTF-8, or a line that is
            not ``<time> <hex>``.
    """
    p = Path(path)
    try:
        text = read_limited_text(p, TABLE_FILE_LIMIT, "capture file")
    except FileNotFoundError:
        raise CaptureFileError(f"{p}: cannot read capture: no such file") from None
    except InputFileError as exc:  # its message names the file and says why
        raise CaptureFileError(str(exc)) from None
    items: list[tuple[float, bytes]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        try:
            t = float(parts[0])
            data = bytes.fromhex(parts[1]) if len(parts) > 1 else b""
        except ValueError:
            raise CaptureFileError(
                f"{p}:{n}: expected '<time s> <hex bytes>', got {line[:60]!r}") from None
        if not math.isfinite(t):  # "nan" and "inf" parse as floats
            raise CaptureFileError(f"{p}:{n}: the time must be a finite number of "
                                   f"seconds, got {parts[0][:20]!r}")
        if items and t < items[-1][0]:
            raise CaptureFileError(f"{p}:{n}: time goes backwards ({t} after {items[-1][0]})")
        items.append((t, data))
    return items


def write_capture(path: str | Path, items: Iterable[tuple[float, bytes]]) -> None:
    """Write a capture file atomically, with mode ``0o600`` (:func:`~isogrip.files.write_atomic`).

    Raises:
        StorageError: The file cannot be written (one line naming it); an earlier
            file of that name is then kept as it was.
    """
    lines = [f"{t:.6f} {data.hex()}" for t, data in items]
    write_atomic_text(path, "\n".join(lines) + "\n")
