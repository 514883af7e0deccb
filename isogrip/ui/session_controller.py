"""Bridge between a :class:`~isogrip.runtime.SessionRuntime` and the Qt screens.

The runtime thread owns the device, the engine and the recorder. The GUI thread pulls
from it at display rate: a ``QTimer`` (~60 Hz) reads the engine snapshot and the new
events, and the screens read the ring buffer in the same frame. Nothing here blocks
the GUI thread; commands are handed to the runtime's loop and return at once.

With ``frame_step_s`` (tests) the display steps the session instead of a clock: each
frame lets the session's virtual clock run one step further and the next frame is
drawn when everything up to there has run, so every frame shows the session at a known
moment on a fast or a loaded machine alike, and the session goes as fast as frames are
drawn.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
from typing import Any

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from isogrip.clock import VirtualClock
from isogrip.preview import Handover
from isogrip.protocols.events import Command, Phase, Snapshot, Stage
from isogrip.protocols.records import Event
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

    Args:
        parent: The Qt parent.
        frame_step_s: Step every session with the display: each frame advances the
            session by this many seconds of session time (which then runs on virtual
            time, whatever its config's speed). ``None``: the session's own clock.
        runtime_kwargs: Passed to every SessionRuntime.
    """

    frame = pyqtSignal(object, list)
    finished = pyqtSignal(object)
    _parked = pyqtSignal()  # from the runtime thread: a stepped session waits for a frame

    def __init__(self, parent: QObject | None = None, *, frame_step_s: float | None = None,
                 **runtime_kwargs: Any) -> None:
        super().__init__(parent)
        if frame_step_s is not None and not (frame_step_s > 0 and math.isfinite(frame_step_s)):
            raise ValueError(f"frame_step_s must be a positive number, got {frame_step_s}")
        self.runtime: SessionRuntime | None = None
        self.frame_step_s = frame_step_s
        #: With ``frame_step_s``: while true, frames go on but the session's time stands
        #: still (a test holds the session at a moment to act on it).
        self.frozen = False
        self._runtime_kwargs = runtime_kwargs
        self._stepped: VirtualClock | None = None  # the clock frames step, if any
        self._limit = 0.0  # how far the stepped clock may run
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._on_frame_due)
        # Emitted on the runtime thread, so Qt queues it to this (the GUI) thread.
        self._parked.connect(self._on_frame_due)
        self.snapshot: Snapshot | None = None
        self.result: SessionResult | None = None
        self.error: BaseException | None = None

    @property
    def running(self) -> bool:
        """Whether a session has been started and has not yet ended."""
        return self.runtime is not None and self._timer.isActive()

    def start(self, config: SessionConfig, store: Store, *,
              handover: Handover | None = None) -> SessionRuntime:
        """Start a session (returns at once), on a preview's connection if one is given.

        Raises:
            IsogripError: The configuration is not usable (bad protocol, device spec).
            RuntimeError: A session is already running.
        """
        if self.running:
            raise RuntimeError("a session is already running")
        if self.frame_step_s is not None:
            config = dataclasses.replace(config, speed=None)  # virtual time, stepped here
        self.runtime = SessionRuntime(config, store, handover=handover, **self._runtime_kwargs)
        self.result = None
        self.error = None
        self.snapshot = None
        self._stepped = None
        if self.frame_step_s is not None:
            clock = self.runtime.clock
            assert isinstance(clock, VirtualClock)  # what speed=None runs on
            self._limit = clock.now()  # the first frame shows the start
            clock.allow_until(self._limit)
            clock.on_park = self._on_park
            self._stepped = clock
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
        rt = self.runtime
        if rt is None or not self.running:
            return
        if self._stepped is None:
            rt.stop(timeout)
        else:
            # Aborted, then the stepped clock let go (the loop takes them in this
            # order): the session ends where it is and closes its recording flat out.
            rt.command(Command.ABORT)
            self._release_clock()
            with contextlib.suppress(Exception):  # bounded; _pull reports an error
                rt.wait(timeout)
        self._pull()

    def _release_clock(self) -> None:
        clock, self._stepped = self._stepped, None
        if clock is not None:
            clock.on_park = None
            clock.allow_until(math.inf)

    def _on_park(self, _limit: float) -> None:
        """The stepped clock has run up to its limit (called on the runtime thread)."""
        with contextlib.suppress(RuntimeError):  # the controller is gone: nothing to wake
            self._parked.emit()

    def _on_frame_due(self) -> None:
        """A display frame, and with frame stepping the next step of the session."""
        rt, clock = self.runtime, self._stepped
        if rt is None:
            return
        if clock is not None and not rt.done and clock.parked_at != self._limit:
            return  # mid-step: a stepped session is shown only where its steps end
        self._pull()
        clock = self._stepped  # a frame's handlers may have stopped the session
        if clock is not None and self.running and not self.frozen:
            assert self.frame_step_s is not None
            self._limit += self.frame_step_s
            clock.allow_until(self._limit)

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
            self._stepped = None
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
