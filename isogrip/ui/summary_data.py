"""What the Summary screen shows of a session, as data and text (no widgets).

The session's rows are read here (:func:`load_session_data`, off the GUI thread), and
each line of the screen is worded here, so the printed report
(:mod:`isogrip.ui.report`) can say the same about a hold. The screen
(:mod:`isogrip.ui.summary_screen`) only puts the text into its widgets.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from isogrip.errors import IsogripError
from isogrip.programme.words import status_lines, where_you_are
from isogrip.programme_status import load_view
from isogrip.protocols.display import (
    participant_title,
    shown_hold_metrics,
    stored_blinded_protocol,
)
from isogrip.protocols.model import Protocol
from isogrip.protocols.starter import starter_advice
from isogrip.signal.units import Unit
from isogrip.storage.history import hold_outcomes, previous_mvc
from isogrip.storage.rows import HoldRow, MvcRow, SessionInfo
from isogrip.storage.store import Store
from isogrip.timefmt import LONG, local_time
from isogrip.types import Hand
from isogrip.ui.common import fmt_force, fmt_num

__all__ = [
    "F64",
    "IntensityView",
    "SessionData",
    "hold_cells",
    "hold_label",
    "hold_outcome",
    "intensity_view",
    "load_session_data",
    "mvc_text",
    "programme_line",
    "summary_note",
    "summary_subtitle",
    "summary_title",
]

F64 = NDArray[np.float64]


@dataclass
class SessionData:
    """Everything the summary shows, read off the GUI thread."""

    info: SessionInfo
    holds: list[HoldRow]
    mvc: list[MvcRow]
    previous: dict[Hand, float]
    traces: list[tuple[F64, F64]] = field(default_factory=list)
    #: A suggestion to try the starter protocol (a hold at 30 % was not held), or "".
    starter_advice: str = ""
    #: What the participant's programme says after this session (see
    #: :func:`programme_line`), or "" when there is nothing to say.
    programme: str = ""


def load_session_data(store: Store, session_id: int,
                      programme_on: _dt.date | None = None) -> SessionData:
    """Read a session's summary data (runs on a worker thread).

    Every hold attempt is kept, completed or not (see :func:`hold_outcome`): a hold
    stopped part-way is still recorded training, and hiding it would make the
    summary disagree with ``summary.json``.

    Args:
        store: The database.
        session_id: The session.
        programme_on: The local date the session just ended on: review the session's
            participant's programme for it and record its new steps
            (:func:`programme_line`). ``None`` (a past session, a study): leave the
            programme alone.
    """
    info = store.get_session_info(session_id)
    holds = store.load_holds(session_id)
    t, _, f = store.load_samples(session_id)
    traces = []
    for h in holds:
        if h.t_go_s is None or h.t_end_s is None:
            traces.append((np.empty(0), np.empty(0)))
            continue
        i0, i1 = np.searchsorted(t, [h.t_go_s, h.t_end_s])
        traces.append((t[i0:i1].copy(), f[i0:i1].copy()))
    programme = "" if programme_on is None else programme_line(
        store, info.participant, session_id, programme_on)
    return SessionData(info, holds, store.load_mvc(session_id),
                       previous_mvc(store, session_id), traces,
                       starter_advice(hold_outcomes(holds)), programme)


def programme_line(store: Store, participant: str | None, session_id: int,
                   today: _dt.date) -> str:
    """What the participant's programme says after a session, in a sentence or two.

    Records the steps the programme's rules now derive (as ``isogrip run`` does), so
    the store keeps what the person was told. The steps this session led to (or that
    this review recorded, such as a week extended) are said with their reasons; with
    none, when the next session is due and at what intensity.

    Args:
        store: The database.
        participant: The session's participant ID, or ``None``.
        session_id: The session just finished.
        today: The local date to review the programme for.

    Returns:
        The sentence, or ``""`` without an active programme.
    """
    try:
        row = store.programmes.active(participant)
        if row is None:
            return ""
        before = {(s.kind, s.session_id, s.reason) for s in store.programmes.steps(row.id)}
        view = load_view(store, participant, today, record=True)
    except IsogripError as exc:  # a damaged programme row must not hide the summary
        return f"The programme cannot be read: {exc}"
    if view is None:
        return ""
    # Matched on the session too: the start page may have recorded this session's
    # step before the summary was read.
    new = [s.reason for s in view.steps if s.kind != "start" and (
        s.session_id == session_id or (s.kind, s.session_id, s.reason) not in before)]
    if new:
        return " ".join(new)
    return next((line for line in status_lines(view.status)
                 if line.startswith("Next session:")), where_you_are(view.status))


def hold_label(h: HoldRow) -> str:
    """The hold's number, with the attempt when it was repeated: ``"1 (try 2)"``."""
    return f"{h.rep}" + (f" (try {h.attempt})" if h.attempt > 1 else "")


