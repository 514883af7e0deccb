"""The programme in History and in the progress report: adherence per programme week,
and the change of the home average from baseline with its interval, drawn and said.

The readings are made so the answer is known: every day of both weeks has the same
four readings apart from a small day-to-day pattern that is the same in both, so the
change is exactly -8 / -4 mmHg and its interval is finite and contains it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from isogrip.cli import main
from isogrip.home_bp import EXPECTED_EFFECT_SHORT, NOT_A_DIAGNOSIS
from isogrip.programme.plan import ProgrammePlan
from isogrip.storage.store import Store
from isogrip.ui.bp_panel import CHANGE, READINGS
from isogrip.ui.history_screen import HistoryScreen
from isogrip.ui.main_window import MainWindow
from isogrip.ui.outcome_plot import TITLE
from isogrip.ui.plots import week_bars
from isogrip.ui.progress_report import progress_page
from isogrip.ui.theme import HIGH_CONTRAST

TODAY = dt.datetime.now().astimezone().date()
CHANGE_TEXT = ("Training week 1: upper number 8.0 mmHg lower, lower number 4.0 mmHg lower, "
               "compared with your baseline week (the bars show the likely range).")


def add_week(store: Store, first: dt.date, sbp: int, dbp: int,
             participant: str | None = None) -> None:
    """Four readings a day for seven local days; the same small pattern every week."""
    for day in range(7):
        for hour, minute in ((7, 0), (7, 1), (20, 0), (20, 1)):
            when = dt.datetime.combine(first + dt.timedelta(days=day),
                                       dt.time(hour, minute)).astimezone()
            store.add_bp_reading(sbp=sbp + 2 * (day % 3 - 1), dbp=dbp + day % 2,
                                 taken_at=when, participant=participant, context="rest")


def start_measured_programme(store: Store, participant: str | None = None) -> None:
    """A programme measuring every training week: baseline, then training week 1 (now)."""
    started = TODAY - dt.timedelta(days=13)
    store.programmes.start(ProgrammePlan(bp_every_weeks=1), participant=participant,
                           started_on=started, now=dt.datetime.now(dt.UTC), reason="started")
    add_week(store, started, 140, 90, participant)
    add_week(store, started + dt.timedelta(days=7), 132, 86, participant)


def loaded_history(window: MainWindow, qtbot: QtBot) -> HistoryScreen:
    window.show_page("history")
    hist = window.history
    qtbot.waitUntil(lambda: hist.data is not None and not hist.loading, timeout=10_000)
    return hist


def points(item: pg.PlotItem) -> list[list[float]]:
    """The y values of each marker series of a plot, rounded to 0.1."""
    return [[round(float(v), 1) for v in d.getData()[1]] for d in item.listDataItems()]


def error_bars(item: pg.PlotItem) -> list[pg.ErrorBarItem]:
    return [i for i in item.items if isinstance(i, pg.ErrorBarItem)]


def test_history_opens_on_the_change_since_baseline_with_its_range(
        window: MainWindow, qtbot: QtBot) -> None:
    start_measured_programme(window.store)
    hist = loaded_history(window, qtbot)
    bp = hist.bp
    assert bp.switch_box.isVisibleTo(hist)
    assert bp.views.currentIndex() == CHANGE and bp.change_btn.isChecked()
    assert bp.text.text() == CHANGE_TEXT
    assert bp.context.isVisibleTo(hist) and bp.context.text() == EXPECTED_EFFECT_SHORT
    assert not bp.form.isVisibleTo(hist)
    item = bp.outcome_plot.getPlotItem()
    assert item.titleLabel.text == TITLE
    assert points(item) == [[-8.0], [-4.0]]
    for bar, mean in zip(error_bars(item), (-8.0, -4.0), strict=True):
        top, bottom = float(bar.opts["top"][0]), float(bar.opts["bottom"][0])
        assert 0 < top < 8 and 0 < bottom < 8  # a real interval around the change
        assert float(bar.opts["y"][0]) == pytest.approx(mean)
    ticks = item.getAxis("bottom")._tickLevels[0]
    assert [t[1] for t in ticks] == ["Baseline", "Week 1"]
    qtbot.mouseClick(bp.readings_btn, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
    assert bp.views.currentIndex() == READINGS
    assert bp.text.text().startswith("Latest: ")
    assert bp.form.isVisibleTo(hist) and not bp.context.isVisibleTo(hist)


def test_history_counts_adherence_in_programme_weeks_and_says_a_missed_week(
        window: MainWindow, qtbot: QtBot) -> None:
    # Baseline week, then a training week without a session, then this week.
    window.store.programmes.start(ProgrammePlan(), participant=None,
                                  started_on=TODAY - dt.timedelta(days=15),
                                  now=dt.datetime.now(dt.UTC), reason="started")
    hist = loaded_history(window, qtbot)
    assert hist.data is not None
    bars = week_bars(hist.data.weeks, hist.data.programme, 8)
    assert [(b.done, b.planned) for b in bars] == [(0, 0), (0, 3), (0, 3)]
    assert hist.adherence_text.text() == "This week: 0 of 3 sessions done."
    ends = (TODAY - dt.timedelta(days=15) + dt.timedelta(weeks=10) - dt.timedelta(days=1))
    assert hist.programme_text.text() == (
        "You are in training week 1 of 8. So far: 0 of 6 sessions done. 1 week had no "
        f"session, so your programme is 1 week longer: training now ends on {ends}.")
    # No measurement week after the baseline yet: the readings first; the change view
    # says when it will have something to show.
    assert hist.bp.views.currentIndex() == READINGS
    qtbot.mouseClick(hist.bp.change_btn, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
    assert hist.bp.text.text() == ("The change in your blood pressure is shown here after "
                                   "your next measurement week.")


def test_without_a_programme_history_shows_readings_and_calendar_weeks(
        window: MainWindow, qtbot: QtBot) -> None:
    hist = loaded_history(window, qtbot)
    assert hist.bp.views.currentIndex() == READINGS
    assert not hist.bp.switch_box.isVisibleTo(hist)
    assert not hist.programme_text.isVisibleTo(hist)
    assert hist.adherence_text.text().startswith("This week: 0 of 3 sessions.")


def test_the_guide_opens_from_history(window: MainWindow, qtbot: QtBot) -> None:
    hist = loaded_history(window, qtbot)
    qtbot.mouseClick(hist.bp.guide_btn, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
    guide = hist.bp.guide
    assert guide is not None and guide.isVisible()
    guide.close()


def test_a_narrow_window_puts_the_panels_in_one_column(window: MainWindow,
                                                       qtbot: QtBot) -> None:
    hist = loaded_history(window, qtbot)
    window.resize(1600, 900)
    qtbot.waitUntil(lambda: hist.columns == 2, timeout=5_000)
    hist.resize(500, 800)  # narrower than two panels side by side
    assert hist.columns == 1
    assert hist.grid.getItemPosition(hist.grid.indexOf(hist.bp))[:2] == (1, 0)


def test_the_progress_report_shows_programme_adherence_and_the_outcome(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store.open(data) as store:
        start_measured_programme(store, "P01")
    assert main(["--data-dir", str(data), "run", "--device", "sim:good?seed=2", "--speed",
                 "max", "--headless", "--participant", "P01"]) == 0
    with Store.open(data) as store:
        page = progress_page(store, "P01", today=TODAY)
    texts = [w.text() for w in page.findChildren(QLabel)]
    assert CHANGE_TEXT not in texts  # the page has room for the whole sentence
    assert any(t.startswith("Training week 1 (from ") and "8.0 mmHg lower for the upper "
               "number (likely between" in t for t in texts), texts
    assert any(t.startswith("By then: 1 session done in 1 training week, ") for t in texts)
    assert any(t.startswith("You are in training week 1 of 8. This week: 1 of 3 sessions "
                            "done.") for t in texts), texts
    assert any(NOT_A_DIAGNOSIS in t for t in texts)
    plots = [p for p in page.findChildren(pg.PlotWidget)
             if p.getPlotItem().titleLabel.text.startswith(TITLE)]
    assert len(plots) == 1
    assert points(plots[0].getPlotItem()) == [[-8.0], [-4.0]]
    assert np.isfinite([float(b.opts["top"][0]) for b in error_bars(plots[0].getPlotItem())]).all()


def test_a_high_home_average_and_a_crisis_reading_say_talk_to_your_doctor(
        window: MainWindow, qtbot: QtBot) -> None:
    add_week(window.store, TODAY - dt.timedelta(days=6), 150, 95)
    hist = loaded_history(window, qtbot)
    advice = hist.bp.advice
    assert advice.isVisibleTo(hist)
    assert advice.text().startswith("Your home average is 150.0/95.5 mmHg, at or above "
                                    "135/85"), advice.text()
    assert "please talk to your doctor" in advice.text()
    hist.bp.sbp.setText("192")
    hist.bp.dbp.setText("101")
    qtbot.mouseClick(hist.bp.add_btn, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
    qtbot.waitUntil(lambda: "very high (above 180/120)" in advice.text(), timeout=10_000)
    assert "192/101 mmHg" in advice.text()
    assert hist.bp.readings_plot.isVisibleTo(hist)  # the data stays in view


def test_no_advice_for_ordinary_readings(window: MainWindow, qtbot: QtBot) -> None:
    add_week(window.store, TODAY - dt.timedelta(days=6), 124, 78)
    hist = loaded_history(window, qtbot)
    assert not hist.bp.advice.isVisibleTo(hist)


def test_the_plots_words_are_in_the_themes_text_colour(window: MainWindow,
                                                       qtbot: QtBot) -> None:
    add_week(window.store, TODAY - dt.timedelta(days=6), 124, 78)
    window.apply_settings(window.settings.replace(high_contrast=True))
    hist = loaded_history(window, qtbot)
    ink = HIGH_CONTRAST.text
    for plot in (hist.adherence_plot, hist.mvc_plot, hist.bp.readings_plot,
                 hist.bp.outcome_plot):
        item = plot.getPlotItem()
        assert item.getAxis("left").textPen().color().name() == ink
        assert item.getAxis("bottom").textPen().color().name() == ink
    legend = hist.bp.readings_plot.getPlotItem().legend
    assert [pg.mkColor(entry.opts["color"]).name() for _s, entry in legend.items] == [ink] * 2
