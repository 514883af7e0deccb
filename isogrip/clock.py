"""Clocks for the runtime: real time, scaled time and a virtual clock run flat out.

Everything time-driven in a session (the simulated device's packets, the engine's
ticks) waits with :meth:`Clock.sleep_until` on one clock, so the same code runs a
15-minute session in real time for a person or in well under a second in tests.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
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
        self._pushed: asyncio.Event | None = None

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
        if self._pushed is not None:
            self._pushed.set()
        await fut

    async def run(self) -> None:
        """Advance time forever (cancel the task to stop)."""
        self._pushed = asyncio.Event()
        ready = getattr(asyncio.get_running_loop(), "_ready", None)
        if ready is None:  # pragma: no cover - another event loop implementation
            ready = _TwoTurns()
        while True:
            # Advance only when every other task is waiting: yield until the loop's
            # ready queue is empty. asyncio has no public "idle" test; CPython's
            # loop keeps its ready callbacks in `_ready` (a deque).
            await asyncio.sleep(0)
            while ready:
                await asyncio.sleep(0)
            if not self._heap:
                self._pushed.clear()
                await self._pushed.wait()
                continue
            if self._pace is not None:
                await self._keep_pace(self._heap[0][0])
                continue  # commands may have queued new waiters meanwhile
            t, _, fut = heapq.heappop(self._heap)
            if fut.done():
                continue
            self._now = max(self._now, t)
            fut.set_result(None)

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