def hold_outcome(h: HoldRow, holds: Sequence[HoldRow]) -> str:
    """What became of one hold attempt, in words.

    Args:
        h: The attempt.
        holds: Every attempt of the session (to tell a repeated hold from one the
            session ended in).

    Returns:
        ``"completed"``, ``"completed (repeat)"``, ``"interrupted after 12.0 s,
        repeated"`` (a pause or a lost signal stopped it and it was done again) or
        ``"stopped after 33.5 s"`` (the session ended during it).
    """
    if h.completed:
        return "completed" if h.attempt == 1 else "completed (repeat)"
    held = ""
    if h.t_go_s is not None and h.t_end_s is not None:
        held = f" after {max(0.0, h.t_end_s - h.t_go_s):.1f} s"
    repeated = any(o.rep == h.rep and o.attempt > h.attempt for o in holds)
    return f"interrupted{held}, repeated" if repeated else f"stopped{held}"


def summary_title(status: str) -> str:
    """The Summary screen's title for a session's status."""
    return {"complete": "Session complete. Well done!",
            "aborted": "Session stopped early",
            "interrupted": "Session interrupted"}.get(status, "Session in progress")


@dataclass(frozen=True)
class IntensityView:
    """How a session's intensity figures are shown.

    Attributes:
        sham: The stored blinded protocol, or ``None`` for an ordinary session.
        mapped: A sham whose display is scaled: its figures are shown as its
            participant saw them (like its active arm).
        hide: Intensity figures (mean % MVC, drift) are hidden; only where the shown
            force is the true force.
    """

    sham: Protocol | None
    mapped: bool
    hide: bool


def intensity_view(info: SessionInfo) -> IntensityView:
    """The :class:`IntensityView` of a session, from its stored protocol."""
    sham = stored_blinded_protocol(info.protocol)
    mapped = sham is not None and sham.display_scale != 1.0
    hide = bool(info.protocol.get("hide_intensity")) and not mapped
    return IntensityView(sham, mapped, hide)


def summary_subtitle(info: SessionInfo, sham: Protocol | None) -> str:
    """When, which protocol, who, and why the session ended early (if it did)."""
    # A sham is shown as what it looks like: its name and title say "sham".
    name = participant_title(sham) if sham is not None else info.protocol_name
    sub = f"{local_time(info.started_at, LONG)} \u00b7 {name}"
    if info.participant:
        sub += f" \u00b7 participant {info.participant}"
    if info.note:  # why it ended early, as a sentence
        note = info.note.strip()
        sub += "\n" + note[:1].upper() + note[1:] + ("" if note.endswith(".") else ".")
    return sub


def mvc_text(d: SessionData, unit: Unit) -> str:
    """The MVC of each hand, with the change since the previous session."""
    lines = []
    for row in sorted(d.mvc, key=lambda r: r.hand):
        hand = Hand(row.hand)
        text = f"{hand.label} hand: {fmt_force(row.mvc_n, unit)}"
        if "reused" in row.flags:
            text += " (from an earlier session)"
        prev = d.previous.get(hand)
        if prev is not None and row.mvc_n is not None:
            diff = row.mvc_n - prev
            sign = "+" if diff >= 0 else "\u2212"
            text += (f"  \u00b7  last session {fmt_force(prev, unit)} "
                     f"({sign}{fmt_force(abs(diff), unit)})")
        lines.append(text)
    return "\n".join(lines) or "No maximum was measured in this session."


def hold_cells(h: HoldRow, t: F64, f: F64, holds: Sequence[HoldRow],
               view: IntensityView) -> tuple[str, ...]:
    """One row of the Summary screen's hold table (the columns of ``HOLD_COLUMNS``).

    Args:
        h: The hold attempt.
        t: Its sample times (s).
        f: Its forces (N).
        holds: Every attempt of the session (for the outcome).
        view: How intensity is shown.

    Returns:
        The cells, as text.
    """
    gap = h.gap_s or 0.0
    tib, mean, cv, drift = (h.time_in_band_pct, h.mean_pct_mvc, h.cv_mean_pct,
                            h.drift_pct_mvc_per_min)
    if view.mapped and view.sham is not None and h.mvc_n:
        m = shown_hold_metrics(view.sham, t, f, mvc_n=h.mvc_n, start_s=h.t_go_s,
                               end_s=h.t_end_s)
        tib, mean, cv, drift = (m.time_in_band_pct, m.mean_pct_mvc, m.cv_mean_pct,
                                m.drift_pct_mvc_per_min)
    return (
        hold_label(h),
        Hand(h.hand).label if h.hand else "",
        fmt_num(tib, 0, " %"),
        "hidden" if view.hide else fmt_num(mean, 1, " %"),
        fmt_num(cv, 1, " %"),
        "hidden" if view.hide else fmt_num(drift, 2),
        "none" if gap < 0.05 else f"{gap:.1f} s",
        hold_outcome(h, holds),
    )


def summary_note(d: SessionData, hide: bool, suggest_starter: bool) -> str:
    """The closing note: lost signal, hidden figures, the starter protocol advice."""
    notes = []
    if any((h.gap_s or 0) >= 1.0 for h in d.holds):
        notes.append("Some holds lost signal for a while; those moments are not scored.")
    if hide:
        notes.append("This is a blinded study protocol: intensity figures are hidden.")
    if d.starter_advice and suggest_starter:
        notes.append(d.starter_advice)
    return " ".join(notes)
