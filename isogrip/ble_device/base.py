"""The driver interface every force device implements, and the values drivers hand over.

A driver turns what a device sends (notifications, advertisements, a simulation or a
recording) into :class:`SampleBatch` objects in newtons and hands them to a callback.
What every driver shares (the notification path, the software tare) is implemented
once in :class:`isogrip.ble_device.driver.DriverBase`. Callbacks run on the runtime's
event loop and must stay cheap: decode and hand over, nothing more.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from isogrip.ble_device.codec import CommandResponse, SampleBatch

__all__ = [
    "Advert", "Clock", "DeviceInfo", "DeviceStatus", "ForceDevice", "Packet", "SampleBatch",
    "monotonic_clock",
]

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


#: What a driver's decode makes of one packet: samples, the reply to a command, a notice
#: for the user, or nothing to hand over (e.g. half a frame, kept for the next packet).
Packet = SampleBatch | CommandResponse | DeviceStatus | None


@dataclass(frozen=True)
class Advert:
    """What an advertisement says about a device: what drivers recognise theirs by.

    Attributes:
        name: Advertised local name ("" if none).
        service_uuids: Advertised service UUIDs.
        manufacturer_data: Manufacturer-specific data by company id (bleak strips the
            id from the bytes).
    """

    name: str = ""
    service_uuids: tuple[str, ...] = ()
    manufacturer_data: Mapping[int, bytes] = field(default_factory=dict)

    def matches(self, name_prefixes: tuple[str, ...] = (), service_uuids: tuple[str, ...] = (),
                company_ids: tuple[int, ...] = ()) -> bool:
        """Whether the name starts with a prefix given, or a service or company id is given.

        UUIDs are compared case-insensitively (platforms differ in case).

        Example:
            >>> Advert("Progressor_1719").matches(name_prefixes=("Progressor",))
            True
        """
        if self.name and self.name.startswith(name_prefixes):
            return True
        wanted = {u.lower() for u in service_uuids}
        return (any(u.lower() in wanted for u in self.service_uuids)
                or any(c in self.manufacturer_data for c in company_ids))


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
