"""The DIY firmware's protocol code, built on this machine with g++, against isogrip.

The firmware keeps its protocol (packets, commands, calibration) in plain C++
(firmware/esp32_forcegauge/progressor_protocol.*). Here the same source is compiled
twice: with its own unit tests, and into a small host program driven line by line.
isogrip's Progressor codec must decode exactly what the firmware encodes.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from isogrip.ble_device import progressor
from isogrip.signal.units import KGF_N

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "firmware" / "esp32_forcegauge"
HOST = ROOT / "firmware" / "host_test"
CXX = shutil.which("g++") or shutil.which("c++")
FLAGS = ["-std=c++17", "-Wall", "-Wextra", "-Werror", "-O1", f"-I{SRC}"]


def build(tmp: Path, main: str) -> Path:
    assert CXX, "the tests need a C++ compiler (g++); install build-essential"
    exe = tmp / Path(main).stem
    subprocess.run([CXX, *FLAGS, str(HOST / main), str(SRC / "progressor_protocol.cpp"),
                    "-o", str(exe)], check=True, capture_output=True, text=True)
    return exe


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("fw"), "bridge.cpp")


def run(bridge: Path, lines: list[str]) -> list[str]:
    out = subprocess.run([str(bridge)], input="\n".join(lines) + "\n", capture_output=True,
                         text=True, check=True, timeout=30)
    return out.stdout.splitlines()


def notifications(output: list[str]) -> list[bytes]:
    return [bytes.fromhex(x[2:]) for x in output if x.startswith("N ")]


def test_firmware_unit_tests_pass(tmp_path: Path) -> None:
    exe = build(tmp_path, "test_protocol.cpp")
    result = subprocess.run([str(exe)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "all firmware protocol tests passed" in result.stdout


def calibrate(zero_raw: int, raw_per_kg: float, known_kg: float) -> list[str]:
    """Commands and samples that calibrate the device (0 kg, then a known weight)."""
    lines = ["C 6904" + struct.pack("<f", 0.0).hex()]
    lines += [f"S {zero_raw} {i}" for i in range(32)]
    lines += ["C 6904" + struct.pack("<f", known_kg).hex()]
    lines += [f"S {round(zero_raw + raw_per_kg * known_kg)} {i}" for i in range(32)]
    return [*lines, "C 6a"]


@pytest.mark.parametrize(("rate", "mtu", "per_packet"), [(80, 23, 1), (320, 247, 4),
                                                         (320, 23, 2)])
def test_isogrip_decodes_what_the_firmware_encodes(bridge: Path, rate: int, mtu: int,
                                                   per_packet: int) -> None:
    zero, per_kg = 84_000, 21_500.0
    rng = np.random.default_rng(rate + mtu)
    n = 400
    kg_true = np.clip(np.cumsum(rng.normal(0, 0.3, n)) + 12.0, 0, 90)
    raw = np.round(zero + per_kg * kg_true).astype(int)
    # Device clock starting just before the u32 wrap, so the stream crosses it.
    t0 = 2**32 - 500_000
    dt = round(1e6 / rate)
    t_us = [(t0 + i * dt) % 2**32 for i in range(n)]
    lines = [f"M {mtu} {rate}", *calibrate(zero, per_kg, 20.0), "K"]
    lines += [f"S {zero} {i}" for i in range(16)]  # tare on connect, handle at rest
    lines += ["C 65"] + [f"S {r} {t}" for r, t in zip(raw, t_us, strict=True)] + ["C 66"]
    out = run(bridge, lines)
    [save] = [x.split() for x in out if x.startswith("SAVE")]
    assert int(save[1]) == zero
    stored_scale = np.float32(float(save[2]))  # float32 in the device, as in NVS
    assert abs(float(stored_scale) * per_kg - 1) < 1e-6
    packets = notifications(out)
    assert packets[0] == bytes([0, 1, 1])  # calibration saved: OK reply
    weight = [progressor.decode(p) for p in packets[1:]]
    assert all(isinstance(w, progressor.WeightRecord) for w in weight)
    sizes = [len(w.force_n) for w in weight]  # type: ignore[union-attr]
    assert set(sizes[:-1]) == {per_packet} and sum(sizes) == n
    force = np.concatenate([w.force_n for w in weight])  # type: ignore[union-attr]
    dev_t = np.concatenate([w.device_t_s for w in weight])  # type: ignore[union-attr]
    # Values: exactly the firmware's float32 arithmetic, as isogrip reads it.
    scale = stored_scale
    expected = ((raw.astype(np.float32) - np.float32(zero)) * scale).astype(np.float32)
    # isogrip multiplies the f32 kg by g in float64: back in float32 it is the same value.
    assert np.array_equal((force / KGF_N).astype(np.float32), expected)
    assert np.max(np.abs(force / KGF_N - kg_true)) < 0.001
    # Timestamps: the u32 microsecond clock, wrap included, to the microsecond.
    assert np.array_equal(np.round(dev_t * 1e6).astype(np.int64), np.array(t_us))
    assert np.any(np.diff(dev_t) < 0)  # the wrap really happened in this stream


def test_replies_battery_firmware_id_low_battery_and_unknown_opcodes(bridge: Path) -> None:
    out = run(bridge, ["M 23 80", "K", "C 6f", "C 6b", "C 70", "C 74", "C ff01",
                       "B 3350 1000", "B 3340 2000", "C 6e"])
    packets = notifications(out)
    decoded = [progressor.decode(p) for p in packets]
    battery, fw, dev_id, low = decoded
    assert isinstance(battery, progressor.CommandResponse)
    assert progressor.parse_battery_mv(battery) == 3987
    assert isinstance(fw, progressor.CommandResponse)
    assert progressor.parse_firmware(fw) == "isogrip-fw 1.0.0"
    assert isinstance(dev_id, progressor.CommandResponse)
    assert progressor.parse_device_id(dev_id) == "246f280a1b2c"
    assert isinstance(low, progressor.LowBatteryWarning)  # once, not twice in a minute
    assert out[-1] == "SLEEP"


def test_uncalibrated_save_is_refused(bridge: Path) -> None:
    out = run(bridge, ["C 6a", "C 6904" + struct.pack("<f", 5.0).hex(), "C 6a"])
    assert notifications(out) == [bytes([0, 1, 0]), bytes([0, 1, 0])]
    assert not [x for x in out if x.startswith("SAVE")]


@pytest.mark.parametrize("adc", ["-DFORCEGAUGE_ADC_HX711=1",
                                 "-DFORCEGAUGE_ADC_NAU7802=1 -DFORCEGAUGE_RATE_HZ=320"])
def test_sketch_type_checks_against_api_stand_ins(adc: str) -> None:
    # The ESP32 toolchain is not on this machine: the sketch is checked against small
    # stand-ins declaring the Arduino, NimBLE, HX711 and NAU7802 calls it uses
    # (firmware/host_test/stubs), so a typo or a wrong call shape fails here.
    assert CXX
    result = subprocess.run(
        [CXX, *FLAGS, "-fsyntax-only", *adc.split(), f"-I{HOST / 'stubs'}", "-x", "c++",
         str(SRC / "esp32_forcegauge.ino")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
