"""Printable reports: one page per session, and a participant's progress over weeks.

A report is an A4 page laid out with ordinary Qt widgets (the summary's own tables and
pyqtgraph traces, in black on white) and rendered with QPainter into a PDF
(``QPdfWriter``, vector text) or a PNG (150 dpi). It works off-screen, so
``isogrip report`` runs on a server. This module makes the session page; the
progress page is :mod:`isogrip.ui.progress_report` and the drawing machinery
:mod:`isogrip.ui.report_page` (both importable from here, as before).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from isogrip.protocols.records import BpChecked
from isogrip.signal.units import KGF_N
from isogrip.storage.rows import MvcRow, MvcTrialRow
from isogrip.storage.session_records import load_records
from isogrip.storage.store import Store
from isogrip.timefmt import LONG, local_time
from isogrip.ui.progress_report import participant_report
from isogrip.ui.report_page import (
    FOOTER,
    PAGE_H,
    PAGE_W,
    PNG_DPI,
    ReportError,
    checked_output,
    fit_table,
    new_page,
    render,
)

if TYPE_CHECKING:
    from isogrip.ui.summary_data import SessionData
    from isogrip.ui.theme import Palette

__all__ = [
    "PAGE_H",
    "PAGE_W",
    "PNG_DPI",
    "ReportError",
    "bp_check_line",
    "hold_table_rows",
    "mvc_table_rows",
    "participant_report",
    "session_notes",
    "session_report",
]


def hold_table_rows(d: SessionData) -> list[tuple[str, ...]]:
    """The report's hold table: one row per hold attempt, each marked for what it was.

    Columns: hold (with the attempt when repeated), hand, outcome, time in band, mean
    % MVC, CV, drift, gaps.
    """
    from isogrip.types import Hand
    from isogrip.ui.common import fmt_num
    from isogrip.ui.summary_data import hold_label, hold_outcome

    return [(
        hold_label(h), Hand(h.hand).label if h.hand else "", hold_outcome(h, d.holds),
        fmt_num(h.time_in_band_pct, 0, " %"), fmt_num(h.mean_pct_mvc, 1, " %"),
        fmt_num(h.cv_mean_pct, 1, " %"), fmt_num(h.drift_pct_mvc_per_min, 2),
        fmt_num(h.gap_s, 1, " s")) for h in d.holds]


def bp_check_line(store: Store, session_id: int) -> str:
    """The pre-session blood-pressure check in one sentence for a clinician, or ``""``."""
    for c in load_records(store, session_id, BpChecked):
        pulse = f", pulse {c.pulse}" if c.pulse else ""
        reading = f"{c.sbp}/{c.dbp} mmHg{pulse}"
        limits = f"{c.sbp_limit}/{c.dbp_limit} mmHg"
        if c.trained_anyway:
            return (f"Trained despite high blood pressure: {reading} before the session, at "
                    f"or above the limit of {limits}; the participant was advised not to "
                    "train and chose to continue.")
        return f"Blood pressure before the session: {reading} (limit {limits})."
    return ""


def mvc_table_rows(trials: Sequence[MvcTrialRow],
                   mvc: Mapping[str, MvcRow]) -> list[tuple[str, ...]]:
    """The report's MVC table: every trial, then each hand whose MVC was reused.

    Columns: hand, trial, score, time to peak, used (and whether it was the best), note.
    """
    from isogrip.types import Hand
    from isogrip.ui.common import fmt_num

    rows: list[tuple[str, ...]] = []
    for tr in trials:
        chosen = mvc.get(tr.hand)
        best = chosen is not None and chosen.best_trial == tr.trial
        rows.append((Hand(tr.hand).label, str(tr.trial), fmt_num(tr.score_n and
                     tr.score_n / KGF_N, 1, " kg"), fmt_num(tr.time_to_peak_s, 2, " s"),
                     ("yes, best" if best else "yes") if tr.used else "no (repeated)",
                     tr.message or ""))
    for hand, m in sorted(mvc.items()):
        if "reused" in m.flags:
            rows.append((Hand(hand).label, "\u2014", fmt_num(m.mvc_n and m.mvc_n / KGF_N, 1,
                         " kg"), "", "reused", "MVC from an earlier session"))
    return rows


def _mvc_used_line(mvc: Mapping[str, MvcRow]) -> str:
    """The MVC used per hand, and the flags of any measured (not reused) MVC."""
    from isogrip.types import Hand

    flags = [f"{Hand(h).label}: {', '.join(m.flags)}" for h, m in sorted(mvc.items())
             if m.flags and "reused" not in m.flags]
    chosen_txt = ", ".join(f"{Hand(h).label} {m.mvc_n / KGF_N:.1f} kg"
                           for h, m in sorted(mvc.items()) if m.mvc_n)
    return (f"MVC used: {chosen_txt or 'none'}"
            + (f"  \u00b7  flags: {'; '.join(flags)}" if flags else ""))


def session_notes(store: Store, session_id: int, d: SessionData) -> list[str]:
    """The report's notes: starter advice, signal gaps, device warnings, the session note."""
    notes = []
    gap_total = sum(h.gap_s or 0.0 for h in d.holds)
    if gap_total >= 0.5:
        notes.append(f"Signal gaps in holds: {gap_total:.1f} s in all (not scored).")
    for ev in store.load_events(session_id):
        if ev.kind in ("warning", "device_disconnected", "device_reconnected"):
            t_rel = (ev.t_s or 0.0) - d.info.t0_s
            notes.append(f"{_dt.timedelta(seconds=round(t_rel))}  {ev.kind}: "
                         f"{ev.detail.get('message', '')}")
    if d.info.note:
        notes.append(d.info.note)
    if d.starter_advice:
        notes.insert(0, d.starter_advice)
    return notes


