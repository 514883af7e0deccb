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
import queue
import threading
import time
from concurrent.futures import Future
from typing import Any

import numpy as np
from numpy.typing import NDArray

from isogrip.ble_device.base import DeviceStatus, ForceDevice
from isogrip.ble_device.registry import DeviceContext, DeviceSpec, open_device
from isogrip.clock import Clock, VirtualClock, make_clock
from isogrip.device_host import DeviceHost
from isogrip.errors import DeviceError, DeviceErrorReason
from isogrip.keep_awake import keep_awake
from isogrip.link_supervisor import CONNECT_TIMEOUT_S, STEP_TIMEOUT_S, LinkSupervisor
from isogrip.preview import Handover
from isogrip.protocols.engine import Engine
from isogrip.protocols.events import Command, Phase, Snapshot
from isogrip.protocols.loader import load_protocol
from isogrip.protocols.model import Protocol
from isogrip.protocols.records import (
    Event,
    LinkStatus,
    SessionStarted,
)
from isogrip.session_config import (
    SessionCancelled,
    SessionConfig,
    SessionResult,
    check_options,
    check_speed,
)
from isogrip.session_pipeline import SessionPipeline
from isogrip.session_recording import bp_check_record, close_recording, open_lsl, open_recording
from isogrip.signal.ringbuffer import RingBuffer
from isogrip.signal.timebase import Timebase
from isogrip.storage.store import Store

__all__ = ["SessionCancelled", "SessionConfig", "SessionResult", "SessionRuntime"]

log = logging.getLogger(__name__)

#: How often the engine is ticked when no samples arrive, s of session time.
TICK_S = 0.05
#: Seconds of force kept for display.
DISPLAY_WINDOW_S = 60.0
#: Bound on shutdown steps (disconnect, thread join), s.
SHUTDOWN_TIMEOUT_S = 5.0


