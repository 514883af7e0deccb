"""Render every screen of the desktop app to PNG, off-screen, in a realistic state.

Usage: ``make screenshots`` (writes ``docs/screenshots/*.png``).

The states are real: sessions run on the simulated device (accelerated), history comes
from sessions recorded into a scratch data folder, and the Device screen lists devices
as a scan would report them.
"""

from __future__ import annotations

import os
import random
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PyQt6.QtCore import QEventLoop, QTimer
from PyQt6.QtWidgets import QApplication, QWidget

from isogrip.ble_device.scanner import FoundDevice
from isogrip.programme.plan import ProgrammePlan
from isogrip.protocols.events import Phase, Snapshot
from isogrip.runtime import SessionConfig, SessionRuntime
from isogrip.settings import Settings, save_settings
from isogrip.signal.units import KGF_N
from isogrip.storage.store import Store, database_path
from isogrip.types import Hand
from isogrip.ui.bp_guide import open_bp_guide
from isogrip.ui.main_window import MainWindow

SIZE = (1280, 800)
KNOWN = {Hand.LEFT: 35.5 * KGF_N, Hand.RIGHT: 38.0 * KGF_N}
PARTICIPANT = "P017"


def wait_until(app: QApplication, cond: Callable[[], bool], timeout_s: float = 120) -> None:
    """Run the event loop until ``cond()`` holds."""
    loop = QEventLoop()
    deadline = datetime.now() + timedelta(seconds=timeout_s)

    def check() -> None:
        if cond() or datetime.now() > deadline:
            loop.quit()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(10)
    loop.exec()
    timer.stop()
    if not cond():
        raise TimeoutError("the app did not reach the state to capture")


