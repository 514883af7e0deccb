"""The thin bleak layer shared by every connected (GATT) device driver.

A driver is a :class:`GattProfile` (which device, which characteristics, which bytes
to send, how to decode) run by :class:`GattDevice`, which implements
:class:`~isogrip.ble_device.base.ForceDevice` on top of bleak. The bleak backend can
be injected through the constructor (``backend=``, ``scanner_backend=``): tests run the
real drivers against virtual peripherals over an in-process Bluetooth stack.

Notification callbacks only decode and hand over; a malformed notification is counted
and reported, never raised out of the callback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakDeviceNotFoundError, BleakError

from isogrip.ble_device.advert import advert_of
from isogrip.ble_device.base import Advert, DeviceInfo, Packet, monotonic_clock
from isogrip.ble_device.bleak_errors import device_error
from isogrip.ble_device.codec import CommandResponse
from isogrip.ble_device.driver import DriverBase
from isogrip.clock import Clock
from isogrip.errors import DeviceError, DeviceErrorReason

log = logging.getLogger(__name__)

#: How long a scan for a device may take by default, s.
DEFAULT_SCAN_TIMEOUT_S = 10.0
#: How long a connection attempt may take, s.
DEFAULT_CONNECT_TIMEOUT_S = 15.0
#: How long a command response may take, s.
RESPONSE_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class GattProfile:
    """Everything device-specific a GATT driver needs.

    Attributes:
        kind: Driver name (``"progressor"``).
        display_name: Human name of the device family.
        name_prefixes: Advertised names that identify the device (prefix match).
        service_uuids: Service UUIDs that identify the device in advertisements.
        data_uuid: Characteristic to subscribe to.
        control_uuid: Characteristic commands are written to (None: no commands).
        decode: bytes -> :data:`~isogrip.ble_device.base.Packet` (samples, a command
            reply, a notice); raises ``DecodeError`` on bad input.
        start: Bytes that start the stream (written to ``control_uuid``).
        stop: Bytes that stop the stream.
        tare: Bytes that zero the device, or None for a software tare.
        restart_after_tare: Send ``start`` again after ``tare`` (firmwares differ).
        write_with_response: Write commands with response.
        nominal_rate_hz: Expected sample rate.
        has_clock: Whether samples carry device timestamps.
        full_scale_n: Largest force the device reports, N.
        on_connect: Coroutine run after subscribing, e.g. to read battery and
            firmware: ``on_connect(device) -> dict`` of info fields.
        battery: Coroutine reading the battery in percent (or None).
        alt_data_uuids: Other data characteristics some firmwares use instead; the
            first one the device offers is subscribed.
        make_decoder: Creates a stateful decoder (for byte streams whose frames
            span notifications); used instead of ``decode`` when given.
        stop_on_exit: Send ``stop`` on disconnect even when not streaming (devices
            that keep streaming across connections).
        start_sequence: Extra (characteristic, bytes) writes before ``start``
            (None = the control characteristic), e.g. choosing a sample rate.
    """

    kind: str
    display_name: str
    name_prefixes: tuple[str, ...]
    service_uuids: tuple[str, ...]
    data_uuid: str
    control_uuid: str | None
    decode: Callable[[bytes], Packet]
    start: bytes = b""
    stop: bytes = b""
    tare: bytes | None = None
    restart_after_tare: bool = False
    write_with_response: bool = True
    nominal_rate_hz: float = 80.0
    has_clock: bool = False
    full_scale_n: float | None = None
    on_connect: Callable[[GattDevice], Awaitable[dict[str, Any]]] | None = None
    battery: Callable[[GattDevice], Awaitable[float | None]] | None = None
    alt_data_uuids: tuple[str, ...] = ()
    make_decoder: Callable[[], Callable[[bytes], Packet]] | None = None
    stop_on_exit: bool = False
    start_sequence: tuple[tuple[str | None, bytes], ...] = ()

    def recognises(self, advert: Advert) -> bool:
        """Whether an advertisement (name or service UUIDs) is this kind of device."""
        return advert.matches(self.name_prefixes, self.service_uuids)


class GattDevice(DriverBase[bytes]):
    """A connected BLE force device run from a :class:`GattProfile`.

    Args:
        profile: The device family.
        address: BLE address to connect to, or None for the nearest matching device.
        clock: Host clock used to stamp notifications (monotonic by default).
        backend: bleak client backend class (for tests); None for the OS's.
        scanner_backend: bleak scanner backend class (for tests).
        scan_timeout_s: How long to look for the device.
        connect_timeout_s: How long a connection attempt may take.
    """

    def __init__(
        self,
        profile: GattProfile,
        address: str | None = None,
        *,
        clock: Clock | None = None,
        backend: type | None = None,
        scanner_backend: type | None = None,
        scan_timeout_s: float = DEFAULT_SCAN_TIMEOUT_S,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
    ) -> None:
        super().__init__()
        self.profile = profile
        self.address = address
        self._now: Callable[[], float] = clock.now if clock is not None else monotonic_clock
        self._backend = backend
        self._scanner_backend = scanner_backend
        self._scan_timeout = scan_timeout_s
        self._connect_timeout = connect_timeout_s
        self._client: BleakClient | None = None
        self._ble_device: BLEDevice | None = None
        self._info = DeviceInfo(kind=profile.kind, name=profile.display_name,
                                address=address or "", nominal_rate_hz=profile.nominal_rate_hz,
                                has_clock=profile.has_clock, full_scale_n=profile.full_scale_n)
        self._responses: asyncio.Queue[bytes] = asyncio.Queue()
        self._decoder = profile.decode
        self._request_lock = asyncio.Lock()
        self._late_answers = 0
        self._data_uuid = profile.data_uuid
        self._closing = False
        self._streaming = False
        self.notifications = 0

    # -- ForceDevice --------------------------------------------------------------
    @property
    def is_connected(self) -> bool:
        """Whether the link is up."""
        return self._client is not None and self._client.is_connected

    async def connect(self) -> None:
        """Find the device (if needed), connect, subscribe, and read its info.

        Raises:
            DeviceError: Not found, Bluetooth off, no adapter, permission denied,
                busy, or the device does not offer the expected characteristics.
        """
        self._closing = False
        what = self._describe()
        await self._safe_disconnect()  # never two links (and two subscriptions) at once
        try:
            device = self._ble_device or await self._find()
            self._ble_device = device
            client = BleakClient(
                device,
                disconnected_callback=self._disconnected,
                timeout=self._connect_timeout,
                backend=self._backend,
            )
            await client.connect()
            self._client = client
            offered = [u for u in (self.profile.data_uuid, *self.profile.alt_data_uuids)
                       if client.services.get_characteristic(u) is not None]
            if not offered:
                await self._safe_disconnect()
                raise DeviceError(
                    f"{what} does not offer the expected data characteristic; is it a "
                    f"{self.profile.display_name}?",
                    DeviceErrorReason.PROTOCOL,
                )
            self._data_uuid = offered[0]
            if self.profile.make_decoder is not None:
                self._decoder = self.profile.make_decoder()  # fresh frame buffer per link
            await client.start_notify(self._data_uuid, self._notification)
        except DeviceError:
            raise
        except (BleakError, OSError, TimeoutError) as exc:
            await self._safe_disconnect()
            raise device_error(exc, what) from exc
        except BaseException:  # cancelled (e.g. a reconnect timeout): leave no link behind
            await asyncio.shield(self._safe_disconnect())
            raise
        extra: dict[str, Any] = {}
        if self.profile.on_connect is not None:
            try:
                extra = await self.profile.on_connect(self)
            except (BleakError, TimeoutError, ValueError) as exc:
                log.warning("could not read device info: %s", exc)
        self._info = DeviceInfo(
            kind=self.profile.kind,
            name=device.name or self.profile.display_name,
            address=device.address,
            firmware=extra.pop("firmware", None),
            nominal_rate_hz=self.profile.nominal_rate_hz,
            has_clock=self.profile.has_clock,
            full_scale_n=self.profile.full_scale_n,
            extra=extra,
        )

    async def start(self) -> None:
        """Start streaming."""
        for uuid, data in self.profile.start_sequence:
            await self.write(data, uuid)
        await self.write(self.profile.start)
        self._streaming = True

    async def stop(self) -> None:
        """Stop streaming (quietly if the link is already gone)."""
        self._streaming = False
        if self.is_connected and self.profile.stop:
            with contextlib.suppress(BleakError, OSError, TimeoutError):
                await self.write(self.profile.stop)

    async def _tare_command(self) -> bool:
        """Send the profile's tare (restarting the stream where the firmware needs it)."""
        if self.profile.tare is None:
            return False  # the base's software tare
        await self.write(self.profile.tare)
        if self.profile.restart_after_tare and self._streaming:
            await self.write(self.profile.start)
        return True

    async def battery(self) -> float | None:
        """Battery level in percent, if the device reports it."""
        if self.profile.battery is None or not self.is_connected:
            return None
        try:
            return await self.profile.battery(self)
        except (BleakError, TimeoutError, ValueError) as exc:
            log.warning("could not read the battery: %s", exc)
            return None

    async def disconnect(self) -> None:
        """Stop and close the link. Never sends a power-off command."""
        self._closing = True
        if self._streaming or self.profile.stop_on_exit:
            await self.stop()
        await self._safe_disconnect()

    # -- helpers for profiles ---------------------------------------------------------
    async def write(self, data: bytes, uuid: str | None = None) -> None:
        """Write a command to the control characteristic (or ``uuid``)."""
        if not data:
            return
        target = uuid or self.profile.control_uuid
        if target is None or self._client is None:
            raise DeviceError("the device takes no commands", DeviceErrorReason.PROTOCOL)
        try:
            await self._client.write_gatt_char(target, data,
                                               response=self.profile.write_with_response)
        except (BleakError, OSError) as exc:
            raise device_error(exc, self._describe()) from exc

    async def request(self, data: bytes, timeout: float = RESPONSE_TIMEOUT_S) -> bytes:
        """Write a command and wait for its response notification."""
        async with self._request_lock:  # one request at a time
            if self._late_answers:
                # A timed-out request's answer may still be on its way: let it arrive
                # (and drop it) so it is not taken for this request's answer.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._responses.get(), timeout)
                self._late_answers = 0
            while not self._responses.empty():  # drop stale answers
                self._responses.get_nowait()
            await self.write(data)
            try:
                return await asyncio.wait_for(self._responses.get(), timeout)
            except TimeoutError:
                # Its answer may still come: it must not be taken for the next one's.
                self._late_answers += 1
                raise

    async def read(self, uuid: str) -> bytes:
        """Read a characteristic."""
        if self._client is None:
            raise DeviceError("not connected", DeviceErrorReason.DISCONNECTED)
        return bytes(await self._client.read_gatt_char(uuid))

    # -- internals ------------------------------------------------------------------
    def _describe(self) -> str:
        where = f" at {self.address}" if self.address else ""
        return f"{self.profile.display_name}{where}"

    async def _find(self) -> BLEDevice:
        """Scan for the device: by address, or the nearest one matching the profile."""
        found: dict[str, tuple[BLEDevice, int]] = {}
        done = asyncio.Event()

        def seen(device: BLEDevice, adv: AdvertisementData) -> None:
            if self.address is not None:
                if device.address.lower() == self.address.lower():
                    found[device.address] = (device, adv.rssi)
                    done.set()
            elif self.profile.recognises(advert_of(device, adv)):
                found[device.address] = (device, adv.rssi)

        scanner = BleakScanner(seen, backend=self._scanner_backend)
        await scanner.start()
        try:
            # Looking for any matching device: listen a short while to pick the nearest.
            wait = self._scan_timeout if self.address else min(self._scan_timeout, 2.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), wait)
            if not found and self.address is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._until(lambda: bool(found)),
                                           self._scan_timeout - wait)
        finally:
            await scanner.stop()
        if not found:
            raise BleakDeviceNotFoundError(self.address or self.profile.kind,
                                           f"no {self.profile.display_name} found")
        return max(found.values(), key=lambda dr: dr[1])[0]

    @staticmethod
    async def _until(cond: Callable[[], bool]) -> None:
        while not cond():
            await asyncio.sleep(0.05)

    def _notification(self, _char: Any, data: bytearray) -> None:
        """Bleak notification callback: the base decodes and hands over. Never raises."""
        self.notifications += 1
        self._receive(bytes(data), self._now())

    def _decode(self, data: bytes) -> Packet:
        return self._decoder(data)

    def _on_response(self, response: CommandResponse) -> None:
        self._responses.put_nowait(response.payload)

    def _disconnected(self, client: BleakClient) -> None:
        if self._closing or client is not self._client:
            return  # our own disconnect, or a link we already replaced
        self._streaming = False
        if self._on_disconnect is not None:
            self._on_disconnect("the Bluetooth link was lost")

    async def _safe_disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(BleakError, OSError, TimeoutError):
                await client.disconnect()
