"""Nothing recorded is hidden: every hold attempt on the Summary screen and in the
report, and the simulated participant chosen on the Device screen is the one that runs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
from gui_support import STEP_S, wait_summary
from hold_records import partial_metrics
from PyQt6.QtCore import Qt

from isogrip.protocols.events import Command, Phase
from isogrip.protocols.records import HoldFinished
from isogrip.signal.units import KGF_N
from isogrip.storage.export import session_summary
from isogrip.storage.recorder import Recorder
from isogrip.storage.store import Store
from isogrip.types import Hand
from isogrip.ui.main_window import MainWindow
from isogrip.ui.report import hold_table_rows
from isogrip.ui.summary_screen import HOLD_COLUMNS, SummaryScreen, load_session_data

T0 = 500.0
OUTCOME = HOLD_COLUMNS.index("Outcome")








def record_attempts(store: Store) -> int:
    """Hold 1 interrupted after 12 s and repeated, then hold 2 stopped after 33.5 s."""
    sid = store.create_session(
        started_at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), protocol_name="test",
        protocol={"name": "test", "reps": 4}, device="sim", participant=None,
        app_version="0.1.0", t0_s=T0, device_info={"kind": "sim"})
    rec = Recorder(store, sid)
    t = T0 + np.arange(0.0, 400.0, 0.25)
    rec.add_samples(t, None, np.full(t.size, 90.0))
    m = partial_metrics(time_in_band_pct=80.0, mean_pct_mvc=30.0, cv_mean_pct=2.0,
                        drift_pct_mvc_per_min=0.1, gap_s=0.0)
    for rep, hand, go, end, completed in [(1, Hand.RIGHT, 10.0, 22.0, False),
                                          (1, Hand.RIGHT, 40.0, 160.0, True),
                                          (2, Hand.LEFT, 220.0, 253.5, False)]:
        rec.add(HoldFinished(t=T0 + end, rep=rep, hand=hand, t_go_s=T0 + go,
                             t_end_s=T0 + end, target_n=90.0, band_low_n=84.0,
                             band_high_n=96.0, mvc_n=300.0, completed=completed, metrics=m))
    rec.close("aborted", ended_at=dt.datetime(2026, 3, 2, 9, 5, tzinfo=dt.UTC))
    return sid


EXPECTED = [
    ("1", "RIGHT", "interrupted after 12.0 s, repeated"),
    ("1 (try 2)", "RIGHT", "completed (repeat)"),
    ("2", "LEFT", "stopped after 33.5 s"),
]


def test_report_data_keep_every_hold_attempt(tmp_path: Path) -> None:
    with Store.open(tmp_path / "data") as store:
        sid = record_attempts(store)
        d = load_session_data(store, sid)
        summary = session_summary(store, sid)
    assert [(h.rep, h.attempt, h.completed) for h in d.holds] == [
        (1, 1, False), (1, 2, True), (2, 1, False)]
    assert len(d.holds) == len(summary["holds"])  # the same attempts as summary.json
    # Each attempt's trace covers its own go..end (4 samples per s).
    assert [len(tt) for tt, _ in d.traces] == [48, 480, 134]
    assert [r[:3] for r in hold_table_rows(d)] == EXPECTED


def test_summary_screen_shows_every_hold_attempt(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with Store.open(tmp_path / "data") as store:
        sid = record_attempts(store)
        screen = SummaryScreen()
        qtbot.addWidget(screen)
        screen.load(store, sid)
        qtbot.waitUntil(lambda: screen.data is not None, timeout=10_000)
    t = screen.table
    assert t.rowCount() == 3
    rows = [(t.item(i, 0).text(), t.item(i, 1).text(), t.item(i, OUTCOME).text())
            for i in range(3)]
    assert rows == EXPECTED
    assert screen.plots.count() == 3
    titles = [screen.plots.itemAt(i).widget().getPlotItem().titleLabel.text  # type: ignore[union-attr]
              for i in range(3)]
    assert titles[2] == "Hold 2 \u00b7 LEFT \u00b7 stopped after 33.5 s"


def test_a_session_stopped_in_hold_2_shows_both_holds(
        window: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    stopped: dict[str, Any] = {}

    def driver(snap, _events) -> None:  # type: ignore[no-untyped-def]
        if not window.controller.running or snap.paused:
            return
        if snap.phase in (Phase.REST, Phase.PREPARE):
            qtbot.keyClick(window, Qt.Key.Key_Space)
        elif snap.phase is Phase.HOLD and snap.rep == 2 and "at" not in stopped and \
                snap.time_left_s is not None and snap.time_left_s < 120 - 33:
            stopped["at"] = snap.t
            qtbot.keyClick(window, Qt.Key.Key_Escape)  # confirm answers yes

    window.controller.frame.connect(driver)
    window.pending_spec = "sim:good?seed=4"
    window.begin_session(None, {Hand.LEFT: 30 * KGF_N, Hand.RIGHT: 32 * KGF_N})
    wait_summary(window, qtbot)
    sid = window.last_result.session_id  # type: ignore[union-attr]
    with Store.open(tmp_path / "data") as store:
        summary = json.loads(json.dumps(session_summary(store, sid)))
    assert [(h["rep"], h["completed"]) for h in summary["holds"]] == [(1, True), (2, False)]
    held = summary["holds"][1]["t_end_s"] - summary["holds"][1]["t_go_s"]
    assert 33 <= held < 40
    t = window.summary.table
    assert t.rowCount() == 2
    assert t.item(0, OUTCOME).text() == "completed"
    assert t.item(1, OUTCOME).text() == f"stopped after {held:.1f} s"
    assert window.summary.plots.count() == 2


def _first_session_device(w: MainWindow, qtbot, tmp_path: Path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Start with Space on the Device page, stop at the first frame; what ran."""
    w.controller.frame.connect(lambda *_: w.controller.command(Command.ABORT))
    qtbot.keyClick(w, Qt.Key.Key_Space)  # Device page: start with the selection
    assert w.current_page() == "before"
    qtbot.mouseClick(w.before.begin_btn, Qt.MouseButton.LeftButton)
    wait_summary(w, qtbot)
    with Store.open(tmp_path / "data") as store:
        info = store.get_session_info(w.last_result.session_id)  # type: ignore[union-attr]
    return {"spec": info.device, **info.device_info}


