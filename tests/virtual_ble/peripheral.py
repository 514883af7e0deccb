"""Virtual BLE peripherals: a bumble GATT server plus advertising, described declaratively.

A :class:`VirtualPeripheral` owns one bumble ``Device`` (created by the
:class:`~virtual_ble.world.VirtualBleWorld` when the peripheral is added) and reproduces a
real device's GATT table and advertising payload. Subclasses implement the byte protocol
in the ``on_read`` / ``on_write`` handlers of their characteristics.
"""

from __future__ import annotations

import asyncio
import inspect
import struct
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bumble import hci
from bumble.att import ATT_Error, ErrorCode
from bumble.device import AdvertisingType, Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service

if TYPE_CHECKING:
    from .world import VirtualBleWorld

__all__ = ["BASE_UUID_SUFFIX", "CharSpec", "VirtualPeripheral", "normalize_uuid"]

BASE_UUID_SUFFIX = "-0000-1000-8000-00805f9b34fb"

ReadHandler = Callable[[], bytes | Awaitable[bytes]]
WriteHandler = Callable[[bytes], Awaitable[None] | None]

_PROPERTY_BITS: dict[str, Characteristic.Properties] = {
    "read": Characteristic.Properties.READ,
    "write": Characteristic.Properties.WRITE,
    "write_without_response": Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
    "write-without-response": Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
    "notify": Characteristic.Properties.NOTIFY,
    "indicate": Characteristic.Properties.INDICATE,
}

# AD types (Core Spec Supplement, Part A).
AD_FLAGS = 0x01
AD_UUID16_COMPLETE = 0x03
AD_UUID128_COMPLETE = 0x07
AD_LOCAL_NAME_COMPLETE = 0x09
AD_TX_POWER = 0x0A
AD_SERVICE_DATA_16 = 0x16
AD_SERVICE_DATA_128 = 0x21
AD_MANUFACTURER_DATA = 0xFF


def normalize_uuid(uuid: str | int) -> str:
    """Return ``uuid`` as a lower-case 128-bit string (16/32-bit short forms are expanded)."""
    if isinstance(uuid, int):
        return f"{uuid:08x}{BASE_UUID_SUFFIX}"
    text = uuid.strip().lower()
    if text.startswith("0x"):
        text = text[2:]
    if len(text) in (4, 8):
        return f"{int(text, 16):08x}{BASE_UUID_SUFFIX}"
    if len(text) == 32:
        text = f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text


def _short_uuid16(uuid: str) -> int | None:
    """The 16-bit alias of a SIG base UUID, or None for a vendor 128-bit UUID."""
    full = normalize_uuid(uuid)
    if full.endswith(BASE_UUID_SUFFIX) and full.startswith("0000"):
        return int(full[4:8], 16)
    return None


def _uuid128_le(uuid: str) -> bytes:
    """128-bit UUID in the little-endian byte order used on air."""
    return bytes.fromhex(normalize_uuid(uuid).replace("-", ""))[::-1]


def _ad(ad_type: int, payload: bytes) -> bytes:
    return bytes([len(payload) + 1, ad_type]) + payload


@dataclass
class CharSpec:
    """Declarative description of one characteristic.

    Args:
        uuid: characteristic UUID (short or 128-bit, any case).
        properties: any of ``read``, ``write``, ``write_without_response``, ``notify``,
            ``indicate`` (a sequence or a comma-separated string).
        on_read: returns the value for a read; without it a read answers
            ``READ_NOT_PERMITTED``.
        on_write: receives every written value (sync or async).
    """

    uuid: str
    properties: Sequence[str] | str
    on_read: ReadHandler | None = None
    on_write: WriteHandler | None = None

    def property_names(self) -> frozenset[str]:
        """Normalised property names (``write-without-response`` -> ``write_without_response``)."""
        items = self.properties.split(",") if isinstance(self.properties, str) else self.properties
        names = {p.strip().lower().replace("-", "_") for p in items if p.strip()}
        unknown = names - set(_PROPERTY_BITS)
        if unknown:
            raise ValueError(f"unknown characteristic properties {sorted(unknown)}")
        return frozenset(names)


