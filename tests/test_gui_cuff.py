"""\u201cRead from cuff\u201d in the desktop app, against a virtual cuff on the app's device thread.

The virtual cuff lives on the window's own device host (bumble's controllers belong to
the loop they are built on) and hangs up once it has sent its memory, as many cuffs do,
so a read ends on an event, never on a timeout; every wait below is for a state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from PyQt6.QtCore import Qt
from virtual_ble import BpCuffPeripheral, VirtualBleWorld

from isogrip.ble_device.bp_monitor import BpMeasurement
from isogrip.storage.store import Store
from isogrip.ui import cuff_reader
from isogrip.ui.main_window import MainWindow

SAFETY_MS = 60_000  # a safety net only: every wait ends on a condition


def measured(sbp: int, dbp: int, pulse: int, ago: dt.timedelta) -> bytes:
    when = (dt.datetime.now() - ago).replace(microsecond=0)  # the cuff's clock: local
    return bytes(BpMeasurement(sbp, dbp, (sbp + 2 * dbp) / 3, timestamp=when,
                               pulse_bpm=pulse, user_id=1))


@pytest.fixture
def world_and_window(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                     settings_file: Path) -> Iterator[tuple[VirtualBleWorld, MainWindow]]:
    world = VirtualBleWorld()
    w = MainWindow(settings_file=settings_file, data_dir=tmp_path / "data", speed=100.0,
                   ble_backend=world.client_backend,
                   ble_scanner_backend=world.scanner_backend)
    w.confirm = lambda title, text: True  # type: ignore[method-assign]
    w.show()  # closed here, not by qtbot: the cuff must go before the device thread
    w.host.submit(world.__aenter__()).result(SAFETY_MS / 1000)
    try:
        yield world, w
    finally:
        w.host.submit(world.close()).result(SAFETY_MS / 1000)
        if w.controller.running:
            w.controller.stop()
        w.close()


def add_cuff(world: VirtualBleWorld, window: MainWindow, cuff: BpCuffPeripheral) -> None:
    window.host.submit(world.add(cuff)).result(SAFETY_MS / 1000)


def press_and_wait(qtbot, control: cuff_reader.CuffControl) -> str:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(control.button, Qt.MouseButton.LeftButton)
    assert control.status.text() == cuff_reader.LOOKING and control.status.isVisible()
    assert not control.button.isEnabled()
    qtbot.waitUntil(lambda: not control.busy, timeout=SAFETY_MS)
    assert control.button.isEnabled()
    return control.status.text()


def test_before_and_after_a_session_the_cuff_fills_in_and_stores_each_reading_once(
        qtbot, world_and_window: tuple[VirtualBleWorld, MainWindow],  # type: ignore[no-untyped-def]
        tmp_path: Path) -> None:
    world, w = world_and_window
    cuff = BpCuffPeripheral([measured(141, 92, 70, dt.timedelta(days=1)),
                             measured(128, 82, 64, dt.timedelta(minutes=1))], hang_up=True)
    add_cuff(world, w, cuff)
    w.prepare_session("sim")
    before = w.before
    assert before.cuff.button.isVisible() and before.cuff.button.text() == "Read from cuff"
    text = press_and_wait(qtbot, before.cuff)
    assert text == "Found 2 new readings; the newest is 128/82, pulse 64."
    assert (before.sbp.text(), before.dbp.text(), before.pulse.text()) == ("128", "82", "64")
    # The cuff sends its memory again: nothing is stored twice.
    assert press_and_wait(qtbot, before.cuff) == \
        "No new readings (2 already saved); the newest is 128/82, pulse 64."
    assert cuff.connection_count == 2
    # Training with the reading the cuff filled in links it; it is not stored again.
    w.controller.frame.connect(lambda *_: w.controller.command("abort"))
    qtbot.mouseClick(before.begin_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.current_page() == "summary" and w.summary.data is not None,
                    timeout=SAFETY_MS)
    sid = w.last_result.session_id  # type: ignore[union-attr]
    # After the session: a new measurement is saved as the session's "post" reading.
    cuff.readings.append(measured(126, 80, 61, dt.timedelta(0)))
    w.summary.post_sbp.setText("1")  # half-typed: the cuff's reading replaces it
    assert press_and_wait(qtbot, w.summary.cuff) == (
        "Found 1 new reading (2 already saved). Saved the newest, 126/80, pulse 61, as "
        "your reading after training.")
    assert w.summary.post_sbp.text() == ""
    with Store.open(tmp_path / "data") as store:
        rows = store.list_bp_readings()
    assert [(r.sbp, r.context, r.session_id, r.time_source) for r in rows] == [
        (141, "rest", None, "cuff"), (128, "pre", sid, "cuff"), (126, "post", sid, "cuff")]


def test_history_reads_the_measurement_weeks_readings_at_rest(
        qtbot, world_and_window: tuple[VirtualBleWorld, MainWindow],  # type: ignore[no-untyped-def]
        tmp_path: Path) -> None:
    world, w = world_and_window
    add_cuff(world, w, BpCuffPeripheral([measured(135, 86, 66, dt.timedelta(days=2)),
                                         measured(131, 84, 65, dt.timedelta(days=1))],
                                        hang_up=True))
    w.show_page("history")
    history = w.history
    qtbot.waitUntil(lambda: history.data is not None and not history.loading,
                    timeout=SAFETY_MS)
    text = press_and_wait(qtbot, history.cuff)
    assert text == "Found 2 new readings; the newest is 131/84, pulse 65."
    qtbot.waitUntil(lambda: history.data is not None and len(history.data.bp) == 2,
                    timeout=SAFETY_MS)
    assert history.bp_text.text().startswith("Latest: 131/84 mmHg, pulse 65")
    with Store.open(tmp_path / "data") as store:
        assert {r.context for r in store.list_bp_readings()} == {"rest"}


def test_an_old_reading_is_not_filled_in_and_no_cuff_is_said_plainly(
        qtbot, world_and_window: tuple[VirtualBleWorld, MainWindow]) -> None:  # type: ignore[no-untyped-def]
    world, w = world_and_window
    w.prepare_session("sim")
    control = w.before.cuff
    control.scan_s = 0.5  # nothing to find: the scan ends empty whatever the speed
    assert press_and_wait(qtbot, control) == cuff_reader.NOT_FOUND
    add_cuff(world, w, BpCuffPeripheral([measured(128, 82, 64, dt.timedelta(hours=3))],
                                        hang_up=True))
    control.scan_s = cuff_reader.SCAN_S
    text = press_and_wait(qtbot, control)
    assert text.startswith("Found 1 new reading, but the newest (128/82, pulse 64, ")
    assert text.endswith("was not taken just now. Measure now and press \u201cRead from "
                         "cuff\u201d again, or type the numbers.")
    assert w.before.sbp.text() == ""
    # A new session's page starts clean.
    w.prepare_session("sim")
    assert not control.status.isVisible()
