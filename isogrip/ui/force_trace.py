"""Scrolling force trace with the target band shaded.

Built for a 60 Hz pull loop: one ``setData`` per frame with numpy arrays, pen width 1,
clip-to-view and peak downsampling, and fixed axis ranges (time runs from ``-window``
to 0 s, "now" at the right edge), so pyqtgraph never auto-ranges.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray

from isogrip.ui.theme import NORMAL, Palette

F64 = NDArray[np.float64]


class ForceTrace(pg.PlotWidget):  # type: ignore[misc]  # pyqtgraph is untyped
    """The last ``window_s`` seconds of force, newest at the right.

    Args:
        window_s: Seconds shown.
        unit: Unit label of the force axis.
        compact: A small plot without axis labels (summaries).
    """

    def __init__(self, window_s: float = 20.0, unit: str = "kg", *, compact: bool = False,
                 parent: object = None) -> None:
        super().__init__(parent=parent, background=None)
        self.window_s = window_s
        self.pal: Palette = NORMAL
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        self.setMouseEnabled(x=False, y=False)
        # No grid: pyqtgraph redraws grid lines with the axes on every frame, which
        # cost ~10 ms per frame off-screen (measured with bench/gui.py); the band edges
        # and the target line already give the eye its reference.
        if not compact:
            item.setLabel("bottom", "seconds")
        item.setLabel("left", unit)
        self._near = pg.LinearRegionItem(orientation="horizontal", movable=False)
        self._band = pg.LinearRegionItem(orientation="horizontal", movable=False)
        for region in (self._near, self._band):
            for line in region.lines:
                line.setPen(pg.mkPen(None))
            region.setVisible(False)
            region.setZValue(-10)
            item.addItem(region)
        self._target = pg.InfiniteLine(angle=0, movable=False)
        self._target.setVisible(False)
        item.addItem(self._target)
        self.curve = item.plot([], [])
        self.curve.setClipToView(True)
        self.curve.setDownsampling(auto=True, method="peak")
        item.setXRange(-window_s, 0, padding=0)
        item.setYRange(0, 1, padding=0)
        self._y_max = 1.0
        self.set_palette(NORMAL)

    def set_palette(self, pal: Palette) -> None:
        """Use another palette."""
        self.pal = pal
        self._band.setBrush(pg.mkBrush(pal.qcolor("green_fill", 200)))
        self._near.setBrush(pg.mkBrush(pal.qcolor("amber_fill", 200)))
        self._target.setPen(pg.mkPen(pal.green, width=1, style=pg.QtCore.Qt.PenStyle.DashLine))
        self.curve.setPen(pg.mkPen(pal.trace, width=1))
        for name in ("left", "bottom"):
            axis = self.getPlotItem().getAxis(name)
            axis.setPen(pg.mkPen(pal.muted))
            axis.setTextPen(pg.mkPen(pal.text))

    def set_window(self, seconds: float) -> None:
        """Show the last ``seconds`` (fixed x range)."""
        self.window_s = seconds
        self.getPlotItem().setXRange(-seconds, 0, padding=0)

    def set_unit(self, unit: str) -> None:
        """Label of the force axis."""
        self.getPlotItem().setLabel("left", unit)

    def set_band(self, target: float | None, band: tuple[float, float] | None,
                 near: tuple[float, float] | None, y_max: float) -> None:
        """Shade the band (``None`` hides it) and fix the force range to 0..``y_max``."""
        self._band.setVisible(band is not None)
        self._near.setVisible(near is not None)
        self._target.setVisible(target is not None)
        if band is not None:
            self._band.setRegion(band)
        if near is not None:
            self._near.setRegion(near)
        if target is not None:
            self._target.setValue(target)
        if y_max > 0 and y_max != self._y_max:
            self._y_max = y_max
            self.getPlotItem().setYRange(0, y_max, padding=0)

    def show_window(self, t: F64, force: F64, now: float) -> None:
        """Plot force (display units) against time relative to ``now`` (one setData)."""
        self.curve.setData(t - now, force)

    def show_whole(self, t: F64, force: F64) -> None:
        """Plot a complete trace (summaries): x from its start, ranges fixed to the data."""
        item = self.getPlotItem()
        if len(t):
            x = t - t[0]
            self.curve.setData(x, force)
            item.setXRange(0, max(float(x[-1]), 1.0), padding=0.01)
        else:
            self.curve.setData([], [])
