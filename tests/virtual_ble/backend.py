"""bleak backends (client and scanner) running on the central of a :class:`VirtualBleWorld`.

The world creates subclasses of these classes with a ``world`` class attribute
(``world.client_backend`` / ``world.scanner_backend``) so that bleak can instantiate
them itself from ``BleakClient(..., backend=...)`` / ``BleakScanner(..., backend=...)``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import struct
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from bleak.args import SizedBuffer
from bleak.assigned_numbers import gatt_char_props_to_strs
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bumble import core, hci
from bumble.att import ATT_Error
from bumble.device import Advertisement, Connection, Peer
from bumble.gatt_client import CharacteristicProxy, DescriptorProxy

from .peripheral import BASE_UUID_SUFFIX, normalize_uuid

if TYPE_CHECKING:
    from .world import VirtualBleWorld

__all__ = ["VirtualBleakClient", "VirtualBleakScanner", "parse_advertising_data"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


def _bumble_uuid_to_str(uuid: core.UUID) -> str:
    """bumble UUID -> bleak's lower-case 128-bit string."""
    return normalize_uuid(uuid.to_hex_str("-"))


# ---------------------------------------------------------------------- client
class VirtualBleakClient(BaseBleakClient):
    """bleak client backend over the world's bumble central.

    Follows the contract of the OS backends: services are discovered on connect, the
    disconnected callback fires on every disconnect (also local and peripheral-initiated),
    ATT errors raise ``BleakGATTProtocolError`` and a lost link raises ``BleakError``.
    """

    world: ClassVar[VirtualBleWorld]

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device,
            disconnected_callback=disconnected_callback,
            timeout=timeout,
            **kwargs,
        )
        self._device_name: str | None = (
            address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None
        )
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._mtu = 23
        self._subscriptions: dict[int, Callable[[bytes], None]] = {}

    # ------------------------------------------------------------------ properties
    @property
    def name(self) -> str:
        """Advertised name of the peripheral (or the address with dashes, like BlueZ)."""
        if self._device_name:
            return self._device_name
        peripheral = self.world.peripheral(self.address)
        if peripheral is not None and peripheral.name:
            return peripheral.name
        return self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        """Negotiated ATT MTU."""
        return self._mtu

    @property
    def is_connected(self) -> bool:
        """Whether the link is up."""
        connection = self._connection
        central = self.world.central
        return (
            connection is not None
            and central is not None
            and central.connections.get(connection.handle) is connection
        )

    # ------------------------------------------------------------------ connection
    async def connect(self, pair: bool, **kwargs: Any) -> None:
        """Connect, exchange MTU and discover all services.

        Raises:
            BleakDeviceNotFoundError: nothing advertising at the address within the
                timeout (the OS backends raise it when the device was never seen).
        """
        world = self.world
        central = world.central
        if central is None or not world.is_open:
            raise BleakError("VirtualBleWorld is not open")
        if self.is_connected:
            return
        timeout = float(kwargs.get("timeout", self._timeout))
        try:
            address = hci.Address(self.address.upper(), hci.Address.RANDOM_DEVICE_ADDRESS)
        except Exception as exc:
            raise BleakDeviceNotFoundError(self.address, f"bad address {self.address}") from exc

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        # bumble gap: concurrent Device.connect() calls corrupt its state: serialise.
        try:
            async with asyncio.timeout_at(deadline):
                await world.connect_lock.acquire()
        except TimeoutError:
            raise BleakDeviceNotFoundError(
                self.address, f"Device with address {self.address} was not found"
            ) from None
        try:
            try:
                async with asyncio.timeout_at(deadline):
                    # timeout=None: bumble's own timeout sends a cancel that its
                    # controller ignores and then waits forever; we time out ourselves.
                    connection = await central.connect(address, timeout=None)
            except TimeoutError:
                world.abandon_pending_connection()
                raise BleakDeviceNotFoundError(
                    self.address, f"Device with address {self.address} was not found"
                ) from None
            except asyncio.CancelledError:
                world.abandon_pending_connection()
                raise
            except core.BaseBumbleError as exc:
                world.abandon_pending_connection()
                raise BleakError(f"connect to {self.address} failed: {exc}") from exc
        finally:
            world.connect_lock.release()

        self._connection = connection
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)
        self._peer = Peer(connection)
        try:
            async with asyncio.timeout(max(deadline - loop.time(), 1.0)):
                if world.mtu > 23:
                    self._mtu = await self._gatt(
                        lambda: self._peer_or_raise().request_mtu(world.mtu)
                    )
                self.services = await self._discover()
        except BaseException:
            await self.disconnect()
            raise

    def _on_disconnection(self, _reason: int) -> None:
        self._connection = None
        self._peer = None
        self._subscriptions.clear()
        self.services = None
        callback = self._disconnected_callback
        if callback is not None:
            # bleak's OS backends call it from the event loop, never re-entrantly.
            asyncio.get_running_loop().call_soon(callback)

    async def disconnect(self) -> None:
        """Disconnect; a no-op when already disconnected (bleak's __aexit__ always calls it)."""
        connection = self._connection
        if connection is None or not self.is_connected:
            return
        done = asyncio.Event()
        connection.once(connection.EVENT_DISCONNECTION, lambda _r: done.set())
        try:
            await connection.disconnect()
        except Exception:  # the peripheral dropped the link at the same moment
            logger.debug("disconnect raced a remote disconnect", exc_info=True)
        if self._connection is connection:
            async with asyncio.timeout(2.0):
                await done.wait()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """No pairing in the virtual world (the emulated devices do not need it)."""

    async def unpair(self) -> None:
        """No pairing in the virtual world."""

    # ------------------------------------------------------------------ GATT
    def _peer_or_raise(self) -> Peer:
        if self._peer is None or not self.is_connected:
            raise BleakError("Not connected")
        return self._peer

    async def _gatt(self, operation: Callable[[], Awaitable[_T]]) -> _T:
        """Run a bumble GATT operation, mapping its failures to bleak's exceptions.

        bumble gap: when the link drops during a request, bumble cancels the future the
        request waits on, so the caller sees ``CancelledError``. The OS backends raise a
        ``BleakError`` instead; a real cancellation of the caller (``task.cancelling()``)
        still propagates.
        """
        self._peer_or_raise()
        try:
            return await operation()
        except ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            raise BleakError(f"{self.address}: disconnected during a GATT request") from None
        except core.TimeoutError as exc:
            raise BleakError(f"{self.address}: GATT request timed out") from exc
        except core.BaseBumbleError as exc:
            raise BleakError(f"{self.address}: {exc}") from exc

    async def _discover(self) -> BleakGATTServiceCollection:
        peer = self._peer_or_raise()
        collection = BleakGATTServiceCollection()
        services = await self._gatt(peer.discover_services)
        for service_proxy in services:
            service = BleakGATTService(
                service_proxy, service_proxy.handle, _bumble_uuid_to_str(service_proxy.uuid)
            )
            collection.add_service(service)
            chars = await self._gatt(
                functools.partial(peer.discover_characteristics, service=service_proxy)
            )
            for char_proxy in chars:
                char = BleakGATTCharacteristic(
                    char_proxy,
                    char_proxy.handle,
                    _bumble_uuid_to_str(char_proxy.uuid),
                    sorted(gatt_char_props_to_strs(int(char_proxy.properties))),
                    lambda: self._mtu - 3,
                    service,
                )
                collection.add_characteristic(char)
                descriptors = await self._gatt(
                    functools.partial(peer.discover_descriptors, characteristic=char_proxy)
                )
                for desc_proxy in descriptors:
                    collection.add_descriptor(
                        BleakGATTDescriptor(
                            desc_proxy,
                            desc_proxy.handle,
                            _bumble_uuid_to_str(desc_proxy.type),
                            char,
                        )
                    )
        return collection

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        """Read a characteristic value (ATT error -> BleakGATTProtocolError)."""
        peer = self._peer_or_raise()
        proxy: CharacteristicProxy[bytes] = characteristic.obj
        return bytearray(await self._gatt(lambda: peer.read_value(proxy)))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        """Read a descriptor value."""
        peer = self._peer_or_raise()
        proxy: DescriptorProxy = descriptor.obj
        return bytearray(await self._gatt(lambda: peer.read_value(proxy)))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        """Write with response (ATT write request) or without (ATT write command)."""
        # Checked first: bumble would otherwise queue a write command on a dead link.
        peer = self._peer_or_raise()
        proxy: CharacteristicProxy[bytes] = characteristic.obj
        value = bytes(data)
        await self._gatt(lambda: peer.write_value(proxy, value, with_response=response))

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: SizedBuffer
    ) -> None:
        """Write a descriptor (always a write request)."""
        peer = self._peer_or_raise()
        proxy: DescriptorProxy = descriptor.obj
        value = bytes(data)
        await self._gatt(lambda: peer.write_value(proxy, value, with_response=True))

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        """Write the CCCD (notifications preferred over indications, as bleak does)."""
        peer = self._peer_or_raise()
        proxy: CharacteristicProxy[bytes] = characteristic.obj

        def subscriber(value: bytes) -> None:
            callback(bytearray(value))

        old = self._subscriptions.pop(characteristic.handle, None)
        if old is not None:
            await self._gatt(lambda: peer.unsubscribe(proxy, old))
        self._subscriptions[characteristic.handle] = subscriber
        await self._gatt(lambda: peer.subscribe(proxy, subscriber, prefer_notify=True))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        """Clear the CCCD and drop the callback."""
        peer = self._peer_or_raise()
        proxy: CharacteristicProxy[bytes] = characteristic.obj
        self._subscriptions.pop(characteristic.handle, None)
        await self._gatt(lambda: peer.gatt_client.unsubscribe(proxy, force=True))


