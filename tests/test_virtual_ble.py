"""The virtual BLE world works with plain bleak (no isogrip code involved)."""

from __future__ import annotations

import asyncio
import itertools
import struct

import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import (
    BleakDeviceNotFoundError,
    BleakError,
    BleakGATTProtocolError,
    BleakGATTProtocolErrorCode,
)
from virtual_ble import (
    CONTROL_UUID,
    DATA_UUID,
    SERVICE_UUID,
    CharSpec,
    ProgressorPeripheral,
    VirtualBleWorld,
    VirtualPeripheral,
    decode_notification,
)

CCCD_UUID = "00002902-0000-1000-8000-00805f9b34fb"
SCALE_SERVICE = "0000181d-0000-1000-8000-00805f9b34fb"


class Collector:
    """Collects Progressor notifications from bleak's callback."""

    def __init__(self) -> None:
        self.packets: list[bytes] = []
        self.samples: list[tuple[float, int]] = []
        self.responses: list[bytes] = []
        self.other: list[tuple[int, bytes]] = []
        self.event = asyncio.Event()

    def __call__(self, _char: object, data: bytearray) -> None:
        self.packets.append(bytes(data))
        kind, value = decode_notification(bytes(data))
        if kind == 1:
            assert isinstance(value, list)
            self.samples.extend(value)
        elif kind == 0:
            assert isinstance(value, bytes)
            self.responses.append(value)
        else:
            assert isinstance(value, bytes)
            self.other.append((kind, value))
        self.event.set()

    async def wait(self, predicate: object, timeout: float = 1.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():  # type: ignore[operator]
                self.event.clear()
                await self.event.wait()


# ---------------------------------------------------------------------- scanning
async def test_scan_finds_progressor_by_name_uuid_and_rssi() -> None:
    async with VirtualBleWorld() as world:
        full = ProgressorPeripheral("Progressor_1234")
        clone = ProgressorPeripheral("Progressor_1719", uuid_in_adv=False, rssi=-77)
        full_addr = await world.add(full)
        clone_addr = await world.add(clone)
        assert full_addr != clone_addr

        found = await BleakScanner.discover(0.3, backend=world.scanner_backend, return_adv=True)
        device, adv = found[full_addr]
        assert device.name == adv.local_name == "Progressor_1234"
        assert adv.service_uuids == [SERVICE_UUID]
        assert adv.rssi == full.rssi == -51  # -50 minus the peripheral's index
        _device, clone_adv = found[clone_addr]
        assert clone_adv.local_name == "Progressor_1719"
        assert clone_adv.service_uuids == []  # name-only, like the clones
        assert clone_adv.rssi == -77

        # A service-UUID filter keeps the full advertiser and drops the name-only clone.
        filtered = await BleakScanner.discover(
            0.2, backend=world.scanner_backend, return_adv=True, service_uuids=[SERVICE_UUID]
        )
        assert set(filtered) == {full_addr}

        # find_device_by_name goes through the detection-callback path.
        by_name = await BleakScanner.find_device_by_name(
            "Progressor_1719", timeout=1.0, backend=world.scanner_backend
        )
        assert by_name is not None and by_name.address == clone_addr


async def test_advertisement_only_peripheral_changing_manufacturer_data_is_seen() -> None:
    async with VirtualBleWorld() as world:
        scale = VirtualPeripheral("IF_B7", connectable=False, manufacturer_data={0x0100: bytes(17)})
        address = await world.add(scale)
        seen: list[bytes] = []
        changed = asyncio.Event()

        def on_adv(device: BLEDevice, adv: AdvertisementData) -> None:
            if device.address == address and 0x0100 in adv.manufacturer_data:
                seen.append(adv.manufacturer_data[0x0100])
                changed.set()

        async with BleakScanner(on_adv, backend=world.scanner_backend):
            for centi_kg in (1234, 1300, 0, 65535, 5):
                payload = bytes(10) + struct.pack(">H", centi_kg) + bytes(5)
                await scale.set_manufacturer_data(0x0100, payload)
                async with asyncio.timeout(1.0):
                    while not seen or seen[-1] != payload:
                        changed.clear()
                        await changed.wait()
                assert struct.unpack_from(">H", seen[-1], 10)[0] == centi_kg
            # No duplicate filtering: an unchanged payload is still reported each time.
            before = len(seen)
            await asyncio.sleep(0.15)
            assert len(seen) - before >= 4  # 20 ms advertising interval


# ---------------------------------------------------------------------- GATT + stream
async def test_gatt_table_stream_responses_and_stop() -> None:
    async with VirtualBleWorld() as world:
        p = ProgressorPeripheral(force_kg=lambda t: 10.0 + t)
        address = await world.add(p)
        got = Collector()
        async with BleakClient(address, backend=world.client_backend, timeout=2.0) as client:
            assert client.is_connected and p.connected
            assert client.name == "Progressor_1234"
            assert client.mtu_size == 247
            service = client.services.get_service(SERVICE_UUID)
            assert service is not None
            data_char = service.get_characteristic(DATA_UUID)
            control = service.get_characteristic(CONTROL_UUID)
            assert data_char is not None and control is not None
            assert data_char.properties == ["notify"]
            assert sorted(control.properties) == ["write", "write-without-response"]
            assert [d.uuid for d in data_char.descriptors] == [CCCD_UUID]

            await client.start_notify(DATA_UUID, got)
            assert p.subscribed(DATA_UUID)

            await client.write_gatt_char(CONTROL_UUID, b"\x6f", response=True)
            await got.wait(lambda: got.responses)
            assert got.responses == [struct.pack("<I", 3950)]
            await client.write_gatt_char(CONTROL_UUID, b"\x6b", response=False)
            await client.write_gatt_char(CONTROL_UUID, b"\x70", response=True)
            await client.write_gatt_char(CONTROL_UUID, b"\x99", response=True)  # ignored
            await got.wait(lambda: len(got.responses) == 3)
            assert got.responses[1:] == [b"1.2.3", b"\x12\x34\x56\x78"]

            loop = asyncio.get_running_loop()
            await client.write_gatt_char(CONTROL_UUID, b"\x65", response=True)
            start = loop.time()
            await asyncio.sleep(1.0)
            n_1s = len(got.samples)
            assert 72 <= n_1s <= 88, n_1s  # 80 Hz +- 10 %
            await client.write_gatt_char(CONTROL_UUID, b"\x66", response=True)
            elapsed = loop.time() - start
            assert not p.streaming
            await asyncio.sleep(0.1)
            n_stopped = len(got.samples)
            await asyncio.sleep(0.1)
            assert len(got.samples) == n_stopped  # nothing after stop
            assert n_stopped <= round(elapsed * 80) + 2

            assert all(len(pkt) == 2 + 16 for pkt in got.packets if pkt[0] == 1)  # 2/packet
            times = [us for _kg, us in got.samples]
            assert times[0] == 0
            assert {b - a for a, b in itertools.pairwise(times)} == {12500}
            for kg, us in got.samples:
                assert kg == pytest.approx(10.0 + us / 1e6, abs=1e-5)

            await client.stop_notify(DATA_UUID)
            assert not p.subscribed(DATA_UUID)
            assert (CONTROL_UUID, b"\x65") in p.writes
        assert not p.connected
        assert p.power_off_requests == []


async def test_tare_clock_wrap_single_sample_packets_and_low_battery() -> None:
    async with VirtualBleWorld() as world:
        p = ProgressorPeripheral(
            "Progressor_1719", per_notification=1, clock_start_us=2**32 - 30_000
        )
        p.force_kg = lambda _t: 5.0
        address = await world.add(p)
        got = Collector()
        async with BleakClient(address, backend=world.client_backend) as client:
            await client.start_notify(DATA_UUID, got)
            await client.write_gatt_char(CONTROL_UUID, b"\x64", response=True)  # tare at 5 kg
            await client.write_gatt_char(CONTROL_UUID, b"\x65", response=True)
            await got.wait(lambda: len(got.samples) >= 6)
            await client.write_gatt_char(CONTROL_UUID, b"\x66", response=True)
            assert all(len(pkt) == 2 + 8 for pkt in got.packets)  # one sample per packet
            assert all(kg == 0.0 for kg, _us in got.samples)
            times = [us for _kg, us in got.samples]
            assert times[:4] == [2**32 - 30_000, 2**32 - 17_500, 2**32 - 5_000, 7_500]

            await p.send_low_battery()
            await got.wait(lambda: got.other)
            assert got.other == [(4, b"")]
            assert p.tare_count == 1


async def test_notifications_longer_than_mtu_are_truncated() -> None:
    async with VirtualBleWorld(mtu=23) as world:
        p = ProgressorPeripheral(per_notification=3)  # 2 + 24 bytes > MTU - 3
        address = await world.add(p)
        got = Collector()
        async with BleakClient(address, backend=world.client_backend) as client:
            assert client.mtu_size == 23
            await client.start_notify(DATA_UUID, got)
            await client.write_gatt_char(CONTROL_UUID, b"\x65", response=True)
            await got.wait(lambda: got.packets)
            assert len(got.packets[0]) == 20  # silently cut at MTU - 3, like real stacks
            assert got.packets[0][1] == 24  # the length byte still claims 3 samples


async def test_att_errors_map_to_bleak_protocol_error() -> None:
    async with VirtualBleWorld() as world:
        p = ProgressorPeripheral()
        address = await world.add(p)
        async with BleakClient(address, backend=world.client_backend) as client:
            with pytest.raises(BleakGATTProtocolError) as info:
                await client.read_gatt_char(DATA_UUID)  # notify-only
            assert info.value.code == BleakGATTProtocolErrorCode.READ_NOT_PERMITTED
            # Descriptors are readable: the CCCD starts cleared.
            cccd = client.services.get_characteristic(DATA_UUID)
            assert cccd is not None
            assert await client.read_gatt_descriptor(cccd.descriptors[0].handle) == b"\x00\x00"


# ---------------------------------------------------------------------- link events
async def test_peripheral_disconnect_fires_callback_and_reconnect_works() -> None:
    async with VirtualBleWorld() as world:
        p = ProgressorPeripheral()
        address = await world.add(p)
        loop = asyncio.get_running_loop()
        disconnects: list[float] = []
        disconnected = asyncio.Event()

        def on_disconnect(_client: BleakClient) -> None:
            disconnects.append(loop.time())
            disconnected.set()

        client = BleakClient(
            address, disconnected_callback=on_disconnect, backend=world.client_backend
        )
        await client.connect()
        await client.write_gatt_char(CONTROL_UUID, b"\x65", response=True)
        assert p.streaming
        t0 = loop.time()
        await p.disconnect()
        await asyncio.wait_for(disconnected.wait(), 0.5)
        assert len(disconnects) == 1 and disconnects[0] - t0 < 0.5
        assert not client.is_connected and not p.connected
        assert not p.streaming  # the device stops streaming on disconnect

        with pytest.raises(BleakError):  # write on a dropped link
            await client.write_gatt_char(CONTROL_UUID, b"\x66", response=False)
        await client.disconnect()  # no-op when already disconnected

        # Advertising restarts after the disconnect: the same client reconnects.
        got = Collector()
        await client.connect()
        try:
            assert p.connection_count == 2
            await client.start_notify(DATA_UUID, got)
            await client.write_gatt_char(CONTROL_UUID, b"\x65", response=False)
            await got.wait(lambda: len(got.samples) >= 4)
        finally:
            await client.disconnect()
        assert not p.connected
        assert len(disconnects) == 2  # a local disconnect fires the callback too


async def test_two_peripherals_at_once() -> None:
    async with VirtualBleWorld() as world:
        a = ProgressorPeripheral("Progressor_0001", force_kg=lambda _t: 1.0)
        b = ProgressorPeripheral("Progressor_0002", force_kg=lambda _t: 2.0, battery_mv=3600)
        addr_a, addr_b = await world.add(a), await world.add(b)
        got_a, got_b = Collector(), Collector()
        async with (
            BleakClient(addr_a, backend=world.client_backend) as ca,
            BleakClient(addr_b, backend=world.client_backend) as cb,
        ):
            await ca.start_notify(DATA_UUID, got_a)
            await cb.start_notify(DATA_UUID, got_b)
            await asyncio.gather(
                ca.write_gatt_char(CONTROL_UUID, b"\x65", response=True),
                cb.write_gatt_char(CONTROL_UUID, b"\x6f", response=True),
                cb.write_gatt_char(CONTROL_UUID, b"\x65", response=True),
            )
            await got_a.wait(lambda: len(got_a.samples) >= 6)
            await got_b.wait(lambda: len(got_b.samples) >= 6 and got_b.responses)
            assert {kg for kg, _ in got_a.samples} == {1.0}
            assert {kg for kg, _ in got_b.samples} == {2.0}
            assert got_b.responses == [struct.pack("<I", 3600)] and got_a.responses == []


async def test_concurrent_connects_are_serialised() -> None:
    async with VirtualBleWorld() as world:
        addresses = [await world.add(ProgressorPeripheral(f"Progressor_{i}")) for i in range(3)]
        clients = [BleakClient(a, backend=world.client_backend) for a in addresses]
        await asyncio.gather(*(c.connect() for c in clients))
        assert all(c.is_connected for c in clients)
        await asyncio.gather(*(c.disconnect() for c in clients))


async def test_missing_address_then_real_connect() -> None:
    async with VirtualBleWorld() as world:
        p = ProgressorPeripheral()
        address = await world.add(p)
        with pytest.raises(BleakDeviceNotFoundError):
            async with BleakClient("F0:00:00:00:0F:FF", backend=world.client_backend, timeout=0.2):
                pass
        async with BleakClient(address, backend=world.client_backend, timeout=1.0) as client:
            assert client.is_connected


class SlowDevice(VirtualPeripheral):
    """A read that takes long enough to disconnect (or cancel) in the middle."""

    UUID = "0000aa01-0000-1000-8000-00805f9b34fb"

    def __init__(self) -> None:
        super().__init__(
            "Slow",
            {"0000aa00-0000-1000-8000-00805f9b34fb": [CharSpec(self.UUID, "read", self.slow)]},
        )
        self.read_started = asyncio.Event()

    async def slow(self) -> bytes:
        self.read_started.set()
        await asyncio.sleep(0.3)
        return b"late"


async def test_disconnect_during_gatt_request_raises_bleak_error() -> None:
    async with VirtualBleWorld() as world:
        p = SlowDevice()
        address = await world.add(p)
        async with BleakClient(address, backend=world.client_backend) as client:
            assert await client.read_gatt_char(SlowDevice.UUID) == b"late"
            read = asyncio.ensure_future(client.read_gatt_char(SlowDevice.UUID))
            await p.read_started.wait()
            p.read_started.clear()
            await p.disconnect()
            with pytest.raises(BleakError):
                await read
            assert not read.cancelled()

            # A real cancellation of the caller still propagates as CancelledError.
            await client.connect()
            read = asyncio.ensure_future(client.read_gatt_char(SlowDevice.UUID))
            await p.read_started.wait()
            read.cancel()
            with pytest.raises(asyncio.CancelledError):
                await read


async def test_connecting_to_advertisement_only_device_fails_and_it_keeps_advertising() -> None:
    async with VirtualBleWorld() as world:
        scale = VirtualPeripheral("IF_B7", connectable=False, manufacturer_data={0x0100: b"\x01"})
        address = await world.add(scale)
        with pytest.raises(BleakError):
            async with BleakClient(address, backend=world.client_backend, timeout=1.0):
                pass
        assert not scale.connected
        found = await BleakScanner.find_device_by_address(
            address, timeout=1.0, backend=world.scanner_backend
        )
        assert found is not None
