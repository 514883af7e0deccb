"""The programme in the desktop app: the offer on the start page, and what it shows."""

from __future__ import annotations

import datetime as dt

from PyQt6.QtCore import Qt

from isogrip.programme.plan import ProgrammePlan
from isogrip.ui.main_window import MainWindow
from isogrip.ui.programme_card import OFFER


def test_the_start_page_offers_a_programme_and_then_shows_it(window: MainWindow,
                                                             qtbot) -> None:  # type: ignore[no-untyped-def]
    window.show_page("device")
    card = window.device.programme
    assert card.text.text() == OFFER and card.start_btn.isVisible()
    qtbot.mouseClick(card.start_btn, Qt.MouseButton.LeftButton)
    assert not card.start_btn.isVisible()
    text = card.text.text()
    assert text.startswith("This is your baseline week")
    assert "Next blood-pressure readings: today" in text
    (row,) = window.store.programmes.all()
    assert row.started_on == dt.datetime.now().astimezone().date()


def test_a_session_in_the_app_trains_at_the_programme_step(window: MainWindow) -> None:
    today = dt.datetime.now().astimezone().date()
    window.store.programmes.start(
        ProgrammePlan(target_pct=25.0, starter_pct=20.0), participant=None,
        started_on=today - dt.timedelta(days=8), now=dt.datetime.now(dt.UTC),
        reason="started")
    protocol = window.flow.session_protocol()
    assert protocol.target_pct == 25.0 and protocol.name == "ihg-4x2-30-alternating"
    assert "25 % MVC" in protocol.title
    window.show_page("device")
    assert window.device.programme.text.text().startswith("You are in training week 1")
    window.apply_settings(window.settings.replace(protocol_locked=True))
    assert window.flow.session_protocol().target_pct == 30.0  # a study's lock wins
