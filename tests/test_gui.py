"""The desktop app driven as a user would, off-screen, its sessions stepped frame by frame."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from gui_support import STEP_S, run_until, wait_summary
from PyQt6.QtCore import Qt

from isogrip.ble_device.scanner import FoundDevice
from isogrip.bp_check import BpCheck, BpEntry, BpLimits
from isogrip.errors import DeviceError, DeviceErrorReason
from isogrip.protocols.events import Command, Phase
from isogrip.settings import Settings, load_settings, save_settings
from isogrip.signal.units import KGF_N, Unit
from isogrip.storage.store import Store
from isogrip.types import Hand
from isogrip.ui.device_screen import SIM
from isogrip.ui.main_window import MainWindow


def skip_rests(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Press Space in every rest (exercises the key and keeps the test short)."""
    def press() -> None:
        snap = window.controller.snapshot
        if window.controller.running and snap is not None and not snap.paused and \
                snap.phase in (Phase.MVC_REST, Phase.REST, Phase.PREPARE):
            qtbot.keyClick(window, Qt.Key.Key_Space)

    window.controller.frame.connect(lambda *_: press())


def start_session(window: MainWindow, qtbot, spec: str | None = None) -> None:  # type: ignore[no-untyped-def]
    if spec is None:
        qtbot.keyClick(window, Qt.Key.Key_Space)  # Device page: start with the selection
    else:
        window.prepare_session(spec)
    assert window.current_page() == "before"
    qtbot.mouseClick(window.before.begin_btn, Qt.MouseButton.LeftButton)


def banners_shown(window: MainWindow) -> list[str]:
    """Every frame's device banner text while it is visible (a list that fills)."""
    banners: list[str] = []
    window.controller.frame.connect(
        lambda *_: banners.append(window.train.banner.text())
        if window.train.banner.isVisible() else None)
    return banners




