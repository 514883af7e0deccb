"""The progress report: a participant's adherence, MVC, time in band and blood pressure.

One A4 page of four plots over the weeks, drawn like the session report (see
:mod:`isogrip.ui.report`, which also exports :func:`participant_report`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from isogrip.signal.units import KGF_N
from isogrip.storage.rows import SessionRow
from isogrip.storage.store import Store
from isogrip.timefmt import DATE, LOCAL_TIME, local_time
from isogrip.ui.report_page import FOOTER, INK, ReportError, checked_output, new_page, render

__all__ = ["participant_report"]


def participant_report(store: Store, participant: str, out: Path | str,
                       weeks: int = 12) -> Path:
    """Write a participant's progress page: adherence, MVC, time in band, blood pressure.

    Raises:
        ReportError: Unknown output type, or the participant has no sessions.
    """
    from isogrip.ui.common import label

    out = checked_output(out)
    sessions = store.list_sessions(participant)
    if not sessions:
        raise ReportError(f"participant {participant!r} has no sessions to report")
    page, lay = new_page(f"isogrip progress {participant}")
    lay.addWidget(label(f"Progress report \u00b7 participant {participant}", "title"))
    done = [s for s in sessions if s.status == "complete"]
    lay.addWidget(label(f"Sessions: {len(sessions)} ({len(done)} complete), "
                        f"{local_time(sessions[0].started_at, DATE)} to "
                        f"{local_time(sessions[-1].started_at, DATE)} ({LOCAL_TIME})",
                        "muted"))
    p1 = _adherence_plot(lay, sessions, weeks)
    p2 = _mvc_plot(store, participant)
    lay.addWidget(p2)
    p3 = _time_in_band_plot(store, sessions)
    lay.addWidget(p3)
    p4 = _bp_plot(lay, store, participant)
    for p in (p1, p2, p3, p4):
        _print_style(p)
    lay.addStretch(1)
    lay.addWidget(label(FOOTER, "muted"))
    return render(page, out)


def _adherence_plot(lay: Any, sessions: Sequence[SessionRow], weeks: int) -> Any:
    """Add the sessions-per-week bars and the sentence on the weekly goal; the plot."""
    import pyqtgraph as pg

    from isogrip.storage.history import weekly_adherence
    from isogrip.ui.common import label
    from isogrip.ui.history_screen import _plot

    weeks_data = weekly_adherence(sessions, weeks=weeks)
    p1 = _plot("Sessions per week (goal: 3)", "sessions", dates=False)
    x = np.arange(len(weeks_data), dtype=float)
    counts = np.array([w.sessions for w in weeks_data], float)
    p1.getPlotItem().addItem(pg.BarGraphItem(
        x=x, height=counts, width=0.7,
        brushes=["#1e7d32" if c >= 3 else "#bbbbbb" for c in counts]))
    p1.getPlotItem().addItem(pg.InfiniteLine(pos=3, angle=0, pen=pg.mkPen(INK, width=1,
                                             style=pg.QtCore.Qt.PenStyle.DashLine)))
    p1.getPlotItem().getAxis("bottom").setTicks(
        [[(float(i), w.week_start.strftime("%d %b")) for i, w in enumerate(weeks_data)]])
    met = sum(1 for w in weeks_data if w.met)
    lay.addWidget(p1)
    lay.addWidget(label(f"Goal of 3 sessions reached in {met} of the last {weeks} weeks.",
                        wrap=True))
    return p1


def _mvc_plot(store: Store, participant: str) -> Any:
    """The MVC of each hand over time, kg."""
    import pyqtgraph as pg

    from isogrip.storage.history import mvc_trend
    from isogrip.types import Hand
    from isogrip.ui.history_screen import _plot, _stamp, set_date_range

    p2 = _plot("MVC (kg)", "kg")
    item = p2.getPlotItem()
    item.addLegend(offset=(10, 10))
    trend = mvc_trend(store, participant)
    for hand, symbol in ((Hand.LEFT, "o"), (Hand.RIGHT, "s")):
        pts = trend.get(hand, [])
        if pts:
            item.plot([_stamp(w) for w, _ in pts], [v / KGF_N for _, v in pts],
                      pen=pg.mkPen(INK, width=1), symbol=symbol, symbolBrush=INK,
                      name=f"{hand.label} hand")
    set_date_range(item, [_stamp(w) for pts in trend.values() for w, _ in pts])
    return p2


def _time_in_band_plot(store: Store, sessions: Sequence[SessionRow]) -> Any:
    """Each session's mean time in band over its completed holds, %."""
    import pyqtgraph as pg

    from isogrip.ui.history_screen import _plot, _stamp, set_date_range

    p3 = _plot("Time in band per session (mean of completed holds, %)", "%")
    tib_x, tib_y = [], []
    for s in sessions:
        vals = [h.time_in_band_pct for h in store.load_holds(s.id)
                if h.completed and h.time_in_band_pct is not None]
        if vals:
            tib_x.append(_stamp(s.started_at))
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
    from isogrip.ui.history_screen import _plot, _stamp, set_date_range

    readings = store.list_bp_readings(participant)
    p4 = _plot("Blood pressure (mmHg)", "mmHg")
    if readings:
        bx = [_stamp(r.taken_at) for r in readings]
        p4.getPlotItem().addLegend(offset=(10, 10))
        p4.getPlotItem().plot(bx, [r.sbp for r in readings], pen=pg.mkPen(INK, width=1),
                              symbol="t", symbolBrush=INK, name="systolic")
        p4.getPlotItem().plot(bx, [r.dbp for r in readings], pen=pg.mkPen("#555555", width=1),
                              symbol="t1", symbolBrush="#555555", name="diastolic")
        set_date_range(p4.getPlotItem(), bx)
        first, last = readings[0], readings[-1]
        bp_text = (f"{len(readings)} readings; first {first.sbp}/{first.dbp}, latest "
                   f"{last.sbp}/{last.dbp} mmHg.")
    else:
        bp_text = "No blood-pressure readings."
    lay.addWidget(p4)
    lay.addWidget(label(bp_text))
    return p4


def _print_style(p: Any) -> None:
    """A plot for paper: fixed height, title and axes in ink."""
    import pyqtgraph as pg

    p.setFixedHeight(190)
    p.getPlotItem().titleLabel.setText(p.getPlotItem().titleLabel.text, color=INK)
    for ax in ("left", "bottom"):
        p.getPlotItem().getAxis(ax).setTextPen(pg.mkPen(INK))
        p.getPlotItem().getAxis(ax).setPen(pg.mkPen(INK))
