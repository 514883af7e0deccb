"""Device specs, the registry, the Progressor codec and the simulated device."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from isogrip.ble_device import progressor
from isogrip.ble_device.base import ForceDevice, SampleBatch
from isogrip.ble_device.participant import PRESETS, VirtualParticipant
from isogrip.ble_device.registry import (
    DeviceContext,
    DeviceSpec,
    available_drivers,
    open_device,
)
from isogrip.ble_device.sim import SimDevice, parse_options
from isogrip.clock import VirtualClock
from isogrip.errors import DeviceSpecError
from isogrip.protocols.events import Phase, Snapshot
from isogrip.signal.units import KGF_N
from isogrip.types import Hand


def test_spec_parsing() -> None:
    s = DeviceSpec.parse("sim:good?seed=3&rate=1000")
    assert (s.driver, s.argument, s.params) == ("sim", "good", {"seed": "3", "rate": "1000"})
    assert DeviceSpec.parse("sim").argument is None
    ble = DeviceSpec.parse("ble:AA:BB:CC:DD:EE:FF")
    assert ble.driver == "ble" and ble.argument == "AA:BB:CC:DD:EE:FF"
    assert DeviceSpec.parse("sim?seed=2").params == {"seed": "2"}


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("", "empty device spec"),
        ("sim?seed", "key=value"),
        ("sim?seed=1&seed=2", "given twice"),
        ("sim?sede=1", "unknown option 'sede'"),
        ("sim?seed=abc", "whole number"),
        ("sim?rate=5000", "between 10 and 1000"),
        ("sim?drop=nan", "between 0 and 1"),
        ("sim:zombie", "unknown participant 'zombie'"),
        ("telepathy", "unknown device 'telepathy'"),
    ],
)
def test_bad_specs(text: str, phrase: str) -> None:
    with pytest.raises(DeviceSpecError, match=phrase):
        open_device(text)


def test_registry_lists_sim_and_creates_a_force_device() -> None:
    assert "sim" in available_drivers()
    dev = open_device("sim:fatigue?seed=4")
    assert isinstance(dev, ForceDevice) and isinstance(dev, SimDevice)
    assert dev.info.kind == "sim" and dev.options.preset == "fatigue"


def test_progressor_reference_vector() -> None:
    # The example from the device documentation: (10.0 kg, 1000 us), (12.5 kg, 13500 us).
    rec = progressor.decode(bytes.fromhex("0110 00002041 e8030000 00004841 bc340000"))
    assert isinstance(rec, SampleBatch)
    np.testing.assert_allclose(rec.force_n, [10.0 * KGF_N, 12.5 * KGF_N])
    np.testing.assert_allclose(rec.device_t_s, [0.001, 0.0135])


def test_progressor_round_trip_and_wrap() -> None:
    f = np.array([0.0, 100.0, 250.5])
    t = np.array([4294.967, 4294.9672, 4294.968])  # crosses 2**32 us
    rec = progressor.decode(progressor.encode_weight(f, t))
    assert isinstance(rec, SampleBatch)
    np.testing.assert_allclose(rec.force_n, f, atol=1e-4)
    np.testing.assert_allclose(rec.device_t_s, [4294.967, 4294.9672, 4294.968 - 2**32 * 1e-6],
                               atol=1e-6)


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        (b"", "too short"),
        (b"\x01", "too short"),
        (b"\x01\x08\x00\x00", "only 2 arrived"),
        (b"\x01\x03abc", "multiple of 8"),
        (b"\x09\x00", "unknown record type 9"),
        (b"\x01\x08" + np.array([np.inf], "<f4").tobytes() + b"\0\0\0\0", "NaN or infinite"),
    ],
)
def test_progressor_malformed(data: bytes, phrase: str) -> None:
    with pytest.raises(progressor.DecodeError, match=phrase):
        progressor.decode(data)


def test_progressor_other_records() -> None:
    assert progressor.decode(b"\x04\x00") == progressor.LowBatteryWarning()
    r = progressor.decode(b"\x00\x04\xd0\x0f\x00\x00")
    assert isinstance(r, progressor.CommandResponse)
    assert int.from_bytes(r.payload, "little") == 4048


@given(st.binary(max_size=64))
def test_progressor_decode_only_raises_decode_error(data: bytes) -> None:
    try:
        rec = progressor.decode(data)
    except progressor.DecodeError:
        return
    if isinstance(rec, SampleBatch):
        assert np.isfinite(rec.force_n).all()


def snap(phase: Phase, target: float | None = None, force: float | None = None) -> Snapshot:
    return Snapshot(t=0.0, phase=phase, hand=Hand.RIGHT, target_n=target, force_n=force)


def test_participant_reaction_delay_and_max_effort() -> None:
    p = VirtualParticipant(PRESETS["good"], seed=1)
    assert 0.15 <= p.reaction_s <= 0.25
    fs = 100
    out = []
    for k in range(300):  # 3 s
        t = np.array([k / fs])
        p.observe(float(t[0]), snap(Phase.MVC_EFFORT) if k >= 50 else snap(Phase.REST))
        out.append(p.forces(t)[0])
    f = np.array(out)
    onset = np.argmax(f > 20) / fs
    assert 0.5 + 0.15 <= onset <= 0.5 + 0.25 + 0.1  # seen after the reaction delay
    true = PRESETS["good"].mvc_right_n
    assert 0.9 * true < f[-50:].mean() < 1.03 * true


def test_participant_is_deterministic() -> None:
    def trace(seed: int) -> np.ndarray:
        p = VirtualParticipant(PRESETS["sloppy"], seed=seed)
        vals = []
        for k in range(200):
            t = np.arange(k * 4, k * 4 + 4) / 80
            p.observe(float(t[0]), snap(Phase.HOLD, 100.0, vals[-1] if vals else 0.0))
            vals.append(float(p.forces(t)[-1]))
        return np.array(vals)

    np.testing.assert_array_equal(trace(3), trace(3))
    assert not np.array_equal(trace(3), trace(4))


def test_participant_tremor_frequency() -> None:
    p = VirtualParticipant(PRESETS["good"], seed=2)
    fs = 1000
    t = np.arange(0, 20, 1 / fs)
    target = 0.3 * PRESETS["good"].mvc_right_n
    out = []
    for i in range(0, len(t), 10):
        p.observe(float(t[i]), snap(Phase.HOLD, target, out[-1] if out else target))
        out.extend(p.forces(t[i:i + 10]))
    x = np.array(out[5000:]) - np.mean(out[5000:])
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / fs)
    band = (freqs > 3)
    peak = freqs[band][np.argmax(spec[band])]
    assert 8.0 <= peak <= 12.0


async def collect(spec: str, seconds: float) -> tuple[SimDevice, list[SampleBatch], list[str]]:
    clock = VirtualClock()
    runner = asyncio.get_running_loop().create_task(clock.run())
    dev = open_device(spec, DeviceContext(clock=clock))
    assert isinstance(dev, SimDevice)
    batches: list[SampleBatch] = []
    drops: list[str] = []
    dev.set_handlers(batches.append, drops.append)
    await dev.connect()
    await dev.start()
    await clock.sleep_until(seconds)
    await dev.disconnect()
    runner.cancel()
    return dev, batches, drops


async def test_sim_rate_and_packet_size() -> None:
    _dev, batches, _ = await collect("sim?rate=250&per_packet=5&jitter_ms=0", 10.0)
    assert all(len(b) == 5 for b in batches)
    n = sum(len(b) for b in batches)
    assert abs(n - 2500) <= 5
    dt = np.diff(np.concatenate([b.device_t_s for b in batches if b.device_t_s is not None]))
    np.testing.assert_allclose(dt, 1 / 250, atol=2e-6)
    assert all(b.host_rx_s >= b.device_t_s[-1] for b in batches if b.device_t_s is not None)


async def test_sim_disconnect_fault() -> None:
    dev, batches, drops = await collect("sim?disconnect_at=2&disconnect_s=3", 4.0)
    assert drops == ["simulated link loss"]
    assert not dev.is_connected
    last = max(b.host_rx_s for b in batches)
    assert last < 2.1


async def test_sim_saturation_and_silence() -> None:
    dev, batches, _ = await collect("sim?saturate_kg=1&spikes=1&spike_kg=50", 2.0)
    f = np.concatenate([b.force_n for b in batches])
    assert f.max() == pytest.approx(1 * KGF_N, rel=1e-6)
    dev, batches, _ = await collect("sim?silent=1", 2.0)
    assert batches == [] and dev.is_connected is False


def test_parse_options_defaults() -> None:
    o = parse_options(DeviceSpec.parse("sim"))
    assert (o.preset, o.seed, o.rate, o.per_packet) == ("good", 0, 80.0, 4)


@pytest.mark.parametrize(("target", "phrase"), [
    ("isogrip_no_such_plugin_module:factory", "ModuleNotFoundError"),
    ("json:no_such_factory", "AttributeError"),
    ("json", "names no factory"),
    ("json:__doc__", "names no factory"),
])
def test_a_broken_plugin_driver_is_one_line(monkeypatch: pytest.MonkeyPatch, target: str,
                                            phrase: str, capsys: pytest.CaptureFixture[str],
                                            tmp_path: object) -> None:
    from isogrip.ble_device import registry
    from isogrip.cli import main

    monkeypatch.setattr(registry, "_entry_point_drivers", lambda: {"plugin": target})
    with pytest.raises(DeviceSpecError) as err:
        registry.open_device("plugin")
    assert phrase in str(err.value) and "'plugin'" in str(err.value)
    assert "\n" not in str(err.value)
    code = main(["--data-dir", str(tmp_path), "run", "--headless", "--device", "plugin",
                 "--bp", "120/80"])
    captured = capsys.readouterr()
    assert code == 2 and "Traceback" not in captured.err
    assert phrase in captured.err and len(captured.err.strip().splitlines()) == 1
