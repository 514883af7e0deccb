"""Read a session export (``samples.csv``, ``events.csv``, ``summary.json``) into a store.

``isogrip import DIR`` is the inverse of ``isogrip export``: the session keeps its uuid
(and its id when that id is free), its times stay relative to its start (``t0_s = 0``),
phases are rebuilt from the ``phase`` events, and the MVC, trials and holds come from
the summary. Exporting the imported session gives the same three files byte for byte.

Nothing is written unless the whole export reads cleanly: the import is one
transaction, and every problem is reported with the file (and line) at fault.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from isogrip.errors import IsogripError
from isogrip.storage.export import EVENTS_CSV, SAMPLES_CSV, SUMMARY_FORMAT, SUMMARY_JSON
from isogrip.storage.store import Store

_HOLD_BASE = ("rep", "attempt", "hand", "t_go_s", "t_end_s", "target_n", "band_low_n",
              "band_high_n", "mvc_n", "completed")
#: Samples per stored chunk.
_CHUNK = 65_536


class ImportFileError(IsogripError, ValueError):
    """An export folder cannot be imported (the message names the file at fault)."""


def _read_summary(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ImportFileError(f"{path.parent} is not an isogrip export: {path.name} is "
                              "missing") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ImportFileError(f"{path}: cannot be read ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != SUMMARY_FORMAT:
        raise ImportFileError(f"{path}: not an isogrip session summary")
    for key in ("uuid", "started_at", "status", "protocol", "device", "app_version"):
        if key not in data:
            raise ImportFileError(f"{path}: the key {key!r} is missing")
    return data


def _read_events(path: Path) -> list[tuple[float, str, dict[str, Any]]]:
    out = []
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = csv.reader(fh)
            header = next(rows, None)
            if header != ["t_s", "kind", "detail"]:
                raise ImportFileError(f"{path}: the header must be t_s,kind,detail")
            for line, row in enumerate(rows, start=2):
                try:
                    t, kind, detail = row
                    d = json.loads(detail)
                    if not isinstance(d, dict):
                        raise ValueError("the detail is not a JSON object")
                    out.append((float(t) if t else math.nan, kind, d))
                except ValueError as exc:
                    raise ImportFileError(f"{path}, line {line}: {exc}") from exc
    except FileNotFoundError:
        raise ImportFileError(f"{path.parent} is not a complete export: {path.name} is "
                              "missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"{path}: cannot be read ({exc})") from exc
    return out


def _read_samples(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = ["t_s", "t_device_s", "force_n"]
    if not path.exists():
        raise ImportFileError(f"{path.parent} is not a complete export: {path.name} is "
                              "missing")
    try:
        # Arrow's number parser is correctly rounded: each value is float() of its text,
        # which is what makes export -> import -> export give the same bytes.
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            include_columns=names, column_types=dict.fromkeys(names, pa.float64())))
    except (OSError, pa.ArrowInvalid, pa.ArrowKeyError) as exc:
        raise ImportFileError(f"{path}: cannot be read ({exc})") from exc
    # Empty fields (no device clock) are nulls, which become NaN here.
    t, t_dev, force = (np.asarray(table.column(n).to_numpy(zero_copy_only=False), np.float64)
                       for n in names)
    return t, t_dev, force


def import_session(store: Store, folder: Path | str) -> int:
    """Import one exported session.

    Args:
        store: The store to add it to.
        folder: The folder holding ``samples.csv``, ``events.csv`` and ``summary.json``.

    Returns:
        The session's id in ``store``.

    Raises:
        ImportFileError: A file is missing or malformed.
        StorageError: The session is already in the store, or it cannot be written.
    """
    folder = Path(folder).expanduser()
    summary = _read_summary(folder / SUMMARY_JSON)
    events = _read_events(folder / EVENTS_CSV)
    t, t_dev, force = _read_samples(folder / SAMPLES_CSV)
    if summary.get("n_samples") not in (None, len(t)):
        raise ImportFileError(f"{folder / SAMPLES_CSV}: {len(t)} samples, but the summary "
                              f"says {summary['n_samples']}; the export is incomplete")
    protocol = summary["protocol"]
    with store.transaction():
        sid = store.insert_session_record(
            uuid=str(summary["uuid"]), started_at=str(summary["started_at"]),
            ended_at=summary.get("ended_at"), status=str(summary["status"]),
            note=summary.get("note"),
            protocol_name=str(protocol.get("name", "")) if isinstance(protocol, dict) else "",
            protocol=protocol if isinstance(protocol, dict) else {},
            device=str(summary["device"]), device_info=summary.get("device_info"),
            participant=summary.get("participant"), app_version=str(summary["app_version"]),
            t0_s=0.0, preferred_id=summary.get("session_id"),
        )
        phase_seq = 0
        for seq, (te, kind, detail) in enumerate(events):
            store.write_event(sid, seq, te, kind, detail)
            if kind == "phase" and "phase" in detail:
                store.write_phase(
                    sid, phase_seq, te, str(detail["phase"]), hand=detail.get("hand"),
                    rep=detail.get("rep"), trial=detail.get("trial"),
                    target_n=detail.get("target_n"), band_low_n=detail.get("band_low_n"),
                    band_high_n=detail.get("band_high_n"), mvc_n=detail.get("mvc_n"))
                phase_seq += 1
        for hand, m in (summary.get("mvc") or {}).items():
            for tr in m.get("trials", []):
                store.write_mvc_trial(sid, hand, int(tr["trial"]), tr.get("t_start_s"),
                                      tr.get("t_end_s"), tr.get("score_n"),
                                      tr.get("raw_peak_n"), tr.get("time_to_peak_s"),
                                      bool(tr.get("plausible")), tr.get("message"),
                                      bool(tr.get("used", True)))
            if m.get("mvc_n") is not None or m.get("flags"):
                store.write_mvc(sid, hand, m.get("mvc_n"), m.get("best_trial"),
                                list(m.get("flags", [])))
        for h in summary.get("holds", []):
            metrics = {k: v for k, v in h.items() if k not in _HOLD_BASE}
            store.write_hold(sid, int(h["rep"]), int(h.get("attempt", 1)), h.get("hand"),
                             h.get("t_go_s"), h.get("t_end_s"), h.get("target_n"),
                             h.get("band_low_n"), h.get("band_high_n"), h.get("mvc_n"),
                             bool(h.get("completed")), metrics)
        has_clock = bool(np.isfinite(t_dev).any())
        for chunk, start in enumerate(range(0, len(t), _CHUNK)):
            sl = slice(start, start + _CHUNK)
            store.write_samples(sid, chunk, t[sl], t_dev[sl] if has_clock else None,
                                force[sl])
    return sid
