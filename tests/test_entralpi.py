"""The Entralpi codec and driver on exact byte vectors: only the force is decoded.

Every public Entralpi client reads the first two bytes of a notification, big-endian,
in 0.01 kg, and nothing else (Grip Connect ``entralpi.model.ts``,
``dsauve1992/entralpi-connector``, ``ecstrema/entralpi-games``; docs/devices.md). A
plate sending longer notifications must not have its other fields read as forces.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from virtual_ble import EntralpiPeripheral, VirtualBleWorld
from virtual_ble.fake_time import FAKE_TIME

from isogrip.ble_device import entralpi
from isogrip.ble_device.base import SampleBatch
from isogrip.ble_device.codec import CodecStats, DecodeError, safe_decode
from isogrip.ble_device.gatt import GattDevice
from isogrip.ble_device.profiles import ENTRALPI
from isogrip.signal.units import KGF_N


@pytest.mark.parametrize(("hex_bytes", "kg", "unknown"), [
    ("04d2", 12.34, 0),  # the two-byte notification every source describes
    ("0000", 0.0, 0),
    ("fff6", -0.10, 0),  # below zero after a tare: signed
    ("1d4c", 75.0, 0),
    # Longer notifications: the force, then bytes nobody has documented.
    ("04d2fff6", 12.34, 2),  # not a second sample of -0.1 kg
    ("1d4c7fff", 75.0, 2),  # not a saturated second sample
    ("04d2" + "00" * 18, 12.34, 18),  # a full 20-byte ATT payload
])
def test_only_the_leading_i16_is_force(hex_bytes: str, kg: float, unknown: int) -> None:
    r = entralpi.decode(bytes.fromhex(hex_bytes))
    assert r.force_n.shape == (1,)
    assert r.force_n[0] == pytest.approx(kg * KGF_N, abs=1e-9)
    assert r.unknown_bytes == unknown
    assert not r.saturated and r.device_t_s is None


@pytest.mark.parametrize(("hex_bytes", "saturated"), [
    # (0x8000, -327.68 kg, is below the plate's range since issue 13: see test_codecs)
    ("7fff", True), ("7ffe", False),
    ("00018000", False),  # 0x8000 after the force is unknown, not a saturated force
])
def test_saturation_looks_at_the_force_only(hex_bytes: str, saturated: bool) -> None:
    assert entralpi.decode(bytes.fromhex(hex_bytes)).saturated is saturated


@pytest.mark.parametrize("data", [b"", b"\x04"])
def test_too_short_for_a_force(data: bytes) -> None:
    with pytest.raises(DecodeError) as info:
        entralpi.decode(data)
    assert info.value.kind == "truncated"


def test_unknown_bytes_are_counted_not_errors() -> None:
    stats = CodecStats()
    packets = [bytes.fromhex(h) for h in ("04d2", "04d2fff6", "04d2abcdef", "04")]
    forces = [safe_decode(entralpi.decode, p, stats) for p in packets]
    assert [None if f is None else round(float(f.force_n[0]) / KGF_N, 2) for f in forces] == [
        12.34, 12.34, 12.34, None]
    assert stats.decoded == 3 and stats.unknown_bytes == 2 + 3
    assert stats.truncated == 1 and stats.errors == 1  # unknown bytes are not damage


def test_encode_is_one_force_per_notification() -> None:
    assert entralpi.encode(12.34 * KGF_N) == bytes.fromhex("04d2")
    assert entralpi.encode(-0.1 * KGF_N) == bytes.fromhex("fff6")
    assert entralpi.encode(1e6) == bytes.fromhex("7fff")  # clipped to the i16 range
    with pytest.raises(ValueError, match="finite"):
        entralpi.encode(float("nan"))


@FAKE_TIME
async def test_driver_reads_force_and_counts_the_rest() -> None:
    # A plate whose notifications carry 4 more bytes: the driver streams the force at
    # the notification rate (not 3 samples per notification) and exposes the count.
    async with VirtualBleWorld() as world:
        p = EntralpiPeripheral(force_kg=lambda t: 23.45, trailer=bytes.fromhex("0102fffe"))
        await world.add(p)
        dev = GattDevice(ENTRALPI, None, backend=world.client_backend,
                         scanner_backend=world.scanner_backend, scan_timeout_s=3.0)
        batches: list[SampleBatch] = []
        dev.set_handlers(batches.append)
        await dev.connect()
        await dev.start()
        await asyncio.sleep(1.0)
        await dev.disconnect()
    f = np.concatenate([b.force_n for b in batches]) / KGF_N
    assert len(f) == len(batches) == dev.stats.decoded
    np.testing.assert_allclose(f, 23.45, atol=1e-9)
    assert dev.stats.unknown_bytes == 4 * dev.stats.decoded
    assert dev.stats.errors == 0 and dev.malformed_count == 0
