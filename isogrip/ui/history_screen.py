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
from PyQt6.QtGui import QResizeEvent
from PyQt6.QtWidgets import (
    QGridLayout,
    QHeaderView,
    QVBoxLayout,
    QWidget,
)

from isogrip.home_bp import Guideline, bp_advice, summarise_period
from isogrip.programme.outcome import WeekOutcome
from isogrip.programme.words import adherence_lines
from isogrip.programme_status import ProgrammeView, load_view, view_outcome
from isogrip.signal.units import Unit
from isogrip.storage.history import WeekCount, mvc_trend, weekly_adherence
from isogrip.storage.rows import BpReading, SessionRow
from isogrip.storage.store import Store
from isogrip.timefmt import SHORT, SystemLocalTime, local_time
from isogrip.types import Hand
from isogrip.ui.bp_panel import BpPanel
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
    vertical_scroll,
)
from isogrip.ui.plots import (
    draw_week_bars,
    ink_plot,
    legend_headroom,
    plot_widget,
    set_date_range,
    stamp,
    week_bars,
)
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
    programme: ProgrammeView | None = None
    outcome: list[WeekOutcome] = field(default_factory=list)
    today: _dt.date = field(default_factory=_dt.date.today)
    advice: list[str] = field(default_factory=list)


def load_history(store: Store, participant: str | None,
                 guideline: Guideline = Guideline.ESH_2023,
                 today: _dt.date | None = None) -> HistoryData:
    """Read the history (runs on a worker thread).

    Args:
        store: The database.
        participant: Participant ID, or ``None``.
        guideline: Whose rules the home averages follow (the setting).
        today: The local day the programme is reviewed for (default: today).
    """
    today = today or _dt.datetime.now().astimezone().date()
    sessions = store.list_sessions(participant)
    view = load_view(store, participant, today)
    readings = store.list_bp_readings(participant)
    # "Talk to your doctor" for the last 7 days, as `isogrip bp summary` says it.
    week = summarise_period(readings, SystemLocalTime(), start=today - _dt.timedelta(days=6),
                            end=today, guideline=guideline)
    return HistoryData(sessions, weekly_adherence(sessions, weeks=WEEKS_SHOWN,
                                                  goal=GOAL_PER_WEEK),
                       mvc_trend(store, participant), readings,
                       view, view_outcome(view, guideline) if view else [], today,
                       bp_advice(week))


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
        self.guideline = Guideline.ESH_2023
        self.loading = False

        self.adherence_plot = plot_widget("Sessions per week (outline: planned)",
                                          "sessions", dates=False)
        self.adherence_text = label("", "heading", wrap=True)
        self.programme_text = label("", wrap=True)
        self.mvc_plot = plot_widget("Your maximum (MVC)", "kg")
        self.mvc_plot.getPlotItem().addLegend(offset=(10, 5), colCount=2)
        self.bp = BpPanel()
        self.bp.saved.connect(self._bp_saved)
        # The names the tests and the cuff wiring reach (CuffControl.attach).
        self.cuff, self.bp_text = self.bp.cuff, self.bp.text

        self.table = table(["When", "Status", "Holds", "Max left", "Max right"],
                           selectable=True)
        header = self.table.horizontalHeader()
        assert header is not None
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.cellDoubleClicked.connect(lambda row, _col: self._open_row(row))
        self.open_btn = button("Open the selected session", slot=self.open_selected)

        sessions = panel(label("Sessions", "heading"), self.table, self.open_btn)
        # Adherence and blood pressure first: in one column they are read first.
        self.panels = (panel(self.adherence_plot, self.adherence_text, self.programme_text),
                       panel(self.mvc_plot), self.bp, sessions)
        self.grid = QGridLayout()
        self.columns = 0
        self._arrange(2)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 16, 24, 16)
        lay.addWidget(label("Your progress", "title"))
        body = QWidget()
        body.setLayout(self.grid)
        lay.addWidget(vertical_scroll(body), 1)

    def _arrange(self, columns: int) -> None:
        """The panels in a 2 x 2 grid, or one column when two would not fit."""
        if columns == self.columns:
            return
        self.columns = columns
        order = (0, 1, 2, 3) if columns == 2 else (0, 2, 1, 3)
        for slot, index in enumerate(order):
            self.grid.addWidget(self.panels[index], slot // columns, slot % columns)
        for col in range(2):
            self.grid.setColumnStretch(col, 1 if col < columns else 0)

    def _fit_columns(self) -> None:
        """Two columns while each panel's contents fit in half the width."""
        widest = max(p.minimumSizeHint().width() for p in self.panels)
        self._arrange(2 if self.width() >= 2 * widest + 96 else 1)

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        """Re-arrange the panels for the new width."""
        self._fit_columns()
        super().resizeEvent(event)

    def _unit_changed(self) -> None:
        self.mvc_plot.getPlotItem().setLabel("left", self.unit.value)

    def load(self, store: Store, participant: str | None,
             guideline: Guideline = Guideline.ESH_2023) -> None:
        """Read and show the history (in the background)."""
        self.store, self.participant, self.guideline = store, participant, guideline
        self.loading = True
        run_task(self, lambda: load_history(store, participant, guideline), self._loaded,
                 self._failed)

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
        for plot in (self.adherence_plot, self.mvc_plot):
            ink_plot(plot, self.pal.text)
        self._show_adherence(d)
        self._show_mvc(d.mvc)
        self.bp.store, self.bp.participant = self.store, self.participant
        self.bp.show_data(d.bp, d.outcome, d.today, self.pal, d.advice)
        self._show_sessions(d.sessions)
        self._fit_columns()  # the switch and the words may have made a panel wider

    def _show_adherence(self, d: HistoryData) -> None:
        """Sessions done against planned, per programme week (or calendar week)."""
        bars = week_bars(d.weeks, d.programme, WEEKS_SHOWN)
        pal = self.pal
        draw_week_bars(self.adherence_plot.getPlotItem(), bars, met=pal.green, short=pal.amber,
                       planned=pal.green, border=pal.border)
        self.programme_text.setVisible(d.programme is not None)
        if d.programme is not None:
            # The week's count is the heading; where the programme is and the rest below.
            lines = adherence_lines(d.programme.status)
            week = next((i for i, line in enumerate(lines) if line.startswith("This week")), 0)
            set_text(self.adherence_text, lines.pop(week))
            set_text(self.programme_text, " ".join(lines))
        elif d.weeks:
            hit = sum(1 for w in d.weeks if w.sessions >= GOAL_PER_WEEK)
            set_text(self.adherence_text,
                     f"This week: {d.weeks[-1].sessions} of {GOAL_PER_WEEK} sessions. Goal "
                     f"reached in {hit} of the last {len(d.weeks)} weeks.")

    def _show_mvc(self, trend: dict[Hand, list[tuple[_dt.datetime, float]]]) -> None:
        item = self.mvc_plot.getPlotItem()
        item.clear()
        for hand, symbol, colour in ((Hand.LEFT, "o", self.pal.accent),
                                     (Hand.RIGHT, "s", self.pal.out)):
            pts = trend.get(hand, [])
            if not pts:
                continue
            x = np.array([stamp(w) for w, _ in pts])
            y = np.array([v for _, v in pts]) / self.unit.newtons
            item.plot(x, y, pen=pg.mkPen(colour, width=2), symbol=symbol, symbolSize=9,
                      symbolBrush=colour, name=f"{hand.label} hand")
        set_date_range(item, [stamp(w) for pts in trend.values() for w, _ in pts])
        values = [v / self.unit.newtons for pts in trend.values() for _, v in pts]
        if values:
            legend_headroom(item, min(values), max(values), min_span=2.0)

    def _show_sessions(self, rows: list[SessionRow]) -> None:
        rows = sorted(rows, key=lambda r: r.started_at, reverse=True)
        self._rows = rows
        fill_table(self.table, [
            (local_time(r.started_at, SHORT), STATUS_WORDS.get(r.status, r.status),
             f"{r.n_holds_done}",
             fmt_force(r.mvc_left_n, self.unit), fmt_force(r.mvc_right_n, self.unit))
            for r in rows])

    # ------------------------------------------------------------------ actions
    def _bp_saved(self) -> None:
        self.bp_added.emit()
        if self.store is not None:
            self.load(self.store, self.participant, self.guideline)

    def _open_row(self, row: int) -> None:
        if 0 <= row < len(getattr(self, "_rows", [])):
            self.open_session.emit(self._rows[row].id)

    def open_selected(self) -> None:
        """Open the highlighted session's summary."""
        row = selected_row(self.table)
        if row is not None:
            self._open_row(row)
