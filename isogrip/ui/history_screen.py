"""The History screen: adherence, strength trend, blood pressure, past sessions.

Adherence is sessions per week against the usual goal of three. Every plot also says
its message in words (this week's count, the latest reading), so nobody has to read a
chart to know where they stand.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from isogrip.errors import IsogripError
from isogrip.signal.units import Unit
from isogrip.storage.history import WeekCount, mvc_trend, weekly_adherence
from isogrip.storage.rows import BpReading, SessionRow
from isogrip.storage.store import Store
from isogrip.timefmt import LONG, SHORT, local_time
from isogrip.types import Hand
from isogrip.ui.before_screen import parse_optional_int
from isogrip.ui.common import (
    Redraws,
    button,
    fill_table,
    fmt_force,
    label,
    panel,
    run_task,
    selected_row,
    set_text,
    table,
)
from isogrip.ui.cuff_reader import CuffControl, CuffOutcome
from isogrip.ui.theme import NORMAL, Palette

GOAL_PER_WEEK = 3
WEEKS_SHOWN = 8
STATUS_WORDS = {"complete": "complete", "aborted": "stopped",
                "interrupted": "interrupted", "running": "running"}


@dataclass
class HistoryData:
    """Everything the History screen shows, read off the GUI thread."""

    sessions: list[SessionRow]
    weeks: list[WeekCount]
    mvc: dict[Hand, list[tuple[_dt.datetime, float]]]
    bp: list[BpReading] = field(default_factory=list)


def load_history(store: Store, participant: str | None) -> HistoryData:
    """Read the history (runs on a worker thread)."""
    sessions = store.list_sessions(participant)
    return HistoryData(sessions, weekly_adherence(sessions, weeks=WEEKS_SHOWN,
                                                  goal=GOAL_PER_WEEK),
                       mvc_trend(store, participant), store.list_bp_readings(participant))


def _stamp(when: _dt.datetime | str) -> float:
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


def _plot(title: str, left: str, dates: bool = True) -> pg.PlotWidget:
    axis = {"bottom": pg.DateAxisItem()} if dates else {}
    w = pg.PlotWidget(background=None, axisItems=axis)
    item = w.getPlotItem()
    item.setTitle(title)
    item.setLabel("left", left)
    item.setMenuEnabled(False)
    item.hideButtons()
    w.setMouseEnabled(x=False, y=False)
    item.showGrid(x=False, y=True, alpha=0.25)
    w.setMinimumHeight(200)
    return w


class HistoryScreen(Redraws, QWidget):
    """Progress over weeks, the blood-pressure log and the list of sessions.

    Signals:
        open_session(int): Show this session's summary.
        bp_added(): A reading was saved.
    """

    open_session = pyqtSignal(int)
    bp_added = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pal: Palette = NORMAL
        self.unit = Unit.KGF
        self.store: Store | None = None
        self.participant: str | None = None
        self.data: HistoryData | None = None
        self.loading = False

        self.adherence_plot = _plot("Sessions per week (goal: 3)", "sessions", dates=False)
        self.adherence_text = label("", "heading", wrap=True)
        self.mvc_plot = _plot("Your maximum (MVC)", "kg")
        self.mvc_plot.getPlotItem().addLegend(offset=(10, 10))
        self.bp_plot = _plot("Blood pressure", "mmHg")
        self.bp_plot.getPlotItem().addLegend(offset=(10, 10))
        self.bp_text = label("", wrap=True)

        self.sbp = QLineEdit()
        self.dbp = QLineEdit()
        self.pulse = QLineEdit()
        for w, hint in ((self.sbp, "upper"), (self.dbp, "lower"), (self.pulse, "pulse")):
            w.setPlaceholderText(hint)
            w.setMaximumWidth(110)
        self.bp_btn = button("Add reading", "primary", slot=self.add_bp)
        # The measurement weeks' readings, straight from the cuff's memory.
        self.cuff = CuffControl(self)
        self.cuff.finished.connect(self._cuff_read)
        bp_form = QHBoxLayout()
        for item in (self.sbp, label("/"), self.dbp, self.pulse, self.bp_btn):
            bp_form.addWidget(item)
        bp_form.addStretch(1)
        bp_box = QWidget()
        bp_box.setLayout(bp_form)
        cuff_row = QHBoxLayout()
        cuff_row.setContentsMargins(9, 0, 0, 0)
        cuff_row.addWidget(self.cuff.button)
        cuff_row.addWidget(self.cuff.status, 1)
        cuff_box = QWidget()
        cuff_box.setLayout(cuff_row)
        self.bp_plot.setMinimumHeight(140)  # room for the cuff's row at 1280 x 800

        self.table = table(["When", "Status", "Holds", "Max left", "Max right"],
                           selectable=True)
        header = self.table.horizontalHeader()
        assert header is not None
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.cellDoubleClicked.connect(lambda row, _col: self._open_row(row))
        self.open_btn = button("Open the selected session", slot=self.open_selected)

        grid = QGridLayout()
        grid.addWidget(panel(self.adherence_plot, self.adherence_text), 0, 0)
        grid.addWidget(panel(self.mvc_plot), 0, 1)
        grid.addWidget(panel(self.bp_plot, self.bp_text, bp_box, cuff_box), 1, 0)
        sessions = panel(label("Sessions", "heading"), self.table, self.open_btn)
        grid.addWidget(sessions, 1, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 16, 24, 16)
        lay.addWidget(label("Your progress", "title"))
        lay.addLayout(grid, 1)

    def _unit_changed(self) -> None:
        self.mvc_plot.getPlotItem().setLabel("left", self.unit.value)

    def load(self, store: Store, participant: str | None) -> None:
        """Read and show the history (in the background)."""
        self.store, self.participant = store, participant
        self.loading = True
        run_task(self, lambda: load_history(store, participant), self._loaded, self._failed)

    def shutdown(self) -> None:
        """Nothing to stop: tasks are daemon threads that only read."""

    def _loaded(self, data: HistoryData) -> None:
        self.loading = False
        self.data = data
        self._show(data)

    def _failed(self, exc: BaseException) -> None:
        self.loading = False
        set_text(self.adherence_text, f"The history could not be read: {exc}")

    # ------------------------------------------------------------------ drawing
    def _show(self, d: HistoryData) -> None:
        self._show_adherence(d.weeks)
        self._show_mvc(d.mvc)
        self._show_bp(d.bp)
        self._show_sessions(d.sessions)

    def _show_adherence(self, weeks: list[WeekCount]) -> None:
        item = self.adherence_plot.getPlotItem()
        item.clear()
        pal = self.pal
        x = np.arange(len(weeks), dtype=float)
        counts = np.array([w.sessions for w in weeks], dtype=float)
        brushes = [pal.green if c >= GOAL_PER_WEEK else pal.amber for c in counts]
        item.addItem(pg.BarGraphItem(x=x, height=counts, width=0.7, brushes=brushes,
                                     pens=[pg.mkPen(pal.border)] * len(weeks)))
        goal_pen = pg.mkPen(pal.green, width=2, style=pg.QtCore.Qt.PenStyle.DashLine)
        item.addItem(pg.InfiniteLine(pos=GOAL_PER_WEEK, angle=0, pen=goal_pen))
        labels = [(float(i), w.week_start.strftime("%d %b")) for i, w in enumerate(weeks)]
        item.getAxis("bottom").setTicks([labels])
        item.setYRange(0, max(GOAL_PER_WEEK + 1, float(counts.max()) + 1 if len(counts) else 4),
                       padding=0)
        item.setXRange(-0.6, len(weeks) - 0.4, padding=0)
        if weeks:
            now = weeks[-1].sessions
            hit = sum(1 for w in weeks if w.sessions >= GOAL_PER_WEEK)
            set_text(self.adherence_text,
                     f"This week: {now} of {GOAL_PER_WEEK} sessions. Goal reached in {hit} "
                     f"of the last {len(weeks)} weeks.")

    def _show_mvc(self, trend: dict[Hand, list[tuple[_dt.datetime, float]]]) -> None:
        item = self.mvc_plot.getPlotItem()
        item.clear()
        for hand, symbol, colour in ((Hand.LEFT, "o", self.pal.accent),
                                     (Hand.RIGHT, "s", self.pal.out)):
            pts = trend.get(hand, [])
            if not pts:
                continue
            x = np.array([_stamp(w) for w, _ in pts])
            y = np.array([v for _, v in pts]) / self.unit.newtons
            item.plot(x, y, pen=pg.mkPen(colour, width=2), symbol=symbol, symbolSize=9,
                      symbolBrush=colour, name=f"{hand.label} hand")
        set_date_range(item, [_stamp(w) for pts in trend.values() for w, _ in pts])

    def _show_bp(self, readings: list[BpReading]) -> None:
        item = self.bp_plot.getPlotItem()
        item.clear()
        if readings:
            x = np.array([_stamp(r.taken_at) for r in readings])
            item.plot(x, np.array([r.sbp for r in readings], float), pen=pg.mkPen(
                self.pal.out, width=2), symbol="t", symbolBrush=self.pal.out,
                name="upper (systolic)")
            item.plot(x, np.array([r.dbp for r in readings], float), pen=pg.mkPen(
                self.pal.accent, width=2), symbol="t1", symbolBrush=self.pal.accent,
                name="lower (diastolic)")
            set_date_range(item, [float(v) for v in x])
            last = readings[-1]
            pulse = f", pulse {last.pulse}" if last.pulse else ""
            set_text(self.bp_text, f"Latest: {last.sbp}/{last.dbp} mmHg{pulse} "
                     f"({local_time(last.taken_at, LONG)}).")
        else:
            set_text(self.bp_text, "No readings yet. Add one below after sitting quietly "
                     "for 5 minutes.")

    def _show_sessions(self, rows: list[SessionRow]) -> None:
        rows = sorted(rows, key=lambda r: r.started_at, reverse=True)
        self._rows = rows
        fill_table(self.table, [
            (local_time(r.started_at, SHORT), STATUS_WORDS.get(r.status, r.status),
             f"{r.n_holds_done}",
             fmt_force(r.mvc_left_n, self.unit), fmt_force(r.mvc_right_n, self.unit))
            for r in rows])

    # ------------------------------------------------------------------ actions
    def add_bp(self) -> None:
        """Save the reading typed in the form."""
        if self.store is None:
            return
        try:
            sbp = parse_optional_int(self.sbp.text(), "The upper number")
            dbp = parse_optional_int(self.dbp.text(), "The lower number")
            pulse = parse_optional_int(self.pulse.text(), "The pulse")
            if sbp is None or dbp is None:
                raise ValueError("Type both numbers of the reading, e.g. 128 / 82.")
            self.store.add_bp_reading(sbp=sbp, dbp=dbp, pulse=pulse,
                                      participant=self.participant, context="rest")
        except (ValueError, IsogripError) as exc:
            set_text(self.bp_text, f"Not saved: {exc}")
            return
        for w in (self.sbp, self.dbp, self.pulse):
            w.clear()
        self.bp_added.emit()
        self.load(self.store, self.participant)

    def _cuff_read(self, outcome: CuffOutcome) -> None:
        if outcome.imported is not None and outcome.imported.added and self.store is not None:
            self.bp_added.emit()
            self.load(self.store, self.participant)

    def _open_row(self, row: int) -> None:
        if 0 <= row < len(getattr(self, "_rows", [])):
            self.open_session.emit(self._rows[row].id)

    def open_selected(self) -> None:
        """Open the highlighted session's summary."""
        row = selected_row(self.table)
        if row is not None:
            self._open_row(row)