# ---------------------------------------------------------------------- scanner
def parse_advertising_data(
    data: bytes,
) -> tuple[str | None, dict[int, bytes], list[str], dict[str, bytes], int | None]:
    """Parse AD structures into (local_name, manufacturer_data, service_uuids,
    service_data, tx_power) the way bleak's OS backends present them.
    """
    name: str | None = None
    manufacturer: dict[int, bytes] = {}
    uuids: list[str] = []
    service_data: dict[str, bytes] = {}
    tx_power: int | None = None
    i = 0
    while i < len(data):
        length = data[i]
        if length == 0 or i + 1 + length > len(data):
            break
        ad_type, payload = data[i + 1], bytes(data[i + 2 : i + 1 + length])
        i += 1 + length
        if ad_type in (0x08, 0x09):  # shortened / complete local name
            if name is None or ad_type == 0x09:
                name = payload.decode("utf-8", errors="replace")
        elif ad_type == 0xFF and len(payload) >= 2:
            # bleak strips the company id and keys the dict by it.
            manufacturer[int.from_bytes(payload[:2], "little")] = payload[2:]
        elif ad_type in (0x02, 0x03):
            uuids += [
                f"0000{u:04x}{BASE_UUID_SUFFIX}" for (u,) in struct.iter_unpack("<H", payload)
            ]
        elif ad_type in (0x04, 0x05):
            uuids += [f"{u:08x}{BASE_UUID_SUFFIX}" for (u,) in struct.iter_unpack("<I", payload)]
        elif ad_type in (0x06, 0x07):
            uuids += [
                normalize_uuid(payload[j : j + 16][::-1].hex())
                for j in range(0, len(payload) - 15, 16)
            ]
        elif ad_type == 0x16 and len(payload) >= 2:
            uuid = f"0000{int.from_bytes(payload[:2], 'little'):04x}{BASE_UUID_SUFFIX}"
            service_data[uuid] = payload[2:]
        elif ad_type == 0x20 and len(payload) >= 4:
            uuid = f"{int.from_bytes(payload[:4], 'little'):08x}{BASE_UUID_SUFFIX}"
            service_data[uuid] = payload[4:]
        elif ad_type == 0x21 and len(payload) >= 16:
            service_data[normalize_uuid(payload[:16][::-1].hex())] = payload[16:]
        elif ad_type == 0x0A and len(payload) == 1:
            tx_power = struct.unpack("<b", payload)[0]
    return name, manufacturer, uuids, service_data, tx_power


