"""Where a sample goes and where a record goes, during one session.

A batch from the device (:meth:`SessionPipeline.on_batch`, on the device thread) is
mapped onto the session clock (:mod:`isogrip.signal.timebase`), handed to the recorder
before anything else, appended to the display ring, streamed to the LSL outlet if one
is open, and fed to the protocol engine. Every record the engine or the runtime makes
(:meth:`SessionPipeline.emit`) goes to the recorder, to the queue the GUI and the
terminal view drain, and to the LSL outlet; the snapshot other threads read is
refreshed after it.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable
from typing import Any

from isogrip.ble_device.base import SampleBatch
from isogrip.clock import Clock
from isogrip.protocols.engine import Engine
from isogrip.protocols.events import Phase, Snapshot
from isogrip.protocols.records import Event, LinkStatus, PhaseChanged, SessionWarning
from isogrip.signal.ringbuffer import RingBuffer
from isogrip.signal.timebase import Timebase
from isogrip.storage.recorder import Recorder

log = logging.getLogger(__name__)

#: Wall seconds of failed database writes before a session is stopped.
STORAGE_GRACE_S = 3.0


class SessionPipeline:
    """The path of samples and records through one session.

    Args:
        clock: The session clock.
        ring: The display ring (other threads read it; it is never replaced).
        idle: The snapshot shown before the engine runs.
    """

    def __init__(self, clock: Clock, ring: RingBuffer, idle: Snapshot) -> None:
        self.clock = clock
        self.ring = ring
        #: The engine's latest snapshot (read from any thread).
        self.snapshot = idle
        self.events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self.samples = 0
        #: Why the engine stopped the session, once it has.
        self.abort_reason = "stopped"
        #: Whether a batch was fed since the last tick (the tick then need not refresh).
        self.fed = False
        self.engine: Engine | None = None
        self.recorder: Recorder | None = None
        self.lsl: Any = None  # LslOutlet when the session streams
        self._timebase: Timebase | None = None
        self._on_data: Callable[[], None] = lambda: None
        self._early: list[Event] = []  # records made before the recorder exists
        self._storage_failing_since: float | None = None
        self._lsl_errors = 0
        self._batch_errors = 0

    def attach(self, engine: Engine, timebase: Timebase, recorder: Recorder, *,
               on_data: Callable[[], None], lsl: Any = None) -> None:
        """Start recording: what came before (device notices) is recorded first."""
        self.engine, self._timebase, self.recorder = engine, timebase, recorder
        self._on_data, self.lsl = on_data, lsl
        for ev in self._early:
            recorder.add(ev)
        self._early.clear()

    def on_batch(self, batch: SampleBatch) -> None:
        """A batch arrived (device thread). Cheap, and never raises: that ends the stream."""
        engine, tb, rec = self.engine, self._timebase, self.recorder
        if engine is None or tb is None or rec is None or len(batch) == 0:
            return
        try:
            self._on_data()
            t, tdev = tb.map(batch.host_rx_s, len(batch), batch.device_t_s)
            rec.add_samples(t, tdev, batch.force_n)  # recorded before anything else
            self.ring.append(t, batch.force_n)
            if self.lsl is not None:
                self.stream(self.lsl.push_samples, t, batch.force_n)
            self.samples += len(batch)
            self.fed = True
            self.emit(engine.feed(t, batch.force_n))
        except Exception as exc:
            self._batch_errors += 1
            if self._batch_errors in (1, 10, 100) or self._batch_errors % 1000 == 0:
                log.exception("error while processing samples")
                self.emit([LinkStatus(
                    t=self.clock.now(), message=f"Internal error while processing samples "
                    f"({exc}); recording continues.",
                    status="processing_error", count=self._batch_errors)])

    def emit(self, events: list[Event], refresh: bool = True) -> None:
        """Record events, queue them for the UI, and refresh the snapshot."""
        rec = self.recorder
        for ev in events:
            if rec is not None:
                rec.add(ev)
            else:
                self._early.append(ev)  # e.g. device notices while connecting
            if isinstance(ev, PhaseChanged) and ev.phase is Phase.ABORTED:
                self.abort_reason = ev.reason or "stopped"
            self.events.put(ev)
            if self.lsl is not None:
                self.stream(self.lsl.push_event, ev)
        if refresh and self.engine is not None:
            self.snapshot = self.engine.snapshot()

    def stream(self, push: Callable[..., object], *args: object) -> None:
        """Send to the LSL outlet; a streaming failure never stops the recording."""
        try:
            push(*args)
        except Exception:
            self._lsl_errors += 1
            if self._lsl_errors == 1:
                log.exception("Lab Streaming Layer output failed; recording continues")

    def check_storage(self) -> None:
        """Stop the session if the database has refused writes for a while.

        A disk that is full (or gone) does not heal by itself: after
        :data:`STORAGE_GRACE_S` of failed writes the session stops, says why, and keeps
        everything written before the failure.
        """
        rec, engine = self.recorder, self.engine
        if rec is None or engine is None or rec.error is None:
            self._storage_failing_since = None
            return
        now = time.monotonic()
        if self._storage_failing_since is None:
            self._storage_failing_since = now
            return
        if now - self._storage_failing_since < STORAGE_GRACE_S or engine.finished:
            return
        saved = rec.samples_written
        reason = (f"the data could not be saved ({rec.error}); the session was stopped. "
                  f"The {saved} samples saved before that are kept. Free some disk space "
                  "before the next session.")
        t = self.clock.now()
        self.emit([SessionWarning(t=t, message=reason, reason="storage_failed")])
        self.emit(engine.stop(t, reason))
