"""Export one session to plain files: ``samples.csv``, ``events.csv``, ``summary.json``.

The formats are documented column by column in ``docs/data-formats.md``. In short:

* ``samples.csv``: one line per recorded sample, with the phase in force at that
  sample's time (hand, repetition, target and band) and derived columns (kg, % MVC,
  in band).
* ``events.csv``: every event with its JSON detail.
* ``summary.json``: session metadata, protocol, MVC per hand with every trial, and one
  entry per hold attempt with every metric (:func:`session_summary`).

All times in the exports are seconds since the session start (the database keeps the
session clock; see :class:`~isogrip.storage.store.SessionInfo`). Files are written
atomically (a temporary file, then a rename) with mode ``0o600``; existing export files
in the output folder are replaced.

``samples.csv`` is formatted by a vectorised numpy writer rather than
``pandas.DataFrame.to_csv``: number-to-text conversion in pandas formats each float
separately (about 25 s for a one-hour 1 kHz session on a small machine), while this
writer builds whole blocks of lines as byte matrices (about 2-3 s).
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any, Final

import numpy as np
from numpy.typing import NDArray

from isogrip.errors import StorageError
from isogrip.files import (  # noqa: F401  (atomic_output, STALE_TEMP_S: re-exported)
    STALE_TEMP_S,
    atomic_output,
    make_private_dirs,
    write_atomic,
)
from isogrip.signal.units import KGF_N
from isogrip.storage.store import PhaseRow, SessionInfo, Store, to_jsonable

#: Identifies the summary file format.
SUMMARY_FORMAT: Final = "isogrip-session"
#: Version of the export formats (samples.csv, events.csv, summary.json).
FORMAT_VERSION: Final = 1

SAMPLES_CSV: Final = "samples.csv"
EVENTS_CSV: Final = "events.csv"
SUMMARY_JSON: Final = "summary.json"

#: Columns of ``samples.csv``, in order.
SAMPLE_COLUMNS: Final = (
    "t_s", "t_device_s", "force_n", "force_kg", "pct_mvc", "phase", "hand", "rep",
    "target_n", "band_low_n", "band_high_n", "in_band",
)
#: Columns of ``events.csv``, in order.
EVENT_COLUMNS: Final = ("t_s", "kind", "detail")

#: Decimals written per numeric column.
TIME_DECIMALS: Final = 6
FORCE_DECIMALS: Final = 4
PCT_DECIMALS: Final = 3

#: Rows formatted per block when writing samples.csv (bounds memory use).
_BLOCK_ROWS: Final = 131_072
#: Beyond this magnitude (after scaling) float64 -> int64 is no longer exact.
_MAX_EXACT: Final = 2.0**53

_COMMA, _NEWLINE, _MINUS, _DOT, _ZERO = 44, 10, 45, 46, 48


# ---------------------------------------------------------------------------- public
def session_summary(store: Store, session_id: int) -> dict[str, Any]:
    """The session summary (the content of ``summary.json``).

    Args:
        store: The open store.
        session_id: The session.

    Returns:
        A JSON-ready dict (NaN already replaced by ``None``); see
        ``docs/data-formats.md`` for every key.

    Raises:
        SessionNotFoundError: No such session.
    """
    info = store.get_session_info(session_id)
    return _summary(store, info, store.count_samples(info.id))


def export_session(store: Store, session_id: int, out_dir: Path | str) -> list[Path]:
    """Write ``samples.csv``, ``events.csv`` and ``summary.json`` for one session.

    The folder is created if missing (mode ``0o700``). Existing files with these
    names in it are replaced; other files are left alone.

    Args:
        store: The open store.
        session_id: The session.
        out_dir: Output folder.

    Returns:
        The paths written, in the order above.

    Raises:
        SessionNotFoundError: No such session.
        StorageError: The folder cannot be created or written.
    """
    info = store.get_session_info(session_id)
    folder = output_folder(out_dir)  # before reading: a bad folder costs nothing
    t, t_dev, force = store.load_samples(info.id)
    phases = store.load_phases(info.id)
    events = store.load_events(info.id)
    summary = _summary(store, info, int(t.size))

    def write_samples(fh: IO[bytes]) -> None:
        write_samples_csv(fh, t, t_dev, force, phases, t0_s=info.t0_s)

    def write_events(fh: IO[bytes]) -> None:
        text = io.StringIO(newline="")
        w = csv.writer(text, lineterminator="\n")
        w.writerow(EVENT_COLUMNS)
        for ev in events:
            w.writerow((_fixed(_rel(ev.t_s, info.t0_s), TIME_DECIMALS), ev.kind,
                        json.dumps(to_jsonable(ev.detail), separators=(",", ":"),
                                   ensure_ascii=False, allow_nan=False)))
        fh.write(text.getvalue().encode("utf-8"))

    def write_summary(fh: IO[bytes]) -> None:
        text = json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False)
        fh.write((text + "\n").encode("utf-8"))

    out: list[Path] = []
    for name, writer in ((SAMPLES_CSV, write_samples), (EVENTS_CSV, write_events),
                         (SUMMARY_JSON, write_summary)):
        out.append(write_atomic(folder / name, writer))
    return out


# ---------------------------------------------------------------------------- summary
def _rel(t: float | None, t0: float) -> float | None:
    return None if t is None else t - t0


def _kg(n: float | None) -> float | None:
    return None if n is None else n / KGF_N


def _summary(store: Store, info: SessionInfo, n_samples: int) -> dict[str, Any]:
    t0 = info.t0_s
    trials = store.load_mvc_trials(info.id)
    chosen = {m.hand: m for m in store.load_mvc(info.id)}
    hands = [h for h in ("left", "right")
             if h in chosen or any(tr.hand == h for tr in trials)]
    hands += sorted(({tr.hand for tr in trials} | set(chosen)) - set(hands))
    mvc: dict[str, Any] = {}
    for hand in hands:
        m = chosen.get(hand)
        mvc[hand] = {
            "mvc_n": None if m is None else m.mvc_n,
            "mvc_kg": None if m is None else _kg(m.mvc_n),
            "best_trial": None if m is None else m.best_trial,
            "flags": [] if m is None else list(m.flags),
            "trials": [
                {
                    "hand": tr.hand,
                    "trial": tr.trial,
                    "t_start_s": _rel(tr.t_start_s, t0),
                    "t_end_s": _rel(tr.t_end_s, t0),
                    "score_n": tr.score_n,
                    "score_kg": _kg(tr.score_n),
                    "raw_peak_n": tr.raw_peak_n,
                    "time_to_peak_s": tr.time_to_peak_s,
                    "plausible": tr.plausible,
                    "message": tr.message,
                    "used": tr.used,
                }
                for tr in sorted(trials, key=lambda x: x.trial)
                if tr.hand == hand
            ],
        }
    holds: list[dict[str, Any]] = []
    for h in store.load_holds(info.id):
        entry: dict[str, Any] = dict(h.metrics)
        entry.update({
            "rep": h.rep,
            "attempt": h.attempt,
            "hand": h.hand,
            "t_go_s": _rel(h.t_go_s, t0),
            "t_end_s": _rel(h.t_end_s, t0),
            "target_n": h.target_n,
            "band_low_n": h.band_low_n,
            "band_high_n": h.band_high_n,
            "mvc_n": h.mvc_n,
            "completed": h.completed,
        })
        # Base fields first, then every metric in the order it was computed.
        holds.append({k: entry[k] for k in (*HOLD_BASE, *h.metrics) if k in entry})
    summary = {
        "format": SUMMARY_FORMAT,
        "format_version": FORMAT_VERSION,
        "session_id": info.id,
        "uuid": info.uuid,
        "started_at": info.started_at,
        "ended_at": info.ended_at,
        "status": info.status,
        "completed": info.status == "complete",
        "note": info.note,
        "protocol": info.protocol,
        "device": info.device,
        "device_info": info.device_info,
        "participant": info.participant,
        "app_version": info.app_version,
        "mvc": mvc,
        "holds": holds,
        "bp_check": _bp_check(store, info.id),
        "n_samples": n_samples,
    }
    result: dict[str, Any] = to_jsonable(summary)
    return result


def _bp_check(store: Store, session_id: int) -> dict[str, Any] | None:
    """The pre-session blood-pressure check (reading, limits, choice), if one was made."""
    for ev in store.load_events(session_id):
        if ev.kind == "bp_check":
            keys = ("sbp", "dbp", "pulse", "sbp_limit", "dbp_limit", "too_high",
                    "trained_anyway")
            return {k: ev.detail.get(k) for k in keys}
    return None


#: The fixed fields of a hold entry in summary.json; every other key is a metric.
HOLD_BASE: Final = ("rep", "attempt", "hand", "t_go_s", "t_end_s", "target_n",
                    "band_low_n", "band_high_n", "mvc_n", "completed")


# ---------------------------------------------------------------------------- files
#: A temporary export file this old (s) was left by a writer that was killed.


def _why(exc: OSError, path: Path | None = None) -> str:
    """The reason of an OS error in words, without the file name repeated.

    When ``path`` cannot be a folder because it or one of its parents is a file, the
    reason names that file.
    """
    if path is not None and isinstance(exc, NotADirectoryError | FileExistsError):
        for p in (path, *path.parents):
            if p.exists() and not p.is_dir():
                return f"{p} is a file, not a folder"
    return (exc.strerror or str(exc) or type(exc).__name__).rstrip(".")


def output_folder(folder: Path | str, what: str = "the export folder") -> Path:
    """Create an output folder if needed and check that a file can be written in it.

    Every command that writes files (exports, reports) calls this before any other
    work, so an unusable destination costs one clear sentence and nothing else: no
    half-made output, no rendering wasted. Writability is tested by creating and
    deleting a temporary file, which also catches read-only mounts and pseudo file
    systems where a permission check would pass (for instance when running as root).
    New folders get mode ``0o700``; an existing folder keeps its mode.

    Args:
        folder: The folder (``~`` is expanded).
        what: What the folder is, for the message.

    Returns:
        The folder as an absolute path.

    Raises:
        StorageError: The folder cannot be created or written to (the message names
            it and says why).
    """
    path = Path(folder).expanduser().absolute()
    try:
        make_private_dirs(path)
    except OSError as exc:
        raise StorageError(f"cannot create {what} {path}: {_why(exc, path)}") from exc
    try:
        fd, tmp = tempfile.mkstemp(prefix=".isogrip-write-test-", dir=path)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise StorageError(f"cannot write to {what} {path}: {_why(exc)}") from exc
    return path


# ---------------------------------------------------------------------------- samples.csv
def _fixed(x: float | None, decimals: int) -> str:
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
    texts = [_fixed(float(v), decimals).encode("ascii") for v in x]
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
        _fixed(p.target_n, FORCE_DECIMALS),
        _fixed(p.band_low_n, FORCE_DECIMALS),
        _fixed(p.band_high_n, FORCE_DECIMALS),
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
