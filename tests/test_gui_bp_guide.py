"""The guide through a pair of home blood-pressure readings, on a clock the test moves.

The guide's waits are read from the clock it is given; each test advances a fake
clock and calls ``tick()``, so what the guide shows never depends on wall time or on
how busy the machine is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot
from virtual_ble import BpCuffPeripheral, VirtualBleWorld

from isogrip.ble_device.bp_monitor import BpMeasurement
from isogrip.programme.plan import ProgrammePlan
from isogrip.ui.bp_guide import REST_S, SAME_AGAIN, BpGuide, Step, open_bp_guide
from isogrip.ui.main_window import MainWindow


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def at_hour(hour: int) -> dt.datetime:
    return dt.datetime(2026, 3, 2, hour, 5).astimezone()


def guide_for(window: MainWindow, clock: FakeClock, hour: int = 8) -> BpGuide:
    return open_bp_guide(window, window.store, None, now=clock,
                         local_now=lambda: at_hour(hour))


def click(qtbot: QtBot, button: QPushButton) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]


def press(qtbot: QtBot, guide: BpGuide) -> None:
    click(qtbot, guide.action_btn)


def step_of(guide: BpGuide) -> Step:
    """The guide's step (a call: mypy must not keep the step of an earlier assert)."""
    return guide.step


def wait(guide: BpGuide, clock: FakeClock, seconds: float) -> str:
    """Move the clock on and let the guide redraw; the countdown it shows."""
    clock.advance(seconds)
    guide.tick()
    return guide.clock.text()


def type_reading(guide: BpGuide, sbp: str, dbp: str, pulse: str = "") -> None:
    guide.sbp.setText(sbp)
    guide.dbp.setText(dbp)
    guide.pulse.setText(pulse)


def rest_skipped(qtbot: QtBot, guide: BpGuide) -> None:
    press(qtbot, guide)  # Start the 5 minutes
    press(qtbot, guide)  # Skip the wait
    assert step_of(guide) is Step.READING_1


