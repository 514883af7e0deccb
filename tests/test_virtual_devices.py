"""The virtual non-Progressor devices, exercised with plain bleak (no isogrip code).

Every notification is decoded here with ``struct`` straight from DEVICES.md, so these
tests check the peripherals against a second reading of the spec.
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
import struct
from collections.abc import Callable

import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from virtual_ble import (
    BATTERY_LEVEL_UUID,
    CTS500_NOTIFY_UUID,
    CTS500_SERVICE_UUID,
    CTS500_START,
    CTS500_STOP,
    CTS500_TARE,
    CTS500_WRITE_UUID,
    ENTRALPI_181D_NOTIFY_UUID,
    ENTRALPI_FFF0_NOTIFY_UUID,
    ENTRALPI_FFF0_SERVICE_UUID,
    FORCEBOARD_DATA_UUID,
    FORCEBOARD_MODE_UUID,
    FORCEBOARD_SERVICE_UUID,
    FORCEBOARD_TARE_UUID,
    FORCEBOARD_THRESHOLD_UUID,
    FORCEBOARD_WEIGHT_SERVICE_UUID,
    WEIGHT_MEASUREMENT_UUID,
    WEIGHT_SCALE_FEATURE_UUID,
    WEIGHT_SCALE_SERVICE_UUID,
    Cts500Peripheral,
    EntralpiPeripheral,
    ForceBoardPeripheral,
    VirtualBleWorld,
    WeightScalePeripheral,
    Whc06Advertiser,
    cts500_command,
)
from virtual_ble.fake_time import FAKE_TIME

# Sessions and streams run on fake loop time (see virtual_ble.fake_time).
pytestmark = FAKE_TIME

LB = 0.45359237


class Packets:
    """Collects raw notifications from bleak's callback."""

    def __init__(self) -> None:
        self.packets: list[bytes] = []
        self.times: list[float] = []
        self.event = asyncio.Event()

    def __call__(self, _char: object, data: bytearray) -> None:
        self.packets.append(bytes(data))
        self.times.append(asyncio.get_running_loop().time())
        self.event.set()

    async def wait(self, predicate: Callable[[], bool], timeout: float = 2.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self.event.clear()
                await self.event.wait()


async def scan_for(world: VirtualBleWorld, address: str) -> AdvertisementData:
    found = await BleakScanner.discover(0.2, backend=world.scanner_backend, return_adv=True)
    _device, adv = found[address]
    return adv


def props(client: BleakClient, uuid: str) -> list[str]:
    char = client.services.get_characteristic(uuid)
    assert char is not None, uuid
    return sorted(char.properties)


# ====================================================================== Force Board
def decode_forceboard(packet: bytes) -> list[int]:
    """Pounds of each sample: [count u16 BE] + count x (b0*32768 + b1*256 + b2)."""
    (count,) = struct.unpack_from(">H", packet)
    assert len(packet) == 2 + 3 * count
    return [
        b0 * 32768 + b1 * 256 + b2
        for b0, b1, b2 in struct.iter_unpack(">BBB", packet[2 : 2 + 3 * count])
    ]


def test_forceboard_encoding_round_trips() -> None:
    for pounds in (0, 1, 255, 256, 32767, 32768, 70000, 255 * 32768 + 32767):
        assert decode_forceboard(b"\x00\x01" + ForceBoardPeripheral.encode_pounds(pounds)) == [
            pounds
        ]
    assert ForceBoardPeripheral.encode_pounds(-5) == b"\x00\x00\x00"  # unsigned: clamped


async def test_forceboard_scan_gatt_stream_tare_and_stop() -> None:
    def force(t: float) -> float:
        return 40.0 + 30.0 * t

    async with VirtualBleWorld() as world:
        p = ForceBoardPeripheral(force_kg=force)
        address = await world.add(p)
        adv = await scan_for(world, address)
        assert adv.local_name == "Force Board"
        assert adv.service_uuids == [FORCEBOARD_SERVICE_UUID]

        got = Packets()
        loop = asyncio.get_running_loop()
        async with BleakClient(address, backend=world.client_backend) as client:
            assert client.services.get_service(FORCEBOARD_SERVICE_UUID) is not None
            assert client.services.get_service(FORCEBOARD_WEIGHT_SERVICE_UUID) is not None
            assert props(client, FORCEBOARD_DATA_UUID) == ["notify"]
            assert props(client, FORCEBOARD_TARE_UUID) == ["write"]
            assert props(client, FORCEBOARD_THRESHOLD_UUID) == ["read", "write"]
            assert props(client, FORCEBOARD_MODE_UUID) == ["write"]
            assert props(client, BATTERY_LEVEL_UUID) == ["read"]
            assert await client.read_gatt_char(BATTERY_LEVEL_UUID) == bytes([87])
            await client.write_gatt_char(FORCEBOARD_THRESHOLD_UUID, b"\x10\x00", response=True)
            assert await client.read_gatt_char(FORCEBOARD_THRESHOLD_UUID) == b"\x10\x00"

            await client.start_notify(FORCEBOARD_DATA_UUID, got)
            await client.write_gatt_char(FORCEBOARD_MODE_UUID, b"\x04", response=True)
            start = loop.time()
            await asyncio.sleep(1.0)
            await client.write_gatt_char(FORCEBOARD_MODE_UUID, b"\x07", response=True)
            elapsed = loop.time() - start
            assert not p.streaming
            await asyncio.sleep(0.1)
            n_packets = len(got.packets)
            await asyncio.sleep(0.1)
            assert len(got.packets) == n_packets  # nothing after idle

            pounds = [lb for pkt in got.packets for lb in decode_forceboard(pkt)]
            assert all(struct.unpack_from(">H", pkt)[0] == 3 for pkt in got.packets)
            assert 72 <= len(pounds) <= round(elapsed * 80) + 3, len(pounds)  # ~80 Hz
            for k, lb in enumerate(pounds):
                assert lb == round(force(k / 80) / LB)
                assert lb * LB == pytest.approx(force(k / 80), abs=LB / 2 + 1e-9)

            # Both tares, then quick start: values are relative to the tare offset.
            await client.write_gatt_char(FORCEBOARD_TARE_UUID, b"\x01", response=True)
            await client.write_gatt_char(FORCEBOARD_MODE_UUID, b"\x05", response=True)
            assert p.tare_count == 2
            assert p.tare_offset_kg >= 40.0
            got.packets.clear()
            await client.write_gatt_char(FORCEBOARD_MODE_UUID, b"\x06", response=True)
            await got.wait(lambda: len(got.packets) >= 3)
            await client.write_gatt_char(FORCEBOARD_MODE_UUID, b"\x07", response=True)
            pounds = [lb for pkt in got.packets for lb in decode_forceboard(pkt)]
            for k, lb in enumerate(pounds):
                assert lb == max(0, round((force(k / 80) - p.tare_offset_kg) / LB))

        assert p.mode_writes == [0x04, 0x07, 0x05, 0x06, 0x07]
        assert (FORCEBOARD_TARE_UUID, b"\x01") in p.writes
        assert (FORCEBOARD_MODE_UUID, b"\x04") in p.writes
        assert p.reads.count(BATTERY_LEVEL_UUID) == 1


async def test_forceboard_stops_streaming_on_disconnect() -> None:
    async with VirtualBleWorld() as world:
        p = ForceBoardPeripheral(per_notification=1, force_kg=lambda _t: 10.0)
        address = await world.add(p)
        got = Packets()
        async with BleakClient(address, backend=world.client_backend) as client:
            await client.start_notify(FORCEBOARD_DATA_UUID, got)
            await client.write_gatt_char(FORCEBOARD_MODE_UUID, b"\x04", response=True)
            await got.wait(lambda: len(got.packets) >= 3)
            assert {len(pkt) for pkt in got.packets} == {5}
            assert {decode_forceboard(pkt)[0] for pkt in got.packets} == {round(10 / LB)}
        assert not p.streaming


# ====================================================================== CTS500
class CtsParser:
    """Reassembles CTS500 frames: buffer, resync on 0x05, verify the checksum."""

    COMMAND_OPS = frozenset({0xAA, 0xAB, 0xA6, 0xC1})

    def __init__(self) -> None:
        self.buffer = b""
        self.echoes: list[bytes] = []
        self.weights: list[int] = []  # centi-kg
        self.skipped = 0

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while self.buffer:
            if self.buffer[0] != 0x05:
                self.buffer = self.buffer[1:]
                self.skipped += 1
                continue
            if len(self.buffer) >= 2 and self.buffer[1] in self.COMMAND_OPS:
                if len(self.buffer) < 6:
                    return
                frame = self.buffer[:6]
                if sum(frame[:5]) & 0xFF == frame[5]:
                    self.echoes.append(frame)
                    self.buffer = self.buffer[6:]
                    continue
            if len(self.buffer) < 7:
                return
            frame = self.buffer[:7]
            if sum(frame[:6]) & 0xFF == frame[6]:
                self.weights.append(struct.unpack_from(">I", frame, 2)[0])
                self.buffer = self.buffer[7:]
            else:
                self.buffer = self.buffer[1:]
                self.skipped += 1


def test_cts500_command_frames() -> None:
    assert bytes.fromhex("05AA000000AF") == CTS500_START
    assert bytes.fromhex("05AB000000B0") == CTS500_STOP
    assert bytes.fromhex("05A6000000AB") == CTS500_TARE
    assert cts500_command(0xC1, 0, 0, 3) == bytes.fromhex("05C1000003C9")
    frame = Cts500Peripheral.encode_weight(12.34)
    assert frame[:2] == b"\x05\x01" and struct.unpack_from(">I", frame, 2)[0] == 1234
    assert frame[6] == sum(frame[:6]) & 0xFF


async def test_cts500_echo_split_stream_garbage_and_stop() -> None:
    def force(t: float) -> float:
        return 10.0 + 5.0 * t  # 6.25 centi-kg per sample at 80 Hz: values are unique

    async with VirtualBleWorld() as world:
        p = Cts500Peripheral(force_kg=force)
        address = await world.add(p)
        adv = await scan_for(world, address)
        assert adv.local_name == "CTS500"
        assert adv.service_uuids == [CTS500_SERVICE_UUID]

        got = Packets()
        parser = CtsParser()

        def on_data(char: object, data: bytearray) -> None:
            got(char, data)
            parser.feed(bytes(data))

        loop = asyncio.get_running_loop()
        async with BleakClient(address, backend=world.client_backend) as client:
            assert props(client, CTS500_NOTIFY_UUID) == ["notify"]
            assert props(client, CTS500_WRITE_UUID) == ["write", "write-without-response"]
            await client.start_notify(CTS500_NOTIFY_UUID, on_data)

            rate = cts500_command(0xC1, 0, 0, 3)
            await client.write_gatt_char(CTS500_WRITE_UUID, rate, response=True)
            bad = bytes.fromhex("05AA000000AE")  # wrong checksum: ignored, not echoed
            await client.write_gatt_char(CTS500_WRITE_UUID, bad, response=True)
            await client.write_gatt_char(CTS500_WRITE_UUID, CTS500_START, response=False)
            start = loop.time()
            await asyncio.sleep(0.5)
            await p.inject_garbage(b"\xde\xad\xbe\xef")
            await asyncio.sleep(0.5)
            await client.write_gatt_char(CTS500_WRITE_UUID, CTS500_STOP, response=True)
            elapsed = loop.time() - start
            await asyncio.sleep(0.1)
            n_weights = len(parser.weights)
            await asyncio.sleep(0.1)
            assert len(parser.weights) == n_weights  # nothing after STOP

        assert parser.echoes == [rate, CTS500_START, CTS500_STOP]
        assert p.commands == [rate, CTS500_START, CTS500_STOP]
        assert p.starts_received == 1 and p.stops_received == 1
        assert p.rate_codes == [3] and p.rate_hz == 80
        assert (CTS500_WRITE_UUID, bad) in p.writes
        # The stream really splits frames: most notifications are not whole frames.
        sizes = [len(pkt) for pkt in got.packets]
        assert len({s for s in sizes if s not in (6, 7)}) >= 5, sizes
        assert parser.skipped >= 4  # the garbage (and a frame it cut, if any) was skipped
        # ~80 Hz; at most the frame cut by the garbage (and a held half pair) is missing.
        expected = [round(force(k / 80) * 100) for k in range(p.frames_sent)]
        assert 70 <= len(parser.weights) <= round(elapsed * 80) + 2, len(parser.weights)
        assert len(parser.weights) >= p.frames_sent - 3
        assert set(parser.weights) <= set(expected)
        assert parser.weights == sorted(parser.weights)  # in order
        assert parser.weights[:10] == expected[:10]


async def test_cts500_keeps_streaming_across_reconnect_unsplit_and_tare() -> None:
    async with VirtualBleWorld() as world:
        p = Cts500Peripheral(split=False, rate_hz=40, force_kg=lambda _t: 7.5)
        address = await world.add(p)
        first, second = Packets(), Packets()
        async with BleakClient(address, backend=world.client_backend) as client:
            await client.start_notify(CTS500_NOTIFY_UUID, first)
            await client.write_gatt_char(CTS500_WRITE_UUID, CTS500_START, response=True)
            await first.wait(lambda: len(first.packets) >= 4)
        assert p.streaming  # the real device keeps streaming when the link drops
        async with BleakClient(address, backend=world.client_backend) as client:
            await client.start_notify(CTS500_NOTIFY_UUID, second)  # no START this time
            await second.wait(lambda: len(second.packets) >= 3)
            weights = [pkt for pkt in second.packets if len(pkt) == 7]
            assert {struct.unpack_from(">I", pkt, 2)[0] for pkt in weights} == {750}
            await client.write_gatt_char(CTS500_WRITE_UUID, CTS500_TARE, response=True)
            await second.wait(lambda: CTS500_TARE in second.packets)  # echoed
            n = len(second.packets)
            await second.wait(lambda: len(second.packets) >= n + 2)
            assert struct.unpack_from(">I", second.packets[-1], 2)[0] == 0  # tared
            await client.write_gatt_char(CTS500_WRITE_UUID, CTS500_STOP, response=True)
        assert {len(pkt) for pkt in first.packets} <= {6, 7}  # unsplit: one frame each
        assert p.stops_received == 1 and p.tare_count == 1
        assert not p.streaming


# ====================================================================== Entralpi
@pytest.mark.parametrize(
    ("variant", "service", "char", "absent"),
    [
        ("181d", WEIGHT_SCALE_SERVICE_UUID, ENTRALPI_181D_NOTIFY_UUID, ENTRALPI_FFF0_NOTIFY_UUID),
        ("fff0", ENTRALPI_FFF0_SERVICE_UUID, ENTRALPI_FFF0_NOTIFY_UUID, ENTRALPI_181D_NOTIFY_UUID),
    ],
    ids=["181d", "fff0"],
)
async def test_entralpi_variants(variant: str, service: str, char: str, absent: str) -> None:
    async with VirtualBleWorld() as world:

        def force(t: float) -> float:
            return -5.0 + 10.0 * t

        p = EntralpiPeripheral(variant=variant, force_kg=force)
        address = await world.add(p)
        adv = await scan_for(world, address)
        assert adv.local_name == "ENTRALPI"
        assert adv.service_uuids == [service]
        got = Packets()
        async with BleakClient(address, backend=world.client_backend) as client:
            assert client.services.get_service(service) is not None
            assert client.services.get_characteristic(absent) is None
            assert props(client, char) == ["notify"]
            await asyncio.sleep(0.15)
            assert p.notifications_sent == 0  # nothing until subscribed
            await client.start_notify(char, got)  # no start command
            await asyncio.sleep(1.0)
            await client.stop_notify(char)
        assert p.writes == [] and not p.streaming
        assert 8 <= len(got.packets) <= 12, len(got.packets)  # ~10 Hz
        assert {len(pkt) for pkt in got.packets} == {2}
        centi = [struct.unpack(">h", pkt)[0] for pkt in got.packets]
        # Sample k (t = k / 10 s since connecting) is round((-5 + k) * 100): consecutive.
        k0 = centi[0] // 100 + 5
        assert 1 <= k0 <= 4, centi  # subscribed ~0.15 s after connecting
        assert centi == [round(force(k / 10) * 100) for k in range(k0, k0 + len(centi))]
        assert centi[0] < 0  # signed i16


# ====================================================================== Weight Scale
@pytest.mark.parametrize(
    ("imperial", "with_timestamp", "allow_notify"),
    [(False, False, True), (True, True, False)],
    ids=["si-notify", "imperial-timestamp-indicate"],
)
async def test_weight_scale(imperial: bool, with_timestamp: bool, allow_notify: bool) -> None:
    def force(t: float) -> float:
        return 20.0 + t

    async with VirtualBleWorld() as world:
        p = WeightScalePeripheral(
            imperial=imperial,
            with_timestamp=with_timestamp,
            force_kg=force,
            allow_notify=allow_notify,
        )
        address = await world.add(p)
        adv = await scan_for(world, address)
        assert adv.local_name == "DIY-Grip"
        assert adv.service_uuids == [WEIGHT_SCALE_SERVICE_UUID]
        got = Packets()
        async with BleakClient(address, backend=world.client_backend) as client:
            expected_props = ["indicate", "notify"] if allow_notify else ["indicate"]
            assert props(client, WEIGHT_MEASUREMENT_UUID) == expected_props
            (features,) = struct.unpack(
                "<I", await client.read_gatt_char(WEIGHT_SCALE_FEATURE_UUID)
            )
            assert features & 1 == int(with_timestamp) and (features >> 3) & 0xF == 7
            await client.start_notify(WEIGHT_MEASUREMENT_UUID, got)
            await asyncio.sleep(0.65)
            await p.send_failed()
            await got.wait(lambda: got.packets[-1][1:3] == b"\xff\xff")
            await client.stop_notify(WEIGHT_MEASUREMENT_UUID)

        if allow_notify:
            assert p.indications_sent == 0
        else:
            assert p.indications_sent >= 5
        assert p.failed_sent == 1
        measurements, failed = got.packets[:-1], got.packets[-1]
        assert 5 <= len(measurements) <= 8, len(measurements)  # ~10 Hz for 0.65 s
        flags_expected = (1 if imperial else 0) | (2 if with_timestamp else 0)
        assert {pkt[0] for pkt in got.packets} == {flags_expected}
        assert {len(pkt) for pkt in got.packets} == {10 if with_timestamp else 3}
        assert failed[1:3] == b"\xff\xff"
        kgs = []
        for pkt in measurements:
            (raw,) = struct.unpack_from("<H", pkt, 1)
            kgs.append(raw * 0.01 * LB if imperial else raw * 0.005)
            if with_timestamp:
                year, month, day, *_hms = struct.unpack_from("<HBBBBB", pkt, 3)
                today = datetime.date.today()
                assert (year, month) == (today.year, today.month) and 1 <= day <= 31
        resolution = 0.01 * LB if imperial else 0.005
        for kg in kgs:
            k = round((kg - 20.0) * 10)  # sample index since connecting
            assert kg == pytest.approx(force(k / 10), abs=resolution / 2 + 1e-9)
        steps = [b - a for a, b in itertools.pairwise(kgs)]
        assert all(s == pytest.approx(0.1, abs=resolution + 1e-9) for s in steps)


# ====================================================================== WH-C06
def test_whc06_payload_matches_documented_example() -> None:
    example = bytes.fromhex("020311FFFFFFFFFFFF0104D201F4019990")
    assert Whc06Advertiser.encode(12.34) == example
    assert struct.unpack_from(">H", example, 10)[0] / 100 == 12.34


async def test_whc06_advertises_weight_often_and_goes_silent() -> None:
    def force(t: float) -> float:
        return 12.34 + 2.0 * t

    async with VirtualBleWorld() as world:
        scale = Whc06Advertiser(force_kg=force)
        address = await world.add(scale)
        seen: list[tuple[float, bytes]] = []
        loop = asyncio.get_running_loop()

        def on_adv(device: BLEDevice, adv: AdvertisementData) -> None:
            if device.address == address and 0x0100 in adv.manufacturer_data:
                assert adv.local_name == "IF_B7"
                seen.append((loop.time(), adv.manufacturer_data[0x0100]))

        async with BleakScanner(on_adv, backend=world.scanner_backend):
            await asyncio.sleep(1.0)
            n_live = len(seen)
            payloads = [data for _t, data in seen]
            await scale.go_silent()
            silent_from = len(seen)
            await asyncio.sleep(0.4)
            assert len(seen) == silent_from  # no advertisements at all while silent
            assert scale.silent
            await scale.resume()
            await asyncio.sleep(0.3)
            resumed = [data for _t, data in seen[silent_from:]]

        assert n_live >= 20, n_live  # reported every advertisement (20 ms interval)
        distinct = list(dict.fromkeys(payloads))
        assert 8 <= len(distinct) <= 12, len(distinct)  # ~10 updates per second
        for data in payloads:
            assert len(data) == 17
            assert data[:10] == bytes.fromhex("020311FFFFFFFFFFFF01")
            assert data[12:] == bytes.fromhex("01F4019990")
        kgs = [struct.unpack_from(">H", data, 10)[0] / 100 for data in distinct]
        # Update k (t = k / 10 s) carries round(force(k / 10) * 100) centi-kg.
        assert kgs[0] == pytest.approx(force(0.0), abs=0.2)
        for a, b in itertools.pairwise(kgs):
            assert b - a == pytest.approx(0.2, abs=0.011)
        assert resumed, "advertising resumed"
        resumed_kgs = [struct.unpack_from(">H", data, 10)[0] / 100 for data in resumed]
        # Its clock kept counting across the silence (it did not start again at 0).
        assert min(resumed_kgs) >= max(kgs)
