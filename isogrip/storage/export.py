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
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Final

from isogrip.errors import StorageError
from isogrip.files import (  # noqa: F401  (atomic_output, STALE_TEMP_S: re-exported)
    STALE_TEMP_S,
    atomic_output,
    make_private_dirs,
    write_atomic,
)
from isogrip.protocols.records import BpChecked
from isogrip.signal.units import KGF_N
from isogrip.storage.jsonio import to_jsonable
from isogrip.storage.rows import HoldRow, MvcRow, MvcTrialRow, SessionInfo
from isogrip.storage.samples_csv import TIME_DECIMALS, fixed, write_samples_csv
from isogrip.storage.session_records import load_records
from isogrip.storage.store import Store

#: Identifies the summary file format.
SUMMARY_FORMAT: Final = "isogrip-session"
#: Version of the export formats (samples.csv, events.csv, summary.json).
FORMAT_VERSION: Final = 1

SAMPLES_CSV: Final = "samples.csv"
EVENTS_CSV: Final = "events.csv"
SUMMARY_JSON: Final = "summary.json"

#: Columns of ``events.csv``, in order.
EVENT_COLUMNS: Final = ("t_s", "kind", "detail")



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
            w.writerow((fixed(_rel(ev.t_s, info.t0_s), TIME_DECIMALS), ev.kind,
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
    """The ``summary.json`` document of a session: MVC, holds, BP check (times from t0)."""
    mvc = _mvc_summary(store.load_mvc_trials(info.id), store.load_mvc(info.id), info.t0_s)
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
        "holds": [_hold_entry(h, info.t0_s) for h in store.load_holds(info.id)],
        "bp_check": _bp_check(store, info.id),
        "n_samples": n_samples,
    }
    result: dict[str, Any] = to_jsonable(summary)
    return result


def _mvc_summary(trials: Sequence[MvcTrialRow], chosen_rows: Sequence[MvcRow],
                 t0: float) -> dict[str, Any]:
    """The summary's ``mvc`` object: per hand, the chosen MVC and every trial."""
    chosen = {m.hand: m for m in chosen_rows}
    # Left, then right; any other hand (an imported file may name one) after them.
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
            "trials": [_trial_entry(tr, t0) for tr in sorted(trials, key=lambda x: x.trial)
                       if tr.hand == hand],
        }
    return mvc


def _trial_entry(tr: MvcTrialRow, t0: float) -> dict[str, Any]:
    """One MVC trial of the summary."""
    return {
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


def _hold_entry(h: HoldRow, t0: float) -> dict[str, Any]:
    """One hold attempt of the summary: base fields, then its stored metrics."""
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
    return {k: entry[k] for k in (*HOLD_BASE, *h.metrics) if k in entry}


def _bp_check(store: Store, session_id: int) -> dict[str, Any] | None:
    """The pre-session blood-pressure check (reading, limits, choice), if one was made."""
    for c in load_records(store, session_id, BpChecked):
        return {"sbp": c.sbp, "dbp": c.dbp, "pulse": c.pulse, "sbp_limit": c.sbp_limit,
                "dbp_limit": c.dbp_limit, "too_high": c.too_high,
                "trained_anyway": c.trained_anyway}
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
