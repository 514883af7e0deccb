"""The Before-you-start page: the blood-pressure gate and the MVC choice, off-screen."""

from __future__ import annotations

import datetime as _dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PyQt6.QtCore import Qt

from isogrip.bp_check import BpCheck, BpEntry, BpLimits
from isogrip.settings import Settings, save_settings
from isogrip.signal.units import Unit
from isogrip.storage.store import Store
from isogrip.types import Hand
from isogrip.ui.before_screen import BeforeScreen
from isogrip.ui.main_window import MainWindow

NOW = _dt.datetime(2026, 12, 2, 9, 0, tzinfo=_dt.UTC)
RECENT = {Hand.LEFT: (300.0, NOW - _dt.timedelta(days=3)),
          Hand.RIGHT: (320.0, NOW - _dt.timedelta(days=3))}


@pytest.fixture
def page(qtbot) -> BeforeScreen:  # type: ignore[no-untyped-def]
    p = BeforeScreen()
    qtbot.addWidget(p)
    p.prepare(RECENT, {Hand.LEFT, Hand.RIGHT}, Unit.KGF, 180, 110, now=NOW)
    return p


def press(qtbot, page: BeforeScreen) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(page.begin_btn, Qt.MouseButton.LeftButton)


def enter(page: BeforeScreen, sbp: str, dbp: str, pulse: str = "") -> None:
    page.sbp.setText(sbp)
    page.dbp.setText(dbp)
    page.pulse.setText(pulse)


def test_mvc_is_measured_unless_reuse_is_chosen(qtbot, page: BeforeScreen) -> None:  # type: ignore[no-untyped-def]
    started: list[object] = []
    page.begin.connect(lambda bp, reuse: started.append(reuse))
    # Offered, with its cost, but not ticked: measuring is the default.
    assert not page.reuse.isHidden()
    assert page.measure.isChecked() and not page.reuse.isChecked()
    assert page.reuse.text() == \
        "Use my maximum from 3 days ago instead (LEFT 30.6 kg, RIGHT 32.6 kg)"
    assert "your target will be based on a squeeze from 3 days ago" in page.reuse_cost.text()
    assert not page.reuse_cost.isHidden()
    press(qtbot, page)
    assert started == [None]
    # A deliberate choice reuses, and is reset for the next session.
    page.reuse.setChecked(True)
    press(qtbot, page)
    assert started[-1] == {Hand.LEFT: 300.0, Hand.RIGHT: 320.0}
    page.prepare(RECENT, {Hand.LEFT, Hand.RIGHT}, Unit.KGF, 180, 110, now=NOW)
    assert page.measure.isChecked() and not page.reuse.isChecked()


def test_typing_error_is_refused_before_any_advice(qtbot, page: BeforeScreen) -> None:  # type: ignore[no-untyped-def]
    started: list[object] = []
    page.begin.connect(lambda bp, reuse: started.append(bp))
    enter(page, "300", "20")
    press(qtbot, page)
    assert "20 looks like a typing error" in page.message.text()
    assert "do not train" not in page.message.text().lower()
    assert page.begin_btn.text().startswith("Begin")
    assert not started


def test_override_holds_for_the_reading_it_was_given_for(qtbot, page: BeforeScreen) -> None:  # type: ignore[no-untyped-def]
    started: list[BpCheck | None] = []
    page.begin.connect(lambda bp, reuse: started.append(bp))
    enter(page, "190", "100")
    press(qtbot, page)
    assert "do not train now" in page.message.text().lower()
    assert page.begin_btn.text().startswith("Train anyway")
    # Corrected to a normal reading: the advice and the override go at once.
    enter(page, "128", "82")
    assert page.message.isHidden()
    assert page.begin_btn.text().startswith("Begin")
    # Then a high reading again: new advice, no session started by the old override.
    enter(page, "250", "130")
    press(qtbot, page)
    assert not started
    assert "250/130" in page.message.text()
    press(qtbot, page)  # the deliberate second press, for this reading
    assert started == [BpCheck(BpEntry(250, 130), BpLimits(180, 110), trained_anyway=True)]
    # A normal reading starts at once and is recorded as checked, not overridden.
    enter(page, "128", "82", "64")
    press(qtbot, page)
    assert started[-1] == BpCheck(BpEntry(128, 82, 64), BpLimits(180, 110))
    assert started[-1] is not None and not started[-1].too_high


def test_training_anyway_is_recorded_for_a_clinician(
        qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = tmp_path / "settings.json"
    save_settings(Settings(first_run_done=True, sbp_limit=170, dbp_limit=105), settings)
    data = tmp_path / "data"
    w = MainWindow(settings_file=settings, data_dir=data, speed=100.0)
    w.confirm = lambda title, text: True  # type: ignore[method-assign]
    qtbot.addWidget(w)
    w.prepare_session("sim")
    enter(w.before, "172", "96", "70")
    w.controller.frame.connect(lambda *_: w.controller.command("abort"))
    press(qtbot, w.before)
    press(qtbot, w.before)
    qtbot.waitUntil(lambda: w.last_result is not None, timeout=60_000)
    sid = w.last_result.session_id  # type: ignore[union-attr]
    w.close()
    store = Store.open(data)
    checks = [e.detail for e in store.load_events(sid) if e.kind == "bp_check"]
    assert len(checks) == 1
    assert {k: checks[0][k] for k in ("sbp", "dbp", "pulse", "sbp_limit", "dbp_limit",
                                      "too_high", "trained_anyway")} == {
        "sbp": 172, "dbp": 96, "pulse": 70, "sbp_limit": 170, "dbp_limit": 105,
        "too_high": True, "trained_anyway": True}
    store.close()
    out = tmp_path / "export"
    subprocess.run([sys.executable, "-m", "isogrip", "--data-dir", str(data), "export",
                    str(sid), "--out", str(out)], check=True, capture_output=True)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["bp_check"] == {"sbp": 172, "dbp": 96, "pulse": 70, "sbp_limit": 170,
                                   "dbp_limit": 105, "too_high": True, "trained_anyway": True}
    from isogrip.ui.report import bp_check_line
    store = Store.open(data)
    line = bp_check_line(store, sid)
    store.close()
    assert line.startswith("Trained despite high blood pressure: 172/96 mmHg, pulse 70")
    assert "limit of 170/105 mmHg" in line and "chose to continue" in line