def test_the_five_minutes_count_down_on_the_clock_before_reading_1_is_offered(
        window: MainWindow, qtbot: QtBot) -> None:
    clock = FakeClock()
    guide = guide_for(window, clock)
    assert guide.isVisible() and step_of(guide) is Step.INTRO
    assert guide.title.text() == "Your morning blood pressure"
    assert guide.instructions[2].text() == "3.  Sit quietly for 5 minutes: no talking, no phone."
    assert guide.instructions[-1].text().endswith("before your medication, breakfast and coffee.")
    assert guide.action_btn.text() == "Start the 5 minutes"
    press(qtbot, guide)
    assert step_of(guide) is Step.REST and guide.clock.text() == "5:00"
    qtbot.keyClick(guide, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    assert step_of(guide) is Step.REST  # Enter does not skip the quiet minutes
    assert guide.timer.isActive() and guide.timer.interval() == 250
    assert wait(guide, clock, 61) == "3:59"
    assert not guide.sbp.isVisible() and guide.action_btn.text() == "Skip the wait"
    assert wait(guide, clock, 238.5) == "0:01"
    assert step_of(guide) is Step.REST and not guide.sbp.isVisible()
    wait(guide, clock, 0.5)
    assert step_of(guide) is Step.READING_1 and guide.title.text() == "Take reading 1 now"
    assert guide.sbp.isVisible() and not guide.timer.isActive()
    assert guide.action_btn.text() == "Save reading 1"


def test_skipping_the_five_minutes_offers_reading_1_at_once(
        window: MainWindow, qtbot: QtBot) -> None:
    clock = FakeClock()
    guide = guide_for(window, clock)
    press(qtbot, guide)
    assert wait(guide, clock, 10) == "4:50"
    press(qtbot, guide)
    assert step_of(guide) is Step.READING_1 and guide.sbp.isVisible()
    assert not guide.timer.isActive()


@pytest.mark.parametrize(("sbp", "dbp", "pulse", "says"), [
    ("abc", "82", "", "Not saved: The upper number must be a whole number, e.g. 128; "
                      "got 'abc'"),
    ("128", "", "", "Not saved: Type both numbers of the reading, e.g. 128 / 82."),
    ("128", "82", "6.5", "Not saved: The pulse must be a whole number, e.g. 128; got '6.5'"),
    ("82", "128", "", "Not saved: The systolic (upper) pressure must be higher than the "
                      "diastolic (lower) one; check the order of the numbers."),
])
def test_a_bad_entry_is_explained_in_one_line_and_nothing_is_stored(
        window: MainWindow, qtbot: QtBot, sbp: str, dbp: str, pulse: str,
        says: str) -> None:
    guide = guide_for(window, FakeClock())
    rest_skipped(qtbot, guide)
    type_reading(guide, sbp, dbp, pulse)
    press(qtbot, guide)
    assert guide.message.isVisible() and guide.message.text() == says
    assert "\n" not in guide.message.text()
    assert step_of(guide) is Step.READING_1 and window.store.list_bp_readings() == []
    guide.sbp.setText("130")  # an edit clears the message
    assert not guide.message.isVisible()


def test_an_impossible_reading_is_refused_as_a_typing_error(
        window: MainWindow, qtbot: QtBot) -> None:
    guide = guide_for(window, FakeClock())
    rest_skipped(qtbot, guide)
    type_reading(guide, "300", "20")
    press(qtbot, guide)
    text = guide.message.text()
    assert text.startswith("Not saved: ") and "\n" not in text
    assert window.store.list_bp_readings() == []


@pytest.mark.parametrize(("hour", "pair", "following"), [
    (8, "morning", "Next: measure again this evening, the same way."),
    (19, "evening", "Next: tomorrow morning, before your medication, breakfast and coffee."),
])
def test_two_typed_readings_one_minute_apart_are_stored_as_typed(
        window: MainWindow, qtbot: QtBot, hour: int, pair: str,
        following: str) -> None:
    clock = FakeClock()
    guide = guide_for(window, clock, hour)
    saved: list[None] = []
    guide.saved.connect(lambda: saved.append(None))
    rest_skipped(qtbot, guide)
    type_reading(guide, " 132", "84 ", "70")
    press(qtbot, guide)
    assert step_of(guide) is Step.GAP and guide.clock.text() == "1:00"
    assert guide.title.text() == "Rest for 1 minute" and len(saved) == 1
    assert guide.wait_text.text() == "Reading 1 is saved: 132/84, pulse 70. Leave the " \
        "cuff on your arm and keep sitting quietly. Reading 2 comes when the time is up."
    assert wait(guide, clock, 30) == "0:30"
    assert wait(guide, clock, 29.9) == "0:01"
    assert step_of(guide) is Step.GAP and not guide.sbp.isVisible()
    wait(guide, clock, 0.1)
    assert step_of(guide) is Step.READING_2 and guide.title.text() == "Take reading 2 now"
    assert (guide.sbp.text(), guide.dbp.text(), guide.pulse.text()) == ("", "", "")
    type_reading(guide, "128", "82")
    qtbot.keyClick(guide.dbp, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]  # saves
    assert step_of(guide) is Step.DONE and len(saved) == 2
    rows = window.store.list_bp_readings()
    assert [(r.sbp, r.dbp, r.pulse, r.context, r.participant) for r in rows] == \
        [(132, 84, 70, "rest", None), (128, 82, None, "rest", None)]
    assert guide.title.text() == "Both readings are saved"
    assert guide.done_text.text() == \
        f"Your {pair} pair is saved: 132/84, pulse 70 and 128/82. {following}"
    assert guide.action_btn.text() == "Close" and not guide.close_btn.isVisible()
    press(qtbot, guide)
    assert not guide.isVisible() and guide.result() == 1


def test_closing_during_the_wait_stops_it_and_stores_nothing(
        window: MainWindow, qtbot: QtBot) -> None:
    guide = guide_for(window, FakeClock())
    press(qtbot, guide)
    click(qtbot, guide.close_btn)
    assert not guide.isVisible() and not guide.timer.isActive()
    guide.tick()  # a late tick changes nothing
    assert step_of(guide) is Step.REST and window.store.list_bp_readings() == []


def start_programme(window: MainWindow, days_ago: int) -> None:
    window.store.programmes.start(
        ProgrammePlan(), participant=None,
        started_on=dt.datetime.now().astimezone().date() - dt.timedelta(days=days_ago),
        now=dt.datetime.now(dt.UTC), reason="started")
    window.show_page("device")


def test_the_card_offers_the_guide_when_readings_are_due_today(
        window: MainWindow, qtbot: QtBot) -> None:
    card = window.device.programme
    window.show_page("device")
    assert not card.bp_btn.isVisible()  # no programme yet
    start_programme(window, days_ago=0)
    assert card.bp_btn.isVisible() and card.bp_btn.text() == "Measure my blood pressure"
    for sbp in (140, 138):  # the morning pair, typed in History
        window.store.add_bp_reading(sbp=sbp, dbp=88, context="rest")
    click(qtbot, card.bp_btn)
    guide = card.guide
    assert guide is not None and guide.isVisible() and step_of(guide) is Step.INTRO
    assert guide.size() == window.size()
    clock = FakeClock()
    guide.now = clock  # before the wait starts: the test moves its clock
    press(qtbot, guide)
    assert wait(guide, clock, REST_S) == "0:00" and step_of(guide) is Step.READING_1
    assert guide.cuff.button.isVisible()  # the window's device thread reads the cuff
    type_reading(guide, "132", "84")
    press(qtbot, guide)
    wait(guide, clock, 60)
    type_reading(guide, "130", "83")
    press(qtbot, guide)
    assert step_of(guide) is Step.DONE
    # Four readings today: the card has reloaded, nothing more is due today.
    assert not card.bp_btn.isVisible()
    assert len(window.store.list_bp_readings()) == 4


def test_the_card_has_no_guide_in_a_training_week_without_readings(
        window: MainWindow) -> None:
    start_programme(window, days_ago=8)
    card = window.device.programme
    assert card.text.text().startswith("You are in training week 1")
    assert card.start_btn.isHidden() and not card.bp_btn.isVisible()



SAFETY_MS = 60_000  # a safety net only: every cuff wait ends on a condition


def measured(sbp: int, dbp: int, pulse: int, ago: dt.timedelta) -> bytes:
    when = (dt.datetime.now() - ago).replace(microsecond=0)  # the cuff's clock: local
    return bytes(BpMeasurement(sbp, dbp, (sbp + 2 * dbp) / 3, timestamp=when,
                               pulse_bpm=pulse, user_id=1))


@pytest.fixture
def cuff_window(qtbot: QtBot, tmp_path: Path,
                settings_file: Path) -> Iterator[tuple[BpCuffPeripheral, MainWindow]]:
    """The window with a virtual cuff on its own device thread (as test_gui_cuff has it)."""
    world = VirtualBleWorld()
    w = MainWindow(settings_file=settings_file, data_dir=tmp_path / "data", speed=100.0,
                   ble_backend=world.client_backend, ble_scanner_backend=world.scanner_backend)
    w.show()  # closed here, not by qtbot: the cuff must go before the device thread
    w.host.submit(world.__aenter__()).result(SAFETY_MS / 1000)
    cuff = BpCuffPeripheral([measured(141, 92, 70, dt.timedelta(days=1)),
                             measured(128, 82, 64, dt.timedelta(minutes=1))], hang_up=True)
    try:
        w.host.submit(world.add(cuff)).result(SAFETY_MS / 1000)
        yield cuff, w
    finally:
        w.host.submit(world.close()).result(SAFETY_MS / 1000)
        w.close()


def read_cuff(qtbot: QtBot, guide: BpGuide) -> str:
    click(qtbot, guide.cuff.button)
    qtbot.waitUntil(lambda: not guide.cuff.busy, timeout=SAFETY_MS)
    return guide.cuff.status.text()


def test_the_cuff_gives_both_readings_and_the_same_one_twice_is_not_reading_2(
        qtbot: QtBot, cuff_window: tuple[BpCuffPeripheral, MainWindow]) -> None:
    cuff, window = cuff_window
    start_programme(window, days_ago=0)
    guide = window.device.programme.open_guide()
    assert guide is not None
    clock = FakeClock()
    guide.now = clock
    rest_skipped(qtbot, guide)
    assert guide.cuff.button.isVisible()
    read_cuff(qtbot, guide)  # its memory: yesterday's reading and the one just taken
    assert step_of(guide) is Step.GAP and guide.clock.text() == "1:00"
    assert guide.wait_text.text().startswith("Reading 1 is saved: 128/82, pulse 64. ")
    wait(guide, clock, 60)
    assert step_of(guide) is Step.READING_2 and guide.cuff.status.text() == ""
    # The cuff sends its memory again without a new measurement: not reading 2.
    read_cuff(qtbot, guide)
    assert step_of(guide) is Step.READING_2 and guide.cuff.status.text() == SAME_AGAIN
    cuff.readings.append(measured(126, 80, 62, dt.timedelta(0)))
    read_cuff(qtbot, guide)
    assert step_of(guide) is Step.DONE
    assert guide.done_text.text().startswith(
        f"Your {guide.pair} pair is saved: 128/82, pulse 64 and 126/80, pulse 62.")
    rows = window.store.list_bp_readings()
    assert [(r.sbp, r.dbp, r.context) for r in rows] == \
        [(141, 92, "rest"), (128, 82, "rest"), (126, 80, "rest")]
