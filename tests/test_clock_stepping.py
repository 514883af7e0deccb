"""A virtual clock stepped from another thread (how the GUI tests drive a session)."""

from __future__ import annotations

import asyncio
import threading

from isogrip.clock import VirtualClock


def test_a_stepped_clock_runs_to_each_limit_and_waits_there() -> None:
    # Another thread (the GUI) steps the clock: a ticker every 0.1 s only gets as far
    # as each limit, and the clock says when it has parked there.
    clock = VirtualClock()
    clock.allow_until(0.0)
    parked = threading.Event()
    clock.on_park = lambda _limit: parked.set()
    seen: list[float] = []
    at_limits: list[list[float]] = []

    async def ticker() -> None:
        for k in range(1, 31):
            await clock.sleep_until(k * 0.1)
            seen.append(round(clock.now(), 9))

    async def session() -> None:
        runner = asyncio.get_running_loop().create_task(clock.run())
        try:
            await ticker()
        finally:
            runner.cancel()

    thread = threading.Thread(target=lambda: asyncio.run(session()))
    thread.start()
    for limit in (0.0, 1.0, 2.0):
        assert parked.wait(5)
        parked.clear()
        assert clock.parked_at == limit
        at_limits.append(list(seen))
        clock.allow_until(limit + 1.0)
    thread.join(5)  # the last ten ticks are due by the last limit: the ticker ends
    assert not thread.is_alive()
    assert [len(s) for s in at_limits] == [0, 10, 20]
    assert seen == [round(k * 0.1, 9) for k in range(1, 31)]
