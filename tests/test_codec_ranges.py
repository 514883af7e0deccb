"""Issue 13: readings beyond a device's physical range, and packets of the wrong length,
are damaged packets, never forces; and one such sample cannot spoil an EDF export.

For every codec: a reading at the top (and bottom) of its range is accepted, one just
beyond is rejected as ``out_of_range`` and counted by ``safe_decode`` like any damaged
packet, bytes missing or left over are rejected, and NaN / infinity are rejected. The
ranges are written out here as docs/devices.md documents them, so the table in
``isogrip.ble_device.limits`` is checked against the documentation too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import struct
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyedflib
import pytest

from isogrip.ble_device import cts500, entralpi, forceboard, progressor, weightscale, whc06
from isogrip.ble_device.base import DeviceStatus, SampleBatch
from isogrip.ble_device.capture import write_capture
from isogrip.ble_device.codec import CodecStats, DecodeError, safe_decode
from isogrip.ble_device.registry import DeviceContext, DeviceSpec, open_device
from isogrip.ble_device.sim import SimDevice, parse_options
from isogrip.clock import VirtualClock
from isogrip.signal.units import KGF_N, LBF_N
from isogrip.storage.export_formats import export
from isogrip.storage.recorder import Recorder
from isogrip.storage.store import Store

WHC06_EXAMPLE = bytes.fromhex("020311FFFFFFFFFFFF0104D201F4019990")


# -- packets with a chosen raw value, as each device puts it on air ---------------------
def progressor_packet(kg: float) -> bytes:
    """A type-1 record of one f32 kg sample (as a Progressor, a clone or the DIY
    firmware sends it)."""
    return bytes([1, 8]) + struct.pack("<fI", kg, 1000)


def forceboard_packet(lb: int | bytes) -> bytes:
    """One sample: ``lb`` pounds, or the 3 raw bytes given."""
    raw = lb if isinstance(lb, bytes) else bytes([lb // 32768, (lb % 32768) // 256, lb % 256])
    return b"\x00\x01" + raw


def whc06_payload(centi_kg: int) -> bytes:
    p = bytearray(WHC06_EXAMPLE)
    p[10:12] = centi_kg.to_bytes(2, "big")
    return bytes(p)


def cts500_frame(centi_kg: int) -> bytes:
    body = bytes([0x05, 0x00]) + centi_kg.to_bytes(4, "big", signed=True)
    return body + bytes([sum(body) & 0xFF])


def entralpi_packet(centi_kg: int) -> bytes:
    return centi_kg.to_bytes(2, "big", signed=True)


def weightscale_packet(raw: int, imperial: bool = False) -> bytes:
    return bytes([1 if imperial else 0]) + raw.to_bytes(2, "little")


Decode = Callable[[bytes], Any]

# device -> (decoder, packet builder, [(raw value, force it means in N)] accepted at the
# edges of the range, [raw values] just beyond them). From the table in docs/devices.md.
CASES: dict[str, tuple[Decode, Callable[[Any], bytes], list[tuple[Any, float]], list[Any]]] = {
    "progressor": (progressor.decode, progressor_packet,
                   [(300.0, 300 * KGF_N), (-20.0, -20 * KGF_N)],
                   [300.01, -20.01, 1e6, 3.4e38, -1e6]),
    "forceboard": (forceboard.decode, forceboard_packet,
                   [(1000, 1000 * LBF_N), (0, 0.0)],
                   [1001, 32768, b"\xff\xff\xff"]),  # the last: a wrapped "negative"
    "whc06": (whc06.decode, whc06_payload, [(45000, 450 * KGF_N)], [45001, 0xFFFF]),
    "cts500": (cts500.decode, cts500_frame,
               [(75000, 750 * KGF_N), (-5000, -50 * KGF_N)],
               [75001, -5001, 500_000, 2**31 - 1, -(2**31)]),
    "entralpi": (entralpi.decode, entralpi_packet,
                 [(32767, 327.67 * KGF_N), (-3276, -32.76 * KGF_N)],
                 [-3277, -32768]),
    "weightscale": (weightscale.decode, weightscale_packet,
                    [(0xFFFE, 0xFFFE * 0.005 * KGF_N), (0, 0.0)], [0xFFFF]),
}


def force_of(record: Any) -> float:
    return float(record.force_n[0])


@pytest.mark.parametrize("device", CASES)
def test_a_reading_at_the_edge_of_the_range_is_accepted(device: str) -> None:
    decode, packet, edges, _ = CASES[device]
    for raw, force_n in edges:
        stats = CodecStats()
        rec = safe_decode(decode, packet(raw), stats)
        assert rec is not None, (device, raw)
        assert force_of(rec) == pytest.approx(force_n, rel=1e-6, abs=1e-9)
        assert stats.decoded == 1 and stats.errors == 0


@pytest.mark.parametrize("device", CASES)
def test_a_reading_beyond_the_range_is_rejected_and_counted_damaged(device: str) -> None:
    decode, packet, _, beyond = CASES[device]
    stats = CodecStats()
    reports: list[str] = []
    for raw in beyond:
        with pytest.raises(DecodeError) as info:
            decode(packet(raw))
        assert info.value.kind == "out_of_range", (device, raw)
        assert safe_decode(decode, packet(raw), stats, reports.append) is None
    # The same counters (and reports) as every other damaged packet.
    assert stats.out_of_range == len(beyond) and stats.errors == len(beyond)
    assert stats.decoded == 0
    assert reports and reports[0].startswith("1 damaged packet")


def test_whc06_with_company_id_has_the_same_range() -> None:
    decode = partial(whc06.decode_manufacturer_data, includes_company_id=True)
    assert force_of(decode(b"\x00\x01" + whc06_payload(45000))) == pytest.approx(450 * KGF_N)
    with pytest.raises(DecodeError) as info:
        decode(b"\x00\x01" + whc06_payload(0xFFFF))
    assert info.value.kind == "out_of_range"


def test_imperial_weightscale_top_code_is_in_range() -> None:
    rec = weightscale.decode(weightscale_packet(0xFFFE, imperial=True))
    assert force_of(rec) == pytest.approx(655.34 * LBF_N)
    with pytest.raises(DecodeError) as info:
        weightscale.decode(weightscale_packet(0xFFFF, imperial=True))
    assert info.value.kind == "out_of_range"


# -- bytes missing or left over ---------------------------------------------------------
GOOD: dict[str, tuple[Decode, bytes]] = {
    "progressor": (progressor.decode, progressor_packet(12.0)),
    "progressor-two-samples": (progressor.decode,
                               progressor.encode_weight([10 * KGF_N, 11 * KGF_N], [0.0, 0.0125])),
    "progressor-reply": (progressor.decode, bytes.fromhex("0004d00f0000")),
    "forceboard": (forceboard.decode, forceboard_packet(20)),
    "whc06": (whc06.decode, WHC06_EXAMPLE),
    "whc06+id": (partial(whc06.decode_manufacturer_data, includes_company_id=True),
                 b"\x00\x01" + WHC06_EXAMPLE),
    "cts500": (cts500.decode, cts500_frame(1234)),
    "weightscale": (weightscale.decode, weightscale_packet(2408)),
}


@pytest.mark.parametrize("name", GOOD)
def test_trailing_bytes_are_rejected(name: str) -> None:
    decode, data = GOOD[name]
    decode(data)  # the packet itself is fine
    stats = CodecStats()
    for extra in (b"\x00", b"\x01\x08", bytes(8)):
        with pytest.raises(DecodeError) as info:
            decode(data + extra)
        assert info.value.kind == "malformed", (name, extra)
        assert safe_decode(decode, data + extra, stats) is None
    assert stats.malformed == 3 and stats.errors == 3


@pytest.mark.parametrize("name", GOOD)
def test_missing_bytes_are_rejected(name: str) -> None:
    decode, data = GOOD[name]
    for cut in range(len(data)):
        with pytest.raises(DecodeError) as info:
            decode(data[:cut])
        # (A CTS500 weight frame cut to 6 bytes reads as a command with a bad checksum.)
        assert info.value.kind in ("truncated", "malformed", "bad_checksum"), (name, cut)


def test_entralpi_bytes_after_the_force_stay_unknown_never_force() -> None:
    # Entralpi documents no notification length (docs/devices.md): the bytes after the
    # leading i16 are counted as unknown, never read as force, and the force itself is
    # still range-checked.
    stats = CodecStats()
    rec = safe_decode(entralpi.decode, entralpi_packet(1234) + bytes.fromhex("8000ffff"), stats)
    assert rec is not None and force_of(rec) == pytest.approx(12.34 * KGF_N)
    assert stats.unknown_bytes == 4 and stats.errors == 0
    assert safe_decode(entralpi.decode, entralpi_packet(-32768) + b"\x00", stats) is None
    assert stats.out_of_range == 1
    with pytest.raises(DecodeError) as info:
        entralpi.decode(b"\x04")
    assert info.value.kind == "truncated"


# -- NaN and infinity -------------------------------------------------------------------
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_progressor_nonfinite_readings_are_rejected(value: float) -> None:
    stats = CodecStats()
    data = progressor.encode_weight([10 * KGF_N], [0.0])[:2] + struct.pack("<fI", value, 0)
    assert safe_decode(progressor.decode, data, stats) is None
    assert stats.nonfinite == 1 and stats.errors == 1


@pytest.mark.parametrize("kind", ["progressor", "forceboard", "whc06", "cts500", "entralpi",
                                  "weightscale"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_every_range_rejects_nonfinite(kind: str, value: float) -> None:
    # The integer formats cannot carry NaN on air; the shared check refuses it anyway.
    from isogrip.ble_device.limits import LIMITS

    with pytest.raises(DecodeError) as info:
        LIMITS[kind].check(np.array([10.0, value]))
    assert info.value.kind == "nonfinite"


# -- one table, used everywhere ---------------------------------------------------------
def test_one_table_of_ranges_matches_the_documentation() -> None:
    from isogrip.ble_device.limits import LIMITS, limits_for
    from isogrip.ble_device.profiles import PROFILES, WHC06

    documented_kg = {  # docs/devices.md, "Physical range of each device"
        "progressor": (-20.0, 300.0, 200.0), "forceboard": (0.0, 1000 * LBF_N / KGF_N, None),
        "whc06": (-30.0, 450.0, 300.0), "cts500": (-50.0, 750.0, 500.0),
        "entralpi": (-32.767, 327.67, None), "weightscale": (0.0, 327.67, None),
    }
    assert set(LIMITS) == set(documented_kg)
    for kind, (lo, hi, cap) in documented_kg.items():
        lim = LIMITS[kind]
        assert lim.low_n / KGF_N == pytest.approx(lo) and lim.high_n / KGF_N == pytest.approx(hi)
        assert (lim.capacity_n is None) if cap is None else lim.capacity_n == pytest.approx(
            cap * KGF_N)
    for kind in ("progressor", "forceboard", "cts500"):  # what the drivers report
        assert PROFILES[kind].full_scale_n == LIMITS[kind].full_scale_n
    assert WHC06.full_scale_n == LIMITS["whc06"].full_scale_n
    assert limits_for("sim", 1000 * KGF_N) is not None
    assert limits_for("replay", None) is None


# -- the simulated device and the live path -------------------------------------------------
def _sim(spec: str) -> tuple[SimDevice, list[SampleBatch]]:
    dev = SimDevice(parse_options(DeviceSpec.parse(spec)), VirtualClock())
    got: list[SampleBatch] = []
    dev.set_handlers(got.append)
    return dev, got


def test_sim_checks_readings_against_its_own_full_scale() -> None:
    dev, got = _sim("sim")  # saturate_kg=200: -20 .. 300 kg
    dev._receive(progressor_packet(300.0), 1.0)
    dev._receive(progressor_packet(300.5), 1.1)
    dev._receive(progressor_packet(1e6), 1.2)
    assert [float(b.force_n[0]) for b in got] == pytest.approx([300 * KGF_N])
    assert dev.stats.out_of_range == 2 and dev.malformed_count == 2
    # A sim set to a 1000 kg full scale reports what it clips to; a Progressor could not.
    big, got_big = _sim("sim?saturate_kg=1000")
    big._receive(progressor_packet(1000.0), 1.0)
    big._receive(progressor_packet(1500.5), 1.1)
    assert len(got_big) == 1 and big.stats.out_of_range == 1


async def test_a_glitch_in_a_capture_is_counted_and_reported_not_recorded(
        tmp_path: Path) -> None:
    items = [(0.0125 * i, progressor.encode_weight([10 * KGF_N], [0.0125 * i]))
             for i in range(1, 9)]
    items.insert(4, (items[3][0] + 0.001, progressor_packet(1e6)))
    items.insert(6, (items[5][0] + 0.001, progressor_packet(11.0) + b"\x00\x00"))
    cap = tmp_path / "progressor-glitch.hex"
    write_capture(cap, items)
    clock = VirtualClock()
    runner = asyncio.get_running_loop().create_task(clock.run())
    dev = open_device(f"replay:{cap}", DeviceContext(clock=clock))
    batches: list[SampleBatch] = []
    statuses: list[DeviceStatus] = []
    dev.set_handlers(batches.append, None, statuses.append)
    await dev.connect()
    await dev.start()
    await clock.sleep_until(5.0)
    await dev.disconnect()
    runner.cancel()
    f = np.concatenate([b.force_n for b in batches])
    assert len(f) == 8 and np.all(f == pytest.approx(10 * KGF_N))
    stats = dev.stats  # type: ignore[attr-defined]
    assert stats.out_of_range == 1 and stats.malformed == 1 and stats.errors == 2
    damaged = [s for s in statuses if s.kind == "malformed"]
    assert damaged and "outside" in damaged[0].message


# -- the EDF export ---------------------------------------------------------------------
RATE = 80


def _glitch_session(store: Store, device_info: dict[str, Any] | None,
                    glitch_n: float) -> tuple[int, np.ndarray, np.ndarray]:
    """One minute at 80 Hz, a slow squeeze to ~300 N with noise, one glitch sample."""
    sid = store.create_session(
        started_at=dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC), protocol_name="p",
        protocol={}, device="progressor", participant="P13", app_version="test", t0_s=0.0,
        device_info=device_info)
    n = RATE * 60
    t = np.arange(n) / RATE
    rng = np.random.default_rng(13)
    f = 150 * (1 - np.cos(2 * np.pi * t / 60)) + rng.normal(0, 0.5, n)
    f[n // 2] = glitch_n
    rec = Recorder(store, sid)
    rec.add_samples(t, t, f)
    rec.close("complete")
    return sid, t, f


@pytest.mark.parametrize(("device_info", "glitch_kg"), [
    ({"kind": "progressor", "nominal_rate_hz": 80.0, "full_scale_n": 200 * KGF_N}, 1e6),
    ({"kind": "progressor", "nominal_rate_hz": 80.0}, 3.4e38),  # the largest f32
    ({"kind": "sim", "nominal_rate_hz": 80.0, "full_scale_n": 200 * KGF_N}, 1e6),
    ({"kind": "replay", "nominal_rate_hz": 80.0}, 1e6),  # range unknown: percentiles
    (None, -1e6),
], ids=["progressor", "f32-max", "sim", "unknown-device", "no-device-info"])
def test_one_glitch_sample_no_longer_destroys_the_edf_resolution(
        tmp_path: Path, device_info: dict[str, Any] | None, glitch_kg: float) -> None:
    with Store.open(tmp_path / "data") as store:
        sid, t, f = _glitch_session(store, device_info, glitch_kg * KGF_N)
        [path] = export(store, sid, tmp_path / "out", "edf")
    reader = pyedflib.EdfReader(str(path))
    try:
        x = reader.readSignal(0)
        lo, hi = reader.getPhysicalMinimum(0), reader.getPhysicalMaximum(0)
    finally:
        reader.close()
    real = np.abs(f) < 1e4
    # The range is that of the real force (plus EDF's 1 N margin), not the glitch's.
    assert lo >= f[real].min() - 2 and hi <= f[real].max() + 2
    step = (hi - lo) / 65535
    assert step < 0.01
    grid = np.arange(len(x)) / RATE
    inside = grid <= t[-1]
    expected = np.interp(grid[inside], t[real], f[real])
    near_glitch = np.abs(grid[inside] - t[~real][0]) < 1.5 / RATE
    err = np.abs(x[inside] - expected)[~near_glitch]
    assert err.max() < 0.05  # N; it was ~75 N with the glitch setting the range
    assert err.max() <= step / 2 + 1e-9
    # The glitch itself is clipped to the range, never wrapped or spread.
    assert np.all((x >= lo - step) & (x <= hi + step))
