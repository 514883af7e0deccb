"""The History screen's blood-pressure panel: the readings, or the change since baseline.

Two views behind a switch. *Readings*: every reading over time, the latest in words,
and the ways to add one (typed, or from the cuff). *Change since baseline*, once a
programme has a measurement week after its baseline: the change of the home average
per measurement week with its 95 % range (:mod:`isogrip.ui.outcome_plot`), in one
plain sentence, with what studies found as context. The panel opens on the change
when there is one: it is what the person came to see.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QButtonGroup, QFrame, QHBoxLayout, QLineEdit, QStackedWidget, QWidget

from isogrip.errors import IsogripError
from isogrip.home_bp import EXPECTED_EFFECT_SHORT
from isogrip.home_bp.sentences import change_brief
from isogrip.programme.outcome import WeekOutcome
from isogrip.programme.words import outcome_lines
from isogrip.storage.rows import BpReading
from isogrip.storage.store import Store
from isogrip.timefmt import LONG, local_time
from isogrip.ui.before_screen import typed_reading
from isogrip.ui.bp_guide import BpGuide, open_bp_guide
from isogrip.ui.common import button, label, panel, set_text
from isogrip.ui.cuff_reader import CuffControl, CuffOutcome
from isogrip.ui.outcome_plot import TITLE, OutcomeStyle, draw_outcome
from isogrip.ui.plots import ink_plot, legend_headroom, plot_widget, set_date_range, stamp
from isogrip.ui.theme import NORMAL, Palette

READINGS, CHANGE = 0, 1
NO_READINGS = "No readings yet. Add one below after sitting quietly for 5 minutes."


def _row(*widgets: QWidget, stretch_last: bool = False) -> QWidget:
    """Widgets side by side, as one widget."""
    lay = QHBoxLayout()
    lay.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        lay.addWidget(w)
    if stretch_last:
        lay.setStretchFactor(widgets[-1], 1)
    else:
        lay.addStretch(1)
    box = QWidget()
    box.setLayout(lay)
    return box


class BpPanel(QFrame):
    """Readings and the programme's change since baseline, and adding a reading.

    Signals:
        saved(): A reading was stored (typed, or new ones from the cuff).
    """

    saved = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store: Store | None = None
        self.participant: str | None = None
        self.readings_plot = plot_widget("Blood pressure", "mmHg")
        self.readings_plot.getPlotItem().addLegend(offset=(10, 5), colCount=2)
        self.outcome_plot = plot_widget(TITLE, "mmHg", dates=False)
        self.outcome_plot.getPlotItem().addLegend(offset=(10, 5), colCount=2)
        self.views = QStackedWidget()
        self.views.addWidget(self.readings_plot)
        self.views.addWidget(self.outcome_plot)
        self.readings_btn = button("Readings", "nav")
        self.change_btn = button("Change since baseline", "nav")
        self.switch = QButtonGroup(self)
        for i, b in enumerate((self.readings_btn, self.change_btn)):
            b.setCheckable(True)
            self.switch.addButton(b, i)
        self.readings_btn.setChecked(True)
        self.switch.idClicked.connect(self.show_view)
        self.switch_box = _row(self.readings_btn, self.change_btn)
        self.switch_box.hide()
        self.text = label("", wrap=True)
        # "Talk to your doctor": above both views, never in the way of the data.
        self.advice = label("", "error", wrap=True)
        self.advice.hide()
        self.context = label(EXPECTED_EFFECT_SHORT, "muted", wrap=True)
        self._words = ("", "")

        self.sbp, self.dbp, self.pulse = QLineEdit(), QLineEdit(), QLineEdit()
        for w, hint in ((self.sbp, "upper"), (self.dbp, "lower"), (self.pulse, "pulse")):
            w.setPlaceholderText(hint)
            w.setMaximumWidth(110)
        self.add_btn = button("Add reading", "primary", slot=self.add_typed)
        # The measurement weeks' readings, straight from the cuff's memory.
        self.cuff = CuffControl(self)
        self.cuff.finished.connect(self._cuff_read)
        self.form = _row(self.sbp, label("/"), self.dbp, self.pulse, self.add_btn)
        self.cuff_box = _row(self.cuff.button, self.cuff.status, stretch_last=True)
        # A measurement week's pair, walked through: 5 minutes seated, 1 minute apart.
        self.guide_btn = button("Guide me through a measurement", slot=self.open_guide)
        self.guide: BpGuide | None = None
        self.frame = panel(self.advice, self.switch_box, self.views, self.text, self.context,
                           self.form, self.cuff_box, _row(self.guide_btn))
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.frame)
        self.show_view(READINGS)

    def show_data(self, readings: Sequence[BpReading], outcome: Sequence[WeekOutcome],
                  today: _dt.date, pal: Palette = NORMAL, advice: Sequence[str] = ()) -> None:
        """Draw the readings and the programme's outcome (empty without a programme).

        Args:
            readings: The blood-pressure log, oldest first.
            outcome: The programme's measurement weeks so far (none without one).
            today: The local day.
            pal: Colours.
            advice: "Talk to your doctor" sentences (:func:`isogrip.home_bp.bp_advice`).
        """
        set_text(self.advice, " ".join(advice))
        self.advice.setVisible(bool(advice))
        self._draw_readings(readings, pal)
        style = OutcomeStyle(sbp=pal.out, dbp=pal.accent, zero=pal.muted)
        for plot in (self.readings_plot, self.outcome_plot):
            ink_plot(plot, pal.text)
        shown = draw_outcome(self.outcome_plot.getPlotItem(), outcome, style)
        change = ""
        latest = next((r for r in reversed(outcome) if r.change is not None), None)
        if latest is not None and latest.change is not None:
            change = change_brief(latest.change, latest.label)
        elif outcome:
            change = " ".join(outcome_lines(outcome, today))
        self._words = (self._words[READINGS], change)
        self.switch_box.setVisible(bool(outcome))
        self.show_view(CHANGE if shown else self.views.currentIndex() if outcome else READINGS)

    def _draw_readings(self, readings: Sequence[BpReading], pal: Palette) -> None:
        item = self.readings_plot.getPlotItem()
        item.clear()
        if not readings:
            self._words = (NO_READINGS, self._words[CHANGE])
            return
        x = np.array([stamp(r.taken_at) for r in readings])
        for values, colour, symbol, name in (
                ([r.sbp for r in readings], pal.out, "t", "upper (systolic)"),
                ([r.dbp for r in readings], pal.accent, "t1", "lower (diastolic)")):
            item.plot(x, np.array(values, float), pen=pg.mkPen(colour, width=2),
                      symbol=symbol, symbolBrush=colour, name=name)
        set_date_range(item, [float(v) for v in x])
        legend_headroom(item, min(r.dbp for r in readings), max(r.sbp for r in readings))
        last = readings[-1]
        pulse = f", pulse {last.pulse}" if last.pulse else ""
        self._words = (f"Latest: {last.sbp}/{last.dbp} mmHg{pulse} "
                       f"({local_time(last.taken_at, LONG)}).", self._words[CHANGE])

    def show_view(self, index: int) -> None:
        """Show the readings (:data:`READINGS`) or the change since baseline (:data:`CHANGE`)."""
        self.views.setCurrentIndex(index)
        (self.change_btn if index == CHANGE else self.readings_btn).setChecked(True)
        set_text(self.text, self._words[index])
        # Adding a reading belongs with the readings; the change view keeps its room
        # for the plot and its words.
        self.context.setVisible(index == CHANGE)
        for row in (self.form, self.cuff_box, self.guide_btn):
            row.setVisible(index == READINGS)

    def add_typed(self) -> None:
        """Save the reading typed in the form."""
        if self.store is None:
            return
        try:
            entry = typed_reading(self.sbp.text(), self.dbp.text(), self.pulse.text())
            self.store.add_bp_reading(sbp=entry.sbp, dbp=entry.dbp, pulse=entry.pulse,
                                      participant=self.participant, context="rest")
        except (ValueError, IsogripError) as exc:
            set_text(self.text, f"Not saved: {exc}")
            return
        for w in (self.sbp, self.dbp, self.pulse):
            w.clear()
        self.saved.emit()

    def open_guide(self) -> BpGuide | None:
        """Open the guide to a pair of readings (with the cuff when one is attached)."""
        if self.store is None:
            return None
        if self.guide is not None:
            self.guide.deleteLater()  # one guide at a time
        self.guide = open_bp_guide(self, self.store, self.participant, host=self.cuff.host,
                                   **self.cuff.backends)
        self.guide.saved.connect(self.saved.emit)
        return self.guide

    def _cuff_read(self, outcome: CuffOutcome) -> None:
        if outcome.imported is not None and outcome.imported.added:
            self.saved.emit()
