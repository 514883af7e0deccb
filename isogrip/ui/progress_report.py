"""The progress report: a participant's adherence, MVC, time in band and blood pressure.

One A4 page of four plots over the weeks, drawn like the session report (see
:mod:`isogrip.ui.report`, which also exports :func:`participant_report`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from isogrip.programme.outcome import WeekOutcome
from isogrip.programme.words import adherence_lines, outcome_lines
from isogrip.programme_status import ProgrammeView
from isogrip.signal.units import KGF_N
from isogrip.storage.rows import SessionRow
from isogrip.storage.store import Store
from isogrip.timefmt import DATE, LOCAL_TIME, local_time
from isogrip.ui.report_page import FOOTER, INK, ReportError, checked_output, new_page, render

__all__ = ["participant_report", "progress_page"]


def participant_report(store: Store, participant: str, out: Path | str,
                       weeks: int = 12, today: _dt.date | None = None) -> Path:
    """Write a participant's progress page: adherence, MVC, time in band, blood pressure.

    With a programme, adherence is per programme week against what it planned, and the
    page adds the change of the home average from baseline per measurement week.

    Raises:
        ReportError: Unknown output type, or the participant has no sessions.
    """
    out = checked_output(out)
    return render(progress_page(store, participant, weeks, today), out)


def progress_page(store: Store, participant: str, weeks: int = 12,
                  today: _dt.date | None = None) -> Any:
    """The progress page as a widget, laid out for A4 (see :func:`participant_report`).

    Raises:
        ReportError: The participant has no sessions.
    """
    from PyQt6.QtWidgets import QHBoxLayout

    from isogrip.cli.bp_summary import settings_guideline
    from isogrip.programme_status import load_view, view_outcome
    from isogrip.ui.common import label

    sessions = store.list_sessions(participant)
    if not sessions:
        raise ReportError(f"participant {participant!r} has no sessions to report")
    today = today or _dt.datetime.now().astimezone().date()
    view = load_view(store, participant, today)
    page, lay = new_page(f"isogrip progress {participant}")
    lay.addWidget(label(f"Progress report \u00b7 participant {participant}", "title"))
    done = [s for s in sessions if s.status == "complete"]
    lay.addWidget(label(f"Sessions: {len(sessions)} ({len(done)} complete), "
                        f"{local_time(sessions[0].started_at, DATE)} to "
                        f"{local_time(sessions[-1].started_at, DATE)} ({LOCAL_TIME})",
                        "muted"))
    plots = [_adherence_plot(lay, sessions, weeks, view)]
    side_by_side = QHBoxLayout()
    plots += [_mvc_plot(store, participant), _time_in_band_plot(store, sessions)]
    for p in plots[1:]:
        side_by_side.addWidget(p)
    lay.addLayout(side_by_side)
    plots.append(_bp_plot(lay, store, participant))
    rows = view_outcome(view, settings_guideline()) if view is not None else []
    if rows:
        plots.append(_outcome_part(lay, rows, today))
    for p in plots:
        _print_style(p)
    lay.addStretch(1)
    lay.addWidget(label(FOOTER, "muted"))
    return page


def _adherence_plot(lay: Any, sessions: Sequence[SessionRow], weeks: int,
                    view: ProgrammeView | None) -> Any:
    """Add the sessions-per-week bars and their sentences; the plot."""
    from isogrip.storage.history import weekly_adherence
    from isogrip.ui.common import label
    from isogrip.ui.plots import draw_week_bars, plot_widget, week_bars

    bars = week_bars(weekly_adherence(sessions, weeks=weeks), view, weeks)
    p1 = plot_widget("Sessions per week (outline: planned)", "sessions", dates=False)
    draw_week_bars(p1.getPlotItem(), bars, met="#1e7d32", short="#bbbbbb", planned=INK,
                   border=INK)
    lay.addWidget(p1)
    if view is not None:
        text = " ".join(adherence_lines(view.status))
    else:
        met = sum(1 for b in bars if b.met)
        text = f"Goal of 3 sessions reached in {met} of the last {weeks} weeks."
    lay.addWidget(label(text, wrap=True))
    return p1


def _outcome_part(lay: Any, rows: Sequence[WeekOutcome], today: _dt.date) -> Any:
    """Add the change from baseline per measurement week and its words; the plot."""
    from isogrip.home_bp import EXPECTED_EFFECT, NOT_A_DIAGNOSIS
    from isogrip.ui.common import label
    from isogrip.ui.outcome_plot import TITLE, OutcomeStyle, draw_outcome
    from isogrip.ui.plots import plot_widget

    p5 = plot_widget(f"{TITLE}, per measurement week, 95 % range", "mmHg", dates=False)
    p5.getPlotItem().addLegend(offset=(10, 5), labelTextColor=INK, colCount=2)
    draw_outcome(p5.getPlotItem(), rows,
                 OutcomeStyle(sbp=INK, dbp=INK, zero="#555555", dbp_fill="w"))
    lay.addWidget(p5)
    for text in outcome_lines(rows, today):
        lay.addWidget(label(text, wrap=True))
    lay.addWidget(label(f"{EXPECTED_EFFECT} {NOT_A_DIAGNOSIS}", "muted", wrap=True))
    return p5


def _mvc_plot(store: Store, participant: str) -> Any:
    """The MVC of each hand over time, kg."""
    import pyqtgraph as pg

    from isogrip.storage.history import mvc_trend
    from isogrip.types import Hand
    from isogrip.ui.plots import legend_headroom, plot_widget, set_date_range, stamp

    p2 = plot_widget("MVC (kg)", "kg")
    item = p2.getPlotItem()
    item.addLegend(offset=(10, 5), labelTextColor=INK, colCount=2)
    trend = mvc_trend(store, participant)
    for hand, symbol in ((Hand.LEFT, "o"), (Hand.RIGHT, "s")):
        pts = trend.get(hand, [])
        if pts:
            item.plot([stamp(w) for w, _ in pts], [v / KGF_N for _, v in pts],
                      pen=pg.mkPen(INK, width=1), symbol=symbol, symbolBrush=INK,
                      name=f"{hand.label} hand")
    set_date_range(item, [stamp(w) for pts in trend.values() for w, _ in pts])
    values = [v / KGF_N for pts in trend.values() for _, v in pts]
    if values:
        legend_headroom(item, min(values), max(values), min_span=2.0)
    return p2


def _time_in_band_plot(store: Store, sessions: Sequence[SessionRow]) -> Any:
    """Each session's mean time in band over its completed holds, %."""
    import pyqtgraph as pg

    from isogrip.ui.plots import plot_widget, set_date_range, stamp

    p3 = plot_widget("Time in band per session (%)", "%")
    tib_x, tib_y = [], []
    for s in sessions:
        vals = [h.time_in_band_pct for h in store.load_holds(s.id)
                if h.completed and h.time_in_band_pct is not None]
        if vals:
            tib_x.append(stamp(s.started_at))
            tib_y.append(float(np.mean(vals)))
    p3.getPlotItem().plot(tib_x, tib_y, pen=pg.mkPen(INK, width=1), symbol="o",
                          symbolBrush=INK)
    p3.getPlotItem().setYRange(0, 100)
    set_date_range(p3.getPlotItem(), tib_x)
    return p3