ServiceTable = Mapping[str, Sequence[CharSpec]]


class VirtualPeripheral:
    """Base class of a virtual BLE peripheral.

    Args:
        name: advertised complete local name.
        services: service UUID -> characteristic specs. Use an empty mapping for an
            advertisement-only device.
        service_uuids_in_adv: service UUIDs put into the advertising data (16-bit SIG
            UUIDs are advertised in short form, others as 128-bit).
        manufacturer_data: company id -> payload (without the company id).
        service_data: service UUID -> payload.
        tx_power: advertised TX power level (dBm) or None.
        connectable: False for advertisement-only devices (scales that stream in
            advertisements).
        rssi: RSSI reported to scanners; None lets the world pick ``-50 - index``.
        include_flags: include the AD flags structure (LE General Discoverable,
            BR/EDR not supported).

    Subclasses normally pass ``services`` built from their own handlers and override
    :meth:`on_connect`, :meth:`on_disconnect` and :meth:`on_teardown`.
    """

    def __init__(
        self,
        name: str,
        services: ServiceTable | None = None,
        *,
        service_uuids_in_adv: Iterable[str] = (),
        manufacturer_data: Mapping[int, bytes] | None = None,
        service_data: Mapping[str, bytes] | None = None,
        tx_power: int | None = None,
        connectable: bool = True,
        rssi: int | None = None,
        include_flags: bool = True,
    ) -> None:
        self.name = name
        self.connectable = connectable
        self.rssi = rssi
        self.tx_power = tx_power
        self.include_flags = include_flags
        self.service_uuids_in_adv = [normalize_uuid(u) for u in service_uuids_in_adv]
        self.manufacturer_data: dict[int, bytes] = dict(manufacturer_data or {})
        self.service_data: dict[str, bytes] = {
            normalize_uuid(k): bytes(v) for k, v in (service_data or {}).items()
        }
        self.writes: list[tuple[str, bytes]] = []
        """Every value written to any characteristic: (lower-case 128-bit uuid, data)."""
        self.reads: list[str] = []
        """UUID of every characteristic read."""
        self.connection_count = 0
        self.address: str | None = None
        self.device: Device | None = None
        self._specs: dict[str, CharSpec] = {}
        self._chars: dict[str, Characteristic[bytes]] = {}
        self._services: list[Service] = []
        self._connection: Connection | None = None
        self._world: VirtualBleWorld | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._advertising = False  # wanted state; the world's is_open gates restarts
        self._adv_lock = asyncio.Lock()
        self._disconnected = asyncio.Event()
        for service_uuid, specs in (services or {}).items():
            self._add_service(service_uuid, specs)

    # ------------------------------------------------------------------ GATT table
    def _add_service(self, service_uuid: str, specs: Sequence[CharSpec]) -> None:
        chars: list[Characteristic[bytes]] = []
        for spec in specs:
            uuid = normalize_uuid(spec.uuid)
            names = spec.property_names()
            props = Characteristic.Properties(0)
            for n in names:
                props |= _PROPERTY_BITS[n]
            # bumble gap: a CharacteristicValue without a read (or write) function makes
            # the server raise internally and send no ATT response at all, so the client
            # waits 30 s; bumble also does no permission checks. Every characteristic
            # therefore gets both handlers, which answer proper ATT errors themselves.
            value: CharacteristicValue[bytes] = CharacteristicValue(
                read=self._make_read(uuid, spec, names),
                write=self._make_write(uuid, spec, names),
            )
            char: Characteristic[bytes] = Characteristic(
                uuid,
                props,
                Characteristic.Permissions.READABLE | Characteristic.Permissions.WRITEABLE,
                value,
            )
            self._specs[uuid] = spec
            self._chars[uuid] = char
            chars.append(char)
        self._services.append(Service(normalize_uuid(service_uuid), chars))

    def _make_read(
        self, uuid: str, spec: CharSpec, names: frozenset[str]
    ) -> Callable[[Connection], Awaitable[bytes]]:
        async def read(_connection: Connection) -> bytes:
            if "read" not in names or spec.on_read is None:
                raise ATT_Error(ErrorCode.READ_NOT_PERMITTED, self._chars[uuid].handle)
            self.reads.append(uuid)
            result = spec.on_read()
            if inspect.isawaitable(result):
                result = await result
            return bytes(result)

        return read

    def _make_write(
        self, uuid: str, spec: CharSpec, names: frozenset[str]
    ) -> Callable[[Connection, bytes], Awaitable[None]]:
        writable = bool(names & {"write", "write_without_response"})

        async def write(_connection: Connection, value: bytes) -> None:
            if not writable:
                raise ATT_Error(ErrorCode.WRITE_NOT_PERMITTED, self._chars[uuid].handle)
            self.writes.append((uuid, bytes(value)))
            if spec.on_write is not None:
                result = spec.on_write(bytes(value))
                if inspect.isawaitable(result):
                    await result

        return write

    # ------------------------------------------------------------------ advertising
    def advertising_data(self) -> bytes:
        """The advertising payload (AD structures) built from the current attributes."""
        data = b""
        if self.include_flags:
            data += _ad(AD_FLAGS, b"\x06")
        if self.name:
            data += _ad(AD_LOCAL_NAME_COMPLETE, self.name.encode())
        short = [s for u in self.service_uuids_in_adv if (s := _short_uuid16(u)) is not None]
        long_ = [u for u in self.service_uuids_in_adv if _short_uuid16(u) is None]
        if short:
            data += _ad(AD_UUID16_COMPLETE, b"".join(struct.pack("<H", s) for s in short))
        if long_:
            data += _ad(AD_UUID128_COMPLETE, b"".join(_uuid128_le(u) for u in long_))
        for uuid, payload in self.service_data.items():
            s16 = _short_uuid16(uuid)
            if s16 is not None:
                data += _ad(AD_SERVICE_DATA_16, struct.pack("<H", s16) + payload)
            else:
                data += _ad(AD_SERVICE_DATA_128, _uuid128_le(uuid) + payload)
        if self.tx_power is not None:
            data += _ad(AD_TX_POWER, struct.pack("<b", self.tx_power))
        for company_id, payload in self.manufacturer_data.items():
            data += _ad(AD_MANUFACTURER_DATA, struct.pack("<H", company_id) + payload)
        # Real legacy advertising is limited to 31 bytes; bumble's virtual controller
        # accepts longer payloads (which the tests rely on to put the Progressor's
        # name and 128-bit service UUID together, since bumble never delivers scan
        # responses). Anything beyond 251 bytes would not fit in one HCI command.
        if len(data) > 251:
            raise ValueError(f"advertising data too long ({len(data)} bytes)")
        return data

    async def set_manufacturer_data(self, company_id: int, payload: bytes) -> None:
        """Replace the manufacturer data of ``company_id`` and update the advertisement."""
        self.manufacturer_data[company_id] = bytes(payload)
        await self.update_advertising_data()

    async def update_advertising_data(self) -> None:
        """Push :meth:`advertising_data` to the controller (if advertising)."""
        async with self._adv_lock:
            device = self.device
            if device is None or not self._advertising:
                return
            data = self.advertising_data()
            device.advertising_data = data
            adv_set = device.legacy_advertising_set
            if adv_set is not None and adv_set.enabled:
                await adv_set.set_advertising_data(data)
            else:
                await self._start_advertising_locked()

    async def _start_advertising(self) -> None:
        """(Re)start advertising unless it was stopped meanwhile."""
        # Every advertising operation holds _adv_lock: a restart after a disconnect
        # running concurrently with teardown's stop made bumble remove the same
        # advertising set twice (KeyError inside bumble, host command state corrupted).
        async with self._adv_lock:
            world = self._world
            if self._advertising and world is not None and world.is_open:
                await self._start_advertising_locked()

    async def _start_advertising_locked(self) -> None:
        assert self.device is not None
        await self.device.start_advertising(
            advertising_type=(
                AdvertisingType.UNDIRECTED_CONNECTABLE_SCANNABLE
                if self.connectable
                else AdvertisingType.UNDIRECTED
            ),
            # Auto-restart is done by this class (see _on_disconnection) rather than
            # bumble's flag: bumble binds the restart to the connection when it is made,
            # so it cannot be switched off at teardown for an existing connection and
            # would leave a task restarting advertising on a powered-off device.
            auto_restart=False,
            advertising_data=self.advertising_data(),
            scan_response_data=b"",
            # The 1 s default makes every connect wait ~0.9 s for an advertisement.
            advertising_interval_min=20,
            advertising_interval_max=20,
        )

    async def _stop_advertising(self) -> None:
        self._advertising = False
        async with self._adv_lock:
            if self.device is not None and self.device.powered_on:
                await self.device.stop_advertising()

    # ------------------------------------------------------------------ life cycle (world)
    async def _attach(self, world: VirtualBleWorld, device: Device, address: str) -> None:
        """Called by the world: register services, hook events, start advertising."""
        self._world = world
        self.device = device
        self.address = address
        device.add_services(self._services)
        device.on(Device.EVENT_CONNECTION, self._on_connection)
        self._advertising = True
        await self._start_advertising()

    async def _detach(self) -> None:
        """Called by the world at teardown: stop everything this peripheral started."""
        await self.on_teardown()
        await self._stop_advertising()
        # Let short tasks (advertising restarts, replies, disconnects) finish rather than
        # cancelling them inside a bumble HCI exchange; cancel whatever is left.
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=0.5)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def _on_connection(self, connection: Connection) -> None:
        if connection.role != hci.Role.PERIPHERAL:
            return
        if not self.connectable:
            # bumble's virtual controller accepts a CONNECT_IND even for non-connectable
            # advertising (and stops advertising); a real scale ignores it, so drop the
            # link at once and advertise again.
            self.spawn(self._reject(connection))
            return
        self._connection = connection
        self._disconnected.clear()
        self.connection_count += 1
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)
        self.on_connect()

    async def _reject(self, connection: Connection) -> None:
        try:
            await connection.disconnect()
        finally:
            await self._start_advertising()

    def _on_disconnection(self, _reason: int) -> None:
        self._connection = None
        self._disconnected.set()
        self.on_disconnect()
        # The controller stops advertising when a connection is made; restart it while
        # the world is open (auto-restart), as a real peripheral does after a disconnect.
        self.spawn(self._start_advertising())

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` as a task that is cancelled and awaited at teardown."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------------ hooks
    def on_connect(self) -> None:
        """Hook: a central connected."""

    def on_disconnect(self) -> None:
        """Hook: the link dropped (either side)."""

    async def on_teardown(self) -> None:
        """Hook: the world is closing; stop background activity."""

    # ------------------------------------------------------------------ test helpers
    @property
    def connected(self) -> bool:
        """Whether a central is connected."""
        return self._connection is not None

    def subscribed(self, char_uuid: str) -> bool:
        """Whether the connected central enabled notifications/indications on ``char_uuid``."""
        char = self._chars[normalize_uuid(char_uuid)]
        if self.device is None:
            return False
        for cccds in self.device.gatt_server.subscribers.values():
            value = cccds.get(char.handle)
            if value and any(value):
                return True
        return False

    async def notify(self, char_uuid: str, data: bytes) -> None:
        """Send ``data`` as a notification (or indication if that is all it supports).

        Like a real stack, a value longer than MTU-3 is truncated silently.
        """
        device = self.device
        if device is None or self._connection is None:
            return
        char = self._chars[normalize_uuid(char_uuid)]
        if char.properties & Characteristic.Properties.NOTIFY:
            await device.notify_subscribers(char, bytes(data))
        else:
            await device.indicate_subscribers(char, bytes(data))

    async def disconnect(
        self, reason: int = hci.HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR
    ) -> None:
        """Peripheral-initiated disconnect; returns once the link is down."""
        connection = self._connection
        if connection is None:
            return
        await connection.disconnect(reason=reason)
        await self._disconnected.wait()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.address}>"
