"""The driver interface every force device implements, and the values it hands over.

A driver turns what a device sends (notifications, advertisements, or a simulation)
into :class:`SampleBatch` objects in newtons and hands them to a callback. Callbacks
run on the runtime's event loop and must stay cheap: decode and hand over, nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

#: A clock returning seconds on the host's monotonic timeline.
Clock = Callable[[], float]


def monotonic_clock() -> float:
    """The host monotonic clock used by real devices.

    On an event loop this is the loop's clock (which is :func:`time.monotonic` on
    asyncio's loops), so a driver run on a fake-time test loop stamps its samples on
    the same timeline as the loop's timers.
    """
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()


@dataclass(frozen=True, slots=True)
class SampleBatch:
    """Samples from one notification (or one simulated packet).

    Attributes:
        host_rx_s: Host monotonic time the batch arrived, s.
        force_n: Force of each sample, N.
        device_t_s: Device clock of each sample, s, or ``None`` for devices without
            a clock. Not yet unwrapped: a u32 microsecond counter wraps.
    """

    host_rx_s: float
    force_n: NDArray[np.float64]
    device_t_s: NDArray[np.float64] | None = None

    def __len__(self) -> int:
        return int(self.force_n.shape[0])


@dataclass(frozen=True)
class DeviceInfo:
    """What is known about a connected device.

    Attributes:
        kind: Driver name (``"sim"``, ``"progressor"`` ...).
        name: Advertised or display name.
        address: BLE address, or a pseudo address for virtual devices.
        firmware: Firmware version, if the device reports one.
        nominal_rate_hz: Expected sample rate.
        has_clock: Whether samples carry device timestamps.
        full_scale_n: Largest force the device can report (saturation), N.
        extra: Anything else worth recording (JSON-compatible values).
    """

    kind: str
    name: str
    address: str = ""
    firmware: str | None = None
    nominal_rate_hz: float = 80.0
    has_clock: bool = True
    full_scale_n: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeviceStatus:
    """A notice from a driver for the user or the log (low battery, bad packets...).

    Attributes:
        kind: Short machine-readable kind (``"low_battery"``, ``"malformed"`` ...).
        message: One sentence for a person.
        detail: JSON-compatible details.
    """

    kind: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)


SampleHandler = Callable[[SampleBatch], None]
DisconnectHandler = Callable[[str], None]
StatusHandler = Callable[[DeviceStatus], None]


@runtime_checkable
class ForceDevice(Protocol):
    """A force-measuring device.

    Lifecycle: ``connect`` -> ``start`` -> (batches reach ``on_samples``) -> ``stop`` ->
    ``disconnect``. An unexpected loss of the link calls ``on_disconnect`` with a
    reason; the runtime then decides whether to reconnect.
    """

    @property
    def info(self) -> DeviceInfo:
        """Device description (complete after ``connect``)."""
        ...

    @property
    def is_connected(self) -> bool:
        """Whether the link is up."""
        ...

    def set_handlers(
        self,
        on_samples: SampleHandler,
        on_disconnect: DisconnectHandler | None = None,
        on_status: StatusHandler | None = None,
    ) -> None:
        """Register the callbacks (called on the runtime's event loop)."""
        ...

    async def connect(self) -> None:
        """Open the link; read battery and firmware where the device offers them."""
        ...

    async def start(self) -> None:
        """Start streaming force samples."""
        ...

    async def stop(self) -> None:
        """Stop streaming."""
        ...

    async def tare(self) -> None:
        """Zero the force reading with nothing on the device."""
        ...

    async def battery(self) -> float | None:
        """Battery level in percent, or ``None`` if unknown."""
        ...

    async def disconnect(self) -> None:
        """Close the link (never powers the device off)."""
        ...


class DriverBase:
    """Plumbing the built-in drivers share: callbacks, the info, damage counting.

    Subclasses set ``self._info`` and call ``super().__init__()``; they report
    rejected packets through :meth:`_report_damage` (the ``log`` of
    :func:`isogrip.ble_device.codec.safe_decode`).
    """

    _info: DeviceInfo

    def __init__(self) -> None:
        from isogrip.ble_device.codec import CodecStats  # codec imports this module lazily

        self._on_samples: SampleHandler | None = None
        self._on_disconnect: DisconnectHandler | None = None
        self._on_status: StatusHandler | None = None
        self._task: asyncio.Task[None] | None = None  # streaming task, if the driver has one
        self.stats = CodecStats()

    @property
    def info(self) -> DeviceInfo:
        """Device description."""
        return self._info

    def set_handlers(
        self,
        on_samples: SampleHandler,
        on_disconnect: DisconnectHandler | None = None,
        on_status: StatusHandler | None = None,
    ) -> None:
        """Register the callbacks (called on the runtime's event loop)."""
        self._on_samples = on_samples
        self._on_disconnect = on_disconnect
        self._on_status = on_status

    @property
    def malformed_count(self) -> int:
        """Packets rejected so far."""
        return self.stats.errors

    def _start_stream_task(self, stream: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``stream()`` as the device's streaming task unless one is running."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(stream())

    async def _stop_stream_task(self) -> None:
        """Cancel the streaming task and wait for it to end."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _report_damage(self, message: str) -> None:
        """Pass a (rate-limited) damaged-packet report on to the log and the user."""
        logging.getLogger(__name__).warning("%s: %s", self._info.name, message)
        if self._on_status is not None:
            self._on_status(DeviceStatus("malformed", message, self.stats.as_dict()))