def _bp_plot(lay: Any, store: Store, participant: str) -> Any:
    """Add the blood-pressure readings and a line on the first and latest; the plot."""
    import pyqtgraph as pg

    from isogrip.ui.common import label
    from isogrip.ui.plots import legend_headroom, plot_widget, set_date_range, stamp

    readings = store.list_bp_readings(participant)
    p4 = plot_widget("Blood pressure (mmHg)", "mmHg")
    if readings:
        bx = [stamp(r.taken_at) for r in readings]
        p4.getPlotItem().addLegend(offset=(10, 5), labelTextColor=INK, colCount=2)
        p4.getPlotItem().plot(bx, [r.sbp for r in readings], pen=pg.mkPen(INK, width=1),
                              symbol="t", symbolBrush=INK, name="systolic")
        p4.getPlotItem().plot(bx, [r.dbp for r in readings], pen=pg.mkPen("#555555", width=1),
                              symbol="t1", symbolBrush="#555555", name="diastolic")
        set_date_range(p4.getPlotItem(), bx)
        legend_headroom(p4.getPlotItem(), min(r.dbp for r in readings),
                        max(r.sbp for r in readings))
        first, last = readings[0], readings[-1]
        bp_text = (f"{len(readings)} readings; first {first.sbp}/{first.dbp}, latest "
                   f"{last.sbp}/{last.dbp} mmHg.")
    else:
        bp_text = "No blood-pressure readings."
    lay.addWidget(p4)
    lay.addWidget(label(bp_text))
    return p4


def _print_style(p: Any) -> None:
    """A plot for paper: fixed height, title, axes and legend in ink."""
    from isogrip.ui.plots import ink_plot

    p.setFixedHeight(165)
    ink_plot(p, INK)
