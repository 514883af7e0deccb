"""Clocks for the runtime: real time, scaled time and a virtual clock run flat out.

Everything time-driven in a session (the simulated device's packets, the engine's
ticks) waits with :meth:`Clock.sleep_until` on one clock, so the same code runs a
15-minute session in real time for a person or in well under a second in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    """Seconds on the session's timeline, and a way to wait for a moment on it."""

    def now(self) -> float:
        """Current time, s."""
        ...

    async def sleep_until(self, t: float) -> None:
        """Return once the clock has reached ``t``."""
        ...


class ScaledClock:
    """The host monotonic clock, optionally running ``speed`` times faster.

    At ``speed=1`` :meth:`now` is exactly :func:`time.monotonic`, which is what real
    devices stamp their samples with.
    """

    def __init__(self, speed: float = 1.0) -> None:
        if not speed > 0 or math.isinf(speed):
            raise ValueError(f"speed must be a positive finite number, got {speed}")
        self.speed = speed
        self._real0 = time.monotonic()

    def now(self) -> float:
        """Current time, s."""
        real = time.monotonic()
        if self.speed == 1.0:
            return real
        return self._real0 + (real - self._real0) * self.speed

    async def sleep_until(self, t: float) -> None:
        """Sleep (in real time) until the scaled clock reaches ``t``."""
        delay = (t - self.now()) / self.speed
        await asyncio.sleep(max(0.0, delay))


