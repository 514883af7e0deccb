"""Fake loop time for tests that run the virtual BLE world (looptime).

On a looptime loop, ``loop.time()`` jumps straight to the next timer whenever every task
is waiting. bumble's controllers, bleak's timeouts, the virtual peripherals' streams, the
drivers' sample stamps (:func:`isogrip.ble_device.base.monotonic_clock` reads the running
loop) and the session clock (:class:`isogrip.clock.LoopClock`) then share one timeline,
and a session that takes minutes of device time runs in a few seconds of CPU.

Tests opt in with ``pytestmark = FAKE_TIME`` (or the decorator); a few tests of the
world itself stay in real time, so fake time cannot hide a real-time fault.
"""

from __future__ import annotations

import looptime
import pytest

__all__ = ["FAKE_TIME", "NOOP_CYCLES", "new_fake_time_loop"]

#: Idle turns of the loop before time jumps, letting chained awaits settle first.
#: looptime's default of 42 costs ~40 % more CPU here for the same results.
NOOP_CYCLES = 5

#: The pytest mark that runs a test on fake loop time.
FAKE_TIME = pytest.mark.looptime(noop_cycles=NOOP_CYCLES)


def new_fake_time_loop() -> looptime.LoopTimeEventLoop:
    """A new event loop on fake time (for module-scoped fixtures that run sessions)."""
    return looptime.new_event_loop(noop_cycles=NOOP_CYCLES)