def test_complete_session_through_the_gui(
        window: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seen_train: dict[str, str] = {}
    seen_cal: dict[str, str] = {}

    def watch(*_: object) -> None:
        page = window.current_page()
        snap = window.controller.snapshot
        if page == "train" and window.train.title.text().startswith("Hold 2 of 4") and \
                snap is not None and snap.phase is Phase.HOLD:
            seen_train.setdefault("title", window.train.title.text())
            seen_train.setdefault("countdown", window.train.countdown.text())
            if window.train.cue.text().strip():
                seen_train.setdefault("cue", window.train.cue.text())
        if page == "calibrate" and window.calibrate.encourage.text():
            seen_cal.setdefault("encourage", window.calibrate.encourage.text())
            seen_cal.setdefault("instruction", window.calibrate.instruction.text())

    window.controller.frame.connect(watch)
    skip_rests(window, qtbot)
    assert window.current_page() == "device"
    start_session(window, qtbot)
    wait_summary(window, qtbot)

    # Screens in the order a participant meets them.
    log = window.screen_log
    assert log[:2] == ["device", "before"]
    assert log[log.index("before") + 1] == "calibrate"
    assert log[-1] == "summary"
    assert log.index("train") > log.index("calibrate")
    assert "calibrate" not in log[log.index("train"):]

    # What the screens showed.
    assert seen_cal["instruction"] == "Squeeze as hard as you can!"
    assert "harder" in seen_cal["encourage"].lower()
    assert seen_train["title"] == "Hold 2 of 4 \u00b7 LEFT hand"  # alternating, right first
    assert ":" in seen_train["countdown"]
    assert window.calibrate.table.rowCount() >= 6  # at least 3 squeezes per hand

    # What the store holds, and that the summary shows the same numbers.
    result = window.last_result
    assert result is not None and result.status == "complete"
    store = Store.open(tmp_path / "data")
    info = store.get_session_info(result.session_id)
    assert info.status == "complete"
    holds = [h for h in store.load_holds(result.session_id) if h.completed]
    assert [h.rep for h in holds] == [1, 2, 3, 4]
    assert [h.hand for h in holds] == ["right", "left", "right", "left"]
    mvc = {m.hand: m.mvc_n for m in store.load_mvc(result.session_id)}
    assert set(mvc) == {"left", "right"} and all(v > 10 * KGF_N for v in mvc.values())
    assert store.count_samples(result.session_id) > 40_000
    table = window.summary.table
    assert table.rowCount() == 4
    for i, h in enumerate(holds):
        assert table.item(i, 2).text() == f"{h.time_in_band_pct:.0f} %"
        assert table.item(i, 3).text() == f"{h.mean_pct_mvc:.1f} %"
    assert 20 < holds[0].mean_pct_mvc < 40  # the participant followed the 30 % band
    for hand in ("LEFT", "RIGHT"):
        kg = mvc[hand.lower()] / KGF_N
        assert f"{hand} hand: {kg:.1f} kg" in window.summary.mvc_text.text()
    assert window.summary.title.text() == "Session complete. Well done!"
    assert window.summary.plots.count() == 4
    store.close()


def one_hold_window(qtbot, tmp_path: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    """A shown, stepped window whose protocol is a single 40 s hold (short sessions)."""
    proto = tmp_path / "one-hold.toml"
    proto.write_text('[protocol]\nname = "one-hold"\n[holds]\nreps = 1\nduration_s = 40\n'
                     '[timing]\nprepare_s = 1\nrest_after_mvc_s = 2\n')
    settings = tmp_path / "settings.json"
    save_settings(Settings(first_run_done=True, protocol=str(proto)), settings)
    window = MainWindow(settings_file=settings, data_dir=tmp_path / "data", frame_step_s=STEP_S)
    window.confirm = lambda title, text: True  # type: ignore[method-assign]
    qtbot.addWidget(window)
    window.show()
    return window


def test_slow_frames_slow_the_session_down_and_never_make_it_jump(
        qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # What the session tests here rest on: every frame shows the session one step
    # on, however long the frames take (here every fourth takes 50 ms more, as on a
    # loaded machine), so what they show does not depend on the machine's speed.
    window = one_hold_window(qtbot, tmp_path)
    seen: list[float] = []

    def slow(snap, _events) -> None:  # type: ignore[no-untyped-def]
        if snap.phase is not Phase.IDLE and not snap.phase.finished:
            seen.append(snap.t)
        if len(seen) % 4 == 0:
            time.sleep(0.05)

    window.controller.frame.connect(slow)
    window.pending_spec = "sim:good?seed=3"
    window.begin_session(None, {Hand.LEFT: 30 * KGF_N, Hand.RIGHT: 32 * KGF_N})
    wait_summary(window, qtbot)
    assert len(seen) >= 40 / STEP_S
    steps = np.diff(seen)
    assert steps.min() > STEP_S - 0.15 and steps.max() < STEP_S + 0.15, steps


def test_device_drop_shows_reconnecting_and_the_session_completes(
        qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # One 40 s hold with an 8 s drop (shorter than the 10 s that pauses a hold): the
    # session is stepped frame by frame, so the drop spans 8 s / STEP_S frames on any
    # machine, however busy.
    window = one_hold_window(qtbot, tmp_path)
    banners = banners_shown(window)
    known = {Hand.LEFT: 30 * KGF_N, Hand.RIGHT: 32 * KGF_N}
    window.pending_spec = "sim:good?seed=3&disconnect_at=15&disconnect_s=8"
    window.begin_session(None, known)
    assert window.current_page() == "train"
    wait_summary(window, qtbot)
    reconnecting = sum("Reconnecting" in b for b in banners)
    assert reconnecting >= 4  # about 8 s / STEP_S frames
    assert not window.train.banner.isVisible()
    store = Store.open(tmp_path / "data")
    sid = window.last_result.session_id  # type: ignore[union-attr]
    kinds = [e.kind for e in store.load_events(sid)]
    assert "device_disconnected" in kinds and "device_reconnected" in kinds
    assert store.get_session_info(sid).status == "complete"
    reused = store.load_mvc(sid)
    assert {m.hand: m.flags for m in reused} == {"left": ["reused"], "right": ["reused"]}
    assert "(from an earlier session)" in window.summary.mvc_text.text()
    store.close()


def test_a_device_that_falls_silent_pauses_then_stops_and_says_why(
        window: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Connected, but nothing from 30 s on (hold 1): the hold pauses after 10 s of
    # silence with a banner saying so, and after 2 minutes the session stops.
    banners = banners_shown(window)
    known = {Hand.LEFT: 30 * KGF_N, Hand.RIGHT: 32 * KGF_N}
    window.pending_spec = "sim:good?seed=3&silent_from=30"
    window.begin_session(None, known)
    wait_summary(window, qtbot)
    assert any("has sent no force readings for 10 s, so the session is paused" in b
               for b in banners)
    assert window.summary.title.text() == "Session stopped early"
    assert "No force readings from the device for 2 minutes." in window.summary.subtitle.text()
    outcome = window.summary.table.item(0, window.summary.table.columnCount() - 1).text()
    assert outcome.startswith("stopped after ")  # the hold the silence ended


def test_when_the_data_is_back_the_gui_says_so_and_resume_repeats_the_hold(
        window: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Silent from 30 s (in hold 1) for 15 s: paused at 10 s of silence; when the data
    # is back the banner says so and waits for the user, and P repeats the hold.
    from isogrip.ui.session_flow import BACK_WHILE_PAUSED

    skip_rests(window, qtbot)
    known = {Hand.LEFT: 30 * KGF_N, Hand.RIGHT: 32 * KGF_N}
    window.pending_spec = "sim:good?seed=3&silent_from=30&silent_s=15"
    window.begin_session(None, known)
    snap = run_until(window, qtbot, lambda _: window.train.banner.isVisible()
                     and window.train.banner.text() == BACK_WHILE_PAUSED)
    assert snap.paused
    qtbot.keyClick(window, Qt.Key.Key_P)
    run_until(window, qtbot, lambda _: not window.train.banner.isVisible())
    wait_summary(window, qtbot)
    store = Store.open(tmp_path / "data")
    sid = window.last_result.session_id  # type: ignore[union-attr]
    assert store.get_session_info(sid).status == "complete"
    first = [(h.attempt, h.completed) for h in store.load_holds(sid) if h.rep == 1]
    assert first == [(1, False), (2, True)]
    store.close()


def test_escape_stops_after_confirmation_and_keeps_the_recording(
        window: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    answers: list[str] = []
    window.confirm = lambda title, text: answers.append(title) or len(answers) > 1
    known = {Hand.LEFT: 30 * KGF_N, Hand.RIGHT: 32 * KGF_N}
    window.pending_spec = "sim:good?seed=1"
    window.begin_session(None, known)
    snap = run_until(window, qtbot, lambda s: s.phase is Phase.HOLD)
    qtbot.keyClick(window, Qt.Key.Key_Escape)  # first answer: No -> keeps going
    run_until(window, qtbot, lambda s: s.t >= snap.t + 5)  # 5 s of the hold later
    assert window.controller.running
    qtbot.keyClick(window, Qt.Key.Key_Escape)  # second answer: Yes
    wait_summary(window, qtbot)
    assert answers == ["Stop the session?", "Stop the session?"]
    assert window.summary.title.text() == "Session stopped early"
    store = Store.open(tmp_path / "data")
    sid = window.last_result.session_id  # type: ignore[union-attr]
    assert store.get_session_info(sid).status == "aborted"
    assert store.count_samples(sid) > 100
    holds = store.load_holds(sid)
    assert len(holds) == 1 and not holds[0].completed
    store.close()


def test_closing_the_window_mid_session_asks_then_keeps_everything(
        qtbot, tmp_path: Path, settings_file: Path) -> None:  # type: ignore[no-untyped-def]
    w = MainWindow(settings_file=settings_file, data_dir=tmp_path / "data",
                   frame_step_s=STEP_S)
    qtbot.addWidget(w)
    w.show()
    answers = iter([False, True])
    w.confirm = lambda title, text: next(answers)
    w.pending_spec = "sim:good?seed=2"
    w.begin_session(None, None)
    run_until(w, qtbot, lambda s: s.phase is Phase.MVC_EFFORT)
    w.close()  # "No": the session goes on
    assert w.isVisible() and w.controller.running
    w.close()  # "Yes": stopped cleanly, recording kept
    assert not w.isVisible()
    assert not w.controller.running
    store = Store.open(tmp_path / "data")
    [row] = store.list_sessions()
    assert row.status == "aborted"
    assert store.count_samples(row.id) > 50
    store.close()


def test_settings_are_checked_saved_and_restored(
        qtbot, tmp_path: Path, settings_file: Path) -> None:  # type: ignore[no-untyped-def]
    w = MainWindow(settings_file=settings_file, data_dir=tmp_path / "data")
    qtbot.addWidget(w)
    w.show_page("settings")
    page = w.settings_page
    page.participant.setText("John Smith")
    qtbot.mouseClick(page.save_btn, Qt.MouseButton.LeftButton)
    assert page.message.text().startswith("Not saved: participant ID must be a short code")
    assert load_settings(settings_file)[0].participant == ""  # nothing half-saved

    page.participant.setText("P017")
    page.unit.setCurrentIndex(page.unit.findData(Unit.LBF))
    page.band_default.setChecked(False)
    page.band.setValue(5.0)
    page.large_text.setChecked(True)
    page.volume.setValue(40)
    page.protocol.setCurrentIndex(page.protocol.findData("ihg-4x2-30-single-hand"))
    qtbot.mouseClick(page.save_btn, Qt.MouseButton.LeftButton)
    assert page.message.text() == "Saved."
    on_disk = json.loads(settings_file.read_text())
    assert on_disk["participant"] == "P017" and on_disk["unit"] == "lb"
    assert on_disk["band_pct"] == 5.0 and on_disk["large_text"] is True
    assert on_disk["volume"] == 0.4 and on_disk["protocol"] == "ihg-4x2-30-single-hand"
    assert w.session_protocol().green_pct == 5.0
    assert settings_file.stat().st_mode & 0o077 == 0
    w.close()

    again = MainWindow(settings_file=settings_file, data_dir=tmp_path / "data")
    qtbot.addWidget(again)
    again.show_page("settings")
    p2 = again.settings_page
    assert p2.participant.text() == "P017"
    assert p2.unit.currentData() is Unit.LBF
    assert not p2.band_default.isChecked() and p2.band.value() == 5.0
    assert p2.large_text.isChecked() and p2.volume.value() == 40
    assert p2.protocol.currentData() == "ihg-4x2-30-single-hand"
    assert again.status_text.text() == "participant P017"
    again.close()


def test_damaged_settings_file_opens_with_defaults_and_says_so(
        qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "settings.json"
    path.write_text('{"unit": "stone", "volume": 0.3, "first_run_done": true}')
    w = MainWindow(settings_file=path, data_dir=tmp_path / "data")
    qtbot.addWidget(w)
    assert w.settings.unit is Unit.KGF and w.settings.volume == 0.3
    assert "unit" in w.device.message.text() and "defaults" in w.device.message.text()
    w.close()


def test_first_run_explains_then_remembers(
        qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "fresh" / "settings.json"
    w = MainWindow(settings_file=path, data_dir=tmp_path / "data")
    qtbot.addWidget(w)
    assert w.current_page() == "welcome"
    texts = " ".join(lbl.text() for lbl in w.welcome.findChildren(type(w.status_text)))
    assert "not a medical device" in texts
    qtbot.mouseClick(w.welcome.ok_btn, Qt.MouseButton.LeftButton)
    assert w.current_page() == "device"
    assert load_settings(path)[0].first_run_done
    w.close()


def test_high_blood_pressure_advises_against_training(
        window: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    started: list[object] = []
    window.before.begin.connect(lambda bp, reuse: started.append(bp))
    window.prepare_session("sim")
    page = window.before
    page.sbp.setText("150")
    page.dbp.setText("")
    qtbot.mouseClick(page.begin_btn, Qt.MouseButton.LeftButton)
    assert "Enter both numbers" in page.message.text() and not started
    page.dbp.setText("112")
    page.pulse.setText("70")
    qtbot.mouseClick(page.begin_btn, Qt.MouseButton.LeftButton)
    assert not started
    assert "do not train now" in page.message.text().lower()
    assert "150/112" in page.message.text()
    assert page.begin_btn.text().startswith("Train anyway")
    window.controller.frame.connect(lambda *_: window.controller.command(Command.ABORT))
    qtbot.mouseClick(page.begin_btn, Qt.MouseButton.LeftButton)  # deliberate second press
    assert started == [BpCheck(BpEntry(150, 112, 70), BpLimits(180, 110), trained_anyway=True)]
    wait_summary(window, qtbot)
    summary = window.summary
    summary.post_sbp.setText("139")
    summary.post_dbp.setText("")
    qtbot.mouseClick(summary.post_btn, Qt.MouseButton.LeftButton)
    assert summary.note.text().startswith("Not saved:")
    summary.post_dbp.setText("86")
    qtbot.mouseClick(summary.post_btn, Qt.MouseButton.LeftButton)
    assert summary.note.text() == "Saved 139/86 mmHg after training."
    sid = window.last_result.session_id  # type: ignore[union-attr]
    store = Store.open(tmp_path / "data")
    pre, post = store.list_bp_readings()
    assert (pre.sbp, pre.dbp, pre.pulse, pre.context) == (150, 112, 70, "pre")
    assert (post.sbp, post.dbp, post.context) == (139, 86, "post")
    assert pre.session_id == post.session_id == sid  # both linked to the session
    store.close()


def test_history_lists_sessions_and_opens_a_summary(
        window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    known = {Hand.LEFT: 30 * KGF_N, Hand.RIGHT: 32 * KGF_N}
    skip_rests(window, qtbot)
    window.pending_spec = "sim:good?seed=4"
    window.begin_session(None, known)
    wait_summary(window, qtbot)
    sid = window.last_result.session_id  # type: ignore[union-attr]
    window.show_page("history")
    hist = window.history
    qtbot.waitUntil(lambda: hist.data is not None and not hist.loading, timeout=10_000)
    assert hist.table.rowCount() == 1
    assert hist.table.item(0, 1).text() == "complete"
    assert hist.table.item(0, 2).text() == "4"
    assert hist.table.item(0, 3).text() == "30.0 kg"
    assert hist.adherence_text.text().startswith("This week: 1 of 3 sessions")
    hist.bp.sbp.setText("131")
    hist.bp.dbp.setText("84")
    qtbot.mouseClick(hist.bp.add_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not hist.loading and hist.data is not None
                    and len(hist.data.bp) == 1, timeout=10_000)
    assert "Latest: 131/84 mmHg" in hist.bp_text.text()
    hist.bp.sbp.setText("84")
    hist.bp.dbp.setText("131")
    qtbot.mouseClick(hist.bp.add_btn, Qt.MouseButton.LeftButton)
    assert hist.bp_text.text().startswith("Not saved:")
    hist.table.selectRow(0)
    qtbot.mouseClick(hist.open_btn, Qt.MouseButton.LeftButton)
    assert window.current_page() == "summary"
    qtbot.waitUntil(lambda: window.summary.data is not None
                    and window.summary.data.info.id == sid, timeout=10_000)


def test_export_runs_in_the_background_and_writes_the_files(
        window: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window.controller.frame.connect(lambda *_: window.controller.command(Command.ABORT))
    window.pending_spec = "sim"
    window.begin_session(None, None)
    wait_summary(window, qtbot)
    out = tmp_path / "exports"
    out.mkdir()
    window.summary.choose_folder = lambda: out
    qtbot.mouseClick(window.summary.export_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.summary.note.text().startswith("Saved"), timeout=10_000)
    folder = out / f"isogrip-session-{window.last_result.session_id}"  # type: ignore[union-attr]
    assert sorted(p.name for p in folder.iterdir()) == ["events.csv", "samples.csv",
                                                        "summary.json"]
    window.summary.format.setCurrentIndex(window.summary.format.findData("parquet"))
    qtbot.mouseClick(window.summary.export_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (folder / "samples.parquet").exists()
                    and window.summary.export_btn.isEnabled(), timeout=10_000)
    pdf = tmp_path / "report.pdf"
    window.summary.choose_pdf = lambda: pdf
    qtbot.mouseClick(window.summary.report_btn, Qt.MouseButton.LeftButton)
    assert not window.summary.report_btn.isEnabled()  # working, window still responsive
    qtbot.waitUntil(lambda: window.summary.note.text().startswith("Report saved"),
                    timeout=60_000)
    assert pdf.read_bytes().startswith(b"%PDF")


def test_device_screen_connects_reads_force_tares_and_disconnects(
        window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    dev = window.device
    assert dev.table.item(0, 0).text() == "Simulated device"  # always offered first
    dev.table.selectRow(0)
    qtbot.mouseClick(dev.connect_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dev.status.text().startswith("Connected:"), timeout=10_000)
    assert "battery" in dev.status.text()
    assert dev.table.item(0, 3).text().endswith("%")
    qtbot.waitUntil(lambda: dev.readout.text().endswith(" kg"), timeout=5_000)
    value = float(dev.readout.text().split()[0])
    assert -1.0 < value < 2.0  # a resting hand reads about zero
    qtbot.mouseClick(dev.tare_btn, Qt.MouseButton.LeftButton)
    assert dev.message.text().startswith("Zeroed")
    qtbot.mouseClick(dev.disconnect_btn, Qt.MouseButton.LeftButton)
    assert dev.status.text() == "Not connected" and dev.preview is None
    assert not dev.tare_btn.isEnabled()


def test_device_screen_reports_a_lost_device(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    dev = window.device
    dev.found = [SIM, FoundDevice("Flaky", "sim", "simulated", "x", -50)]
    dev.spec_of = lambda d: "sim:good?disconnect_at=0.3&disconnect_s=60"  # type: ignore[method-assign]
    dev.table.selectRow(0)
    dev.connect_selected()
    qtbot.waitUntil(lambda: "disconnected" in dev.message.text(), timeout=10_000)
    assert dev.preview is None and dev.status.text() == "Not connected"


def test_scan_results_and_failures_are_explained(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    dev = window.device

    def off() -> list[FoundDevice]:
        raise DeviceError("Bluetooth scan: Bluetooth is switched off. Turn it on in the "
                          "system settings and try again.", DeviceErrorReason.BLUETOOTH_OFF)

    dev._scanner = off
    qtbot.mouseClick(dev.scan_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "switched off" in dev.message.text(), timeout=5_000)
    assert dev.scan_btn.isEnabled()
    dev._scanner = lambda: []
    dev.start_scan()
    qtbot.waitUntil(lambda: dev.message.text().startswith("No handgrip devices"), timeout=5_000)
    assert dev.table.rowCount() == 1
    dev._scanner = lambda: [FoundDevice("Progressor_7", "progressor", "Tindeq Progressor",
                                        "AA:BB:CC:DD:EE:01", -82)]
    dev.start_scan()
    qtbot.waitUntil(lambda: dev.table.rowCount() == 2, timeout=5_000)
    assert [dev.table.item(1, j).text() for j in range(4)] == [
        "Progressor_7", "Tindeq Progressor", "weak (-82 dBm)", "shown when connected"]
    assert "move it closer" in dev.message.text()
    assert dev.selected() is not None and dev.spec_of(dev.selected()) == \
        "progressor:AA:BB:CC:DD:EE:01"


def test_pause_repeats_the_hold_and_redo_repeats_a_squeeze(
        window: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seen: dict[str, object] = {}
    cal = window.calibrate

    def driver(snap, _events) -> None:  # type: ignore[no-untyped-def]
        phase = snap.phase
        if phase is Phase.COUNTDOWN and snap.stage is not None and snap.stage.value == "mvc":
            seen.setdefault("count", cal.instruction.text())
        if phase is Phase.MVC_REST and "redo" not in seen and cal.trials:
            seen["redo"] = len(cal.trials)
            qtbot.mouseClick(cal.redo_btn, Qt.MouseButton.LeftButton)
        elif phase is Phase.HOLD and snap.rep == 1 and "paused" not in seen and \
                snap.time_left_s is not None and snap.time_left_s < 100:
            seen["paused"] = True
            qtbot.keyClick(window, Qt.Key.Key_P)
        elif snap.paused and "resumed" not in seen:
            seen["resumed"] = (window.train.title.text(), window.train.continue_btn.isVisible())
            qtbot.keyClick(window, Qt.Key.Key_Space)
        elif not snap.paused and phase in (Phase.MVC_REST, Phase.REST, Phase.PREPARE):
            qtbot.keyClick(window, Qt.Key.Key_Space)

    window.controller.frame.connect(driver)
    window.pending_spec = "sim:good?seed=8"
    window.begin_session(None, None)
    wait_summary(window, qtbot)
    assert seen["count"] in {"1", "2", "3"}  # the 3-2-1 countdown, as digits
    title, continue_visible = seen["resumed"]  # type: ignore[misc]
    assert title.startswith("Paused") and continue_visible
    assert any("(repeated)" in cal.table.item(i, 2).text() for i in range(cal.table.rowCount()))
    store = Store.open(tmp_path / "data")
    sid = window.last_result.session_id  # type: ignore[union-attr]
    holds = store.load_holds(sid)
    first = [(h.attempt, h.completed) for h in holds if h.rep == 1]
    assert first == [(1, False), (2, True)]  # the paused hold was repeated
    assert sum(h.completed for h in holds) == 4
    trials = store.load_mvc_trials(sid)
    assert any(not t.used for t in trials)  # the redone squeeze stays on record, unused
    store.close()


def test_a_session_that_cannot_start_says_why(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.pending_spec = "sim:grumpy"
    window.begin_session(None, None)
    assert window.current_page() == "device"
    assert "grumpy" in window.device.message.text()
    assert not window.controller.running


def test_settings_protocol_file_and_data_folder(
        qtbot, tmp_path: Path, settings_file: Path,  # type: ignore[no-untyped-def]
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISOGRIP_DATA_DIR", str(tmp_path / "default"))
    w = MainWindow(settings_file=settings_file)  # no --data-dir: Settings decide
    assert w.store.path.parent == tmp_path / "default"
    qtbot.addWidget(w)
    page = w.settings_page
    w.show_page("settings")
    bad = tmp_path / "bad.toml"
    bad.write_text('[protocol]\nname = "x"\n[holds]\nduration_s = -5\n')
    page.choose_file = lambda: str(bad)
    qtbot.mouseClick(page.protocol_file_btn, Qt.MouseButton.LeftButton)
    assert page.message.text().startswith("That protocol file cannot be used:")
    assert "duration_s" in page.message.text()
    good = tmp_path / "short.toml"
    good.write_text('[protocol]\nname = "short"\n[holds]\nreps = 2\nduration_s = 30\n')
    page.choose_file = lambda: str(good)
    qtbot.mouseClick(page.protocol_file_btn, Qt.MouseButton.LeftButton)
    assert page.protocol.currentData() == str(good)

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    page.data_dir.setText(str(blocker / "data"))
    qtbot.mouseClick(page.save_btn, Qt.MouseButton.LeftButton)
    assert "cannot be used" in page.message.text()
    assert load_settings(settings_file)[0].data_dir is None  # the old folder is kept
    page.data_dir.setText(str(tmp_path / "elsewhere"))
    qtbot.mouseClick(page.save_btn, Qt.MouseButton.LeftButton)
    assert w.store.path.parent == tmp_path / "elsewhere"
    saved = load_settings(settings_file)[0]
    assert saved.data_dir == str(tmp_path / "elsewhere") and saved.protocol == str(good)
    assert w.session_protocol().reps == 2
    w.close()


def test_sham_protocol_looks_like_the_real_one_and_hides_intensity(
        qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "settings.json"
    save_settings(Settings(first_run_done=True, protocol="ihg-4x2-5-sham",
                           protocol_locked=True), path)
    w = MainWindow(settings_file=path, data_dir=tmp_path / "data", frame_step_s=STEP_S)
    qtbot.addWidget(w)
    w.confirm = lambda title, text: True
    w.show_page("settings")
    assert not w.settings_page.protocol.isEnabled()  # locked by the study team
    seen: dict[str, object] = {}

    def watch(snap, _events) -> None:  # type: ignore[no-untyped-def]
        if snap.phase is Phase.HOLD and "target" not in seen and snap.mvc_n:
            seen["target"] = w.train.gauge.target
            seen["mvc"] = snap.mvc_n
            seen["detail"] = w.train.detail.text()
            w.controller.command(Command.ABORT)

    w.controller.frame.connect(watch)
    known = {Hand.LEFT: 30 * KGF_N, Hand.RIGHT: 32 * KGF_N}
    w.pending_spec = "sim:good?seed=9"
    w.begin_session(None, known)
    wait_summary(w, qtbot)
    shown_kg = float(seen["target"])  # type: ignore[arg-type]
    true_mvc_kg = float(seen["mvc"]) / KGF_N  # type: ignore[arg-type]
    assert abs(shown_kg - 0.30 * true_mvc_kg) < 0.02 * true_mvc_kg  # looks like 30 %
    # The shown % like the active arm (the first hold frame is the start of the ramp;
    # tests/test_sham_blinding.py checks the values through whole holds).
    import re

    shown_pct = re.search(r"(\d+) % of your maximum", str(seen["detail"]))
    assert shown_pct is not None and 0 <= int(shown_pct[1]) <= 35, seen["detail"]
    store = Store.open(tmp_path / "data")
    info = store.get_session_info(w.last_result.session_id)  # type: ignore[union-attr]
    assert info.protocol["target_pct"] == 5.0 and info.protocol["hide_intensity"]
    [hold] = store.load_holds(info.id)
    assert abs(hold.target_n - 0.05 * 32 * KGF_N) < 1e-6  # the true target is recorded
    store.close()
    w.close()
