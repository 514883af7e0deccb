r"""Number columns of a large CSV file (``samples.csv``), read with numpy alone.

``isogrip import`` and ``replay:`` read the three number columns of an exported
``samples.csv`` (up to 1 GiB, millions of lines) without a CSV library: the file is
split at its line ends and commas with vectorised numpy operations, and each wanted
field is checked and converted as a whole column, in chunks of rows.

The rules are those isogrip writes by (``isogrip/storage/samples_csv.py``): one row per
line (``\n``, or ``\r\n``), fields separated by commas, quotes not special, no header
but the first line. An empty line is a row whose every field is empty.

Example:
    >>> lines = split_lines(b"a,b\n1.5,-2\n\n3,\n")
    >>> lines.field_counts().tolist()
    [2, 0, 2]
    >>> field = lines.leading_fields(2, 8)[1]
    >>> [b.decode() for b in field_texts(lines, field, 8)]
    ['-2', '', '']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

I64 = NDArray[np.int64]

#: Rows converted at once (bounds the temporary arrays: ~30 bytes per row and byte).
CHUNK_ROWS: Final = 1 << 18
#: Bytes whose commas are counted at once.
CHUNK_BYTES: Final = 1 << 24
#: The longest field :func:`loose_numbers` reads.
LOOSE_WIDTH: Final = 64
_NL, _CR, _COMMA, _MINUS, _DOT = 0x0A, 0x0D, 0x2C, 0x2D, 0x2E


@dataclass(frozen=True)
class CsvLines:
    """The lines of a CSV file after its first (header) line.

    Attributes:
        buf: The whole file's bytes.
        starts: Where each row's text starts in ``buf``.
        ends: Where each row's text ends (exclusive, the line end left out).
    """

    buf: NDArray[np.uint8]
    starts: I64
    ends: I64

    def __len__(self) -> int:
        return int(self.starts.size)

    def field_counts(self) -> I64:
        """Fields of each row; 0 for an empty line."""
        before = _commas_before(self.buf, self.starts, self.ends)
        n: I64 = before[1] - before[0] + 1
        n[self.starts == self.ends] = 0
        return n

    def leading_fields(self, k: int, max_width: int) -> list[tuple[I64, I64]]:
        """Start and end in ``buf`` of each row's first ``k`` fields.

        A row with fewer fields, or an empty line, gives empty fields where it has none.
        Fields longer than ``max_width`` are found one by one (slowly: a file of
        isogrip's has none).
        """
        spans: list[tuple[I64, I64]] = []
        begin = self.starts
        width = max_width + 1
        col = np.arange(width)
        for _ in range(k):
            end = np.empty_like(begin)
            for lo in range(0, len(self), CHUNK_ROWS):
                sl = slice(lo, lo + CHUNK_ROWS)
                room = self.ends[sl] - begin[sl]
                stop = (_rows(self.buf, begin[sl], width) == _COMMA) | (col >= room[:, None])
                found = stop.any(axis=1)
                end[sl] = begin[sl] + np.where(found, np.argmax(stop, axis=1), width)
                _true_ends(self, begin[sl], end[sl], ~found)
            spans.append((begin, end))
            begin = np.minimum(end + 1, self.ends)  # past the comma, if any
        return spans

    def text(self, span: tuple[I64, I64], row: int) -> str:
        """The whole text of one field (up to the next comma or the line end)."""
        start, end = int(span[0][row]), int(self.ends[row])
        raw = bytes(self.buf[start:end]).split(b",", 1)[0]
        return raw.decode("utf-8", "replace")


@dataclass(frozen=True)
class Decimals:
    """One column of decimals (:func:`leading_decimals`).

    Attributes:
        span: Start and end of each row's field in the file's bytes.
        values: The numbers; NaN where a field is empty or not a decimal.
        empty: Whether each field is empty.
        ok: Whether each field is a decimal.
    """

    span: tuple[I64, I64]
    values: NDArray[np.float64]
    empty: NDArray[np.bool_]
    ok: NDArray[np.bool_]


def split_lines(data: bytes) -> CsvLines:
    """The rows of ``data`` after its first line (see the module docstring)."""
    buf = np.frombuffer(data, np.uint8)
    nl = np.flatnonzero(buf == _NL).astype(np.int64)
    if nl.size == 0:
        none = np.zeros(0, np.int64)
        return CsvLines(buf, none, none)
    starts = nl + 1
    ends = np.append(nl[1:], len(buf)).astype(np.int64)
    if starts[-1] == len(buf):  # the file ends with a line end: no row after it
        starts, ends = starts[:-1], ends[:-1]
    cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == _CR)
    return CsvLines(buf, starts, ends - cr)


def _true_ends(lines: CsvLines, begin: I64, end: I64, longer: NDArray[np.bool_]) -> None:
    """Move ``end`` of the fields longer than the bytes read (``longer``) to their real end.

    ``begin`` and ``end`` are views of one chunk of rows; ``end`` is changed in place.
    """
    for i in np.flatnonzero(longer).tolist():
        start = int(begin[i])
        row = int(np.searchsorted(lines.starts, start, side="right")) - 1
        stop = int(lines.ends[row])
        commas = np.flatnonzero(lines.buf[start:stop] == _COMMA)
        end[i] = start + int(commas[0]) if commas.size else stop


def _commas_before(buf: NDArray[np.uint8], *positions: I64) -> list[I64]:
    """How many commas ``buf`` has before each position (each array ascending)."""
    out = [np.zeros(len(p), np.int64) for p in positions]
    base = 0
    for a in range(0, len(buf), CHUNK_BYTES):
        counts = np.cumsum(buf[a:a + CHUNK_BYTES] == _COMMA, dtype=np.int32)
        for p, o in zip(positions, out, strict=True):
            i0, i1 = np.searchsorted(p, [a, a + CHUNK_BYTES])
            q = p[i0:i1] - a
            o[i0:i1] = base + np.where(q > 0, counts[np.maximum(q - 1, 0)], 0)
        base += int(counts[-1])
    for p, o in zip(positions, out, strict=True):
        o[p >= len(buf)] = base
    return out


def _rows(buf: NDArray[np.uint8], starts: I64, width: int) -> NDArray[np.uint8]:
    """``buf[s:s + width]`` for each start ``s``, one row each, NUL past the end."""
    out = np.zeros((len(starts), width), np.uint8)
    if not len(buf) or not len(starts):
        return out
    fits = starts <= len(buf) - width
    if len(buf) >= width:
        out[fits] = np.lib.stride_tricks.sliding_window_view(buf, width)[starts[fits]]
    tail_from = max(0, len(buf) - width)
    tail = np.concatenate([buf[tail_from:], np.zeros(width, np.uint8)])
    rest = np.flatnonzero(~fits)
    if rest.size:
        windows = np.lib.stride_tricks.sliding_window_view(tail, width)
        out[rest] = windows[np.minimum(starts[rest], len(buf)) - tail_from]
    return out


def _field_bytes(buf: NDArray[np.uint8], start: I64, length: I64,
                 width: int) -> NDArray[np.uint8]:
    """The fields' bytes, one row each, padded with NUL to ``width`` (cut beyond it)."""
    out = _rows(buf, start, width)
    out *= np.arange(width) < length[:, None]
    return out


def field_texts(lines: CsvLines, span: tuple[I64, I64], width: int) -> NDArray[np.bytes_]:
    """The fields' text as fixed-width bytes (cut at ``width``; b"" for an empty field)."""
    start, end = span
    chars = _field_bytes(lines.buf, start, end - start, width)
    return chars.view(f"S{width}").reshape(-1)


def decimal_ok(chars: NDArray[np.uint8], length: I64, int_digits: int,
               frac_digits: int) -> NDArray[np.bool_]:
    r"""Whether each field fully matches ``-?[0-9]{1,I}(\.[0-9]{1,F})?``.

    Args:
        chars: The fields' bytes, NUL-padded (:func:`_field_bytes`, ``width`` at least the
            longest text allowed plus one, so a longer field is seen as such).
        length: The fields' lengths.
        int_digits: ``I``, the most digits before the point.
        frac_digits: ``F``, the most digits after it.
    """
    width = chars.shape[1]
    col = np.arange(width)
    inside = col < length[:, None]
    digit = (chars >= ord("0")) & (chars <= ord("9"))
    dot = chars == _DOT
    neg = chars[:, 0] == _MINUS
    lead = (col == 0) & neg[:, None]
    good_chars = np.all(~inside | digit | dot | lead, axis=1)
    n_dots = dot.sum(axis=1)
    dot_at = np.where(n_dots > 0, np.argmax(dot, axis=1), length)
    int_len = dot_at - neg
    frac_len = length - dot_at - 1
    ok: NDArray[np.bool_] = (good_chars & (n_dots <= 1) & (int_len >= 1)
                             & (int_len <= int_digits)
                             & ((n_dots == 0) | ((frac_len >= 1) & (frac_len <= frac_digits)))
                             & (length <= width - 1))
    return ok


def leading_decimals(lines: CsvLines, k: int, int_digits: int, frac_digits: int
                     ) -> list[Decimals]:
    """The first ``k`` fields of every row, each of which must be a decimal.

    One pass per field and chunk of rows: the bytes from the field's start are read
    once, to find its end (the next comma or the line end), to check it
    (:func:`decimal_ok`) and to convert it.
    """
    width = 1 + int_digits + 1 + frac_digits + 1  # one more: a longer field is refused
    col = np.arange(width)
    n = len(lines)
    out: list[Decimals] = []
    begin = lines.starts
    for _ in range(k):
        end = np.empty_like(begin)
        values = np.full(n, np.nan)
        ok = np.zeros(n, np.bool_)
        for lo in range(0, n, CHUNK_ROWS):
            sl = slice(lo, lo + CHUNK_ROWS)
            room = lines.ends[sl] - begin[sl]
            chars = _rows(lines.buf, begin[sl], width)
            stop = (chars == _COMMA) | (col >= room[:, None])
            first = np.argmax(stop, axis=1)
            found = stop[np.arange(len(first)), first]
            length = np.where(found, first, width)
            end[sl] = begin[sl] + length
            _true_ends(lines, begin[sl], end[sl], ~found)
            chars *= col < length[:, None]  # NUL after the field's end
            good = decimal_ok(chars, length, int_digits, frac_digits)
            ok[sl] = good
            values[sl][good] = chars.view(f"S{width}").reshape(-1)[good].astype(np.float64)
        out.append(Decimals((begin, end), values, end == begin, ok))
        begin = np.minimum(end + 1, lines.ends)  # past the comma, if any
    return out


def loose_numbers(lines: CsvLines, span: tuple[I64, I64], max_width: int = LOOSE_WIDTH
                  ) -> NDArray[np.float64]:
    """Values of one column of numbers as numpy reads text (``1.5``, ``1e3``, ``nan``).

    An empty field is NaN.

    Raises:
        ValueError: A field is not a number, or is longer than ``max_width``.
    """
    start, end = span
    length = end - start
    if length.size and int(length.max()) > max_width:
        raise ValueError(f"a field is longer than {max_width} characters")
    values = np.full(len(start), np.nan)
    for lo in range(0, len(start), CHUNK_ROWS):
        sl = slice(lo, lo + CHUNK_ROWS)
        filled = length[sl] > 0
        text = field_texts(lines, (start[sl][filled], end[sl][filled]), max_width)
        values[sl][filled] = text.astype(np.float64)
    return values
