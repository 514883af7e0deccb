"""Checks of single values read from an export, each failing with one line.

The import (:mod:`isogrip.storage.import_check`) reads every field through these
functions: each takes the place it reads from (:class:`Where`: the file and, for
tables, the line), the field's name and the raw value, and returns the value with its
type, or raises :class:`ImportFileError` with ``FILE, line N: FIELD: why``.

JSON is parsed by :func:`parse_json`, which measures the nesting before ``json.loads``
can recurse (a summary nested 100000 deep would otherwise exhaust the stack) and then
checks every value: numbers finite and 64-bit, strings without control characters or
lone surrogates (SQLite could not store them), bounded lengths.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, NoReturn

import numpy as np

from isogrip.errors import InputFileError, IsogripError
from isogrip.files import read_limited_bytes

# Limits of what an export may hold (docs/data-formats.md, "Import"). Each is far
# beyond a real session and small enough that every command reading the imported
# session (listing, exports, EDF, reports, the app) still works.
#: Times relative to the session start, s (a session may last up to a day; the
#: first samples may come a little before the start).
MIN_TIME_S: Final = -3600.0
MAX_TIME_S: Final = 86400.0
#: Largest force magnitude, N (about 2 tonnes-force; devices saturate far lower).
MAX_FORCE_N: Final = 20000.0
#: Largest device clock magnitude, s (the device's own origin, about 31 years).
MAX_DEVICE_CLOCK_S: Final = 1e9
#: Largest hold, attempt or trial number.
MAX_INDEX: Final = 10000
#: Longest message, note or other free text.
MAX_MESSAGE: Final = 1000
#: Longest identifier-like text (device spec, app version, a flag, a device field).
MAX_NAME: Final = 256
#: Deepest nesting of JSON arrays and objects accepted (a real summary has 4).
MAX_JSON_DEPTH: Final = 32
#: Longest text inside any JSON value (the longest real one, a protocol's
#: description, has about 500 characters).
MAX_JSON_STRING: Final = 4096
#: Longest key of a JSON object.
MAX_JSON_KEY: Final = 128
#: Integers must fit in 64 bits (SQLite, Arrow and pandas integers).
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
#: Wall-clock times accepted (UTC): EDF+ dates end in 2084; a day of margin either
#: side keeps the local date (EDF stores local time) within it.
EARLIEST: Final = _dt.datetime(2000, 1, 1, tzinfo=_dt.UTC)
LATEST: Final = _dt.datetime(2084, 12, 30, tzinfo=_dt.UTC)

_DATE_RE: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")
_CONTROL_RE: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_LINE_CONTROL_RE: Final = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_QUOTE, _BACKSLASH, _OPEN, _CLOSE = 34, 92, (91, 123), (93, 125)


class ImportFileError(IsogripError, ValueError):
    """An export folder cannot be imported; the message is one line naming the file.

    Attributes:
        path: The file at fault (or the folder).
        line: The line at fault in a table, or ``None``.
        field: The field at fault (e.g. ``"mvc.left.mvc_n"``), or ``None``.
    """

    def __init__(self, path: Path | str, why: str, *, line: int | None = None,
                 field: str | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.field = field
        where = str(path) + (f", line {line}" if line is not None else "")
        super().__init__(where + (f": {field}" if field else "") + f": {one_line(why)}")


def one_line(text: str, limit: int = 200) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    flat = _LINE_CONTROL_RE.sub(" ", text)
    return flat if len(flat) <= limit else flat[:limit - 3] + "..."


@dataclass(frozen=True, slots=True)
class Where:
    """The place a value is read from: a file, and the line in a table."""

    path: Path
    line: int | None = None

    def fail(self, field: str | None, why: str) -> NoReturn:
        """Refuse the value of ``field`` here."""
        raise ImportFileError(self.path, why, line=self.line, field=field)

    def at(self, line: int | None) -> Where:
        """The same file at another line."""
        return Where(self.path, line)


def show(v: Any) -> str:
    """A raw value for a message: ``"abc"``, ``12.5``, ``a list``, ``null``."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v) if len(repr(v)) <= 24 else f"{v:.6g}"
    if isinstance(v, str):
        return json.dumps(one_line(v, 40), ensure_ascii=False)
    return "a list" if isinstance(v, list) else "an object" if isinstance(v, dict) \
        else type(v).__name__


def read_export_file(path: Path, limit: int, what: str, *, export: bool = True) -> bytes:
    """The bytes of one export file (a regular file of at most ``limit`` bytes).

    Args:
        path: The file.
        limit: Its size limit (:mod:`isogrip.files`).
        what: What it is, for the file layer's messages.
        export: Whether a missing file means an incomplete export (else: no export).

    Raises:
        ImportFileError: Missing, not a regular file (FIFO, device, ``/dev/zero``),
            too large or unreadable.
    """
    try:
        return read_limited_bytes(path, limit, what)
    except FileNotFoundError:
        kind = "a complete export" if export else "an isogrip export"
        raise ImportFileError(path.parent, f"not {kind}: {path.name} is missing") from None
    except InputFileError as exc:
        # The file layer's sentence names the file; keep what it says about it.
        msg = str(exc)
        why = msg.split(str(path), 1)[1].lstrip(" :") if str(path) in msg else msg
        if msg.startswith("cannot read"):
            why = f"cannot be read ({why})"
        raise ImportFileError(path, why) from None


