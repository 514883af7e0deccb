"""The Summary screen after a session in a programme: the step it led to, or what is next."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gui_support import STEP_S, run_until, wait_summary
from PyQt6.QtCore import Qt

from isogrip.programme.plan import ProgrammePlan
from isogrip.protocols.events import Phase
from isogrip.settings import Settings, save_settings
from isogrip.signal.units import KGF_N
from isogrip.types import Hand
from isogrip.ui.main_window import MainWindow

KNOWN_MVC = {Hand.LEFT: 30 * KGF_N, Hand.RIGHT: 32 * KGF_N}


def programme_window(qtbot, tmp_path: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    """A stepped window whose programme (in its first training week) has one 40 s hold."""
    proto = tmp_path / "one-hold.toml"
    proto.write_text('[protocol]\nname = "one-hold"\n[holds]\nreps = 1\nduration_s = 40\n'
                     '[timing]\nprepare_s = 1\nrest_after_mvc_s = 2\n')
    settings = tmp_path / "settings.json"
    save_settings(Settings(first_run_done=True), settings)
    window = MainWindow(settings_file=settings, data_dir=tmp_path / "data", frame_step_s=STEP_S)
    window.confirm = lambda title, text: True
    qtbot.addWidget(window)
    window.show()
    # Begun 8 days ago: the baseline week is over and training week 1 began yesterday.
    window.store.programmes.start(
        ProgrammePlan(protocol_name=str(proto)), participant=None,
        started_on=dt.datetime.now().astimezone().date() - dt.timedelta(days=8),
        now=dt.datetime.now(dt.UTC), reason="started")
    return window


def test_the_summary_says_when_the_next_session_is_due(  # type: ignore[no-untyped-def]
        qtbot, tmp_path: Path) -> None:
    window = programme_window(qtbot, tmp_path)
    window.pending_spec = "sim:good?seed=3"
    window.begin_session(None, KNOWN_MVC)
    wait_summary(window, qtbot)
    summary = window.summary
    assert summary.title.text() == "Session complete. Well done!"
    # Held well at the target: no step, so the programme says what is next.
    assert summary.programme_text.isVisible()
    assert summary.programme_text.text() == \
        "Next session: tomorrow, at 30 % of your maximum."
    sid = window.last_result.session_id  # type: ignore[union-attr]

    # A past session opened from History says nothing of the programme.
    window.open_summary(sid)
    qtbot.waitUntil(lambda: summary.data is not None)
    assert not summary.programme_text.isVisible() and summary.programme_text.text() == ""

    # Without a programme there is nothing to say, even just after a session.
    (row,) = window.store.programmes.all()
    window.store.programmes.end(row.id, dt.datetime.now(dt.UTC))
    summary.load(window.store, sid, programme=True)
    qtbot.waitUntil(lambda: summary.data is not None)
    assert not summary.programme_text.isVisible() and summary.programme_text.text() == ""


def test_the_summary_says_the_step_the_session_led_to(  # type: ignore[no-untyped-def]
        qtbot, tmp_path: Path) -> None:
    window = programme_window(qtbot, tmp_path)
    window.pending_spec = "sim:good?seed=3"
    window.begin_session(None, KNOWN_MVC)
    run_until(window, qtbot, lambda s: s.phase is Phase.HOLD)
    qtbot.keyClick(window, Qt.Key.Key_Escape)  # confirmed: the first session stops early
    wait_summary(window, qtbot)
    summary = window.summary
    assert summary.title.text() == "Session stopped early"
    assert summary.programme_text.isVisible()
    assert summary.programme_text.text() == (
        "Your first session showed that 2 minutes at 30 % is hard for now (the session "
        "was stopped early), so your programme starts at 20 % and builds up from there.")
    # The step is recorded with the session it came from, as ``isogrip run`` does.
    (row,) = window.store.programmes.all()
    sid = window.last_result.session_id  # type: ignore[union-attr]
    (step,) = [s for s in window.store.programmes.steps(row.id) if s.session_id == sid]
    assert step.kind == "intensity" and step.intensity_pct == 20.0
    assert step.reason == summary.programme_text.text()