class VirtualBleakScanner(BaseBleakScanner):
    """bleak scanner backend: reports every advertisement (no duplicate filtering).

    RSSI is the peripheral's ``rssi`` attribute (the world sets ``-50 - index`` unless
    the test chose one): bumble's controller reports a constant -50.
    """

    world: ClassVar[VirtualBleWorld]

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: Literal["active", "passive"] = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._scanning_mode = scanning_mode

    async def start(self) -> None:
        """Start scanning (clears ``seen_devices`` as bleak requires)."""
        self.seen_devices = {}
        await self.world.add_scan_listener(id(self), self._on_advertisement)

    async def stop(self) -> None:
        """Stop scanning."""
        await self.world.remove_scan_listener(id(self))

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        name, manufacturer, uuids, service_data, tx_power = parse_advertising_data(
            advertisement.data_bytes
        )
        if not self.is_allowed_uuid(uuids):
            return
        address = str(advertisement.address).split("/")[0].upper()
        peripheral = self.world.peripheral(address)
        rssi = advertisement.rssi  # constant -50 from bumble's controller
        if peripheral is not None and peripheral.rssi is not None:
            rssi = peripheral.rssi
        adv = AdvertisementData(
            local_name=name,
            manufacturer_data=manufacturer,
            service_data=service_data,
            service_uuids=uuids,
            tx_power=tx_power,
            rssi=rssi,
            platform_data=(advertisement,),
        )
        device = self.create_or_update_device(address, address, name, advertisement, adv)
        self.call_detection_callbacks(device, adv)
