"""A live connection to a device outside a session (the app's Device screen).

Like :class:`~isogrip.runtime.SessionRuntime`, a preview owns its device on a private
asyncio thread and is driven from any other thread: connect, read the force, tare,
disconnect. Nothing is recorded. A session opens its own connection, so the preview
is closed before a session starts (the device stays switched on).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

import numpy as np

from isogrip.ble_device.base import DeviceInfo, DeviceStatus, ForceDevice, SampleBatch
from isogrip.ble_device.registry import DeviceContext, DeviceSpec, open_device
from isogrip.clock import ScaledClock
from isogrip.protocols.events import Phase, Snapshot
from isogrip.signal.ringbuffer import RingBuffer

T = TypeVar("T")

#: Longest wait for a device step, s.
STEP_TIMEOUT_S = 20.0
#: Seconds of force kept for the live readout.
PREVIEW_WINDOW_S = 5.0


class DevicePreview:
    """Connects one device and streams its force into a small ring buffer.

    Args:
        spec: Device spec string (``sim``, ``progressor:AA:BB:...``).
        ble_backend: bleak client backend (tests inject a virtual one).
        ble_scanner_backend: bleak scanner backend, likewise.

    Raises:
        DeviceSpecError: The spec cannot be understood.
    """

    def __init__(self, spec: str, *, ble_backend: type | None = None,
                 ble_scanner_backend: type | None = None) -> None:
        self.spec = spec
        idle = Snapshot(t=0.0, phase=Phase.IDLE)
        self.clock = ScaledClock()
        self.device: ForceDevice = open_device(
            DeviceSpec.parse(spec),
            DeviceContext(clock=self.clock, feedback=lambda: idle, ble_backend=ble_backend,
                          ble_scanner_backend=ble_scanner_backend),
        )
        self.ring = RingBuffer(int(PREVIEW_WINDOW_S * 1000))
        self.battery: float | None = None
        self.status: str = ""
        self.lost = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="isogrip-preview",
                                        daemon=True)
        self._thread.start()

    @property
    def info(self) -> DeviceInfo:
        """What the device reported about itself."""
        return self.device.info

    def _submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def connect(self) -> Future[None]:
        """Connect, read the battery and start streaming.

        Returns:
            A future; its errors are :class:`~isogrip.errors.DeviceError`.
        """
        return self._submit(self._connect())

    async def _connect(self) -> None:
        dev = self.device
        dev.set_handlers(self._on_batch, self._on_disconnect, self._on_status)
        await asyncio.wait_for(dev.connect(), STEP_TIMEOUT_S)
        with contextlib.suppress(Exception):  # a battery level is a nicety
            self.battery = await asyncio.wait_for(dev.battery(), 5.0)
        await asyncio.wait_for(dev.start(), STEP_TIMEOUT_S)

    def tare(self) -> Future[None]:
        """Zero the device (hand off the handle)."""
        return self._submit(asyncio.wait_for(self.device.tare(), STEP_TIMEOUT_S))

    def latest_force(self) -> float | None:
        """Mean force of the last 0.2 s, N (``None`` before any sample)."""
        _, f = self.ring.latest(0.2)
        return float(f.mean()) if len(f) else None

    def close(self, timeout: float = 5.0) -> None:
        """Stop streaming, disconnect and end the thread (bounded; safe to call twice)."""
        if self._loop.is_closed():
            return
        if self._thread.is_alive():
            fut = self._submit(self._shutdown())
            with contextlib.suppress(Exception):
                fut.result(timeout)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
        if not self._thread.is_alive():
            self._loop.close()

    async def _shutdown(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.device.stop(), 2.0)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.device.disconnect(), 3.0)

    def _on_batch(self, batch: SampleBatch) -> None:
        n = len(batch)
        if n:
            # The readout needs no device timebase: spread the batch over host time.
            t = batch.host_rx_s + (batch.device_t_s - batch.device_t_s[-1]
                                   if batch.device_t_s is not None else 0.0)
            self.ring.append(np.broadcast_to(np.asarray(t, dtype=float), (n,)), batch.force_n)

    def _on_disconnect(self, reason: str) -> None:
        self.status = reason
        self.lost.set()

    def _on_status(self, status: DeviceStatus) -> None:
        self.status = status.message


def run_async(fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine function on a fresh event loop in this thread (for workers)."""
    return asyncio.run(fn())