def session_report(store: Store, session_id: int, out: Path | str) -> Path:
    """Write one session's report page (.pdf or .png).

    Raises:
        ReportError: Unknown output type.
        SessionNotFoundError: No such session.
    """
    from isogrip.ui.common import fill_table, label, table
    from isogrip.ui.summary_data import load_session_data

    out = checked_output(out)
    d = load_session_data(store, session_id)
    page, lay = new_page(f"isogrip session {d.info.id}")
    _add_header(lay, store, session_id, d)

    lay.addWidget(label("Maximal voluntary contraction (MVC)", "heading"))
    mvc = {m.hand: m for m in d.mvc}
    t = table(["Hand", "Trial", "Score", "Time to peak", "Used", "Note"])
    fill_table(t, mvc_table_rows(store.load_mvc_trials(session_id), mvc))
    fit_table(t)
    lay.addWidget(t)
    lay.addWidget(label(_mvc_used_line(mvc), wrap=True))

    lay.addWidget(label("Holds", "heading"))
    t2 = table(["Hold", "Hand", "Outcome", "Time in band", "Mean % MVC", "CV",
                "Drift %MVC/min", "Gaps"])
    fill_table(t2, hold_table_rows(d))
    fit_table(t2)
    lay.addWidget(t2)
    lay.addWidget(_trace_grid(d))

    lay.addWidget(label("Notes", "heading"))
    lay.addWidget(label("\n".join(session_notes(store, session_id, d)[:12])
                        or "No gaps, warnings or disconnections.", wrap=True))
    lay.addStretch(1)
    lay.addWidget(label(FOOTER, "muted"))
    return render(page, out)


def _add_header(lay: Any, store: Store, session_id: int, d: SessionData) -> None:
    """Title, when and who, a blinded protocol's true target, the BP check."""
    from isogrip.ui.common import label

    info = d.info
    proto = info.protocol
    lay.addWidget(label(f"Session report \u00b7 {proto.get('title') or info.protocol_name}",
                        "title"))
    who = f"participant {info.participant}" if info.participant else "no participant ID"
    # A printed report may be read in another time zone: it says which one.
    started = local_time(info.started_at, LONG, zone=True)
    lay.addWidget(label(f"{started} \u00b7 {who} \u00b7 status: {info.status} \u00b7 device: "
                        f"{info.device} \u00b7 session {info.id} ({info.uuid[:8]})", "muted",
                        wrap=True))
    if proto.get("display_scale", 1.0) != 1.0:
        lay.addWidget(label(
            f"Blinded protocol: true target {proto.get('target_pct')} % MVC, shown to the "
            f"participant scaled by {proto.get('display_scale')}; every figure below is "
            "true (unscaled).", wrap=True))
    bp_line = bp_check_line(store, session_id)
    if bp_line:
        lay.addWidget(label(bp_line, "error" if "despite" in bp_line else "", wrap=True))


def _ink() -> Palette:
    """Black on white, with the screen's band colours darkened for paper."""
    from isogrip.ui.theme import Palette

    return Palette(background="#ffffff", panel="#ffffff", text="#000000", muted="#333333",
                   accent="#000000", green="#1e7d32", green_fill="#cfe9d2", amber="#b7790b",
                   amber_fill="#f5e6c4", out="#c4480c", stop="#b3261e", trace="#000000",
                   border="#888888")


def _trace_grid(d: SessionData) -> Any:
    """Every hold's force trace in kg, two per row, with its band."""
    from PyQt6.QtWidgets import QGridLayout, QWidget

    from isogrip.signal.units import Unit
    from isogrip.types import Hand
    from isogrip.ui.force_trace import ForceTrace
    from isogrip.ui.summary_data import hold_label, hold_outcome

    grid_box = QWidget()
    grid = QGridLayout(grid_box)
    grid.setContentsMargins(0, 0, 0, 0)
    ink = _ink()
    for i, (h, (tt, ff)) in enumerate(zip(d.holds, d.traces, strict=True)):
        plot = ForceTrace(unit="kg", compact=True)
        plot.set_palette(ink)
        plot.setFixedHeight(150)
        title = f"Hold {hold_label(h)} \u00b7 {Hand(h.hand).label if h.hand else ''}"
        if not h.completed:
            title += f" \u00b7 {hold_outcome(h, d.holds)}"
        plot.getPlotItem().setTitle(title, color="#000000", size="9pt")
        if h.band_low_n is not None and h.band_high_n is not None and h.target_n is not None:
            top = max(h.band_high_n * 1.6, float(np.nanmax(ff)) * 1.05 if len(ff) else 0.0)
            plot.set_band(h.target_n / KGF_N, (h.band_low_n / KGF_N, h.band_high_n / KGF_N),
                          None, top / KGF_N)
        plot.show_whole(tt, ff / Unit.KGF.newtons)
        grid.addWidget(plot, i // 2, i % 2)
    return grid_box
