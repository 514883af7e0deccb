"""A live connection to a device outside a session (the app's Device screen).

A preview runs on the program's :class:`~isogrip.device_host.DeviceHost` (the thread
that owns every device object) and is driven from any other thread: connect, read the
force, tare, disconnect. Nothing is recorded. When a session starts, the preview hands
its connected device over (:meth:`DevicePreview.hand_over`), so the session begins
without reconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from isogrip.ble_device.base import DeviceInfo, DeviceStatus, ForceDevice, SampleBatch
from isogrip.ble_device.registry import DeviceContext, DeviceSpec, open_device
from isogrip.clock import ScaledClock
from isogrip.device_host import DeviceHost
from isogrip.protocols.events import Phase, Snapshot
from isogrip.signal.ringbuffer import RingBuffer

T = TypeVar("T")

#: Longest wait for a device step, s.
STEP_TIMEOUT_S = 20.0
#: Seconds of force kept for the live readout.
PREVIEW_WINDOW_S = 5.0

_IDLE = Snapshot(t=0.0, phase=Phase.IDLE)


@dataclass(frozen=True)
class Handover:
    """A connected, streaming device given from a preview to a session.

    Attributes:
        spec: The device spec it was opened with.
        device: The device (its handlers are the session's to set).
        clock: The clock its samples are stamped with (the session keeps it).
        host: The device thread it lives on (the session runs there too).
        close_host: Whether the session closes that thread when it ends (it was the
            preview's own).
        follow: Point the device's view of the session (a simulated participant
            watches the screen) at the session's snapshots.
    """

    spec: str
    device: ForceDevice
    clock: ScaledClock
    host: DeviceHost
    close_host: bool
    follow: Callable[[Callable[[], Snapshot]], None]


class DevicePreview:
    """Connects one device and streams its force into a small ring buffer.

    Args:
        spec: Device spec string (``sim``, ``progressor:AA:BB:...``).
        host: The device thread to run on (default: one of its own, closed with it).
        ble_backend: bleak client backend (tests inject a virtual one).
        ble_scanner_backend: bleak scanner backend, likewise.

    Raises:
        DeviceSpecError: The spec cannot be understood.
    """

    def __init__(self, spec: str, *, host: DeviceHost | None = None,
                 ble_backend: type | None = None,
                 ble_scanner_backend: type | None = None) -> None:
        self.spec = spec
        self.clock = ScaledClock()
        self._watch: Callable[[], Snapshot] = lambda: _IDLE
        self.device: ForceDevice = open_device(
            DeviceSpec.parse(spec),
            DeviceContext(clock=self.clock, feedback=lambda: self._watch(),
                          ble_backend=ble_backend, ble_scanner_backend=ble_scanner_backend),
        )
        self.ring = RingBuffer(int(PREVIEW_WINDOW_S * 1000))
        self.battery: float | None = None
        self.status: str = ""
        self.lost = threading.Event()
        self._own_host = host is None
        self.host = host if host is not None else DeviceHost("isogrip-preview")
        self._handed_over = False

    @property
    def info(self) -> DeviceInfo:
        """What the device reported about itself."""
        return self.device.info

    def _submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return self.host.submit(coro)

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

    def hand_over(self) -> Handover:
        """Give the connected device to a session; the preview stops reading it.

        Raises:
            RuntimeError: The device is not connected (connect first, or let the
                session connect).
        """
        if self._handed_over or not self.device.is_connected:
            raise RuntimeError("the preview has no connected device to hand over")
        self._handed_over = True

        def follow(snapshot: Callable[[], Snapshot]) -> None:
            self._watch = snapshot

        return Handover(self.spec, self.device, self.clock, self.host, self._own_host, follow)

    def close(self, timeout: float = 5.0) -> None:
        """Stop streaming, disconnect and end an own thread (bounded; safe to call twice).

        After :meth:`hand_over` the device is the session's: it is left connected.
        """
        if self.host.running and not self._handed_over:
            fut = self._submit(self._shutdown())
            with contextlib.suppress(Exception):
                fut.result(timeout)
        if self._own_host and not self._handed_over:
            self.host.close(timeout)

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