def decode(w: Where, data: bytes) -> str:
    """UTF-8 text (the exports' encoding)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        w.fail(None, f"is not UTF-8 text (byte {exc.start})")


# ---------------------------------------------------------------------------- scalars
def number(w: Where, field: str, v: Any, lo: float, hi: float, *,
           optional: bool = True) -> float | None:
    """A finite number in ``[lo, hi]`` (``None`` for null when ``optional``)."""
    if v is None and optional:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        w.fail(field, f"must be a number{' or null' if optional else ''}, got {show(v)}")
    x = float(v)
    if not math.isfinite(x) or not lo <= x <= hi:
        w.fail(field, f"must be between {lo:g} and {hi:g}, got {show(v)}")
    return x


def required_number(w: Where, field: str, v: Any, lo: float, hi: float) -> float:
    """A finite number in ``[lo, hi]``; null is refused."""
    x = number(w, field, v, lo, hi, optional=False)
    assert x is not None
    return x


def integer(w: Where, field: str, v: Any, lo: int, hi: int, *,
            optional: bool = True) -> int | None:
    """A whole number in ``[lo, hi]`` (JSON integer, not ``true``/``false`` or ``2.0``)."""
    if v is None and optional:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        w.fail(field, f"must be a whole number{' or null' if optional else ''}, "
                      f"got {show(v)}")
    if not lo <= v <= hi:
        w.fail(field, f"must be between {lo} and {hi}, got {show(v)}")
    return int(v)


def required_integer(w: Where, field: str, v: Any, lo: int, hi: int) -> int:
    """A whole number in ``[lo, hi]``; null is refused."""
    x = integer(w, field, v, lo, hi, optional=False)
    assert x is not None
    return x


def boolean(w: Where, field: str, v: Any) -> bool:
    """``true`` or ``false``."""
    if not isinstance(v, bool):
        w.fail(field, f"must be true or false, got {show(v)}")
    return v


def text(w: Where, field: str, v: Any, max_len: int, *, optional: bool = True,
         pattern: re.Pattern[str] | None = None, lines: bool = False,
         empty: bool = False) -> str | None:
    """A string of at most ``max_len`` characters (``None`` for null when ``optional``).

    Args:
        w: Where it is read.
        field: Its name.
        v: The raw value.
        max_len: Longest accepted.
        optional: Accept null.
        pattern: The whole string must match it.
        lines: Allow tabs and line breaks (free text).
        empty: Allow ``""``.
    """
    if v is None and optional:
        return None
    if not isinstance(v, str):
        w.fail(field, f"must be text{' or null' if optional else ''}, got {show(v)}")
    if not v and not empty:
        w.fail(field, "must not be empty")
    if len(v) > max_len:
        w.fail(field, f"is longer than {max_len} characters ({len(v)})")
    bad = (_CONTROL_RE if lines else _LINE_CONTROL_RE).search(v)
    if bad:
        w.fail(field, f"holds the control character U+{ord(bad.group()):04X}")
    if pattern is not None and not pattern.fullmatch(v):
        w.fail(field, f"is not in the expected form, got {show(v)}")
    return v


def required_text(w: Where, field: str, v: Any, max_len: int,
                  pattern: re.Pattern[str] | None = None) -> str:
    """A non-empty single-line string; null is refused."""
    s = text(w, field, v, max_len, optional=False, pattern=pattern)
    assert s is not None
    return s


def choice(w: Where, field: str, v: Any, choices: Sequence[str], *,
           optional: bool = True) -> str | None:
    """One of ``choices`` (``None`` for null when ``optional``)."""
    if v is None and optional:
        return None
    if not isinstance(v, str) or v not in choices:
        w.fail(field, f"must be one of {', '.join(choices)}"
                      f"{' or null' if optional else ''}, got {show(v)}")
    return v


def obj(w: Where, field: str | None, v: Any, *, allowed: Sequence[str] | None = None,
        required: Sequence[str] = ()) -> Mapping[str, Any]:
    """A JSON object; with ``allowed``, no other keys; every key of ``required``."""
    if not isinstance(v, dict):
        w.fail(field, f"must be an object, got {show(v)}")
    prefix = f"{field}." if field else ""
    for key in required:
        if key not in v:
            w.fail(prefix + key, "is missing")
    if allowed is not None:
        for key in v:
            if key not in allowed:
                w.fail(prefix + key, "is not a known key of this format")
    return v


def array(w: Where, field: str, v: Any, max_items: int) -> list[Any]:
    """A JSON array of at most ``max_items`` items."""
    if not isinstance(v, list):
        w.fail(field, f"must be a list, got {show(v)}")
    if len(v) > max_items:
        w.fail(field, f"has more than {max_items} items ({len(v)})")
    return v


def wall_time(w: Where, field: str, v: Any) -> _dt.datetime:
    """An ISO 8601 date and time with a time zone, between 2000 and 2084.

    The form is the one isogrip writes, ``2024-05-01T09:30:00.000+00:00`` (seconds
    required, 0-6 decimals, ``Z`` or an offset of at most 14 hours).
    """
    if not isinstance(v, str):
        w.fail(field, f"must be an ISO 8601 date and time, got {show(v)}")
    if not _DATE_RE.fullmatch(v):
        w.fail(field, "must be an ISO 8601 date and time with a time zone, like "
                      f"2024-05-01T09:30:00.000+00:00, got {show(v)}")
    try:
        when = _dt.datetime.fromisoformat(v)
    except ValueError:
        w.fail(field, f"is not a real date and time, got {show(v)}")
    offset = when.utcoffset()
    if offset is None or abs(offset) > _dt.timedelta(hours=14):
        w.fail(field, f"has a time zone offset beyond 14 hours, got {show(v)}")
    if not EARLIEST <= when <= LATEST:
        w.fail(field, f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}, "
                      f"got {show(v)}")
    return when


# ---------------------------------------------------------------------------- JSON
def json_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in JSON text, without parsing it.

    Brackets inside strings are not counted: a quote preceded by an odd number of
    backslashes is escaped, and the quotes that are not toggle "inside a string".
    Exact for valid JSON; for invalid JSON at least the depth ``json.loads`` reaches
    before it fails (it stops at the first error, and up to there the text is valid).
    """
    b = np.frombuffer(data, np.uint8)
    if b.size == 0:
        return 0
    idx = np.arange(b.size)
    last_plain = np.maximum.accumulate(np.where(b != _BACKSLASH, idx, -1))
    run = idx - last_plain  # backslashes ending here (0 unless b[i] is one)
    before = np.concatenate(([0], run[:-1]))
    quote = (b == _QUOTE) & (before % 2 == 0)
    outside = np.cumsum(quote) % 2 == 0
    step = (np.isin(b, _OPEN) & outside).astype(np.int8) - \
        (np.isin(b, _CLOSE) & outside).astype(np.int8)
    return int(np.cumsum(step, dtype=np.int64).max())