class SessionRuntime:
    """Runs one session on its own thread; safe to use from any other thread.

    Construction validates the protocol, the device spec and the data folder, so user
    errors are raised at once in the caller's thread (as :class:`IsogripError`).

    Args:
        config: What to run.
        store: An open store to record into (default: open the data folder's).
        host: The device thread to run on (the GUI's, shared with scanning and the
            preview); default: a thread of its own.
        handover: A device already connected by a preview (:meth:`DevicePreview.
            hand_over`): the session starts on it without reconnecting, on its thread.
        ble_backend: bleak client backend for BLE devices (tests inject a virtual one).
        ble_scanner_backend: bleak scanner backend, likewise.
    """

    def __init__(
        self,
        config: SessionConfig,
        store: Store | None = None,
        *,
        host: DeviceHost | None = None,
        handover: Handover | None = None,
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
        check_speed(config, handover.spec if handover is not None else None)
        self._handover = handover
        self._host = handover.host if handover is not None else host
        if handover is not None:
            # The samples are stamped on the preview's clock: keep one timeline.
            self.clock: Clock = handover.clock
            self.device: ForceDevice = handover.device
            handover.follow(self.snapshot)
        else:
            self.clock = make_clock(config.speed)
            self.device = open_device(
                self._spec,
                DeviceContext(clock=self.clock, feedback=self.snapshot,
                              ble_backend=ble_backend,
                              ble_scanner_backend=ble_scanner_backend),
            )
        check_options(config, self._spec.driver)  # once the device spec is known good
        self._own_store = store is None
        self.store = store if store is not None else Store.open(config.data_dir)
        #: Sessions a crashed isogrip left "running", now marked interrupted (to tell).
        self.interrupted_sessions = self.store.mark_interrupted()
        self.ring = RingBuffer(int(DISPLAY_WINDOW_S * 1000) + 1)
        self._pipeline = SessionPipeline(
            self.clock, self.ring, Snapshot(t=0.0, phase=Phase.IDLE, reps=self.protocol.reps))
        self._own_host = False
        self._future: Future[SessionResult] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done = threading.Event()
        self._result: SessionResult | None = None
        self._error: BaseException | None = None
        self._engine: Engine | None = None
        self._link: LinkSupervisor | None = None
        self._abort_requested = False
        self.session_id: int | None = None

    @property
    def samples(self) -> int:
        """Samples received so far."""
        return self._pipeline.samples

    # ------------------------------------------------------------------ facade
    def start(self) -> None:
        """Start the session on its device thread (returns at once)."""
        if self._future is not None:
            raise RuntimeError("the session has already been started")
        if self._host is None:  # a thread of its own, ended with the session
            self._host, self._own_host = DeviceHost("isogrip-runtime"), True
        self._loop = self._host.loop
        self._future = self._host.submit(self._main())
        self._future.add_done_callback(self._hosted_done)

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
        return self._pipeline.snapshot

    def display_data(self, seconds: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The last ``seconds`` of force for plotting: (t, force_n) copies (any thread)."""
        return self.ring.latest(seconds)

    def drain_events(self) -> list[Event]:
        """Events since the last call, oldest first (any thread)."""
        out: list[Event] = []
        while True:
            try:
                out.append(self._pipeline.events.get_nowait())
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
        if self._future is not None:
            self._done.wait(timeout)
            if self._own_host and self._host is not None:
                self._host.close(timeout)

    # ------------------------------------------------------------------ thread
    def _hosted_done(self, fut: Future[SessionResult]) -> None:
        """The session ended (on the device thread): report it, end an own thread."""
        try:
            self._result = fut.result()
        except BaseException as exc:  # reported to the caller by wait()
            self._error = exc
        handed_own = self._handover is not None and self._handover.close_host
        if (self._own_host or handed_own) and self._host is not None:
            self._host.stop_soon()  # no one else's work runs on it
        self._done.set()

    async def _main(self) -> SessionResult:
        wall0 = time.perf_counter()
        clock_task = None
        if isinstance(self.clock, VirtualClock):
            clock_task = asyncio.get_running_loop().create_task(self.clock.run())
        try:
            async with keep_awake(self._pipeline.emit, self.clock.now):  # screen on
                return await self._session(wall0)
        finally:
            if clock_task is not None:
                clock_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await clock_task

    async def _session(self, wall0: float) -> SessionResult:
        cfg = self.config
        device = self.device
        device.set_handlers(self._pipeline.on_batch, self._on_disconnect, self._on_status)
        if not device.is_connected:  # a handed-over device is connected already
            await self._step(
                device.connect(), CONNECT_TIMEOUT_S,
                f"could not connect to {cfg.device!r} within {CONNECT_TIMEOUT_S:g} s; "
                "check that it is switched on and near this computer",
                DeviceErrorReason.NOT_FOUND)
        try:
            return await self._record(wall0)
        finally:
            await self._shutdown_device()

    async def _step(self, coro: Any, timeout: float, message: str,
                    reason: DeviceErrorReason = DeviceErrorReason.NOT_RESPONDING) -> Any:
        """Await a device step with a time limit, giving up early if stop() is called.

        Raises:
            DeviceError: The step took longer than ``timeout``: ``message`` says which
                step (and, after connecting, how long it was given), with ``reason``.
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
                raise DeviceError(message, reason)
            await asyncio.wait({task}, timeout=0.05)
        return task.result()

    async def _record(self, wall0: float) -> SessionResult:
        """The session proper, on a connected device: record it from start to end."""
        info = self.device.info
        # Sized for the device now that its rate is known; the display thread may be
        # reading the ring already, so it is resized in place, never replaced.
        self.ring.resize(max(1000, int(DISPLAY_WINDOW_S * info.nominal_rate_hz * 1.2)))
        engine = Engine(self.protocol, sample_rate_hz=info.nominal_rate_hz,
                        dominant=self.config.dominant, known_mvc=self.config.known_mvc,
                        full_scale_n=info.full_scale_n)
        self._engine = engine
        self._link = LinkSupervisor(self.device, self.clock, engine, self._pipeline.emit,
                                    watch_silence=self._spec.driver != "replay",
                                    resume_when_back=self.config.resume_after_reconnect)
        t0 = self.clock.now()
        assert self._link is not None
        self.session_id, recorder = await open_recording(
            self.store, self.config, self.protocol, self.device.info, t0, self.clock)
        self._pipeline.attach(engine, Timebase(nominal_rate_hz=self.device.info.nominal_rate_hz),
                              recorder, on_data=self._link.data_arrived,
                              lsl=open_lsl(self.store, self.config, self.device.info,
                                           self.session_id, self.clock))
        if self.config.bp_check is not None:
            self._pipeline.emit([bp_check_record(t0, self.config.bp_check)], refresh=False)
        status, reason = "aborted", ""
        try:
            await self._run_engine(engine, t0)
            status = "complete" if engine.phase is Phase.COMPLETE else "aborted"
            if status == "aborted":
                reason = self._pipeline.abort_reason
        except asyncio.CancelledError:
            status, reason = "interrupted", "the program was closed"
            raise
        except Exception as exc:
            status, reason = "interrupted", f"stopped by an error: {exc}"
            log.exception("session stopped by an error")
            raise
        finally:
            await self._shutdown_device()
            status, reason = await close_recording(self._pipeline, engine, recorder, status,
                                                   reason)
        assert self.session_id is not None
        return SessionResult(
            session_id=self.session_id, status=status, reason=reason,
            mvc_n=dict(engine.mvc_n), holds=list(engine.hold_results), samples=self.samples,
            wall_s=time.perf_counter() - wall0, session_s=self.clock.now() - t0)

    async def _run_engine(self, engine: Engine, t0: float) -> None:
        """Prepare the device, start the engine and tick it until the session is over."""
        device, emit, link = self.device, self._pipeline.emit, self._link
        recorder = self._pipeline.recorder
        assert link is not None and recorder is not None
        battery = await self._step(
            device.battery(), STEP_TIMEOUT_S,
            f"the device did not report its battery level within {STEP_TIMEOUT_S:g} s")
        emit([SessionStarted(t=t0, message="Device connected.", device=self.config.device,
                             battery_pct=battery)])
        if self.config.tare:
            await self._step(device.tare(), STEP_TIMEOUT_S,
                             f"the device did not zero within {STEP_TIMEOUT_S:g} s")
        await self._step(device.start(), STEP_TIMEOUT_S,
                         f"the device did not start streaming within {STEP_TIMEOUT_S:g} s")
        link.streaming()  # silence is counted from here
        emit(engine.command(Command.START, self.clock.now()))
        if self._abort_requested:  # stop() arrived while connecting
            emit(engine.command(Command.ABORT, self.clock.now()))
        # Flat out, ticks only matter for gap detection: fewer of them save time.
        tick_s = 2 * TICK_S if isinstance(self.clock, VirtualClock) else TICK_S
        # Recording goes on after the session has finished until the last hold's
        # result has every sample stamped inside it (engine.results_pending).
        pipeline = self._pipeline
        while not engine.finished or engine.results_pending:
            await self.clock.sleep_until(self.clock.now() + tick_s)
            events = engine.tick(self.clock.now())
            # Samples refresh the snapshot; ticks only need to when none came.
            emit(events, refresh=bool(events) or not pipeline.fed)
            if not pipeline.fed:
                recorder.maybe_flush()  # keep events durable while silent
            pipeline.fed = False
            pipeline.check_storage()
            link.check()

    async def _shutdown_device(self) -> None:
        if self._link is not None:
            self._link.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.device.stop(), SHUTDOWN_TIMEOUT_S)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.device.disconnect(), SHUTDOWN_TIMEOUT_S)

    # ------------------------------------------------------------------ callbacks
    def _on_disconnect(self, reason: str) -> None:
        if self._link is not None:  # it ignores drops once the session is ending
            self._link.disconnected(reason)

    def _on_status(self, status: DeviceStatus) -> None:
        self._pipeline.emit([LinkStatus(t=self.clock.now(), message=status.message,
                                        status=status.kind,
                                        device_detail=dict(status.detail))])

    def _apply_command(self, cmd: Command) -> None:
        if self._engine is None:
            return
        self._pipeline.emit(self._engine.command(cmd, self.clock.now()))

