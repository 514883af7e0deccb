"""The session runtime: device, timebase, engine and recorder on one asyncio thread.

:class:`SessionRuntime` is the thread-safe facade the CLI and the GUI use. It starts a
dedicated thread running an asyncio loop that owns every device object (bleak objects
must not cross loops), maps device time onto the session clock, records every sample,
feeds the protocol engine and fills a ring buffer for display. Other threads read the
latest :class:`~isogrip.protocols.events.Snapshot`, the ring buffer and the queued
events, and send commands; they never touch the device or the database directly.

Example::

    runtime = SessionRuntime(SessionConfig(device="sim:good", speed=None))
    result = runtime.run()          # a whole simulated session, flat out
    print(result.status, result.mvc_n)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from isogrip import __version__
from isogrip.ble_device.base import DeviceStatus, ForceDevice, SampleBatch
from isogrip.ble_device.registry import DeviceContext, DeviceSpec, open_device
from isogrip.bp_check import BpCheck
from isogrip.clock import Clock, VirtualClock, make_clock
from isogrip.errors import DeviceError, DeviceErrorReason, IsogripError, StorageError
from isogrip.protocols.engine import Engine
from isogrip.protocols.events import Command, Event, EventKind, Phase, Snapshot
from isogrip.protocols.loader import DEFAULT_PROTOCOL, load_protocol, protocol_to_dict
from isogrip.protocols.model import Protocol
from isogrip.signal.ringbuffer import RingBuffer
from isogrip.signal.timebase import Timebase
from isogrip.storage.recorder import Recorder
from isogrip.storage.store import Store
from isogrip.types import Hand

log = logging.getLogger(__name__)

#: How often the engine is ticked when no samples arrive, s of session time.
TICK_S = 0.05
#: Seconds of force kept for display.
DISPLAY_WINDOW_S = 60.0
#: Connection attempts give up after this long, s.
CONNECT_TIMEOUT_S = 20.0
#: No force data this long during an effort (device away or silent) pauses the session, s.
RECONNECT_PAUSE_S = 10.0
#: Connected but no force data this long: ask the device to stream again, s.
SILENCE_RESTART_S = 3.0
#: No force data at all this long after the stream was started: stop the session, s.
NO_DATA_AT_START_S = 30.0
#: No force data this long at any point: stop the session, s (headless runs would
#: otherwise wait for ever for a device that is gone).
NO_DATA_STOP_S = 120.0
#: Bound on each device step after connecting (battery, tare, start), s.
STEP_TIMEOUT_S = 10.0
#: Bound on shutdown steps (disconnect, thread join), s.
SHUTDOWN_TIMEOUT_S = 5.0
#: Wall seconds of failed database writes before a session is stopped.
STORAGE_GRACE_S = 3.0


@dataclass
class SessionConfig:
    """What to run.

    Attributes:
        device: Device spec string (``sim``, ``sim:fatigue?seed=3``...).
        protocol: Built-in protocol name, path to a TOML file, or a Protocol.
        participant: Participant ID recorded with the session (never a name).
        speed: 1 for real time, N for N times faster, ``None`` for flat out
            (simulated devices only).
        data_dir: Data folder (default: ``ISOGRIP_DATA_DIR`` or the user data dir).
        dominant: The participant's dominant hand.
        known_mvc: MVC per hand (N) to reuse instead of measuring it.
        lsl: Stream force and events live over Lab Streaming Layer (off: nothing
            listens on the network).
        tare: Zero the device before starting.
        resume_after_reconnect: After a long device drop paused the session, resume
            by itself when the device is back (for unattended runs); otherwise the
            user chooses to resume (repeat the effort) or stop.
        bp_check: The blood pressure entered before the session and the choice made
            on it (recorded as a ``bp_check`` event), or ``None``.
    """

    device: str = "sim"
    protocol: str | Protocol = DEFAULT_PROTOCOL
    participant: str | None = None
    speed: float | None = 1.0
    data_dir: Path | None = None
    dominant: Hand = Hand.RIGHT
    known_mvc: Mapping[Hand, float] | None = None
    tare: bool = True
    resume_after_reconnect: bool = False
    lsl: bool = False
    bp_check: BpCheck | None = None


@dataclass
class SessionResult:
    """How a session ended.

    Attributes:
        session_id: Database id of the session.
        status: ``complete``, ``aborted`` or ``interrupted``.
        reason: Why it ended early, if it did.
        mvc_n: Session MVC per hand, N.
        holds: One dict per hold (rep, hand, completed, metrics ...).
        samples: Number of samples recorded.
        wall_s: Wall-clock duration of the run, s.
        session_s: Session-clock duration, s.
    """

    session_id: int
    status: str
    reason: str = ""
    mvc_n: dict[Hand, float] = field(default_factory=dict)
    holds: list[dict[str, Any]] = field(default_factory=list)
    samples: int = 0
    wall_s: float = 0.0
    session_s: float = 0.0


class SessionCancelled(IsogripError):
    """The session was stopped before it started (nothing was recorded)."""


class SessionRuntime:
    """Runs one session on its own thread; safe to use from any other thread.

    Construction validates the protocol, the device spec and the data folder, so user
    errors are raised at once in the caller's thread (as :class:`IsogripError`).

    Args:
        config: What to run.
        store: An open store to record into (default: open the data folder's).
        ble_backend: bleak client backend for BLE devices (tests inject a virtual one).
        ble_scanner_backend: bleak scanner backend, likewise.
    """

    def __init__(
        self,
        config: SessionConfig,
        store: Store | None = None,
        *,
        ble_backend: type | None = None,
        ble_scanner_backend: type | None = None,
    ) -> None:
        self.config = config
        self.protocol = (
            config.protocol
            if isinstance(config.protocol, Protocol)
            else load_protocol(config.protocol)
        )
        self._spec = DeviceSpec.parse(config.device)
        if config.speed is not None and not (config.speed > 0 and math.isfinite(config.speed)):
            raise IsogripError(f"speed must be a positive number, got {config.speed}")
        self.clock: Clock = make_clock(config.speed)
        self.device: ForceDevice = open_device(
            self._spec,
            DeviceContext(clock=self.clock, feedback=self.snapshot,
                          ble_backend=ble_backend, ble_scanner_backend=ble_scanner_backend),
        )
        if self._spec.driver not in ("sim", "replay") and config.speed != 1.0:
            raise IsogripError("only the simulated device and replays can run faster than "
                               "real time")
        if config.participant:
            from isogrip.settings import check_value

            check_value("participant", config.participant)  # an ID, never a name
        if config.lsl:
            from isogrip.lsl_outlet import check_available

            check_available()  # say so now, not after the session has started
        self._own_store = store is None
        self.store = store if store is not None else Store.open(config.data_dir)
        #: Sessions a crashed isogrip left "running", now marked interrupted (to tell).
        self.interrupted_sessions = self.store.mark_interrupted()
        self.ring = RingBuffer(int(DISPLAY_WINDOW_S * 1000) + 1)
        self._snap = Snapshot(t=0.0, phase=Phase.IDLE, reps=self.protocol.reps)
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done = threading.Event()
        self._result: SessionResult | None = None
        self._error: BaseException | None = None
        self._engine: Engine | None = None
        self._recorder: Recorder | None = None
        self._timebase: Timebase | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._fed = False
        self._abort_reason = "stopped"
        self._abort_requested = False
        self._paused_for_silence = False  # paused because no data came (away or silent)
        self._last_data_t: float | None = None  # session time of the last batch
        self._silence_noted = False
        self._next_restart_s = SILENCE_RESTART_S
        self._restart_task: asyncio.Task[None] | None = None
        self._early_events: list[Event] = []  # events before the recorder exists
        self._lsl: Any = None  # LslOutlet when config.lsl
        self._storage_failing_since: float | None = None
        self._lsl_errors = 0
        self._batch_errors = 0
        self.session_id: int | None = None
        self.samples = 0

    # ------------------------------------------------------------------ facade
    def start(self) -> None:
        """Start the session thread (returns at once)."""
        if self._thread is not None:
            raise RuntimeError("the session has already been started")
        self._thread = threading.Thread(target=self._thread_main, name="isogrip-runtime",
                                        daemon=True)
        self._thread.start()

    def run(self) -> SessionResult:
        """Start and wait for the end (for headless runs)."""
        self.start()
        return self.wait()

    async def run_here(self) -> SessionResult:
        """Run the session on the caller's event loop instead of a thread.

        For programs (and tests) that already own the loop the device must live on.
        """
        self._loop = asyncio.get_running_loop()
        try:
            self._result = await self._main()
            return self._result
        finally:
            self._done.set()

    def wait(self, timeout: float | None = None) -> SessionResult:
        """Block until the session ends.

        Raises:
            IsogripError: The session could not run (e.g. the device was not found).
            TimeoutError: ``timeout`` elapsed first.
        """
        if not self._done.wait(timeout):
            raise TimeoutError("the session is still running")
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    @property
    def done(self) -> bool:
        """Whether the session thread has finished."""
        return self._done.is_set()

    def snapshot(self) -> Snapshot:
        """The engine's latest snapshot (any thread)."""
        return self._snap

    def display_data(self, seconds: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The last ``seconds`` of force for plotting: (t, force_n) copies (any thread)."""
        return self.ring.latest(seconds)

    def drain_events(self) -> list[Event]:
        """Events since the last call, oldest first (any thread)."""
        out: list[Event] = []
        while True:
            try:
                out.append(self._events.get_nowait())
            except queue.Empty:
                return out

    def command(self, cmd: Command | str) -> None:
        """Send a command to the engine (any thread; returns at once)."""
        if Command(cmd) is Command.ABORT:
            self._abort_requested = True  # honoured even before the engine exists
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # loop closed between check and call
            loop.call_soon_threadsafe(self._apply_command, Command(cmd))

    def close(self) -> None:
        """Close the store if this runtime opened it (after the session has ended)."""
        if self._own_store and self.done:
            self.store.close()

    def stop(self, timeout: float = SHUTDOWN_TIMEOUT_S) -> None:
        """Abort the session if it runs, and wait (bounded) for the thread to end."""
        self.command(Command.ABORT)
        if self._thread is not None:
            self._thread.join(timeout)

    # ------------------------------------------------------------------ thread
    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._result = loop.run_until_complete(self._main())
        except BaseException as exc:  # reported to the caller by wait()
            self._error = exc
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._done.set()

    async def _main(self) -> SessionResult:
        wall0 = time.perf_counter()
        clock_task = None
        if isinstance(self.clock, VirtualClock):
            clock_task = asyncio.get_running_loop().create_task(self.clock.run())
        try:
            return await self._session(wall0)
        finally:
            if clock_task is not None:
                clock_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await clock_task

    async def _session(self, wall0: float) -> SessionResult:
        cfg = self.config
        device = self.device
        device.set_handlers(self._on_batch, self._on_disconnect, self._on_status)
        await self._step(device.connect(), CONNECT_TIMEOUT_S,
                         f"could not connect to {cfg.device!r} within {CONNECT_TIMEOUT_S:g} s; "
                         "check that it is switched on and near this computer")
        try:
            return await self._record(wall0)
        finally:
            await self._shutdown_device()

    async def _step(self, coro: Any, timeout: float, message: str) -> Any:
        """Await a device step with a time limit, giving up early if stop() is called.

        Raises:
            DeviceError: The step took longer than ``timeout`` (with ``message``).
            SessionCancelled: stop() was called before the session started.
        """
        task = asyncio.ensure_future(coro)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not task.done():
            if self._abort_requested and self._engine is None:
                task.cancel()
                raise SessionCancelled("the session was stopped before it started; "
                                       "nothing was recorded")
            if loop.time() > deadline:
                task.cancel()
                raise DeviceError(message, DeviceErrorReason.NOT_FOUND)
            await asyncio.wait({task}, timeout=0.05)
        return task.result()

    async def _record(self, wall0: float) -> SessionResult:
        cfg = self.config
        device = self.device
        info = device.info
        self._timebase = Timebase(nominal_rate_hz=info.nominal_rate_hz)
        self.ring = RingBuffer(max(1000, int(DISPLAY_WINDOW_S * info.nominal_rate_hz * 1.2)))
        engine = Engine(self.protocol, sample_rate_hz=info.nominal_rate_hz,
                        dominant=cfg.dominant, known_mvc=cfg.known_mvc,
                        full_scale_n=info.full_scale_n)
        self._engine = engine
        t0 = self.clock.now()
        # Off the loop, like every write of the session: another isogrip (an import)
        # may hold the write lock, and the loop must not wait for it.
        self.session_id = await asyncio.to_thread(
            self.store.create_session,
            started_at=datetime.now(UTC),
            protocol_name=self.protocol.name,
            protocol=protocol_to_dict(self.protocol),
            device=cfg.device,
            participant=cfg.participant,
            app_version=__version__,
            t0_s=t0,
            device_info={
                "kind": info.kind, "name": info.name, "address": info.address,
                "firmware": info.firmware, "nominal_rate_hz": info.nominal_rate_hz,
                "has_clock": info.has_clock, "full_scale_n": info.full_scale_n,
                **info.extra,
            },
        )
        # Written on the recorder's own thread: this loop owns the device and must never
        # wait for the disk or for another process holding the database's write lock.
        self._recorder = Recorder(self.store, self.session_id, background=True)
        if cfg.lsl:
            from isogrip.lsl_outlet import LslOutlet  # optional dependency, loaded on demand

            self._lsl = LslOutlet(self.store.get_session(self.session_id).uuid,
                                  info.nominal_rate_hz, self.clock.now,
                                  participant=cfg.participant, device=cfg.device)
        for ev in self._early_events:
            _record_event(self._recorder, ev)
        self._early_events.clear()
        if cfg.bp_check is not None:
            self._emit([_bp_check_event(t0, cfg.bp_check)], refresh=False)
        for hand, mvc_n in (cfg.known_mvc or {}).items():
            # Carried over from an earlier session: recorded so this session's summary
            # shows the MVC it trained against, flagged so it is not counted as a new
            # measurement (history and "reuse within 7 days" skip it).
            self._recorder.set_mvc(Hand(hand).value, float(mvc_n), None, ["reused"])
        status, reason = "aborted", ""
        try:
            battery = await self._step(device.battery(), STEP_TIMEOUT_S,
                                       "the device did not report its battery level")
            self._emit([Event(t0, EventKind.SESSION, "Device connected.",
                              {"device": cfg.device, "battery_pct": battery})])
            if cfg.tare:
                await self._step(device.tare(), STEP_TIMEOUT_S, "the device did not zero")
            await self._step(device.start(), STEP_TIMEOUT_S, "the device did not start")
            self._last_data_t = self.clock.now()  # silence is counted from here
            self._emit(engine.command(Command.START, self.clock.now()))
            if self._abort_requested:  # stop() arrived while connecting
                self._emit(engine.command(Command.ABORT, self.clock.now()))
            # Flat out, ticks only matter for gap detection: fewer of them save time.
            tick_s = 2 * TICK_S if isinstance(self.clock, VirtualClock) else TICK_S
            # Recording goes on after the session has finished until the last hold's
            # result has every sample stamped inside it (engine.results_pending).
            while not engine.finished or engine.results_pending:
                await self.clock.sleep_until(self.clock.now() + tick_s)
                events = engine.tick(self.clock.now())
                # Samples refresh the snapshot; ticks only need to when none came.
                self._emit(events, refresh=bool(events) or not self._fed)
                if not self._fed:
                    self._recorder.maybe_flush()  # keep events durable while silent
                self._fed = False
                self._check_storage(engine)
                self._check_silence(engine)
            status = "complete" if engine.phase is Phase.COMPLETE else "aborted"
            if status == "aborted":
                reason = self._abort_reason
        except asyncio.CancelledError:
            status, reason = "interrupted", "the program was closed"
            raise
        except Exception as exc:
            status, reason = "interrupted", f"stopped by an error: {exc}"
            log.exception("session stopped by an error")
            raise
        finally:
            await self._shutdown_device()
            if engine.results_pending:  # cut short: keep what was measured
                try:
                    self._emit(engine.settle())
                except Exception:
                    log.exception("could not record the last results")
            try:
                # Off the loop: the end may wait its turn behind another process's write.
                await asyncio.shield(asyncio.to_thread(
                    self._recorder.close, status, reason or None))
            except StorageError as exc:
                # The end could not be written (disk still full): the session stays
                # "running" on disk and is marked interrupted at the next start, with
                # everything written before the failure.
                log.error("could not record the end of the session: %s", exc)
                status = "interrupted"
                reason = (reason + "; " if reason else "") + \
                    f"the end of the session could not be saved ({exc})"
            if self._lsl is not None:
                self._lsl.close()
        return SessionResult(
            session_id=self.session_id,
            status=status,
            reason=reason,
            mvc_n=dict(engine.mvc_n),
            holds=list(engine.hold_results),
            samples=self.samples,
            wall_s=time.perf_counter() - wall0,
            session_s=self.clock.now() - t0,
        )

    async def _shutdown_device(self) -> None:
        self._stopping = True
        for task in (self._reconnect_task, self._restart_task):
            if task is not None:
                task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.device.stop(), SHUTDOWN_TIMEOUT_S)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.device.disconnect(), SHUTDOWN_TIMEOUT_S)

    # ------------------------------------------------------------------ callbacks
    def _on_batch(self, batch: SampleBatch) -> None:
        """A batch arrived (on the loop). Cheap, and never raises: that would end the stream."""
        engine, tb, rec = self._engine, self._timebase, self._recorder
        if engine is None or tb is None or rec is None or len(batch) == 0:
            return
        try:
            self._data_arrived()
            t, tdev = tb.map(batch.host_rx_s, len(batch), batch.device_t_s)
            rec.add_samples(t, tdev, batch.force_n)  # recorded before anything else
            self.ring.append(t, batch.force_n)
            if self._lsl is not None:
                self._stream(self._lsl.push_samples, t, batch.force_n)
            self.samples += len(batch)
            self._fed = True
            self._emit(engine.feed(t, batch.force_n))
        except Exception as exc:
            self._batch_errors += 1
            if self._batch_errors in (1, 10, 100) or self._batch_errors % 1000 == 0:
                log.exception("error while processing samples")
                self._emit([Event(self.clock.now(), EventKind.DEVICE_STATUS,
                                  f"Internal error while processing samples ({exc}); "
                                  "recording continues.",
                                  {"status": "processing_error",
                                   "count": self._batch_errors})])

    def _check_storage(self, engine: Engine) -> None:
        """Stop the session if the database has refused writes for a while.

        A disk that is full (or gone) does not heal by itself: after
        :data:`STORAGE_GRACE_S` of failed writes the session stops, says why, and keeps
        everything written before the failure.
        """
        rec = self._recorder
        if rec is None or rec.error is None:
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
        self._emit([Event(t, EventKind.WARNING, reason, {"reason": "storage_failed"})])
        self._emit(engine.stop(t, reason))

    def _stream(self, push: Any, *args: Any) -> None:
        """Send to the LSL outlet; a streaming failure never stops the recording."""
        try:
            push(*args)
        except Exception:
            self._lsl_errors += 1
            if self._lsl_errors == 1:
                log.exception("Lab Streaming Layer output failed; recording continues")

    def _on_disconnect(self, reason: str) -> None:
        if self._stopping or self._engine is None or self._engine.finished:
            return
        t = self.clock.now()
        self._emit([Event(t, EventKind.DEVICE_DISCONNECTED,
                          "The device disconnected. Reconnecting...", {"reason": reason})])
        if self._reconnect_task is None or self._reconnect_task.done():
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        """Reconnect with backoff until the device is back or the session ends.

        Pausing (when the device stays away through an effort) is the silence
        watchdog's job (:meth:`_check_silence`), so it applies alike to a device that is
        away and one that is connected but sends nothing.
        """
        delay = 0.25
        attempts = 0
        down_since = self.clock.now()
        while not self._stopping and self._engine is not None and not self._engine.finished:
            await self.clock.sleep_until(self.clock.now() + delay)
            attempts += 1
            try:
                await asyncio.wait_for(self.device.connect(), CONNECT_TIMEOUT_S)
                await asyncio.wait_for(self.device.start(), STEP_TIMEOUT_S)
            except Exception as exc:  # any driver failure: try again later
                log.debug("reconnect attempt %d failed: %s", attempts, exc)
                delay = min(delay * 2, 2.0)
                continue
            t = self.clock.now()
            # The stream was just started: give it the usual grace before the silence
            # watchdog asks for it again.
            self._next_restart_s = t - (self._last_data_t or t) + SILENCE_RESTART_S
            self._emit([Event(t, EventKind.DEVICE_RECONNECTED, "The device is back.",
                              {"attempts": attempts, "offline_s": t - down_since})])
            return

    # ------------------------------------------------------------------ silence
    def _data_arrived(self) -> None:
        """A batch arrived: end any silence (and the pause it caused, when unattended)."""
        now = self.clock.now()
        if self._silence_noted:
            self._silence_noted = False
            silent_s = now - (self._last_data_t or now)
            self._emit([Event(now, EventKind.DEVICE_STATUS,
                              "Force readings are arriving again.",
                              {"status": "data_resumed", "silent_s": silent_s})])
        self._last_data_t = now
        self._next_restart_s = SILENCE_RESTART_S
        engine = self._engine
        if self._paused_for_silence and engine is not None and not engine.finished:
            self._paused_for_silence = False
            if self.config.resume_after_reconnect and engine.snapshot().paused:
                self._emit(engine.command(Command.RESUME, now))

    def _check_silence(self, engine: Engine) -> None:
        """Act on a device that sends no force data, whether it is away or connected.

        Connected but silent for :data:`SILENCE_RESTART_S`: ask it to stream again.
        Silent for :data:`RECONNECT_PAUSE_S` during an effort: pause (the effort is
        repeated). Nothing at all :data:`NO_DATA_AT_START_S` after the start, or nothing
        for :data:`NO_DATA_STOP_S` at any point: stop the session and say why.
        """
        # A replay plays what was recorded, its silences included (and a short capture
        # simply ends): nothing to restart, pause or stop.
        if engine.finished or self._last_data_t is None or self._spec.driver == "replay":
            return
        now = self.clock.now()
        silent_s = now - self._last_data_t
        connected = self.device.is_connected
        if self.samples == 0 and silent_s >= NO_DATA_AT_START_S:
            self._stop_for_silence(engine, now, "no_data", (
                f"the device connected but sent no force readings in "
                f"{NO_DATA_AT_START_S:g} s. Check that it is switched on (and, for a DIY "
                "device, that the load cell is wired), then start again"))
            return
        if silent_s >= NO_DATA_STOP_S:
            self._stop_for_silence(engine, now, "no_data", (
                f"no force readings from the device for {NO_DATA_STOP_S / 60:g} minutes. "
                "Everything recorded up to then is kept"))
            return
        if silent_s >= RECONNECT_PAUSE_S:
            self._pause_for_silence(connected)
        reconnecting = self._reconnect_task is not None and not self._reconnect_task.done()
        restarting = self._restart_task is not None and not self._restart_task.done()
        if connected and not reconnecting and not restarting \
                and silent_s >= self._next_restart_s:
            self._next_restart_s = silent_s + RECONNECT_PAUSE_S
            if not self._silence_noted:
                self._silence_noted = True
                self._emit([Event(now, EventKind.DEVICE_STATUS,
                                  "The device is connected but sends no force readings; "
                                  "asking it to start again.",
                                  {"status": "no_data", "silent_s": silent_s})])
            self._restart_task = asyncio.get_running_loop().create_task(
                self._restart_stream())
        elif not connected:
            self._silence_noted = True  # say so when data comes back

    async def _restart_stream(self) -> None:
        """Send stop and start again (firmwares can miss a start or stall)."""
        try:
            await asyncio.wait_for(self.device.stop(), STEP_TIMEOUT_S)
            await asyncio.wait_for(self.device.start(), STEP_TIMEOUT_S)
        except Exception as exc:  # the watchdog tries again later
            log.debug("restarting the stream failed: %s", exc)

    def _pause_for_silence(self, connected: bool) -> None:
        engine = self._engine
        if engine is None or engine.finished or engine.snapshot().paused:
            return
        if engine.phase not in (Phase.HOLD, Phase.MVC_EFFORT, Phase.COUNTDOWN):
            return  # a rest just keeps counting down while we wait
        t = self.clock.now()
        self._paused_for_silence = True
        what = ("has sent no force readings" if connected else "has been away")
        self._emit([Event(t, EventKind.DEVICE_DISCONNECTED,
                          f"The device {what} for {RECONNECT_PAUSE_S:g} s, so the "
                          "session is paused. When it is back, resume to repeat this "
                          "effort, or stop the session.",
                          {"paused": True, "connected": connected})])
        self._emit(engine.command(Command.PAUSE, t))

    def _stop_for_silence(self, engine: Engine, t: float, why: str, reason: str) -> None:
        self._emit([Event(t, EventKind.WARNING, reason[0].upper() + reason[1:] + ".",
                          {"reason": why})])
        self._emit(engine.stop(t, reason))

    def _on_status(self, status: DeviceStatus) -> None:
        self._emit([Event(self.clock.now(), EventKind.DEVICE_STATUS, status.message,
                          {"status": status.kind, **status.detail})])

    def _apply_command(self, cmd: Command) -> None:
        if self._engine is None:
            return
        self._emit(self._engine.command(cmd, self.clock.now()))

    def _emit(self, events: list[Event], refresh: bool = True) -> None:
        """Record events, queue them for the UI, and refresh the snapshot."""
        rec = self._recorder
        for ev in events:
            if rec is not None:
                _record_event(rec, ev)
            else:
                self._early_events.append(ev)  # e.g. device notices while connecting
            if ev.kind is EventKind.PHASE and ev.data.get("phase") == Phase.ABORTED.value:
                self._abort_reason = str(ev.data.get("reason", "stopped"))
            self._events.put(ev)
            if self._lsl is not None:
                self._stream(self._lsl.push_event, ev)
        if refresh and self._engine is not None:
            self._snap = self._engine.snapshot()


def _bp_check_event(t: float, check: BpCheck) -> Event:
    """The pre-session blood-pressure check as an event (a clinician needs to see it)."""
    r, lim = check.reading, check.limits
    return Event(t, EventKind.BP_CHECK, check.note() or f"Blood pressure before: {r}.", {
        "sbp": r.sbp, "dbp": r.dbp, "pulse": r.pulse,
        "sbp_limit": lim.sbp, "dbp_limit": lim.dbp,
        "too_high": check.too_high, "trained_anyway": check.trained_anyway,
    })


def _record_event(rec: Recorder, ev: Event) -> None:
    """Write one engine or runtime event to the recorder's tables."""
    d = ev.data
    rec.add_event(ev.t, ev.kind.value, {"message": ev.message, **d} if ev.message else d)
    if ev.kind is EventKind.PHASE:
        rec.add_phase(ev.t, d["phase"], hand=d.get("hand"), rep=d.get("rep"),
                      trial=d.get("trial"), target_n=d.get("target_n"),
                      band_low_n=d.get("band_low_n"), band_high_n=d.get("band_high_n"),
                      mvc_n=d.get("mvc_n"))
    elif ev.kind is EventKind.MVC_TRIAL:
        if d.get("redo"):
            rec.discard_mvc_trial(d["hand"], d["trial"])
        else:
            rec.add_mvc_trial(d["hand"], d["trial"], d["t_start_s"], d["t_end_s"],
                              d["score_n"], d["raw_peak_n"], d["time_to_peak_s"],
                              d["plausible"], d["message"])
    elif ev.kind is EventKind.MVC_RESULT:
        rec.set_mvc(d["hand"], d["mvc_n"], d["best_trial"], list(d["flags"]))
    elif ev.kind is EventKind.HOLD_RESULT:
        rec.add_hold(d["rep"], d["hand"], d["t_go_s"], d["t_end_s"], d["target_n"],
                     d["band_low_n"], d["band_high_n"], d["mvc_n"], d["completed"],
                     d["metrics"])
