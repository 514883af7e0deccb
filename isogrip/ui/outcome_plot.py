"""The programme's outcome drawn: change of the home average from the baseline week.

One point per measurement week and number (upper, lower), with its 95 % interval as
an error bar (:func:`isogrip.home_bp.change_from_baseline`), on a zero line that is
the baseline. The History screen draws it in the theme's colours and the progress
report in ink; both use :func:`draw_outcome`, so the screen and the paper agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt

from isogrip.home_bp import MeanDifference
from isogrip.programme.outcome import WeekOutcome
from isogrip.ui.plots import legend_headroom

TITLE = "Change from baseline (mmHg)"
#: The upper and lower numbers sit either side of their week, so their bars never hide
#: each other.
_OFFSET = 0.12


@dataclass(frozen=True, slots=True)
class OutcomeStyle:
    """Colours and markers of the outcome plot.

    Attributes:
        sbp: Colour of the upper (systolic) number.
        dbp: Colour of the lower (diastolic) number.
        zero: Colour of the baseline line.
        dbp_fill: Fill of the lower number's marker (white on paper: open squares
            tell it from the filled circles in black and white).
    """

    sbp: str
    dbp: str
    zero: str
    dbp_fill: str | None = None


def tick_label(row: WeekOutcome) -> str:
    """The axis label of a measurement week: ``Baseline`` or ``Week 5``."""
    return row.label.replace("Training week", "Week")


def _series(rows: Sequence[WeekOutcome],
            which: str) -> tuple[list[float], list[float], list[float], list[float]]:
    """x, mean, distance down to the interval's low end, distance up to its high end."""
    x, mean, down, up = [], [], [], []
    for i, r in enumerate(rows):
        if r.change is None:
            continue
        d: MeanDifference = getattr(r.change, which)
        x.append(float(i))
        mean.append(d.mean)
        down.append(d.mean - d.low if d.low is not None else 0.0)
        up.append(d.high - d.mean if d.high is not None else 0.0)
    return x, mean, down, up


def draw_outcome(item: pg.PlotItem, rows: Sequence[WeekOutcome], style: OutcomeStyle) -> int:
    """Draw the change per measurement week into ``item``.

    Args:
        item: The plot to draw in (cleared first).
        rows: The measurement weeks so far, baseline first
            (:func:`isogrip.programme.outcome.outcomes`).
        style: Colours.

    Returns:
        How many weeks have a change to show (0: only the baseline line is drawn).
    """
    item.clear()
    zero_pen = pg.mkPen(style.zero, width=2, style=Qt.PenStyle.DashLine)
    item.addItem(pg.InfiniteLine(pos=0.0, angle=0, pen=zero_pen))
    shown = 0
    lows, highs = [-5.0], [5.0]
    for which, sign, colour, symbol, fill, name in (
            ("sbp", -1, style.sbp, "o", style.sbp, "upper (systolic)"),
            ("dbp", 1, style.dbp, "s", style.dbp_fill or style.dbp, "lower (diastolic)")):
        x, mean, down, up = _series(rows, which)
        if not x:
            continue
        shown = len(x)
        xs = np.array(x) + sign * _OFFSET
        ys = np.array(mean)
        item.addItem(pg.ErrorBarItem(x=xs, y=ys, top=np.array(up), bottom=np.array(down),
                                     beam=0.12, pen=pg.mkPen(colour, width=2)))
        item.plot(xs, ys, pen=None, symbol=symbol, symbolSize=11, symbolBrush=fill,
                  symbolPen=pg.mkPen(colour, width=2), name=name)
        lows.append(float(np.min(ys - np.array(down))))
        highs.append(float(np.max(ys + np.array(up))))
    item.getAxis("bottom").setTicks([[(float(i), tick_label(r)) for i, r in enumerate(rows)]])
    item.setXRange(-0.5, max(len(rows), 2) - 0.5, padding=0)
    legend_headroom(item, min(lows) - 2.0, max(highs))
    return shown
