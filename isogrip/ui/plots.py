"""The plots of the History screen and the progress report: one look, one date axis."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QSize, Qt

from isogrip.storage.history import WeekCount

if TYPE_CHECKING:
    from isogrip.programme_status import ProgrammeView


def stamp(when: _dt.datetime | str) -> float:
    """A stored time (ISO text or datetime) as the POSIX seconds a date axis plots."""
    if isinstance(when, str):
        when = _dt.datetime.fromisoformat(when)
    return when.timestamp()


def set_date_range(item: pg.PlotItem, stamps: list[float]) -> None:
    """Fix a date axis to the data plus a day either side (a week at least)."""
    if not stamps:
        return
    day = 86400.0
    lo, hi = min(stamps) - day, max(stamps) + day
    if hi - lo < 7 * day:
        lo = hi - 7 * day
    item.setXRange(lo, hi, padding=0)


class _StillPlot(pg.PlotWidget):  # type: ignore[misc]  # pyqtgraph is untyped
    """A plot that asks for a modest size.

    A graphics view asks for 640 x 480: in a scrolling page every plot would take
    that much. This one asks for its minimum and grows into the room it is given.
    """

    def sizeHint(self) -> QSize:
        """The size it asks for: its minimum height, a third of a small screen wide."""
        return QSize(320, self.minimumHeight())


def plot_widget(title: str, left: str, dates: bool = True) -> pg.PlotWidget:
    """A still plot (no mouse zoom, no menu) with a title, a y label and a light grid."""
    axis = {"bottom": pg.DateAxisItem()} if dates else {}
    w = _StillPlot(background=None, axisItems=axis)
    item = w.getPlotItem()
    item.setTitle(title)
    item.setLabel("left", left)
    item.setMenuEnabled(False)
    item.hideButtons()
    w.setMouseEnabled(x=False, y=False)
    item.showGrid(x=False, y=True, alpha=0.25)
    w.setMinimumHeight(200)
    return w


@dataclass(frozen=True)
class WeekBar:
    """One week of an adherence plot: sessions done and planned.

    Attributes:
        label: Its first day, as the axis shows it.
        done: Sessions done to the end.
        planned: Sessions planned (0 in a baseline week).
    """

    label: str
    done: int
    planned: int

    @property
    def met(self) -> bool:
        """Whether the week's plan is met."""
        return self.done >= self.planned


def week_bars(calendar: Sequence[WeekCount], programme: ProgrammeView | None,
              shown: int) -> list[WeekBar]:
    """The programme's weeks so far (the last ``shown``), or else the calendar weeks.

    A programme's weeks begin on the day it started and plan what it plans (none in
    the baseline week, fewer in maintenance), so they are what adherence is measured
    against; without one, the calendar weeks against their goal.
    """
    if programme is None:
        return [WeekBar(w.week_start.strftime("%d %b"), w.sessions, w.goal)
                for w in calendar]
    status = programme.status
    weeks = [w for w in status.weeks if w.start <= status.today][-shown:]
    return [WeekBar(w.start.strftime("%d %b"), w.done, w.planned) for w in weeks]


def draw_week_bars(item: pg.PlotItem, bars: Sequence[WeekBar], *, met: str, short: str,
                   planned: str, border: str) -> None:
    """Sessions done as filled bars inside a dashed outline of the sessions planned.

    Args:
        item: The plot (cleared first).
        bars: The weeks, oldest first.
        met: Fill of a week whose plan is met.
        short: Fill of a week short of its plan.
        planned: Colour of the planned outline.
        border: Edge of the filled bars.
    """
    item.clear()
    x = np.arange(len(bars), dtype=float)
    done = np.array([b.done for b in bars], dtype=float)
    plan = np.array([b.planned for b in bars], dtype=float)
    item.addItem(pg.BarGraphItem(x=x, height=plan, width=0.8, brush=None,
                                 pen=pg.mkPen(planned, width=2, style=Qt.PenStyle.DashLine)))
    item.addItem(pg.BarGraphItem(x=x, height=done, width=0.6,
                                 pens=[pg.mkPen(border)] * len(bars),
                                 brushes=[met if b.met else short for b in bars]))
    item.getAxis("bottom").setTicks([[(float(i), b.label) for i, b in enumerate(bars)]])
    item.setYRange(0, max([3.0, *done.tolist(), *plan.tolist()]) + 1, padding=0)
    item.setXRange(-0.6, max(len(bars), 1) - 0.4, padding=0)


def legend_headroom(item: pg.PlotItem, low: float, high: float,
                    min_span: float = 10.0) -> None:
    """Fix the y range to the data with room above it for the legend.

    The legend is one row at the top left; without the room its words would sit on
    the highest points and lines.
    """
    span = max(high - low, min_span)
    item.setYRange(low - 0.05 * span, high + 0.5 * span, padding=0)


def ink_plot(widget: pg.PlotWidget, ink: str) -> None:
    """Title, axes, their numbers and the legend's words in ``ink``.

    Set on every plot for the palette it is shown in, rather than left to pyqtgraph's
    one global foreground: black text would vanish on the high-contrast theme's dark
    panels, and pyqtgraph's default grey is too faint on white (under 3:1).
    """
    item = widget.getPlotItem()
    item.titleLabel.setText(item.titleLabel.text, color=ink)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(ink))
        axis.setTextPen(pg.mkPen(ink))
        axis.label.setDefaultTextColor(pg.mkColor(ink))
    if item.legend is not None:
        item.legend.setLabelTextColor(ink)  # for entries added from now on
        for _sample, entry in item.legend.items:  # pyqtgraph keeps old ones' colour
            entry.setText(entry.text, color=ink)
