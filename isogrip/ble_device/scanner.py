"""Scanning: which known force devices are nearby.

Devices are recognised from their advertisements: the advertised name, the service
UUIDs and the manufacturer data. Progressor clones advertise their service UUID only in
the scan response, so the name alone is enough for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError

from isogrip.ble_device import whc06
from isogrip.ble_device.bleak_errors import device_error
from isogrip.ble_device.gatt import GattProfile
from isogrip.ble_device.profiles import PROFILES, WHC06


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


#: Recognisers: (kind, label, test on (name, service UUIDs, manufacturer ids)).
Recogniser = tuple[str, str, Callable[[str, list[str], list[int]], bool]]


def _profile_test(profile: GattProfile) -> Callable[[str, list[str], list[int]], bool]:
    def test(name: str, uuids: list[str], _manufacturer_ids: list[int]) -> bool:
        return profile.matches(name, uuids)

    return test


def _whc06_test(name: str, _uuids: list[str], manufacturer_ids: list[int]) -> bool:
    return name == whc06.LOCAL_NAME or whc06.COMPANY_ID in manufacturer_ids


def _recognisers() -> list[Recogniser]:
    out = [(p.kind, p.display_name, _profile_test(p)) for p in PROFILES.values()]
    out.insert(-1, (WHC06.kind, WHC06.display_name, _whc06_test))  # before the generic scale
    return out


def recognise(name: str, service_uuids: list[str],
              manufacturer_ids: list[int]) -> tuple[str, str] | None:
    """The (kind, label) of a device from its advertisement, or None if unknown."""
    for kind, label, test in _recognisers():
        if test(name, service_uuids, manufacturer_ids):
            return kind, label
    return None


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

    def on_adv(device: BLEDevice, adv: AdvertisementData) -> None:
        name = adv.local_name or device.name or ""
        known = recognise(name, adv.service_uuids, list(adv.manufacturer_data))
        kind, label = known if known else (None, "unknown")
        prev = seen.get(device.address)
        if prev is not None and prev.kind and not kind:
            return  # keep what an earlier advertisement told us
        seen[device.address] = FoundDevice(name, kind, label, device.address, adv.rssi)

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
