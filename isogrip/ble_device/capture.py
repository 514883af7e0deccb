"""Packet captures: text files with one notification (or advertisement) per line.

Format: ``<receive time in s> <hex bytes>``, e.g. ``0.0125 0110000020410a000000``;
blank lines and lines starting with ``#`` are ignored. Used by codec tests and by the
``replay:`` device.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from isogrip.errors import IsogripError


class CaptureFileError(IsogripError, ValueError):
    """A capture file cannot be read; the message names the file and line."""


def read_capture(path: str | Path) -> list[tuple[float, bytes]]:
    """Read a capture file.

    Raises:
        CaptureFileError: Missing file, or a line that is not ``<time> <hex>``.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CaptureFileError(f"{p}: cannot read capture: {exc}") from None
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
        if items and t < items[-1][0]:
            raise CaptureFileError(f"{p}:{n}: time goes backwards ({t} after {items[-1][0]})")
        items.append((t, data))
    return items


def write_capture(path: str | Path, items: Iterable[tuple[float, bytes]]) -> None:
    """Write a capture file."""
    lines = [f"{t:.6f} {data.hex()}" for t, data in items]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
