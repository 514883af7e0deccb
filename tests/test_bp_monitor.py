"""Blood-pressure cuffs (SIG 0x1810): SFLOAT, measurement parsing, and the driver over
a virtual BLE stack."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isogrip.ble_device.bp_monitor import (
    BpMeasurement,
    BpMonitor,
    decode_sfloat,
    encode_sfloat,
)
from isogrip.ble_device.codec import DecodeError
from isogrip.storage.store import Store
from tests.virtual_ble import BpCuffPeripheral, VirtualBleWorld

# Reference SFLOAT words, worked out from the IEEE 11073-20601 layout
# (exponent = top 4 bits, two's complement; mantissa = low 12 bits, two's complement).
SFLOAT_VECTORS = [
    (0x0072, 114.0),      # exponent 0, mantissa 114
    (0xF4E2, 125.0),      # exponent -1, mantissa 1250
    (0xFF8E, -11.4),      # exponent -1, mantissa -114 (0xF8E)
    (0x1005, 50.0),       # exponent 1, mantissa 5
    (0xE3E8, 10.0),       # exponent -2, mantissa 1000
    (0x07FD, 2045.0),     # the largest ordinary mantissa
    (0x0803, -2045.0),    # the most negative ordinary mantissa
]
SPECIAL_VECTORS = [(0x07FF, "nan"), (0x0800, "nan"), (0x0801, "nan"), (0x07FE, "inf"),
                   (0x0802, "-inf")]


@pytest.mark.parametrize(("raw", "value"), SFLOAT_VECTORS)
def test_sfloat_reference_vectors(raw: int, value: float) -> None:
    assert decode_sfloat(raw) == value


@pytest.mark.parametrize(("raw", "name"), SPECIAL_VECTORS)
def test_sfloat_special_values(raw: int, name: str) -> None:
    v = decode_sfloat(raw)
    if name == "nan":
        assert math.isnan(v)
    else:
        assert v == float(name)
    if name != "nan" or raw == 0x07FF:
        assert encode_sfloat(v) == raw


@given(st.integers(-2045, 2045), st.integers(-3, 3))
def test_sfloat_round_trip(mantissa: int, exponent: int) -> None:
    value = mantissa * 10.0**exponent
    raw = encode_sfloat(value, exponent)
    assert decode_sfloat(raw) == pytest.approx(value, rel=1e-9, abs=1e-9)


REF_FULL = bytes([0x1E, 0x7A, 0x00, 0x50, 0x00, 0x5E, 0x00, 0xEA, 0x07, 11, 23, 8, 15, 0,
                  0x40, 0x00, 0x01, 0x00, 0x00])


def test_measurement_with_every_field() -> None:
    # flags 0x1E: mmHg, time stamp, pulse, user id, status; 122/80 mmHg, MAP 94,
    # 2026-11-23 08:15:00, pulse 64, user 1, status 0.
    m = BpMeasurement.from_bytes(REF_FULL)
    assert (m.systolic, m.diastolic, m.mean_arterial, m.unit) == (122.0, 80.0, 94.0, "mmHg")
    assert m.timestamp == dt.datetime(2026, 11, 23, 8, 15, 0)
    assert (m.pulse_bpm, m.user_id, m.status) == (64.0, 1, 0)
    assert bytes(m) == REF_FULL


def test_kpa_reading_converts_to_mmhg() -> None:
    # flags 0x01: kPa; 16.3 / 10.7 / 12.6 kPa with exponent -1.
    raw = bytes([0x01]) + b"".join(encode_sfloat(v, -1).to_bytes(2, "little")
                                   for v in (16.3, 10.7, 12.6))
    m = BpMeasurement.from_bytes(raw)
    assert m.unit == "kPa" and m.systolic == 16.3
    mm = m.to_mmhg()
    assert mm.unit == "mmHg"
    assert round(mm.systolic) == 122 and round(mm.diastolic) == 80


def test_unknown_time_stamp_and_minimal_packet() -> None:
    unknown = bytes([0x02, 0x7A, 0x00, 0x50, 0x00, 0xFF, 0x07]) + bytes(7)
    m = BpMeasurement.from_bytes(unknown)
    assert m.timestamp is None and math.isnan(m.mean_arterial)
    minimal = BpMeasurement.from_bytes(bytes([0x00, 0x7A, 0x00, 0x50, 0x00, 0x5E, 0x00]))
    assert (minimal.systolic, minimal.pulse_bpm, minimal.user_id) == (122.0, None, None)


@pytest.mark.parametrize(("raw", "kind"), [
    (b"", "truncated"),
    (bytes([0x00, 0x7A, 0x00, 0x50]), "truncated"),
    (REF_FULL[:-1], "truncated"),
    (REF_FULL + b"\x00", "malformed"),
    (bytes([0x00, 0xFF, 0x07, 0x50, 0x00, 0x5E, 0x00]), "nonfinite"),  # NaN systolic
    (bytes([0x02, 0x7A, 0x00, 0x50, 0x00, 0x5E, 0x00, 0xEA, 0x07, 13, 1, 0, 0, 0]),
     "out_of_range"),  # month 13
])
def test_bad_packets_raise_decode_error(raw: bytes, kind: str) -> None:
    with pytest.raises(DecodeError) as info:
        BpMeasurement.from_bytes(raw)
    assert info.value.kind == kind


@given(st.binary(max_size=24))
def test_random_bytes_never_raise_anything_else(raw: bytes) -> None:
    try:
        m = BpMeasurement.from_bytes(raw)
    except DecodeError:
        return
    assert math.isfinite(m.systolic) and math.isfinite(m.diastolic)


async def test_driver_reads_stored_readings_and_skips_a_bad_one(tmp_path: Path) -> None:
    first = bytes(BpMeasurement(141, 92, 108, timestamp=dt.datetime(2026, 11, 22, 7, 30),
                                pulse_bpm=70))
    second = REF_FULL
    async with VirtualBleWorld() as world:
        cuff = BpCuffPeripheral([first, b"\x1e\x00", second])
        await world.add(cuff)
        mon = BpMonitor(backend=world.client_backend, scanner_backend=world.scanner_backend,
                        scan_timeout_s=3.0)
        await mon.connect()
        got = await mon.readings(timeout_s=0.5)
        await mon.disconnect()
    assert [(r.systolic, r.diastolic, r.pulse_bpm) for r in got] == [(141, 92, 70),
                                                                      (122, 80, 64)]
    assert got[0].timestamp == dt.datetime(2026, 11, 22, 7, 30)
    assert mon.malformed == 1 and "at least 7 are needed" in mon.last_error
    assert cuff.sent == 3
    with Store.open(tmp_path) as store:
        done = store.add_cuff_readings(got, device=str(mon.address), participant="P4",
                                       context="pre")
        rows = store.list_bp_readings("P4")
    assert (done.added, done.already) == (2, 0)
    assert [(r.sbp, r.dbp, r.pulse, r.source, r.context) for r in rows] == [
        (141, 92, 70, "ble", "pre"), (122, 80, 64, "ble", "pre")]
    assert rows[0].taken_at.startswith("2026-11-22")  # the cuff's own time stamp
