"""Devices that stream in advertisements (no connection), such as the WH-C06 scale.

The driver scans continuously and reports every advertisement of the chosen device
(scanning must not filter duplicates: the reading changes in the manufacturer data).
"Connected" means "advertisements are arriving"; ~10 s without one counts as a
disconnect. Tare is the base's software tare (the mean of the last second), since these
devices take no commands.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError

from isogrip.ble_device.base import (
    Advert,
    DeviceInfo,
    DeviceStatus,
    Packet,
    SampleBatch,
    monotonic_clock,
)
from isogrip.ble_device.bleak_errors import device_error
from isogrip.ble_device.driver import DriverBase
from isogrip.clock import Clock
from isogrip.errors import DeviceError, DeviceErrorReason

#: How long connect() keeps listening to pick the nearest of several devices, s.
CHOOSE_WINDOW_S = 1.0


def advert_of(device: BLEDevice, adv: AdvertisementData) -> Advert:
    """What drivers recognise a device by, from what bleak reports of an advertisement."""
    return Advert(adv.local_name or device.name or "", tuple(adv.service_uuids),
                  adv.manufacturer_data)


@dataclass(frozen=True)
class AdvertProfile:
    """An advertisement-streaming device family.

    Attributes:
        kind: Driver name.
        display_name: Human name.
        name_prefixes: Advertised names (prefixes) that identify the device.
        company_ids: Manufacturer-data company ids that identify the device.
        decode: advertisement -> samples in N (raises ``DecodeError`` when damaged).
        nominal_rate_hz: Expected advertisement rate.
        silence_timeout_s: No advertisement for this long = disconnected.
        full_scale_n: Largest reading, N.
        warning: Shown to the user on connect (e.g. "too slow for MVC timing").
    """

    kind: str
    display_name: str
    name_prefixes: tuple[str, ...]
    company_ids: tuple[int, ...]
    decode: Callable[[AdvertisementData], SampleBatch]
    nominal_rate_hz: float = 10.0
    silence_timeout_s: float = 10.0
    full_scale_n: float | None = None
    warning: str | None = None

    def recognises(self, advert: Advert) -> bool:
        """Whether an advertisement (name or manufacturer data) is this kind of device."""
        return advert.matches(self.name_prefixes, company_ids=self.company_ids)


class AdvertisementDevice(DriverBase[AdvertisementData]):
    """A :class:`~isogrip.ble_device.base.ForceDevice` fed by advertisements.

    Args:
        profile: The device family.
        address: Address to follow, or None for the strongest matching device.
        clock: Host clock (monotonic by default).
        scanner_backend: bleak scanner backend class (tests pass a virtual one).
        scan_timeout_s: How long ``connect`` waits for a first advertisement.
    """

    def __init__(
        self,
        profile: AdvertProfile,
        address: str | None = None,
        *,
        clock: Clock | None = None,
        scanner_backend: type | None = None,
        scan_timeout_s: float = 10.0,
    ) -> None:
        super().__init__()
        self.profile = profile
        self.address = address
        self._now: Callable[[], float] = clock.now if clock is not None else monotonic_clock
        self._backend = scanner_backend
        self._scan_timeout = scan_timeout_s
        self._scanner: BleakScanner | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._last_seen: float | None = None
        self._delivering = False  # samples are handed over between start and stop only
        self._info = DeviceInfo(kind=profile.kind, name=profile.display_name,
                                address=address or "", nominal_rate_hz=profile.nominal_rate_hz,
                                has_clock=False, full_scale_n=profile.full_scale_n)
        self._first = asyncio.Event()
        self._candidates: dict[str, int] = {}  # address -> RSSI, before locking on
        self.advertisements = 0

    @property
    def is_connected(self) -> bool:
        """Whether advertisements are arriving."""
        return self._connected

    async def connect(self) -> None:
        """Start scanning and wait for the device's first advertisement.

        Raises:
            DeviceError: No advertisement within the scan timeout, or Bluetooth trouble.
        """
        first = self._first = asyncio.Event()
        try:
            if self._scanner is None:
                # BlueZ reports unchanged manufacturer data only with DuplicateData on,
                # and every advertisement is a sample here.
                self._scanner = BleakScanner(self._advertisement, backend=self._backend,
                                             bluez={"filters": {"DuplicateData": True}})
                await self._scanner.start()
            await asyncio.wait_for(first.wait(), self._scan_timeout)
            if self.address is None:
                # Listen a moment longer and follow the strongest (nearest) device.
                await asyncio.sleep(CHOOSE_WINDOW_S)
                self.address = max(self._candidates, key=lambda a: self._candidates[a])
                first = self._first = asyncio.Event()
                await asyncio.wait_for(first.wait(), self._scan_timeout)
        except TimeoutError:
            await self._stop_scanner()
            raise DeviceError(
                f"{self.profile.display_name}: not found. Switch it on (or put a weight on "
                "it to wake it) and bring it close to the computer.",
                DeviceErrorReason.NOT_FOUND,
            ) from None
        except (BleakError, OSError) as exc:
            await self._stop_scanner()
            raise device_error(exc, self.profile.display_name) from exc
        self._connected = True
        if self._watchdog is None or self._watchdog.done():
            self._watchdog = asyncio.get_running_loop().create_task(self._watch())
        if self.profile.warning and self._on_status is not None:
            self._on_status(DeviceStatus("slow_device", self.profile.warning, {}))

    async def start(self) -> None:
        """Hand samples over from now on."""
        self._delivering = True

    async def stop(self) -> None:
        """Stop handing samples over."""
        self._delivering = False

    async def disconnect(self) -> None:
        """Stop scanning."""
        self._delivering = False
        self._connected = False
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        await self._stop_scanner()

    # -- internals ------------------------------------------------------------------
    async def _stop_scanner(self) -> None:
        scanner, self._scanner = self._scanner, None
        if scanner is not None:
            with contextlib.suppress(BleakError, OSError):
                await scanner.stop()

    def _advertisement(self, device: BLEDevice, adv: AdvertisementData) -> None:
        """Bleak callback: the base decodes and hands over. Never raises."""
        if self.address is not None:
            if device.address.lower() != self.address.lower():
                return
        else:
            # Not locked on yet: note every matching device; connect() picks the nearest.
            if self.profile.recognises(advert_of(device, adv)):
                self._candidates[device.address] = adv.rssi
                self._first.set()
            return
        now = self._now()
        self._last_seen = now
        self.advertisements += 1
        if self._receive(adv, now) is not None and not self._connected:
            self._info = DeviceInfo(kind=self.profile.kind, name=adv.local_name or
                                    self.profile.display_name, address=device.address,
                                    nominal_rate_hz=self.profile.nominal_rate_hz,
                                    has_clock=False, full_scale_n=self.profile.full_scale_n)
            self._first.set()

    def _decode(self, data: AdvertisementData) -> Packet:
        return self.profile.decode(data)

    async def _watch(self) -> None:
        """Report a disconnect after the silence timeout."""
        timeout = self.profile.silence_timeout_s
        while True:
            await asyncio.sleep(min(1.0, timeout / 4))
            last = self._last_seen
            if self._connected and last is not None and self._now() - last > timeout:
                self._connected = False
                self._delivering = False
                if self._on_disconnect is not None:
                    self._on_disconnect(f"no advertisements for {timeout:g} s")
