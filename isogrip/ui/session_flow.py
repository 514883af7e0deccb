"""The session flow of the main window: from "Start" to the summary.

The window owns the screens and the navigation; this owns one session's way through
them: the "Before you start" page, starting the session, following the engine's phase
frame by frame (so the participant never has to navigate), the link messages while the
device drops out, and the summary or the reason it could not run. It keeps the state
only a running session needs; what tests and tools read (``pending_spec``,
``last_result``, ``last_error``) stays on the window.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING

from isogrip.bp_check import BpCheck
from isogrip.errors import IsogripError
from isogrip.programme_status import load_view, programme_protocol
from isogrip.protocols.events import Phase, Snapshot
from isogrip.protocols.loader import load_protocol
from isogrip.protocols.model import Protocol
from isogrip.protocols.records import (
    Event,
    LinkBack,
    LinkLost,
    LinkStatus,
    MvcChosen,
    MvcTrialRedone,
    MvcTrialScored,
    PhaseChanged,
    Resumed,
)
from isogrip.runtime import SessionConfig, SessionResult
from isogrip.settings import apply_band
from isogrip.storage.history import last_measured_mvc
from isogrip.types import Hand
from isogrip.ui.common import set_text
from isogrip.ui.device_words import friendly_error
from isogrip.ui.session_controller import SessionController
from isogrip.ui.train_screen import TRACE_WINDOW_S

if TYPE_CHECKING:  # the window imports this module: only the type, for mypy
    from isogrip.ui.main_window import MainWindow

BACK_WHILE_PAUSED = ("The device is back. Resume (P) to repeat this effort, "
                     "or stop the session.")
RECONNECTING = ("Connection to the device lost. Reconnecting\u2026 "
                "Keep holding if you can; the timer keeps running.")


class SessionFlow:
    """Leads one session at a time through the window's pages.

    Args:
        window: The window whose screens, store, settings and controller it uses.

    Attributes:
        measuring_mvc: Whether this session measures an MVC (not all reused).
        holds_started: Whether a hold has begun (from then on, the Train page).
        pre_bp_id: The pre-session blood pressure reading, until the session's id
            is known to link it to.
        link_message: What the Train page says about the device link (``None``:
            nothing to say).
    """

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.measuring_mvc = True
        self.holds_started = False
        self.pre_bp_id: int | None = None
        self.link_message: str | None = None

    def session_protocol(self) -> Protocol:
        """The protocol, with the user's band width.

        The programme's step if one runs (and no study has locked the protocol), else
        the one chosen in Settings.
        """
        s = self.window.settings
        if not s.protocol_locked:
            view = load_view(self.window.store, s.participant or None,
                             _dt.datetime.now().astimezone().date())
            if view is not None:
                plan = view.status.plan
                return apply_band(programme_protocol(load_protocol(plan.protocol_name),
                                                     plan, view.status.intensity_pct),
                                  s.band_pct)
        return apply_band(load_protocol(s.protocol), s.band_pct)

    def prepare(self, spec: str) -> None:
        """The user pressed Start with device ``spec``: show "Before you start"."""
        w, s = self.window, self.window.settings
        try:
            protocol = self.session_protocol()
        except IsogripError as exc:
            set_text(w.device.message, f"The protocol cannot be used: {exc}")
            return
        w.pending_spec = spec
        hands = set(protocol.hand_sequence(s.dominant))
        try:
            reusable = last_measured_mvc(w.store, s.participant or None,
                                         within_days=s.mvc_reuse_days)
        except IsogripError:
            reusable = {}
        w.before.prepare(reusable, hands, s.unit, s.sbp_limit, s.dbp_limit)
        w.show_page("before")

    def begin(self, bp: BpCheck | None, reuse: dict[Hand, float] | None) -> None:
        """Record the blood pressure, release the preview and start the session.

        Args:
            bp: The blood pressure check from "Before you start", if one was taken.
            reuse: Recent MVCs to train with (``None``: measure the MVC first).
        """
        w, s = self.window, self.window.settings
        self.pre_bp_id = None
        if bp is not None:  # a reading the cuff filled in is stored already
            self.pre_bp_id = w.before.cuff_reading_id(bp.reading)
        if bp is not None and self.pre_bp_id is None:
            try:
                self.pre_bp_id = w.store.add_bp_reading(
                    sbp=bp.reading.sbp, dbp=bp.reading.dbp, pulse=bp.reading.pulse,
                    participant=s.participant or None, context="pre")
            except IsogripError as exc:
                w.before._error(str(exc))
                return
        spec = w.pending_spec or s.device
        # At real time the preview's connection goes on into the session (no reconnect).
        handover = w.device.hand_over(spec) \
            if w.speed == 1.0 and w.controller.frame_step_s is None else None
        if handover is None:
            w.device.release()
        config = SessionConfig(
            device=spec,
            protocol=self.session_protocol(),
            participant=s.participant or None,
            speed=w.speed,
            dominant=s.dominant,
            known_mvc=reuse,
            lsl=s.lsl,
            bp_check=bp,
        )
        self.measuring_mvc = reuse is None
        self.holds_started = False
        w.calibrate.reset()
        self.link_message = None
        w.train.show_link(None)
        w.last_result, w.last_error = None, None
        try:
            w.controller.start(config, w.store, handover=handover)
        except IsogripError as exc:
            w.show_page("device")
            set_text(w.device.message, friendly_error(exc))
            return
        if s.device != spec:
            w.apply_settings(s.replace(device=spec))
        w.show_page("calibrate" if self.measuring_mvc else "train")

    def on_frame(self, snap: Snapshot, events: list[Event]) -> None:
        """One display frame from the controller: follow the phase, draw the page."""
        w = self.window
        if events:
            w.audio.handle(events)
            for ev in events:
                self._on_event(ev)
        if snap.phase.finished:
            return  # the summary follows when the runtime has closed the recording
        if snap.phase is Phase.HOLD:
            self.holds_started = True
        page = SessionController.screen_for(snap, self.measuring_mvc, self.holds_started)
        if snap.phase is Phase.IDLE:
            page = "calibrate" if self.measuring_mvc else "train"
        if w.current_page() != page:
            w.show_page(page)
        if page == "calibrate":
            w.calibrate.update_frame(snap)
        else:
            rt = w.controller.runtime
            assert rt is not None
            t, f = rt.display_data(TRACE_WINDOW_S)
            w.train.update_frame(snap, t, f)
        link = self.link_message
        if link is None and snap.in_gap and snap.phase in (Phase.HOLD, Phase.MVC_EFFORT):
            link = "No signal from the device at the moment\u2026"
        w.train.show_link(link)

    def _on_event(self, ev: Event) -> None:
        if isinstance(ev, PhaseChanged) and ev.phase is Phase.HOLD:
            self.holds_started = True
        elif isinstance(ev, MvcTrialScored | MvcTrialRedone):
            self.window.calibrate.add_trial(ev)
        elif isinstance(ev, MvcChosen):
            self.window.calibrate.add_result(ev)
        elif isinstance(ev, Resumed) and self.link_message == BACK_WHILE_PAUSED:
            self.link_message = None
        elif isinstance(ev, LinkLost):
            self.link_message = ev.message if ev.paused else RECONNECTING
        elif isinstance(ev, LinkBack) or (
                isinstance(ev, LinkStatus) and ev.status == "data_resumed"):
            snap = self.window.controller.snapshot
            # Still paused for the drop: say what to do now that the device is back.
            self.link_message = BACK_WHILE_PAUSED if snap is not None and snap.paused \
                else None

    def on_finished(self, outcome: object) -> None:
        """The session ended: show its summary, or why it could not run.

        Args:
            outcome: A :class:`SessionResult`, or the exception that stopped it.
        """
        w = self.window
        w.nav_bar.setEnabled(True)
        if isinstance(outcome, SessionResult):
            w.last_result = outcome
            if self.pre_bp_id is not None:
                w.store.set_bp_session(self.pre_bp_id, outcome.session_id)
                self.pre_bp_id = None
            # A study's locked protocol trains outside the programme (session_protocol),
            # so the summary says nothing of it there.
            w.summary.load(w.store, outcome.session_id,
                           programme=not w.settings.protocol_locked)
            w.show_page("summary")
            return
        w.last_error = outcome if isinstance(outcome, BaseException) else None
        w.show_page("device")
        if isinstance(outcome, IsogripError):
            text = friendly_error(outcome)
        else:
            text = f"The session stopped because of an error: {outcome}"
        set_text(w.device.message, text)
