"""The main window: the screens, the flow between them and the keyboard.

Flow: (first run: Welcome) -> Device -> Before you start -> Calibrate -> Train ->
Summary. History and Settings are reachable from the top bar whenever no session runs.
During a session the screen follows the engine's phase, so the participant never has
to navigate.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from isogrip.bp_check import BpCheck
from isogrip.errors import DatabaseDamagedError, IsogripError
from isogrip.protocols.events import Command, Event, EventKind, Phase, Snapshot
from isogrip.protocols.loader import load_protocol
from isogrip.protocols.model import Protocol
from isogrip.runtime import SessionConfig, SessionResult
from isogrip.settings import Settings, SettingsError, apply_band, load_settings, save_settings
from isogrip.storage.history import last_measured_mvc
from isogrip.storage.store import Store, start_new_database
from isogrip.types import Hand
from isogrip.ui.audio import CuePlayer, default_sink
from isogrip.ui.before_screen import BeforeScreen
from isogrip.ui.calibrate_screen import CalibrateScreen
from isogrip.ui.common import button, label, question_box, set_text
from isogrip.ui.device_screen import DeviceScreen, friendly_error
from isogrip.ui.history_screen import HistoryScreen
from isogrip.ui.session_controller import SessionController
from isogrip.ui.settings_screen import SettingsScreen
from isogrip.ui.summary_screen import SummaryScreen
from isogrip.ui.theme import palette, stylesheet
from isogrip.ui.train_screen import TRACE_WINDOW_S, TrainScreen
from isogrip.ui.welcome_screen import WelcomeScreen

log = logging.getLogger(__name__)

#: Pages that belong to the "Train" tab of the top bar.
SESSION_PAGES = ("device", "before", "calibrate", "train", "summary")
PAGES = ("welcome", "device", "before", "calibrate", "train", "summary", "history", "settings")
BACK_WHILE_PAUSED = ("The device is back. Resume (P) to repeat this effort, "
                     "or stop the session.")
RECONNECTING = ("Connection to the device lost. Reconnecting\u2026 "
                "Keep holding if you can; the timer keeps running.")


class MainWindow(QMainWindow):
    """The isogrip desktop app.

    Args:
        settings_file: Settings file (default: the user's config folder).
        data_dir: Data folder overriding the one in Settings (``--data-dir``).
        speed: Session clock speed (1 = real time; tests and demos run faster).
        device: Device spec to preselect (``make demo`` passes ``sim``).
        confirm: Asks the user a yes/no question (default: a message box; tests
            answer for the user).
        runtime_kwargs: Passed to every SessionRuntime (tests inject BLE backends).
    """

    def __init__(self, *, settings_file: Path | None = None, data_dir: Path | None = None,
                 speed: float | None = 1.0, device: str | None = None,
                 confirm: Callable[[str, str], bool] | None = None,
                 **runtime_kwargs: Any) -> None:
        super().__init__()
        self.setWindowTitle("isogrip \u2014 handgrip training")
        self.settings_file = settings_file
        self.settings, problems = load_settings(settings_file)
        self.data_dir_override = data_dir
        self.speed = speed
        self.confirm: Callable[[str, str], bool] = confirm or self._ask
        self.store = self._open_store()
        self.audio = CuePlayer(default_sink(), enabled=self.settings.audio,
                               volume=self.settings.volume)
        self.controller = SessionController(self, **runtime_kwargs)
        self.controller.frame.connect(self.on_frame)
        self.controller.finished.connect(self.on_finished)
        self.measuring_mvc = True
        self.holds_started = False
        self.pre_bp_id: int | None = None
        self.pending_spec: str | None = None
        self.link_message: str | None = None
        self.last_result: SessionResult | None = None
        self.last_error: BaseException | None = None
        self.screen_log: list[str] = []  # every page shown, in order (tests, debugging)

        self.welcome = WelcomeScreen()
        self.device = DeviceScreen(ble_backend=runtime_kwargs.get("ble_backend"),
                                   ble_scanner_backend=runtime_kwargs.get("ble_scanner_backend"))
        self.before = BeforeScreen()
        self.calibrate = CalibrateScreen()
        self.train = TrainScreen()
        self.summary = SummaryScreen()
        self.history = HistoryScreen()
        self.settings_page = SettingsScreen()
        self.stack = QStackedWidget()
        self.pages: dict[str, QWidget] = {}
        for name in PAGES:
            page = getattr(self, "settings_page" if name == "settings" else name)
            self.pages[name] = page
            self.stack.addWidget(page)

        self.nav = QButtonGroup(self)
        self.nav.setExclusive(False)  # session pages belong to "Train"; set by show_page
        nav_row = QHBoxLayout()
        nav_row.setContentsMargins(12, 4, 12, 0)
        brand = label("isogrip", "heading")
        nav_row.addWidget(brand)
        nav_row.addSpacing(24)
        self.nav_buttons: dict[str, QPushButton] = {}
        for name, text in (("device", "Train"), ("history", "History"),
                           ("settings", "Settings")):
            b = button(text, "nav", slot=functools.partial(self.show_page, name))
            b.setCheckable(True)
            self.nav.addButton(b)
            self.nav_buttons[name] = b
            nav_row.addWidget(b)
        nav_row.addStretch(1)
        self.status_text = label("", "muted")
        nav_row.addWidget(self.status_text)
        self.nav_bar = QWidget()
        self.nav_bar.setLayout(nav_row)
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.nav_bar)
        lay.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.resize(1280, 800)

        self.welcome.accepted.connect(self._welcome_done)
        self.device.start_requested.connect(self.prepare_session)
        self.before.begin.connect(self.begin_session)
        self.before.cancel.connect(lambda: self.show_page("device"))
        for screen in (self.calibrate, self.train):
            screen.pause_btn.clicked.connect(self.toggle_pause)
            screen.stop_btn.clicked.connect(self.request_stop)
        self.calibrate.redo_btn.clicked.connect(lambda: self.controller.command(Command.REDO_TRIAL))
        self.calibrate.accept_btn.clicked.connect(self.press_continue)
        self.train.continue_btn.clicked.connect(self.press_continue)
        self.summary.done_btn.clicked.connect(lambda: self.show_page("device"))
        self.summary.history_btn.clicked.connect(lambda: self.show_page("history"))
        self.history.open_session.connect(self.open_summary)
        self.settings_page.saved.connect(self.apply_settings)
        self.settings_page.test_sound.connect(self._test_sound)

        for key, slot in ((Qt.Key.Key_Space, self.press_continue),
                          (Qt.Key.Key_Escape, self.request_stop),
                          (Qt.Key.Key_P, self.toggle_pause)):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(slot)

        self._apply_look()
        self.settings_page.show_settings(self.settings)
        set_text(self.settings_page.audio_state, f"Sound output: {self.audio.description}.")
        if device:  # given on the command line: honour it exactly, connected
            self.device.select_spec(device)
            if self.device.selected() is not None:
                self.device.connect_selected()
        self.show_page("device" if self.settings.first_run_done else "welcome")
        notes = []
        if problems:
            notes.append("Some settings were not valid and the defaults are used: "
                         + "; ".join(problems))
        crashed = self.store.mark_interrupted()
        if crashed:
            ids = ", ".join(str(i) for i in crashed)
            notes.append(f"isogrip stopped unexpectedly during session {ids}. Everything "
                         "saved up to then is kept: open it from History to see or export it.")
        if notes:
            self.device.message.setText(" ".join(notes))

    # ------------------------------------------------------------------ plumbing
    def _open_store(self) -> Store:
        folder = self.data_dir_override or (
            Path(self.settings.data_dir) if self.settings.data_dir else None)
        try:
            return Store.open(folder)
        except DatabaseDamagedError as exc:
            if not self.confirm("The database is damaged",
                                f"{exc}\n\nStart a new, empty database now? The damaged "
                                "file is kept for recovery."):
                raise
            start_new_database(Path(exc.path))
            return Store.open(folder)

    def _ask(self, title: str, text: str) -> bool:
        return question_box(self, title, text).exec() == QMessageBox.StandardButton.Yes

    def _apply_look(self) -> None:
        s = self.settings
        pal = palette(s.high_contrast)
        app = QApplication.instance()
        sheet = stylesheet(pal, s.large_text)
        if isinstance(app, QApplication):
            app.setStyleSheet(sheet)
        for screen in (self.calibrate, self.train, self.summary, self.history):
            screen.set_palette(pal)
        self.device.unit = s.unit
        self.before.unit = s.unit
        self.summary.suggest_starter = not s.protocol_locked
        for screen in (self.calibrate, self.train, self.summary, self.history):
            screen.set_unit(s.unit)
        set_text(self.status_text, f"participant {s.participant}" if s.participant else "")

    def current_page(self) -> str:
        """Name of the page on screen."""
        w = self.stack.currentWidget()
        return next(n for n, p in self.pages.items() if p is w)

    def show_page(self, name: str) -> None:
        """Show a page (navigation is refused while a session runs)."""
        if self.controller.running and name not in ("calibrate", "train"):
            return
        if name == "history":
            self.history.load(self.store, self.settings.participant or None)
        if name == "settings":
            self.settings_page.show_settings(self.settings)
        if self.current_page() != name or not self.screen_log:
            self.screen_log.append(name)
        self.stack.setCurrentWidget(self.pages[name])
        for n, b in self.nav_buttons.items():
            b.setChecked(n == name or (n == "device" and name in SESSION_PAGES))
        self.nav_bar.setEnabled(not self.controller.running)

    def _welcome_done(self) -> None:
        self.apply_settings(self.settings.replace(first_run_done=True))
        self.show_page("device")

    def apply_settings(self, s: Settings) -> None:
        """Use and save new settings (a new data folder reopens the store)."""
        old_dir = self.settings.data_dir
        self.settings = s
        try:
            save_settings(s, self.settings_file)
        except SettingsError as exc:
            set_text(self.settings_page.message, str(exc))
        if s.data_dir != old_dir and self.data_dir_override is None:
            try:
                new_store = self._open_store()
            except IsogripError as exc:
                set_text(self.settings_page.message,
                         f"That data folder cannot be used: {exc}. The old one is kept.")
                self.settings = s.replace(data_dir=old_dir)
                save_settings(self.settings, self.settings_file)
            else:
                self.store.close()
                self.store = new_store
        self.audio.enabled = s.audio
        self.audio.volume = s.volume
        self._apply_look()

    def _test_sound(self) -> None:
        self.audio.enabled = self.settings_page.audio.isChecked()
        self.audio.volume = self.settings_page.volume.value() / 100
        self.audio.test_sound()

    # ------------------------------------------------------------------ session flow
    def session_protocol(self) -> Protocol:
        """The protocol chosen in Settings with the user's band width."""
        return apply_band(load_protocol(self.settings.protocol), self.settings.band_pct)

    def prepare_session(self, spec: str) -> None:
        """The user pressed Start: show the "Before you start" page."""
        try:
            protocol = self.session_protocol()
        except IsogripError as exc:
            set_text(self.device.message, f"The protocol cannot be used: {exc}")
            return
        self.pending_spec = spec
        hands = set(protocol.hand_sequence(self.settings.dominant))
        try:
            reusable = last_measured_mvc(self.store, self.settings.participant or None,
                                         within_days=self.settings.mvc_reuse_days)
        except IsogripError:
            reusable = {}
        self.before.prepare(reusable, hands, self.settings.unit, self.settings.sbp_limit,
                            self.settings.dbp_limit)
        self.show_page("before")

    def begin_session(self, bp: BpCheck | None, reuse: dict[Hand, float] | None) -> None:
        """Record the blood pressure, release the preview and start the session."""
        s = self.settings
        self.pre_bp_id = None
        if bp is not None:
            try:
                self.pre_bp_id = self.store.add_bp_reading(
                    sbp=bp.reading.sbp, dbp=bp.reading.dbp, pulse=bp.reading.pulse,
                    participant=s.participant or None, context="pre")
            except IsogripError as exc:
                self.before._error(str(exc))
                return
        spec = self.pending_spec or s.device
        self.device.release()
        config = SessionConfig(
            device=spec,
            protocol=self.session_protocol(),
            participant=s.participant or None,
            speed=self.speed,
            dominant=s.dominant,
            known_mvc=reuse,
            lsl=s.lsl,
            bp_check=bp,
        )
        self.measuring_mvc = reuse is None
        self.holds_started = False
        self.calibrate.reset()
        self.link_message = None
        self.train.show_link(None)
        self.last_result, self.last_error = None, None
        try:
            self.controller.start(config, self.store)
        except IsogripError as exc:
            self.show_page("device")
            set_text(self.device.message, friendly_error(exc))
            return
        if s.device != spec:
            self.apply_settings(s.replace(device=spec))
        self.show_page("calibrate" if self.measuring_mvc else "train")

    def on_frame(self, snap: Snapshot, events: list[Event]) -> None:
        """One display frame from the controller."""
        if events:
            self.audio.handle(events)
            for ev in events:
                self._on_event(ev)
        if snap.phase.finished:
            return  # the summary follows when the runtime has closed the recording
        if snap.phase is Phase.HOLD:
            self.holds_started = True
        page = SessionController.screen_for(snap, self.measuring_mvc, self.holds_started)
        if snap.phase is Phase.IDLE:
            page = "calibrate" if self.measuring_mvc else "train"
        if self.current_page() != page:
            self.show_page(page)
        if page == "calibrate":
            self.calibrate.update_frame(snap)
        else:
            rt = self.controller.runtime
            assert rt is not None
            t, f = rt.display_data(TRACE_WINDOW_S)
            self.train.update_frame(snap, t, f)
        link = self.link_message
        if link is None and snap.in_gap and snap.phase in (Phase.HOLD, Phase.MVC_EFFORT):
            link = "No signal from the device at the moment\u2026"
        self.train.show_link(link)

    def _on_event(self, ev: Event) -> None:
        if ev.kind is EventKind.PHASE and ev.data.get("phase") == Phase.HOLD.value:
            self.holds_started = True
        elif ev.kind is EventKind.MVC_TRIAL:
            self.calibrate.add_trial(ev.data)
        elif ev.kind is EventKind.MVC_RESULT:
            self.calibrate.add_result(ev.data)
        elif ev.kind is EventKind.RESUMED and self.link_message == BACK_WHILE_PAUSED:
            self.link_message = None
        elif ev.kind is EventKind.DEVICE_DISCONNECTED:
            self.link_message = (ev.message if ev.data.get("paused") else RECONNECTING)
        elif ev.kind is EventKind.DEVICE_RECONNECTED or (
                ev.kind is EventKind.DEVICE_STATUS
                and ev.data.get("status") == "data_resumed"):
            snap = self.controller.snapshot
            # Still paused for the drop: say what to do now that the device is back.
            self.link_message = BACK_WHILE_PAUSED if snap is not None and snap.paused \
                else None

    def on_finished(self, outcome: object) -> None:
        """The session ended: show its summary, or why it could not run."""
        self.nav_bar.setEnabled(True)
        if isinstance(outcome, SessionResult):
            self.last_result = outcome
            if self.pre_bp_id is not None:
                self.store.set_bp_session(self.pre_bp_id, outcome.session_id)
                self.pre_bp_id = None
            self.summary.load(self.store, outcome.session_id)
            self.show_page("summary")
            return
        self.last_error = outcome if isinstance(outcome, BaseException) else None
        self.show_page("device")
        if isinstance(outcome, IsogripError):
            text = friendly_error(outcome)
        else:
            text = f"The session stopped because of an error: {outcome}"
        set_text(self.device.message, text)

    def open_summary(self, session_id: int) -> None:
        """Show a past session's summary (from History)."""
        self.summary.load(self.store, session_id)
        self.show_page("summary")

    # ------------------------------------------------------------------ keys
    def press_continue(self) -> None:
        """Space: start, continue after a rest or resume after a pause."""
        page = self.current_page()
        if self.controller.running:
            snap = self.controller.snapshot
            if snap is None:
                return
            if snap.paused:
                self.controller.command(Command.RESUME)
            elif snap.phase in (Phase.PREPARE, Phase.REST, Phase.MVC_REST):
                self.controller.command(Command.SKIP_REST)
        elif page == "device":
            self.device.request_start()
        elif page == "before":
            self.before.try_begin()
        elif page == "welcome":
            self.welcome.accepted.emit()
        elif page == "summary":
            self.show_page("device")

    def toggle_pause(self) -> None:
        """P: pause, or resume when paused."""
        snap = self.controller.snapshot
        if self.controller.running and snap is not None:
            self.controller.command(Command.RESUME if snap.paused else Command.PAUSE)

    def request_stop(self) -> None:
        """Esc or Stop: end the session after a confirmation."""
        if not self.controller.running:
            return
        if self.confirm("Stop the session?",
                        "Stop this session now? Everything recorded so far is kept."):
            self.controller.command(Command.ABORT)

    def closeEvent(self, event: QCloseEvent | None) -> None:
        """Closing mid-session asks first, then stops cleanly and keeps the recording."""
        if self.controller.running:
            if not self.confirm("Stop the session and close?",
                                "A session is running. Stop it and close isogrip? "
                                "Everything recorded so far is kept and the session is "
                                "marked as stopped early."):
                if event is not None:
                    event.ignore()
                return
            # The window is going: no summary to load for a store about to close.
            self.controller.finished.disconnect(self.on_finished)
            self.controller.stop()
        self.device.release()
        self.history.shutdown()
        self.store.close()
        if event is not None:
            event.accept()
