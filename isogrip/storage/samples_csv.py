"""The ``samples.csv`` writer: one line per sample with the phase in force at its time.

Formatted by a vectorised numpy writer rather than ``pandas.DataFrame.to_csv``:
number-to-text conversion in pandas formats each float separately (about 25 s for a
one-hour 1 kHz session on a small machine), while this writer builds whole blocks of
lines as byte matrices (about 2-3 s). Columns: ``docs/data-formats.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import IO, Final

import numpy as np
from numpy.typing import NDArray

from isogrip.signal.units import KGF_N
from isogrip.storage.rows import PhaseRow

#: Columns of ``samples.csv``, in order.
SAMPLE_COLUMNS: Final = (
    "t_s", "t_device_s", "force_n", "force_kg", "pct_mvc", "phase", "hand", "rep",
    "target_n", "band_low_n", "band_high_n", "in_band",
)

#: Decimals written per numeric column.
TIME_DECIMALS: Final = 6
FORCE_DECIMALS: Final = 4
PCT_DECIMALS: Final = 3

#: Rows formatted per block when writing samples.csv (bounds memory use).
_BLOCK_ROWS: Final = 131_072
#: Beyond this magnitude (after scaling) float64 -> int64 is no longer exact.
_MAX_EXACT: Final = 2.0**53

_COMMA, _NEWLINE, _MINUS, _DOT, _ZERO = 44, 10, 45, 46, 48


# ---------------------------------------------------------------------------- samples.csv
def fixed(x: float | None, decimals: int) -> str:
    """One number as ``samples.csv`` writes it (empty when missing or not finite)."""
    if x is None or not np.isfinite(x):
        return ""
    text = f"{x:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def quantize(x: NDArray[np.float64], decimals: int) -> NDArray[np.float64]:
    """The values a fixed-decimal column holds: ``rint(x * 10**d) / 10**d``.

    This is the same rounding as the writer's, and the division of two exact numbers
    is correctly rounded, so it equals ``float()`` of the written text.
    """
    scale = 10.0**decimals
    with np.errstate(invalid="ignore"):
        out: NDArray[np.float64] = np.rint(x * scale) / scale
    return out


def _format_fixed(x: NDArray[np.float64], decimals: int) -> NDArray[np.uint8]:
    """Format numbers with fixed decimals as a byte matrix (one row per number).

    Bytes equal to 0 are padding (removed when the block is written); a missing or
    non-finite number is all padding, i.e. an empty CSV field.
    """
    n = x.size
    finite = np.isfinite(x)
    scale = 10.0**decimals
    ax = np.where(finite, np.abs(x), 0.0) * scale
    if n and float(ax.max()) >= _MAX_EXACT:  # too large for exact int64 digits
        return _format_slow(x, decimals)
    v = np.rint(ax).astype(np.int64)
    neg = (x < 0) & (v > 0)
    n_digits = max(len(str(int(v.max()))) if n else 1, decimals + 1)
    width = 1 + n_digits + (1 if decimals else 0)
    m = np.zeros((n, width), np.uint8)
    q = v
    col = width - 1
    for k in range(n_digits):
        q, r = np.divmod(q, 10)
        if k == decimals and decimals:
            m[:, col] = _DOT
            col -= 1
        if k <= decimals:
            m[:, col] = r + _ZERO
        else:  # integer digits above the units: no leading zeros
            m[:, col] = np.where((q > 0) | (r > 0), r + _ZERO, 0)
        col -= 1
    m[:, 0] = np.where(neg, _MINUS, 0)
    m[~finite] = 0
    return m


def _format_slow(x: NDArray[np.float64], decimals: int) -> NDArray[np.uint8]:
    texts = [fixed(float(v), decimals).encode("ascii") for v in x]
    return _strings_matrix(texts)


def _strings_matrix(texts: Sequence[bytes]) -> NDArray[np.uint8]:
    """Byte strings as a zero-padded matrix (one row each)."""
    width = max((len(s) for s in texts), default=0) or 1
    arr = np.array(list(texts), dtype=f"S{width}")
    return arr.view(np.uint8).reshape(len(texts), width)


def _csv_field(text: str) -> str:
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _phase_block(p: PhaseRow | None) -> bytes:
    """The constant part of a line for one phase: phase..band_high_n."""
    if p is None:
        return b",,,,,"
    fields = (
        _csv_field(p.phase),
        _csv_field(p.hand or ""),
        "" if p.rep is None else str(int(p.rep)),
        fixed(p.target_n, FORCE_DECIMALS),
        fixed(p.band_low_n, FORCE_DECIMALS),
        fixed(p.band_high_n, FORCE_DECIMALS),
    )
    return ",".join(fields).encode("utf-8")


def phase_index(phases: Sequence[PhaseRow], t: NDArray[np.float64]) -> NDArray[np.intp]:
    """For each time, the index in ``phases`` of the phase in force, or -1.

    A phase is in force from its ``t_s`` (inclusive) to the next phase's ``t_s``
    (exclusive). Phases with the same time: the last recorded one wins.

    Args:
        phases: Phase rows in recording order (all times on the same clock as ``t``).
        t: Sample times.
    """
    if not phases:
        return np.full(t.shape, -1, np.intp)
    pt = np.array([np.nan if p.t_s is None else p.t_s for p in phases], np.float64)
    order = np.argsort(pt, kind="stable")  # NaN times sort last and are never chosen
    valid = order[np.isfinite(pt[order])]
    if valid.size == 0:
        return np.full(t.shape, -1, np.intp)
    pos = np.searchsorted(pt[valid], t, side="right") - 1
    idx = np.where(pos >= 0, valid[np.clip(pos, 0, None)], -1)
    idx[~np.isfinite(t)] = -1
    return idx.astype(np.intp)


def write_samples_csv(
    fh: IO[bytes],
    t: NDArray[np.float64],
    t_device: NDArray[np.float64],
    force: NDArray[np.float64],
    phases: Sequence[PhaseRow],
    *,
    t0_s: float = 0.0,
) -> None:
    """Write ``samples.csv`` (header included) to a binary file.

    Args:
        fh: Binary file to write to.
        t: Sample times on the session clock (s).
        t_device: Device clock times (s), NaN where unknown.
        force: Forces (N).
        phases: The session's phase rows (times on the session clock).
        t0_s: Session clock at the start; the file's ``t_s`` is ``t - t0_s``.
    """
    fh.write((",".join(SAMPLE_COLUMNS) + "\n").encode("ascii"))
    n = t.size
    if n == 0:
        return
    idx = phase_index(phases, t)
    t_rel = t - t0_s
    # Per phase (plus a last row meaning "no phase"): text block, band and MVC.
    rows: list[PhaseRow | None] = [*phases, None]
    blocks = _strings_matrix([_phase_block(p) for p in rows])
    low = _floats(p.band_low_n if p else None for p in rows)
    high = _floats(p.band_high_n if p else None for p in rows)
    mvc = _floats(p.mvc_n if p else None for p in rows)
    mvc[~(mvc > 0)] = np.nan
    idx = np.where(idx < 0, len(rows) - 1, idx)
    for start in range(0, n, _BLOCK_ROWS):
        sl = slice(start, start + _BLOCK_ROWS)
        fh.write(_samples_block(t_rel[sl], t_device[sl], force[sl], idx[sl],
                                blocks, low, high, mvc))


def _floats(values: Iterable[float | None]) -> NDArray[np.float64]:
    return np.array([np.nan if v is None else v for v in values], np.float64)


def _samples_block(
    t: NDArray[np.float64],
    t_dev: NDArray[np.float64],
    force: NDArray[np.float64],
    idx: NDArray[np.intp],
    blocks: NDArray[np.uint8],
    low: NDArray[np.float64],
    high: NDArray[np.float64],
    mvc: NDArray[np.float64],
) -> bytes:
    k = t.size
    comma = np.full((k, 1), _COMMA, np.uint8)
    lo, hi, mv = low[idx], high[idx], mvc[idx]
    # Derived columns come from the force exactly as written, so a file read back in
    # (isogrip import) exports to the same bytes.
    force = quantize(force, FORCE_DECIMALS)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = 100.0 * force / mv
        has_band = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(force)
        inside = (force >= lo) & (force <= hi)
    in_band = np.where(has_band, np.where(inside, ord("1"), ord("0")), 0).astype(np.uint8)
    parts = [
        _format_fixed(t, TIME_DECIMALS), comma,
        _format_fixed(t_dev, TIME_DECIMALS), comma,
        _format_fixed(force, FORCE_DECIMALS), comma,
        _format_fixed(force / KGF_N, FORCE_DECIMALS), comma,
        _format_fixed(pct, PCT_DECIMALS), comma,
        blocks[idx], comma,
        in_band[:, None],
        np.full((k, 1), _NEWLINE, np.uint8),
    ]
    m = np.concatenate(parts, axis=1)
    out: bytes = m[m != 0].tobytes()
    return out
