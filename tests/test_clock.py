"""The session clocks: the loop's own clock for real time, scaled and virtual clocks."""

from __future__ import annotations

import asyncio
import threading
import time

import looptime
import pytest

from isogrip.ble_device.base import monotonic_clock
from isogrip.clock import LoopClock, VirtualClock, make_clock


def test_make_clock_picks_the_loop_clock_for_real_time() -> None:
    assert isinstance(make_clock(1.0), LoopClock)
    assert isinstance(make_clock(None), VirtualClock)


def test_accelerated_sessions_slow_down_on_a_busy_machine_instead_of_jumping() -> None:
    # A ticker every 0.1 s of session time for 2 s at 20x, while another task blocks
    # the loop for 0.15 s of wall time (30 ticks' worth at that speed), as a loaded
    # machine does. The ticker must see every tick at its time: no jump, no gap.
    clock = make_clock(20.0)
    seen: list[float] = []

    async def ticker() -> None:
        for k in range(1, 21):
            await clock.sleep_until(k * 0.1)
            seen.append(clock.now())

    async def stall() -> None:
        await clock.sleep_until(0.55)
        time.sleep(0.15)  # the loop is stuck: nothing runs

    async def session() -> None:
        runner = asyncio.get_running_loop().create_task(clock.run())  # type: ignore[union-attr]
        try:
            await asyncio.gather(ticker(), stall())
        finally:
            runner.cancel()

    t0 = time.perf_counter()
    asyncio.run(session())
    wall = time.perf_counter() - t0
    assert seen == pytest.approx([k * 0.1 for k in range(1, 21)], abs=1e-12)
    assert wall >= 2.0 / 20  # kept to the wall clock: never faster than 20x
    with pytest.raises(ValueError, match="pace"):
        VirtualClock(pace=0.0)


def test_on_asyncio_loops_the_loop_clock_is_the_monotonic_clock() -> None:
    clock = LoopClock()
    before_any_loop = clock.now()
    assert abs(before_any_loop - time.monotonic()) < 0.01

    async def read() -> tuple[float, float, float]:
        return clock.now(), monotonic_clock(), time.monotonic()

    on_loop, driver_stamp, wall = asyncio.run(read())
    assert abs(on_loop - wall) < 0.01 and abs(driver_stamp - wall) < 0.01


def test_on_a_fake_time_loop_everything_reads_the_loop() -> None:
    clock = LoopClock()
    loop = looptime.new_event_loop(start=1000.0)

    async def session() -> list[float]:
        seen = [clock.now(), monotonic_clock()]
        await clock.sleep_until(clock.now() + 3600.0)  # an hour, at once
        seen += [clock.now(), monotonic_clock(), loop.time()]
        return seen

    try:
        t0 = time.perf_counter()
        start, stamp0, later, stamp1, loop_t = loop.run_until_complete(session())
        assert time.perf_counter() - t0 < 1.0  # nothing slept for real
        assert start == stamp0 == pytest.approx(1000.0)
        assert later == stamp1 == loop_t == pytest.approx(4600.0)
        # Another thread (the GUI, the terminal view) reads the same timeline.
        other: list[float] = []
        thread = threading.Thread(target=lambda: other.append(clock.now()))
        thread.start()
        thread.join()
        assert other == [pytest.approx(4600.0)]
    finally:
        loop.close()
    # Once the loop is gone, the clock falls back to the host's monotonic clock.
    assert abs(clock.now() - time.monotonic()) < 0.01
