"""Scanning: which force devices are nearby.

Devices are recognised from their advertisements (the advertised name, the service
UUIDs and the manufacturer data) by asking every registered driver, built-in and plugin
(:func:`isogrip.ble_device.registry.recognisers`). Progressor clones advertise their
service UUID only in the scan response, so the name alone is enough for them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError

from isogrip.ble_device import registry
from isogrip.ble_device.advert import advert_of
from isogrip.ble_device.bleak_errors import device_error


@dataclass(frozen=True)
class FoundDevice:
    """A device seen while scanning.

    Attributes:
        name: Advertised name ("" if none).
        kind: Driver name if recognised (``"progressor"``), else None.
        kind_label: Human name of the device family, or "unknown".
        address: BLE address (a UUID on macOS).
        rssi: Signal strength, dBm (closer to 0 is nearer).
    """

    name: str
    kind: str | None
    kind_label: str
    address: str
    rssi: int

    @property
    def spec(self) -> str:
        """The device spec string that connects to exactly this device."""
        return f"{self.kind}:{self.address}" if self.kind else f"ble:{self.address}"


async def scan(
    timeout: float = 5.0,
    *,
    include_unknown: bool = False,
    backend: type | None = None,
) -> list[FoundDevice]:
    """Listen for advertisements and list the devices seen, nearest first.

    Args:
        timeout: How long to listen, s.
        include_unknown: Also list devices that are not force devices we know.
        backend: bleak scanner backend class (tests pass a virtual one).

    Raises:
        DeviceError: Bluetooth is off, there is no adapter, or permission is denied.
    """
    seen: dict[str, FoundDevice] = {}
    drivers = registry.recognisers()  # loaded once per scan, asked per advertisement

    def on_adv(device: BLEDevice, adv: AdvertisementData) -> None:
        advert = advert_of(device, adv)
        known = registry.recognise(advert, drivers)
        kind, label = (known.driver, known.label) if known else (None, "unknown")
        prev = seen.get(device.address)
        if prev is not None and prev.kind and not kind:
            return  # keep what an earlier advertisement told us
        seen[device.address] = FoundDevice(advert.name, kind, label, device.address, adv.rssi)

    try:
        scanner = BleakScanner(on_adv, backend=backend)
        await scanner.start()
        try:
            await asyncio.sleep(timeout)
        finally:
            await scanner.stop()
    except (BleakError, OSError) as exc:
        raise device_error(exc, "Bluetooth scan") from exc
    found = [d for d in seen.values() if include_unknown or d.kind]
    return sorted(found, key=lambda d: -d.rssi)
