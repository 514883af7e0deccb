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
from isogrip.ble_device.codec import SampleBatch
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
    assert all(isinstance(w, SampleBatch) for w in weight)
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
    # The second save arrives while its point is still being averaged: it is answered
    # once the point is in, and one point cannot define a scale.
    out = run(bridge, ["C 6a", "C 6904" + struct.pack("<f", 5.0).hex(), "C 6a",
                       *still(900, 32)])
    assert notifications(out) == [bytes([0, 1, 0]), bytes([0, 1, 0])]
    assert not [x for x in out if x.startswith("SAVE")]


def still(raw: int, n: int = 32) -> list[str]:
    """``n`` raw ADC readings of a handle held still at ``raw`` counts."""
    return [f"S {raw} {i}" for i in range(n)]


def saved(out: list[str]) -> list[tuple[int, float]]:
    """Every calibration the firmware wrote to flash: (zero_raw, kg per count)."""
    return [(int(x.split()[1]), float(x.split()[2])) for x in out if x.startswith("SAVE")]


def calibration_block(packet: bytes) -> tuple[float, float, float]:
    """The reply to 0x72 as Grip Connect reads it: f32 slope, intercept, trim."""
    assert packet[:2] == bytes([0, 12]), packet.hex()
    slope, intercept, trim = struct.unpack("<3f", packet[2:])
    return slope, intercept, trim


def test_grip_connect_bare_calibration_flow(bridge: Path) -> None:
    # Grip Connect's CLI "Add Calibration point" action, byte for byte: stop (66), read
    # the calibration (72), capture (a bare 69), read it again (72); the second round
    # ends with save (6a). It sends no weight: the zero point first, then the reference
    # weight the builder set in config.h (here 12.5 kg).
    zero, loaded = 84_000, 84_000 + 12.5 * 21_500
    out = run(bridge, ["M 23 80", "R 12.5", "K", *still(zero, 16),
                       "C 66", "C 72", "C 69", *still(zero), "C 72",
                       "C 66", "C 72", "C 69", *still(round(loaded)), "C 72", "C 6a"])
    [(zero_raw, scale)] = saved(out)
    assert zero_raw == zero
    assert abs(scale * 21_500 - 1) < 1e-6
    replies = notifications(out)
    assert [calibration_block(p) for p in replies[:4]] == [(0.0, 0.0, 0.0)] * 4
    assert replies[4] == bytes([0, 1, 1])
    # Read back after the save: kg = raw * slope + intercept + trim.
    after = run(bridge, ["R 12.5", "K", "C 69", *still(zero), "C 69",
                         *still(round(loaded)), "C 6a", "C 72"])
    slope, intercept, trim = calibration_block(notifications(after)[-1])
    assert trim == 0.0
    assert abs(loaded * slope + intercept - 12.5) < 1e-3
    assert abs(zero * slope + intercept) < 1e-3


def test_grip_connect_app_saves_right_after_the_second_capture(bridge: Path) -> None:
    # The example app's buttons: i, i, j with no wait; the save is answered when the
    # point being averaged is complete, and uses it.
    out = run(bridge, ["K", "C 69", *still(1_000), "C 69", "C 6a"])
    assert notifications(out) == [] and saved(out) == []
    out = run(bridge, ["K", "C 69", *still(1_000), "C 69", "C 6a", *still(401_000)])
    [(zero_raw, scale)] = saved(out)  # default reference weight: 20 kg
    assert zero_raw == 1_000 and abs(scale * 400_000 / 20 - 1) < 1e-6
    assert notifications(out) == [bytes([0, 1, 1])]


@pytest.mark.parametrize(("zero_cmd", "known_cmd", "known_kg"), [
    # The hangman calibration guide's exact bytes: [69][f32 kg], no length byte. (The
    # guide calls 0000f042 "100.0 kg"; as a little-endian f32 it is 120.0.)
    ("C 6900000000", "C 690000f042", 120.0),
    ("C 6900000000", "C 690000a041", 20.0),  # docs/diy.md's example
    ("C 690400000000", "C 69040000a041", 20.0),  # [opcode][length][payload]
])
def test_calibration_with_the_weight_in_the_command(bridge: Path, zero_cmd: str,
                                                    known_cmd: str, known_kg: float) -> None:
    per_kg = 3_000.0
    out = run(bridge, ["K", zero_cmd, *still(-5_000), known_cmd,
                       *still(round(-5_000 + per_kg * known_kg)), "C 6a"])
    [(zero_raw, scale)] = saved(out)
    assert zero_raw == -5_000 and abs(scale * per_kg - 1) < 1e-6
    assert notifications(out) == [bytes([0, 1, 1])]


def test_calibration_points_do_not_survive_a_reconnect(bridge: Path) -> None:
    # A zero point from one connection and a loaded one from the next (perhaps another
    # weight, another day) never make a scale together.
    out = run(bridge, ["K", "C 6900000000", *still(1_000), "D", "K", "C 690000a041",
                       *still(401_000), "C 6a"])
    assert saved(out) == [] and notifications(out) == [bytes([0, 1, 0])]


def test_set_calibration_block_then_read_it_back(bridge: Path) -> None:
    block = struct.pack("<3f", 5e-4, -0.5, 0.25)  # zero at (0.5 - 0.25) / 5e-4 = 500
    out = run(bridge, ["K", "C 7100" + block.hex(), "C 72",
                       "C 710c" + struct.pack("<3f", 1e-3, -2.0, 0.0).hex(), "C 72"])
    assert saved(out) == [(500, pytest.approx(5e-4, rel=1e-7)),
                          (2000, pytest.approx(1e-3, rel=1e-7))]
    first, second = (calibration_block(p) for p in notifications(out))
    assert first[0] == pytest.approx(5e-4, rel=1e-7)
    assert first[1] == pytest.approx(-0.25, rel=1e-6) and first[2] == 0.0
    assert second[:2] == (pytest.approx(1e-3, rel=1e-7), pytest.approx(-2.0, rel=1e-6))


@pytest.mark.parametrize("bad", [
    "7100" + struct.pack("<3f", 0.0, 1.0, 0.0).hex(),  # no scale
    "7100" + struct.pack("<3f", float("nan"), 1.0, 0.0).hex(),
    "7100" + struct.pack("<3f", 1e-3, float("inf"), 0.0).hex(),
    "7100" + struct.pack("<3f", 1e-12, 1e6, 0.0).hex(),  # zero beyond the i32 range
    "7105" + struct.pack("<3f", 1e-3, 1.0, 0.0).hex(),  # neither reserved nor length
    "71" + struct.pack("<3f", 1e-3, 1.0, 0.0).hex(),  # no reserved byte
    "71",
])
def test_implausible_calibration_blocks_are_refused(bridge: Path, bad: str) -> None:
    out = run(bridge, ["K", f"C {bad}", "C 72"])
    assert saved(out) == []
    assert calibration_block(notifications(out)[-1]) == (0.0, 0.0, 0.0)


def test_error_info_clear_and_reboot_get_their_defined_answers(bridge: Path) -> None:
    out = run(bridge, ["K", "C 6c", "C 6d", "C 75", "C 750002", "C 74", "C 750001"])
    # 6c: an empty crash log (Tindeq's client and Grip Connect decode it as text);
    # 6d: no reply in the protocol; a bare or unconfirmed 75 and 74 are ignored;
    # Grip Connect's reboot [75 00 01] restarts the board.
    assert notifications(out) == [bytes([0, 0])]
    assert out[-1] == "REBOOT" and out.count("REBOOT") == 1
    assert progressor.decode(bytes([0, 0])) == progressor.CommandResponse(b"")


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
