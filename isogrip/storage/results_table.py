"""What a session produced besides samples: phases, events, MVC trials, MVCs, holds.

The write functions keep the argument lists the recorder
(:mod:`isogrip.storage.session_records`) and the import (:mod:`isogrip.storage.importer`)
call them with. The read functions do not check that the session exists (the
:class:`~isogrip.storage.store.Store` does, once): an unknown id reads as empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from isogrip.storage.connection import Database
from isogrip.storage.jsonio import dumps, json_object, json_strings
from isogrip.storage.rows import EventRow, HoldRow, MvcHistoryRow, MvcRow, MvcTrialRow, PhaseRow
from isogrip.storage.sqlvalues import integer, is_number, real, text

#: Hold metrics that also get their own column in ``holds`` (all are in metrics_json).
HOLD_METRIC_COLUMNS: Final = (
    "time_in_band_pct",
    "mean_pct_mvc",
    "cv_mean_pct",
    "drift_pct_mvc_per_min",
    "gap_s",
)


def next_indices(db: Database, session_id: int) -> tuple[int, int, int]:
    """Next free (sample chunk, phase seq, event seq) numbers for a session."""
    out: list[int] = []
    for table, col in (("samples", "chunk"), ("phases", "seq"), ("events", "seq")):
        (v,) = db.fetch_one(
            "read the session",
            f"SELECT coalesce(max({col}) + 1, 0) FROM {table} WHERE session_id = ?",
            (int(session_id),),
        )
        out.append(int(v))
    return out[0], out[1], out[2]


def write_phase(db: Database, session_id: int, seq: int, t_s: float, phase: str,
                hand: str | None = None, rep: int | None = None, trial: int | None = None,
                target_n: float | None = None, band_low_n: float | None = None,
                band_high_n: float | None = None, mvc_n: float | None = None) -> None:
    """Store a phase change (see :class:`~isogrip.storage.rows.PhaseRow`)."""
    db.execute(
        "save a phase",
        "INSERT INTO phases (session_id, seq, t_s, phase, hand, rep, trial, target_n,"
        " band_low_n, band_high_n, mvc_n) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            int(session_id), int(seq), real(t_s), text(phase), text(hand), integer(rep),
            integer(trial), real(target_n), real(band_low_n), real(band_high_n), real(mvc_n),
        ),
    )


def write_event(db: Database, session_id: int, seq: int, t_s: float, kind: str,
                detail: Mapping[str, Any] | None = None) -> None:
    """Store an event; ``detail`` is saved as compact JSON (NaN as null)."""
    db.execute(
        "save an event",
        "INSERT INTO events (session_id, seq, t_s, kind, detail) VALUES (?, ?, ?, ?, ?)",
        (int(session_id), int(seq), real(t_s), text(kind), dumps(dict(detail or {}))),
    )


def write_mvc_trial(db: Database, session_id: int, hand: str, trial: int,
                    t_start_s: float | None, t_end_s: float | None, score_n: float | None,
                    raw_peak_n: float | None, time_to_peak_s: float | None,
                    plausible: bool, message: str | None, used: bool = True) -> None:
    """Store an MVC trial (replacing a trial with the same hand and number)."""
    db.execute(
        "save an MVC trial",
        "INSERT OR REPLACE INTO mvc_trials (session_id, hand, trial, t_start_s, t_end_s,"
        " score_n, raw_peak_n, time_to_peak_s, plausible, message, used)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            int(session_id), text(hand), int(trial), real(t_start_s), real(t_end_s),
            real(score_n), real(raw_peak_n), real(time_to_peak_s), int(bool(plausible)),
            text(message) or None, int(bool(used)),
        ),
    )


def write_mvc_trial_used(db: Database, session_id: int, hand: str, trial: int,
                         used: bool) -> None:
    """Mark an MVC trial as used or not (a redone trial is not used)."""
    db.execute(
        "update an MVC trial",
        "UPDATE mvc_trials SET used = ? WHERE session_id = ? AND hand = ? AND trial = ?",
        (int(bool(used)), int(session_id), text(hand), int(trial)),
    )


def write_mvc(db: Database, session_id: int, hand: str, mvc_n: float | None,
              best_trial: int | None, flags: Sequence[str]) -> None:
    """Store (or replace) the MVC chosen for a hand."""
    db.execute(
        "save an MVC",
        "INSERT OR REPLACE INTO mvc (session_id, hand, mvc_n, best_trial, flags)"
        " VALUES (?, ?, ?, ?, ?)",
        (int(session_id), text(hand), real(mvc_n), integer(best_trial),
         dumps([text(f) for f in flags])),
    )


def write_hold(db: Database, session_id: int, rep: int, attempt: int, hand: str | None,
               t_go_s: float | None, t_end_s: float | None, target_n: float | None,
               band_low_n: float | None, band_high_n: float | None, mvc_n: float | None,
               completed: bool, metrics: Mapping[str, Any]) -> None:
    """Store one hold attempt; the metrics in :data:`HOLD_METRIC_COLUMNS` also get columns."""
    cols = [real(metrics.get(k)) if is_number(metrics.get(k)) else None
            for k in HOLD_METRIC_COLUMNS]
    db.execute(
        "save a hold",
        "INSERT OR REPLACE INTO holds (session_id, rep, attempt, hand, t_go_s, t_end_s,"
        " target_n, band_low_n, band_high_n, mvc_n, completed, time_in_band_pct,"
        " mean_pct_mvc, cv_mean_pct, drift_pct_mvc_per_min, gap_s, metrics_json)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            int(session_id), int(rep), int(attempt), text(hand), real(t_go_s), real(t_end_s),
            real(target_n), real(band_low_n), real(band_high_n), real(mvc_n),
            int(bool(completed)), *cols, dumps(dict(metrics)),
        ),
    )


def load_phases(db: Database, session_id: int) -> list[PhaseRow]:
    """Phase changes of a session, in recording order."""
    rows = db.fetch_all(
        "read phases",
        "SELECT seq, t_s, phase, hand, rep, trial, target_n, band_low_n, band_high_n,"
        " mvc_n FROM phases WHERE session_id = ? ORDER BY seq",
        (session_id,),
    )
    return [PhaseRow(*r) for r in rows]


def load_events(db: Database, session_id: int) -> list[EventRow]:
    """Events of a session, in recording order."""
    rows = db.fetch_all(
        "read events",
        "SELECT seq, t_s, kind, detail FROM events WHERE session_id = ? ORDER BY seq",
        (session_id,),
    )
    return [EventRow(seq=r[0], t_s=r[1], kind=r[2], detail=json_object(r[3])) for r in rows]


def load_mvc_trials(db: Database, session_id: int) -> list[MvcTrialRow]:
    """MVC trials of a session, by start time (then hand and number)."""
    rows = db.fetch_all(
        "read MVC trials",
        "SELECT hand, trial, t_start_s, t_end_s, score_n, raw_peak_n, time_to_peak_s,"
        " plausible, message, used FROM mvc_trials WHERE session_id = ?"
        " ORDER BY t_start_s, hand, trial",
        (session_id,),
    )
    return [
        MvcTrialRow(
            hand=r[0], trial=r[1], t_start_s=r[2], t_end_s=r[3], score_n=r[4],
            raw_peak_n=r[5], time_to_peak_s=r[6], plausible=bool(r[7]), message=r[8],
            used=bool(r[9]),
        )
        for r in rows
    ]


def load_mvc(db: Database, session_id: int) -> list[MvcRow]:
    """The MVC chosen for each measured hand."""
    rows = db.fetch_all(
        "read MVC",
        "SELECT hand, mvc_n, best_trial, flags FROM mvc WHERE session_id = ? ORDER BY hand",
        (session_id,),
    )
    return [MvcRow(hand=hand, mvc_n=mvc_n, best_trial=best, flags=json_strings(flags))
            for hand, mvc_n, best, flags in rows]


def load_holds(db: Database, session_id: int) -> list[HoldRow]:
    """Hold attempts of a session, by repetition and attempt."""
    rows = db.fetch_all(
        "read holds",
        "SELECT rep, attempt, hand, t_go_s, t_end_s, target_n, band_low_n, band_high_n,"
        " mvc_n, completed, time_in_band_pct, mean_pct_mvc, cv_mean_pct,"
        " drift_pct_mvc_per_min, gap_s, metrics_json FROM holds WHERE session_id = ?"
        " ORDER BY rep, attempt",
        (session_id,),
    )
    return [
        HoldRow(
            rep=r[0], attempt=r[1], hand=r[2], t_go_s=r[3], t_end_s=r[4], target_n=r[5],
            band_low_n=r[6], band_high_n=r[7], mvc_n=r[8], completed=bool(r[9]),
            time_in_band_pct=r[10], mean_pct_mvc=r[11], cv_mean_pct=r[12],
            drift_pct_mvc_per_min=r[13], gap_s=r[14], metrics=json_object(r[15]),
        )
        for r in rows
    ]


def list_mvc(db: Database, participant: str | None = None) -> list[MvcHistoryRow]:
    """Every recorded MVC with its session's start, oldest session first."""
    sql = ("SELECT s.id, s.started_at, s.participant, s.status, m.hand, m.mvc_n, m.flags"
           " FROM mvc m JOIN sessions s ON s.id = m.session_id WHERE m.mvc_n IS NOT NULL")
    params: tuple[Any, ...] = ()
    if participant is not None:
        sql += " AND s.participant = ?"
        params = (participant,)
    rows = db.fetch_all("read MVC history", sql + " ORDER BY s.started_at, s.id", params)
    return [MvcHistoryRow(int(sid), started, who, status, hand, float(mvc_n),
                          "reused" in json_strings(flags))
            for sid, started, who, status, hand, mvc_n, flags in rows]
