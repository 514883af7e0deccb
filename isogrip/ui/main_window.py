"""The main window: the screens, the flow between them and the keyboard.

Flow: (first run: Welcome) -> Device -> Before you start -> Calibrate -> Train ->
Summary. History and Settings are reachable from the top bar whenever no session runs.
During a session the screen follows the engine's phase, so the participant never has
to navigate; that part of the flow, from Start to the summary, is
:class:`~isogrip.ui.session_flow.SessionFlow`'s.
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
from isogrip.device_host import DeviceHost
from isogrip.errors import DatabaseDamagedError, IsogripError
from isogrip.protocols.events import Command, Phase, Snapshot
from isogrip.protocols.model import Protocol
from isogrip.protocols.records import Event
from isogrip.runtime import SessionResult
from isogrip.settings import Settings, SettingsError, load_settings, save_settings
from isogrip.storage.recovery import start_new_database
from isogrip.storage.store import Store
from isogrip.types import Hand
from isogrip.ui.audio import CuePlayer, default_sink
from isogrip.ui.before_screen import BeforeScreen
from isogrip.ui.calibrate_screen import CalibrateScreen
from isogrip.ui.common import button, label, question_box, set_text
from isogrip.ui.cuff_reader import attach_cuff
from isogrip.ui.device_screen import DeviceScreen
from isogrip.ui.history_screen import HistoryScreen
from isogrip.ui.session_controller import SessionController
from isogrip.ui.session_flow import SessionFlow
from isogrip.ui.settings_screen import SettingsScreen
from isogrip.ui.summary_screen import SummaryScreen
from isogrip.ui.theme import palette, stylesheet
from isogrip.ui.train_screen import TrainScreen
from isogrip.ui.welcome_screen import WelcomeScreen

log = logging.getLogger(__name__)

#: Pages that belong to the "Train" tab of the top bar.
SESSION_PAGES = ("device", "before", "calibrate", "train", "summary")
PAGES = ("welcome", "device", "before", "calibrate", "train", "summary", "history", "settings")


class MainWindow(QMainWindow):
    """The isogrip desktop app.

    Args:
        settings_file: Settings file (default: the user's config folder).
        data_dir: Data folder overriding the one in Settings (``--data-dir``).
        speed: Session clock speed (1 = real time; tests and demos run faster).
        device: Device spec to preselect (``make demo`` passes ``sim``).
        confirm: Asks the user a yes/no question (default: a message box; tests
            answer for the user).
        frame_step_s: Step each session with the display, this many seconds of
            session time per frame, on virtual time (tests: what is shown never
            depends on the machine's speed; see SessionController). ``None``: sessions
            run at ``speed``.
        runtime_kwargs: Passed to every SessionRuntime (tests inject BLE backends).
    """

    def __init__(self, *, settings_file: Path | None = None, data_dir: Path | None = None,
                 speed: float | None = 1.0, device: str | None = None,
                 confirm: Callable[[str, str], bool] | None = None,
                 frame_step_s: float | None = None, **runtime_kwargs: Any) -> None:
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
        # The one thread for every device object: scans, the preview and sessions.
        self.host = DeviceHost()
        self.controller = SessionController(self, frame_step_s=frame_step_s, host=self.host,
                                            **runtime_kwargs)
        self.controller.frame.connect(self.on_frame)
        self.controller.finished.connect(self.on_finished)
        #: One session's way through the pages (see SessionFlow).
        self.flow = SessionFlow(self)
        self.pending_spec: str | None = None
        self.last_result: SessionResult | None = None
        self.last_error: BaseException | None = None
        self.screen_log: list[str] = []  # every page shown, in order (tests, debugging)

        self._build_screens(runtime_kwargs)
        attach_cuff(self, backend=runtime_kwargs.get("ble_backend"),
                    scanner_backend=runtime_kwargs.get("ble_scanner_backend"))
        self._build_layout()
        self._connect_screens()
        self._bind_keys()
        self._apply_look()
        self.settings_page.show_settings(self.settings)
        set_text(self.settings_page.audio_state, f"Sound output: {self.audio.description}.")
        if device:  # given on the command line: honour it exactly, connected
            self.device.select_spec(device)
            if self.device.selected() is not None:
                self.device.connect_selected()
        self.show_page("device" if self.settings.first_run_done else "welcome")
        self._tell_start_problems(problems)

    # ------------------------------------------------------------------ building
    def _build_screens(self, runtime_kwargs: dict[str, Any]) -> None:
        """Create every page and the stack that shows one at a time."""
        self.welcome = WelcomeScreen()
        self.device = DeviceScreen(host=self.host,
                                   ble_backend=runtime_kwargs.get("ble_backend"),
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

    def _build_layout(self) -> None:
        """The top bar (brand, Train / History / Settings, participant) over the stack."""
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

    def _connect_screens(self) -> None:
        """Wire the screens' buttons and signals to the flow."""
        self.welcome.accepted.connect(self._welcome_done)
        self.device.start_requested.connect(self.prepare_session)
        self.device.programme.start_requested.connect(self.start_programme)
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

    def _bind_keys(self) -> None:
        """Space, Esc and P work on every page of the window."""
        for key, slot in ((Qt.Key.Key_Space, self.press_continue),
                          (Qt.Key.Key_Escape, self.request_stop),
                          (Qt.Key.Key_P, self.toggle_pause)):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(slot)

    def _tell_start_problems(self, problems: list[str]) -> None:
        """Say on the Device page what went wrong before this start (settings, crash)."""
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
            self.history.load(self.store, self.settings.participant or None,
                              self.settings.bp_guideline)
        if name == "device":
            self.load_programme()
        if name == "settings":
            self.settings_page.show_settings(self.settings)
        if self.current_page() != name or not self.screen_log:
            self.screen_log.append(name)
        self.stack.setCurrentWidget(self.pages[name])
        for n, b in self.nav_buttons.items():
            b.setChecked(n == name or (n == "device" and name in SESSION_PAGES))
        self.nav_bar.setEnabled(not self.controller.running)

    def load_programme(self) -> None:
        """Show the participant's programme on the start page."""
        self.device.programme.load(self.store, self.settings.participant or None)

    def start_programme(self) -> None:
        """The user chose to start a programme: confirm, store it, show it."""
        self.device.programme.start(self.store, self.settings.participant or None,
                                    self.confirm)

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
    # The flow itself is SessionFlow's; these are the window's public face of it.
    def session_protocol(self) -> Protocol:
        """The protocol chosen in Settings with the user's band width."""
        return self.flow.session_protocol()

    def prepare_session(self, spec: str) -> None:
        """The user pressed Start: show the "Before you start" page."""
        self.flow.prepare(spec)

    def begin_session(self, bp: BpCheck | None, reuse: dict[Hand, float] | None) -> None:
        """Record the blood pressure, release the preview and start the session."""
        self.flow.begin(bp, reuse)

    def on_frame(self, snap: Snapshot, events: list[Event]) -> None:
        """One display frame from the controller."""
        self.flow.on_frame(snap, events)

    def on_finished(self, outcome: object) -> None:
        """The session ended: show its summary, or why it could not run."""
        self.flow.on_finished(outcome)

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
        self.host.close()
        self.history.shutdown()
        self.store.close()
        if event is not None:
            event.accept()