def settle(app: QApplication, ms: int = 150) -> None:
    """Let layouts and repaints finish."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def seed_history(data_dir: Path) -> None:
    """Record eight past sessions over four weeks and a blood-pressure log."""
    store = Store.open(data_dir)
    now = datetime.now(UTC)
    days_ago = [27, 25, 22, 20, 18, 13, 11, 8, 6, 4, 1]
    for i, ago in enumerate(days_ago):
        known = {h: v * (0.9 + 0.01 * i) for h, v in KNOWN.items()}
        rt = SessionRuntime(SessionConfig(device=f"sim:good?seed={i}", speed=None,
                                          participant=PARTICIPANT,
                                          known_mvc=known if i % 3 else None), store)
        result = rt.run()
        when = now - timedelta(days=ago, hours=2)
        store.close()
        with sqlite3.connect(database_path(data_dir)) as db:
            db.execute("UPDATE sessions SET started_at = ?, ended_at = ? WHERE id = ?",
                       (when.isoformat(), (when + timedelta(minutes=15)).isoformat(),
                        result.session_id))
        store = Store.open(data_dir)
    seed_programme(store, now)
    store.close()


def seed_programme(store: Store, now: datetime) -> None:
    """A programme begun 5 weeks ago: its baseline week and training week 4 measured."""
    rng = random.Random(7)
    today = now.astimezone().date()
    started = today - timedelta(days=35)
    store.programmes.start(ProgrammePlan(), participant=PARTICIPANT, started_on=started,
                           now=now - timedelta(days=35), reason="Programme started.")
    for first, sbp, dbp in ((started, 146, 92), (today - timedelta(days=7), 140, 89)):
        for day in range(7):
            for hour, minute in ((7, 0), (7, 1), (20, 0), (20, 1)):
                local = datetime.combine(first + timedelta(days=day),
                                         time(hour, minute)).astimezone()
                store.add_bp_reading(sbp=sbp + rng.randint(-6, 6),
                                     dbp=dbp + rng.randint(-4, 4),
                                     pulse=68 + rng.randint(-4, 4), taken_at=local,
                                     context="rest", participant=PARTICIPANT)


def main(out_dir: str = "docs/screenshots") -> int:
    """Render the screens into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    scratch = Path(tempfile.mkdtemp(prefix="isogrip-shots-"))
    data = scratch / "data"
    seed_history(data)
    settings_file = scratch / "settings.json"
    save_settings(Settings(participant=PARTICIPANT), settings_file)

    def shot_widget(w: QWidget, name: str) -> None:
        settle(app)
        w.grab().save(str(out / f"{name}.png"))
        print(f"wrote {out / name}.png")

    def shot(w: MainWindow, name: str) -> None:
        shot_widget(w, name)

    w = MainWindow(settings_file=settings_file, data_dir=data, speed=8.0)
    w.resize(*SIZE)
    w.show()
    shot(w, "01-welcome")
    w.welcome.accepted.emit()

    w.device._scanner = lambda: [
        FoundDevice("Progressor_1234", "progressor", "Tindeq Progressor", "D4:3E:11:22:33:44", -58),
        FoundDevice("FORCE BOARD", "forceboard", "PitchSix Force Board", "E8:11:22:33:44:55", -71),
        FoundDevice("IF_B7", "whc06", "WH-C06 scale", "C0:11:22:33:44:66", -83),
    ]
    w.device.start_scan()
    wait_until(app, lambda: len(w.device.found) > 1)
    w.device.table.selectRow(0)
    w.device.connect_selected()
    wait_until(app, lambda: w.device._connecting is None and w.device.preview is not None)
    settle(app, 600)
    shot(w, "02-device")

    w.prepare_session("sim")
    w.before.sbp.setText("184")
    w.before.dbp.setText("96")
    w.before.try_begin()
    shot(w, "03-before-high-bp")

    w.before.prepare({}, {Hand.LEFT, Hand.RIGHT}, w.settings.unit, 180, 110)
    w.before.sbp.setText("134")
    w.before.dbp.setText("86")
    w.before.try_begin()

    def snap() -> Snapshot | None:
        return w.controller.snapshot

    def effort_peak() -> bool:
        s = snap()
        return (s is not None and s.phase is Phase.MVC_EFFORT and s.trial == 2
                and s.time_left_s is not None and s.time_left_s < 2.5)

    wait_until(app, effort_peak)
    shot(w, "04-calibrate-squeeze")
    wait_until(app, lambda: (s := snap()) is not None and s.phase is Phase.REST and s.rep == 1)
    shot(w, "05-calibrate-accept")
    w.press_continue()
    wait_until(app, lambda: (s := snap()) is not None and s.phase is Phase.HOLD
               and s.rep == 2 and s.time_left_s is not None and s.time_left_s < 70)
    shot(w, "06-train-hold")
    wait_until(app, lambda: (s := snap()) is not None and s.phase is Phase.REST and s.rep == 3)
    settle(app, 400)
    shot(w, "07-train-rest")
    w.confirm = lambda title, text: True
    w.request_stop()
    wait_until(app, lambda: w.current_page() == "summary" and w.summary.data is not None)
    w.close()

    # A complete session's summary, opened from History.
    w2 = MainWindow(settings_file=settings_file, data_dir=data, speed=8.0)
    w2.resize(*SIZE)
    w2.show()
    w2.show_page("history")
    wait_until(app, lambda: w2.history.data is not None and not w2.history.loading)
    shot(w2, "15-history-change-since-baseline")
    w2.history.bp.show_view(0)
    shot(w2, "09-history")
    clock = [1000.0]
    guide = open_bp_guide(w2.history.bp, w2.store, PARTICIPANT, now=lambda: clock[0])
    guide.action_btn.click()  # start the 5 minutes
    clock[0] += 61
    guide.tick()
    shot_widget(guide, "16-bp-guide-countdown")
    guide.close()
    store = Store.open(data)
    complete = [r.id for r in store.list_sessions() if r.status == "complete"]
    store.close()
    w2.open_summary(complete[-1])
    wait_until(app, lambda: w2.summary.data is not None)
    shot(w2, "08-summary")
    w2.show_page("settings")
    shot(w2, "10-settings")

    # Reconnecting, in the large-text high-contrast look.
    w2.apply_settings(w2.settings.replace(large_text=True, high_contrast=True))
    w2.pending_spec = "sim:good?seed=3&disconnect_at=12&disconnect_s=30"
    w2.speed = 4.0
    w2.begin_session(None, dict(KNOWN))
    wait_until(app, lambda: w2.train.banner.isVisible() and (s := w2.controller.snapshot)
               is not None and s.phase is Phase.HOLD)
    settle(app, 500)
    shot(w2, "11-train-reconnecting-high-contrast")
    w2.confirm = lambda title, text: True
    w2.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