def test_the_device_given_at_start_is_selected_connected_and_used(
        qtbot, tmp_path: Path, settings_file: Path) -> None:  # type: ignore[no-untyped-def]
    w = MainWindow(settings_file=settings_file, data_dir=tmp_path / "data", frame_step_s=STEP_S,
                   device="sim:sloppy?seed=3")
    w.confirm = lambda title, text: True
    qtbot.addWidget(w)
    w.show()
    dev = w.device
    assert dev.participant.currentText() == "Unsteady"
    assert "out of the band" in dev.participant_words.text()
    qtbot.waitUntil(lambda: dev.status.text().startswith(
        "Connected: Simulated dynamometer (sloppy)"), timeout=10_000)
    ran = _first_session_device(w, qtbot, tmp_path)
    assert ran["spec"] == "sim:sloppy?seed=3"
    assert (ran["participant"], ran["seed"]) == ("sloppy", 3)
    w.close()


def test_the_participant_chosen_on_the_device_screen_is_the_one_that_trains(
        window: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from isogrip.ble_device.participant import PRESETS

    dev = window.device
    assert [dev.participant.itemData(i) for i in range(dev.participant.count())] == \
        ["good", "sloppy", "fatigue", "weak"] == list(PRESETS)  # every preset offered
    assert dev.participant.isEnabled()  # the simulated device is selected
    dev.participant.setCurrentIndex(dev.participant.findData("fatigue"))
    assert dev.participant_words.text().startswith("Starts well, then loses strength")
    ran = _first_session_device(window, qtbot, tmp_path)
    assert (ran["spec"], ran["participant"]) == ("sim:fatigue", "fatigue")


def test_a_device_not_in_the_list_gets_an_entry_of_its_own(qtbot) -> None:  # type: ignore[no-untyped-def]
    from isogrip.ble_device.scanner import FoundDevice
    from isogrip.ui.device_screen import DeviceScreen

    dev = DeviceScreen(scanner=lambda: [FoundDevice("Progressor_7", "progressor",
                                                    "Tindeq Progressor", "AA:01", -50)])
    qtbot.addWidget(dev)
    dev.select_spec("whc06?rate=10")
    assert dev.table.rowCount() == 2 and dev.table.item(1, 0).text() == "whc06?rate=10"
    assert dev.spec_of(dev.selected()) == "whc06?rate=10"  # type: ignore[arg-type]
    assert not dev.participant.isEnabled()  # not the simulated device
    dev.start_scan()
    qtbot.waitUntil(lambda: dev.table.rowCount() == 3, timeout=5_000)
    assert dev.spec_of(dev.found[1]) == "whc06?rate=10"  # kept after a scan
    assert dev.spec_of(dev.selected()) == "progressor:AA:01"  # type: ignore[arg-type]
