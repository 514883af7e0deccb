"""What a session does when its device goes away or goes quiet.

A :class:`LinkSupervisor` runs on the device thread beside the session. It reconnects
a device that dropped the link (with backoff), and watches the data itself, since a
device can also stay connected and send nothing:

* connected but silent for :data:`SILENCE_RESTART_S`: ask it to stream again;
* silent for :data:`RECONNECT_PAUSE_S` during an effort: pause the session (the
  effort is repeated on resume; an unattended session resumes when data are back if
  it was configured to);
* nothing at all :data:`NO_DATA_AT_START_S` after the start, or nothing for
  :data:`NO_DATA_STOP_S` at any point: stop the session and say why.

It reads only the session clock, so its whole behaviour can be tested on the virtual
clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from isogrip.ble_device.base import ForceDevice
from isogrip.clock import Clock
from isogrip.protocols.engine import Engine
from isogrip.protocols.events import Command, Phase
from isogrip.protocols.records import Event, LinkBack, LinkLost, LinkStatus, SessionWarning

log = logging.getLogger(__name__)

#: Connection attempts give up after this long, s.
CONNECT_TIMEOUT_S = 20.0
#: Bound on each device step after connecting (battery, tare, start), s.
STEP_TIMEOUT_S = 10.0
#: No force data this long during an effort (device away or silent) pauses the session, s.
RECONNECT_PAUSE_S = 10.0
#: Connected but no force data this long: ask the device to stream again, s.
SILENCE_RESTART_S = 3.0
#: No force data at all this long after the stream was started: stop the session, s.
NO_DATA_AT_START_S = 30.0
#: No force data this long at any point: stop the session, s (headless runs would
#: otherwise wait for ever for a device that is gone).
NO_DATA_STOP_S = 120.0
#: Longest wait between reconnection attempts, s (they start 0.25 s apart).
MAX_RECONNECT_DELAY_S = 2.0


class LinkSupervisor:
    """Reconnection and the silence watchdog of one session.

    Args:
        device: The session's device.
        clock: The session clock.
        engine: The session's engine (paused, resumed or stopped through commands).
        emit: Where the records it makes go (the session's pipeline).
        watch_silence: False for a replay, which plays its recorded silences (and a
            short capture simply ends): nothing to restart, pause or stop.
        resume_when_back: Resume a session paused for silence once data are back.
    """

    def __init__(self, device: ForceDevice, clock: Clock, engine: Engine,
                 emit: Callable[[list[Event]], None], *, watch_silence: bool = True,
                 resume_when_back: bool = False) -> None:
        self.device, self.clock, self.engine = device, clock, engine
        self._emit = emit
        self._watch_silence = watch_silence
        self._resume_when_back = resume_when_back
        self.last_data_t: float | None = None  # session time of the last batch
        self._any_data = False
        self._silence_noted = False
        self._next_restart_s = SILENCE_RESTART_S
        self._paused_for_silence = False
        self._reconnect_task: asyncio.Task[None] | None = None
        self._restart_task: asyncio.Task[None] | None = None
        self._stopping = False

    def streaming(self) -> None:
        """The stream has been started: silence is counted from now."""
        self.last_data_t = self.clock.now()

    def stop(self) -> None:
        """The session is ending: no more reconnecting or restarting."""
        self._stopping = True
        for task in (self._reconnect_task, self._restart_task):
            if task is not None:
                task.cancel()

    # ------------------------------------------------------------------ the link
    def disconnected(self, reason: str) -> None:
        """The device dropped the link (on the device thread): reconnect."""
        if self._stopping or self.engine.finished:
            return
        t = self.clock.now()
        self._emit([LinkLost(t=t, message="The device disconnected. Reconnecting...",
                             reason=reason)])
        if self._reconnect_task is None or self._reconnect_task.done():
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        """Reconnect with backoff until the device is back or the session ends.

        Pausing (when the device stays away through an effort) is the silence
        watchdog's job (:meth:`check`), so it applies alike to a device that is away and
        one that is connected but sends nothing.
        """
        delay, attempts = 0.25, 0
        down_since = self.clock.now()
        while not self._stopping and not self.engine.finished:
            await self.clock.sleep_until(self.clock.now() + delay)
            attempts += 1
            try:
                await asyncio.wait_for(self.device.connect(), CONNECT_TIMEOUT_S)
                await asyncio.wait_for(self.device.start(), STEP_TIMEOUT_S)
            except Exception as exc:  # any driver failure: try again later
                log.debug("reconnect attempt %d failed: %s", attempts, exc)
                delay = min(delay * 2, MAX_RECONNECT_DELAY_S)
                continue
            t = self.clock.now()
            # The stream was just started: give it the usual grace before the silence
            # watchdog asks for it again.
            self._next_restart_s = t - (self.last_data_t or t) + SILENCE_RESTART_S
            self._emit([LinkBack(t=t, message="The device is back.", attempts=attempts,
                                 offline_s=t - down_since)])
            return

    # ------------------------------------------------------------------ the data
    def data_arrived(self) -> None:
        """A batch arrived: end any silence (and the pause it caused, when unattended)."""
        now = self.clock.now()
        if self._silence_noted:
            self._silence_noted = False
            silent_s = now - (self.last_data_t or now)
            self._emit([LinkStatus(t=now, message="Force readings are arriving again.",
                                   status="data_resumed", silent_s=silent_s)])
        self.last_data_t = now
        self._any_data = True
        self._next_restart_s = SILENCE_RESTART_S
        engine = self.engine
        if self._paused_for_silence and not engine.finished:
            self._paused_for_silence = False
            if self._resume_when_back and engine.snapshot().paused:
                self._emit(engine.command(Command.RESUME, now))

    def check(self) -> None:
        """Act on silence, once per tick (see the module's rules)."""
        if not self._watch_silence or self.engine.finished or self.last_data_t is None:
            return
        now = self.clock.now()
        silent_s = now - self.last_data_t
        if not self._any_data and silent_s >= NO_DATA_AT_START_S:
            self._stop(now, (
                f"the device connected but sent no force readings in "
                f"{NO_DATA_AT_START_S:g} s. Check that it is switched on (and, for a DIY "
                "device, that the load cell is wired), then start again"))
            return
        if silent_s >= NO_DATA_STOP_S:
            self._stop(now, (
                f"no force readings from the device for {NO_DATA_STOP_S / 60:g} minutes. "
                "Everything recorded up to then is kept"))
            return
        connected = self.device.is_connected
        if silent_s >= RECONNECT_PAUSE_S:
            self._pause(now, connected)
        if connected:
            self._maybe_restart(now, silent_s)
        else:
            self._silence_noted = True  # say so when data come back

    def _maybe_restart(self, now: float, silent_s: float) -> None:
        """Connected but silent: ask for the stream again (not while already asking)."""
        busy = [t for t in (self._reconnect_task, self._restart_task)
                if t is not None and not t.done()]
        if busy or silent_s < self._next_restart_s:
            return
        self._next_restart_s = silent_s + RECONNECT_PAUSE_S
        if not self._silence_noted:
            self._silence_noted = True
            self._emit([LinkStatus(
                t=now, message="The device is connected but sends no force readings; "
                "asking it to start again.", status="no_data", silent_s=silent_s)])
        self._restart_task = asyncio.get_running_loop().create_task(self._restart_stream())

    async def _restart_stream(self) -> None:
        """Send stop and start again (firmwares can miss a start or stall)."""
        try:
            await asyncio.wait_for(self.device.stop(), STEP_TIMEOUT_S)
            await asyncio.wait_for(self.device.start(), STEP_TIMEOUT_S)
        except Exception as exc:  # the watchdog tries again later
            log.debug("restarting the stream failed: %s", exc)

    def _pause(self, t: float, connected: bool) -> None:
        engine = self.engine
        if engine.finished or engine.snapshot().paused:
            return
        if engine.phase not in (Phase.HOLD, Phase.MVC_EFFORT, Phase.COUNTDOWN):
            return  # a rest just keeps counting down while we wait
        self._paused_for_silence = True
        what = "has sent no force readings" if connected else "has been away"
        self._emit([LinkLost(t=t, message=f"The device {what} for {RECONNECT_PAUSE_S:g} s, "
                             "so the session is paused. When it is back, resume to repeat "
                             "this effort, or stop the session.",
                             paused=True, connected=connected)])
        self._emit(engine.command(Command.PAUSE, t))

    def _stop(self, t: float, reason: str) -> None:
        self._emit([SessionWarning(t=t, message=reason[0].upper() + reason[1:] + ".",
                                   reason="no_data")])
        self._emit(self.engine.stop(t, reason))