class LoopClock:
    """The clock of the event loop the session runs on (``loop.time()``).

    asyncio's default loop reads :func:`time.monotonic`, so in a live session this is
    the same timeline as ``ScaledClock(1)``, and :func:`make_clock` gives it for real
    time. It matters for programs that run a session on a loop of their own
    (:meth:`SessionRuntime.run_here`) whose time is not the wall clock, such as a test
    loop that jumps forward whenever every task is waiting: then the device's sample
    stamps, bleak's and bumble's timeouts and the session's ticks all read one
    timeline, and a 15-minute BLE session runs in seconds.

    Calls made before the loop runs, or from another thread, read the loop seen last
    (or :func:`time.monotonic` before any).
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None

    def now(self) -> float:
        """Current loop time, s."""
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            if self._loop is None or self._loop.is_closed():
                return time.monotonic()
        return self._loop.time()

    async def sleep_until(self, t: float) -> None:
        """Sleep on the running loop until its clock reaches ``t``."""
        await asyncio.sleep(max(0.0, t - self.now()))


class VirtualClock:
    """A discrete-event clock that jumps straight to the next waiter's deadline.

    Tasks wait with :meth:`sleep_until`; :meth:`run` (one task on the same loop)
    repeatedly lets every runnable task run, then advances time to the earliest
    deadline and wakes that waiter. Waiters with equal deadlines wake in the order
    they started waiting, so a run is deterministic.

    With ``pace`` the clock also keeps to the wall clock, ``pace`` times faster (an
    accelerated session a person or a GUI test can watch): before advancing to a
    deadline it waits until that much real time has passed. Time still only moves
    from one deadline to the next, so a busy machine slows the session down instead
    of making it jump: no burst of packets, no false silence, the same events as on
    an idle machine.

    With :meth:`allow_until` another thread steps the clock: time advances up to the
    limit given and waits there, and :attr:`parked_at` (and :attr:`on_park`) say when
    everything up to the limit has run. The desktop app's tests step a session once
    per display frame this way, so what each frame shows never depends on how fast
    the machine is.
    """

    def __init__(self, start: float = 0.0, pace: float | None = None) -> None:
        if pace is not None and not (pace > 0 and math.isfinite(pace)):
            raise ValueError(f"pace must be a positive finite number, got {pace}")
        self._now = start
        self._start = start
        self._pace = pace
        self._real0: float | None = None
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._wake: asyncio.Event | None = None  # a new waiter, or a new limit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._limit = math.inf
        #: The limit the clock waits at once everything due by it has run and a waiter
        #: is due beyond it (else ``None``). Read from any thread.
        self.parked_at: float | None = None
        #: Called with the limit, on the clock's thread, each time the clock parks at
        #: it (e.g. to wake a GUI that steps it). Must return at once and not raise.
        self.on_park: Callable[[float], None] | None = None

    def now(self) -> float:
        """Current virtual time, s."""
        return self._now

    async def sleep_until(self, t: float) -> None:
        """Wait until virtual time reaches ``t`` (returns at once if it has)."""
        if t <= self._now:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (t, next(self._seq), fut))
        if self._wake is not None:
            self._wake.set()
        await fut

    def allow_until(self, t: float) -> None:
        """Let time advance up to ``t`` and no further, until the next call (any thread).

        Without a call the clock has no limit; ``math.inf`` lifts the limit again.
        Tasks still run while the clock waits at its limit (commands, I/O), only
        their deadlines beyond it wait. On a running clock the new limit is applied
        on its loop, after whatever was handed to the loop before this call (a
        command sent, then a new limit: the command acts first).
        """
        loop = self._loop
        if loop is None:
            self._limit = t  # read by run() when it first parks
            loop = self._loop  # run() may have started meanwhile: tell it too
            if loop is None:
                return
        with contextlib.suppress(RuntimeError):  # the loop has closed: nothing waits
            loop.call_soon_threadsafe(self._set_limit, t)

    def _set_limit(self, t: float) -> None:
        self._limit = t
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        """Advance time forever (cancel the task to stop)."""
        self._wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._loop = loop
        ready = getattr(loop, "_ready", None)
        if ready is None:  # pragma: no cover - another event loop implementation
            ready = _TwoTurns()
        while True:
            # Advance only when every other task is waiting: yield until the loop's
            # ready queue is empty. asyncio has no public "idle" test; CPython's
            # loop keeps its ready callbacks in `_ready` (a deque).
            await asyncio.sleep(0)
            while ready:
                await asyncio.sleep(0)
            self._wake.clear()
            limit = self._limit
            if not self._heap or self._heap[0][0] > limit:
                await self._park(limit)
                continue
            if self._pace is not None:
                await self._keep_pace(self._heap[0][0])
                continue  # commands may have queued new waiters meanwhile
            t, _, fut = heapq.heappop(self._heap)
            if fut.done():
                continue
            self._now = max(self._now, t)
            fut.set_result(None)

    async def _park(self, limit: float) -> None:
        """Wait for a new waiter or a new limit, saying so when parked at a limit."""
        assert self._wake is not None
        # Parked only when a waiter is due beyond the limit: with none, the tasks wait
        # for something else (a thread, the disk), and a new limit would let the
        # clock jump once they are back instead of stepping through their time.
        if self._heap and math.isfinite(limit):
            self.parked_at = limit
            if self.on_park is not None:
                self.on_park(limit)
        try:
            await self._wake.wait()
        finally:
            self.parked_at = None

    async def _keep_pace(self, t: float) -> None:
        """Wait (real time) until the paced wall clock reaches virtual time ``t``."""
        assert self._pace is not None
        if self._real0 is None:
            self._real0 = time.monotonic()
        due = self._real0 + (t - self._start) / self._pace
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
            return
        t0, _, fut = heapq.heappop(self._heap)
        if not fut.done():
            self._now = max(self._now, t0)
            fut.set_result(None)


class _TwoTurns:
    """Fallback idle test for loops without ``_ready``: true once, then false."""

    def __init__(self) -> None:
        self._flip = False

    def __bool__(self) -> bool:
        self._flip = not self._flip
        return self._flip


def make_clock(speed: float | None) -> LoopClock | ScaledClock | VirtualClock:
    """A clock for a session speed: ``None`` means as fast as possible.

    Args:
        speed: 1 for real time, N for N times faster, ``None`` for flat out.
    """
    if speed is None:
        return VirtualClock(start=0.0)
    # Real time is the loop's own clock (time.monotonic on asyncio's loops), so a
    # session run on a caller's fake-time loop keeps one timeline with bleak's timers.
    if speed == 1.0:
        return LoopClock()
    # Accelerated sessions (simulated and replayed devices only) run on virtual time
    # kept to the wall clock: on a busy machine they slow down instead of jumping.
    return VirtualClock(start=0.0, pace=speed)
