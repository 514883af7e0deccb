"""Bridge between a :class:`~isogrip.runtime.SessionRuntime` and the Qt screens.

The runtime thread owns the device, the engine and the recorder. The GUI thread pulls
from it at display rate: a ``QTimer`` (~60 Hz) reads the engine snapshot and the new
events, and the screens read the ring buffer in the same frame. Nothing here blocks
the GUI thread; commands are handed to the runtime's loop and return at once.
"""

from __future__ import annotations

import logging
from typing import Any

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from isogrip.protocols.events import Command, Event, Phase, Snapshot, Stage
from isogrip.runtime import SessionConfig, SessionResult, SessionRuntime
from isogrip.storage.store import Store

log = logging.getLogger(__name__)

#: Display refresh interval, ms (~60 Hz).
FRAME_MS = 16


class SessionController(QObject):
    """Runs one session at a time for the GUI.

    Signals:
        frame(Snapshot, list): Every display frame while a session runs: the latest
            snapshot and the events since the previous frame.
        finished(object): The session ended: a :class:`SessionResult`, or the
            exception that stopped it from running.
    """

    frame = pyqtSignal(object, list)
    finished = pyqtSignal(object)

    def __init__(self, parent: QObject | None = None, **runtime_kwargs: Any) -> None:
        super().__init__(parent)
        self.runtime: SessionRuntime | None = None
        self._runtime_kwargs = runtime_kwargs
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._pull)
        self.snapshot: Snapshot | None = None
        self.result: SessionResult | None = None
        self.error: BaseException | None = None

    @property
    def running(self) -> bool:
        """Whether a session has been started and has not yet ended."""
        return self.runtime is not None and self._timer.isActive()

    def start(self, config: SessionConfig, store: Store) -> SessionRuntime:
        """Start a session (returns at once).

        Raises:
            IsogripError: The configuration is not usable (bad protocol, device spec).
            RuntimeError: A session is already running.
        """
        if self.running:
            raise RuntimeError("a session is already running")
        self.runtime = SessionRuntime(config, store, **self._runtime_kwargs)
        self.result = None
        self.error = None
        self.snapshot = None
        self.runtime.start()
        self._timer.start()
        return self.runtime

    def command(self, cmd: Command) -> None:
        """Send a command to the running session (ignored when none runs)."""
        if self.runtime is not None and self.running:
            self.runtime.command(cmd)

    def stop(self, timeout: float = 5.0) -> None:
        """Abort the session and wait (bounded) for it to close its recording.

        Used when the window closes; the last frame and ``finished`` are delivered.
        """
        if self.runtime is None or not self.running:
            return
        self.runtime.stop(timeout)
        self._pull()

    def _pull(self) -> None:
        rt = self.runtime
        if rt is None:
            return
        events: list[Event] = rt.drain_events()
        snap = rt.snapshot()
        self.snapshot = snap
        self.frame.emit(snap, events)
        if rt.done:
            self._timer.stop()
            try:
                self.result = rt.wait(0)
                outcome: object = self.result
            except BaseException as exc:  # shown to the user by the window
                self.error = exc
                outcome = exc
            self.finished.emit(outcome)

    @staticmethod
    def screen_for(snap: Snapshot, measuring_mvc: bool, holds_started: bool) -> str:
        """Which screen shows ``snap``: ``"calibrate"``, ``"train"`` or ``"summary"``.

        Args:
            snap: The engine snapshot.
            measuring_mvc: Whether this session measures an MVC (not all reused).
            holds_started: Whether a hold has begun (a pause in hold 1 is a rest with
                ``rep == 1`` too, and belongs on the Train screen).
        """
        phase = snap.phase
        if phase.finished:
            return "summary"
        if not measuring_mvc or holds_started:
            return "train"
        if phase in (Phase.IDLE, Phase.PREPARE, Phase.MVC_EFFORT, Phase.MVC_REST):
            return "calibrate"
        if phase is Phase.COUNTDOWN and snap.stage is Stage.MVC:
            return "calibrate"
        # The rest before the first hold is where the MVC is accepted or redone.
        if phase is Phase.REST and snap.rep == 1:
            return "calibrate"
        return "train"