def parse_json(w: Where, field: str | None, data: bytes | str) -> Any:
    """Parse JSON text whose nesting is at most :data:`MAX_JSON_DEPTH`, then check it.

    Raises:
        ImportFileError: Too deep, not JSON, or a value :func:`check_json` refuses.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    # Fewer opening brackets than the limit cannot nest deeper: skip the scan.
    deep = raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH
    depth = json_depth(raw) if deep else 0
    if depth > MAX_JSON_DEPTH:
        w.fail(field, f"is nested {depth} levels deep (at most {MAX_JSON_DEPTH})")
    try:
        value = json.loads(data)
    except RecursionError:  # cannot happen after the depth check; kept as a guard
        w.fail(field, f"is nested too deeply (at most {MAX_JSON_DEPTH} levels)")
    except ValueError as exc:
        w.fail(field, f"cannot be read (not valid JSON: {exc})")
    check_json(w, field or "", value)
    return value


def check_json(w: Where, field: str, v: Any, depth: int = 0) -> None:
    """Check a parsed JSON value: finite 64-bit numbers, clean bounded strings.

    Raises:
        ImportFileError: Naming the dotted path of the first bad value.
    """
    if depth > MAX_JSON_DEPTH:
        w.fail(field, f"is nested too deeply (at most {MAX_JSON_DEPTH} levels)")
    if isinstance(v, bool) or v is None:
        return
    if isinstance(v, int):
        if not INT64_MIN <= v <= INT64_MAX:
            w.fail(field, "is a whole number too large for 64 bits")
    elif isinstance(v, float):
        if not math.isfinite(v):
            w.fail(field, f"must be a finite number, got {show(v)}")
    elif isinstance(v, str):
        text(w, field, v, MAX_JSON_STRING, optional=False, lines=True, empty=True)
    elif isinstance(v, list):
        for i, item in enumerate(v):
            check_json(w, f"{field}[{i}]", item, depth + 1)
    elif isinstance(v, dict):
        for key, item in v.items():
            name = f"{field}.{key}" if field else str(key)
            text(w, name, key, MAX_JSON_KEY, optional=False, empty=True)
            check_json(w, name, item, depth + 1)
    else:  # json.loads makes nothing else
        w.fail(field, f"is not a JSON value ({type(v).__name__})")
