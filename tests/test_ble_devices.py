"""Every BLE driver against its virtual peripheral over a real ATT/GATT stack."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from virtual_ble import (
    Cts500Peripheral,
    EntralpiPeripheral,
    ForceBoardPeripheral,
    ProgressorPeripheral,
    VirtualBleWorld,
    VirtualPeripheral,
    WeightScalePeripheral,
    Whc06Advertiser,
)
from virtual_ble.fake_time import FAKE_TIME

from isogrip.ble_device.advert import AdvertisementDevice
from isogrip.ble_device.base import DeviceStatus, SampleBatch
from isogrip.ble_device.gatt import GattDevice, GattProfile
from isogrip.ble_device.profiles import (
    CTS500,
    ENTRALPI,
    FORCE_BOARD,
    WEIGHT_SCALE,
    WHC06,
)
from isogrip.ble_device.scanner import scan
from isogrip.protocols.loader import load_protocol
from isogrip.runtime import SessionConfig, SessionRuntime
from isogrip.signal.units import KGF_N
from isogrip.storage.store import Store
from isogrip.types import Hand

# Sessions and streams run on fake loop time (see virtual_ble.fake_time).
pytestmark = FAKE_TIME

KG = 23.45

CASES: dict[str, tuple[GattProfile, Callable[[], VirtualPeripheral], float, float]] = {
    # kind: (profile, peripheral, samples per second expected, tolerance in kg)
    "forceboard": (FORCE_BOARD, lambda: ForceBoardPeripheral(force_kg=lambda t: KG), 80, 0.3),
    "cts500": (CTS500, lambda: Cts500Peripheral(force_kg=lambda t: KG), 80, 0.01),
    "entralpi": (ENTRALPI, lambda: EntralpiPeripheral(force_kg=lambda t: KG), 10, 0.01),
    "entralpi-fff0": (ENTRALPI, lambda: EntralpiPeripheral(variant="fff0",
                                                           force_kg=lambda t: KG), 10, 0.01),
    "weightscale": (WEIGHT_SCALE, lambda: WeightScalePeripheral(force_kg=lambda t: KG), 10,
                    0.005),
    "weightscale-lb": (WEIGHT_SCALE, lambda: WeightScalePeripheral(
        imperial=True, force_kg=lambda t: KG), 10, 0.005),
}


async def wait_for(cond: Callable[[], bool], timeout: float = 2.0) -> None:
    async def loop() -> None:
        while not cond():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(loop(), timeout)


@pytest.mark.parametrize("case", list(CASES))
async def test_driver_streams_reports_drops_and_reconnects(case: str) -> None:
    profile, make, rate, tol = CASES[case]
    async with VirtualBleWorld() as world:
        p = make()
        address = await world.add(p)
        found = await scan(0.4, backend=world.scanner_backend)
        assert [(d.kind, d.address) for d in found] == [(profile.kind, address)]
        dev = GattDevice(profile, None, backend=world.client_backend,
                         scanner_backend=world.scanner_backend, scan_timeout_s=3.0)
        batches: list[SampleBatch] = []
        drops: list[str] = []
        dev.set_handlers(batches.append, drops.append)
        await dev.connect()
        await dev.start()
        await asyncio.sleep(1.0)
        n = sum(len(b) for b in batches)
        assert 0.8 * rate <= n <= 1.2 * rate + 2, n
        f = np.concatenate([b.force_n for b in batches])
        np.testing.assert_allclose(f / KGF_N, KG, atol=tol)
        await p.disconnect()
        await wait_for(lambda: bool(drops))
        before = len(batches)
        await dev.connect()
        await dev.start()
        await asyncio.sleep(0.5)
        assert len(batches) > before
        await dev.disconnect()


async def test_forceboard_bytes_and_battery() -> None:
    async with VirtualBleWorld() as world:
        p = ForceBoardPeripheral(force_kg=lambda t: 5.0, battery_pct=64)
        await world.add(p)
        dev = GattDevice(FORCE_BOARD, None, backend=world.client_backend,
                         scanner_backend=world.scanner_backend, scan_timeout_s=3.0)
        dev.set_handlers(lambda b: None)
        await dev.connect()
        assert await dev.battery() == 64.0
        await dev.start()
        await dev.tare()
        await dev.stop()
        await dev.disconnect()
    assert p.mode_writes == [0x04, 0x05, 0x07]  # stream, tare, idle


async def test_cts500_reassembles_split_frames_and_always_stops() -> None:
    async with VirtualBleWorld() as world:
        p = Cts500Peripheral(force_kg=lambda t: 12.34, split=True)
        await world.add(p)
        dev = GattDevice(CTS500, None, backend=world.client_backend,
                         scanner_backend=world.scanner_backend, scan_timeout_s=3.0)
        batches: list[SampleBatch] = []
        statuses: list[DeviceStatus] = []
        dev.set_handlers(batches.append, None, statuses.append)
        await dev.connect()
        await dev.start()
        await asyncio.sleep(0.3)
        await p.inject_garbage(b"\x13\x37\x05\x01")  # noise and a broken frame start
        await asyncio.sleep(0.5)
        await dev.disconnect()
    f = np.concatenate([b.force_n for b in batches]) / KGF_N
    np.testing.assert_allclose(f, 12.34, atol=0.005)
    assert len(f) >= 50
    assert p.stops_received >= 1
    assert 3 in p.rate_codes  # 80 Hz requested


async def test_software_tare_for_devices_without_a_tare_command() -> None:
    async with VirtualBleWorld() as world:
        p = EntralpiPeripheral(force_kg=lambda t: 2.0)
        await world.add(p)
        dev = GattDevice(ENTRALPI, None, backend=world.client_backend,
                         scanner_backend=world.scanner_backend, scan_timeout_s=3.0)
        batches: list[SampleBatch] = []
        dev.set_handlers(batches.append)
        await dev.connect()
        await dev.start()
        await asyncio.sleep(0.5)
        await dev.tare()
        await asyncio.sleep(0.3)
        await dev.tare()  # a second tare must not count old readings again
        batches.clear()
        await asyncio.sleep(0.5)
        await dev.disconnect()
    f = np.concatenate([b.force_n for b in batches])
    np.testing.assert_allclose(f, 0.0, atol=1e-9)


async def test_whc06_advertisements_stream_and_silence_is_a_disconnect() -> None:
    async with VirtualBleWorld() as world:
        adv = Whc06Advertiser(force_kg=lambda t: 12.34)
        address = await world.add(adv)
        found = await scan(0.5, backend=world.scanner_backend)
        assert [(d.kind, d.address) for d in found] == [("whc06", address)]
        profile = replace(WHC06, silence_timeout_s=1.0)
        dev = AdvertisementDevice(profile, None, scanner_backend=world.scanner_backend,
                                  scan_timeout_s=3.0)
        batches: list[SampleBatch] = []
        drops: list[str] = []
        statuses: list[DeviceStatus] = []
        dev.set_handlers(batches.append, drops.append, statuses.append)
        await dev.connect()
        assert statuses and statuses[0].kind == "slow_device"
        await dev.start()
        await asyncio.sleep(1.0)
        # Every advertisement is a sample: the virtual scale advertises every 20 ms and
        # updates its reading at 10 Hz.
        assert 8 <= sum(len(b) for b in batches) <= 60
        f = np.concatenate([b.force_n for b in batches]) / KGF_N
        np.testing.assert_allclose(f, 12.34, atol=0.005)
        await adv.go_silent()
        await wait_for(lambda: bool(drops), 3.0)
        assert drops == ["no advertisements for 1 s"]
        await dev.disconnect()


SESSION_CASES = {
    "forceboard": ("forceboard", lambda: ForceBoardPeripheral(force_kg=lambda t: 12.0)),
    "cts500": ("cts500", lambda: Cts500Peripheral(force_kg=lambda t: 12.0)),
    "entralpi": ("entralpi", lambda: EntralpiPeripheral(rate_hz=20, force_kg=lambda t: 12.0)),
    "weightscale": ("weightscale", lambda: WeightScalePeripheral(rate_hz=20,
                                                                   force_kg=lambda t: 12.0)),
    "progressor via ble:<address>": ("ble", lambda: ProgressorPeripheral(
        force_kg=lambda t: 12.0)),
}


@pytest.mark.parametrize("case", list(SESSION_CASES))
async def test_session_completes_through_a_mid_hold_drop(case: str, tmp_path: Path) -> None:
    driver, make = SESSION_CASES[case]
    protocol = replace(
        load_protocol("ihg-4x2-30-alternating"), reps=2, hold_s=3.0, rest_s=0.3,
        prepare_s=0.2, countdown_s=0.3, ramp_s=0.5, rest_after_mvc_s=0.2,
        breathing_reminder_s=0.0,
    )
    async with VirtualBleWorld() as world:
        p = make()
        address = await world.add(p)
        spec = f"{driver}:{address}"
        store = Store.open(tmp_path)
        rt = SessionRuntime(
            SessionConfig(device=spec, protocol=protocol, data_dir=tmp_path, tare=False,
                          known_mvc={Hand.RIGHT: 40 * KGF_N, Hand.LEFT: 40 * KGF_N}),
            store=store, ble_backend=world.client_backend,
            ble_scanner_backend=world.scanner_backend,
        )

        async def drop_mid_hold() -> None:
            await wait_for(lambda: rt.snapshot().phase.value == "hold", 10)
            await asyncio.sleep(1.0)
            await p.disconnect()

        dropper = asyncio.create_task(drop_mid_hold())
        result = await rt.run_here()
        await dropper
    assert result.status == "complete"
    kinds = [e.kind for e in store.load_events(result.session_id)]
    assert "device_disconnected" in kinds and "device_reconnected" in kinds
    assert [h.completed for h in result.holds] == [True, True]
    _, _, f = store.load_samples(result.session_id)
    assert len(f) == result.samples > 20
    np.testing.assert_allclose(f / KGF_N, 12.0, atol=0.3)


async def test_whc06_session_keeps_the_hold_through_a_short_silence(tmp_path: Path) -> None:
    protocol = replace(
        load_protocol("ihg-4x2-30-alternating"), reps=1, hold_s=4.0, prepare_s=0.2,
        countdown_s=0.3, ramp_s=0.5, breathing_reminder_s=0.0,
    )
    async with VirtualBleWorld() as world:
        adv = Whc06Advertiser(force_kg=lambda t: 12.0)
        await world.add(adv)
        store = Store.open(tmp_path)
        rt = SessionRuntime(
            SessionConfig(device="whc06", protocol=protocol, data_dir=tmp_path, tare=False,
                          known_mvc={Hand.RIGHT: 40 * KGF_N, Hand.LEFT: 40 * KGF_N}),
            store=store, ble_scanner_backend=world.scanner_backend,
        )

        async def silence() -> None:
            await wait_for(lambda: rt.snapshot().phase.value == "hold", 10)
            await asyncio.sleep(1.0)
            await adv.go_silent()
            await asyncio.sleep(1.5)
            await adv.resume()

        task = asyncio.create_task(silence())
        result = await rt.run_here()
        await task
    assert result.status == "complete"
    hold = result.holds[0]
    assert hold.metrics.max_gap_s > 1.2  # the silence is recorded as a gap
    assert hold.t_end_s - hold.t_go_s == pytest.approx(4.0)
    statuses = [e for e in store.load_events(result.session_id) if e.kind == "device_status"]
    assert any("too slow" in e.detail["message"] for e in statuses)


@pytest.mark.parametrize(("message", "reason"), [
    ("No Bluetooth adapters found.", "no_adapter"),
    ("org.bluez.Error.NotReady", "bluetooth_off"),
    ("Bluetooth device is turned off", "bluetooth_off"),
    ("[org.bluez.Error.NotPermitted] Permission denied", "permission_denied"),
    ("org.bluez.Error.InProgress", "busy"),
    ("Device with address AA not found", "not_found"),
])
def test_bluetooth_errors_say_what_to_do(message: str, reason: str) -> None:
    from bleak.exc import BleakError

    from isogrip.ble_device.bleak_errors import device_error

    err = device_error(BleakError(message), "Tindeq Progressor")
    assert err.reason.value == reason
    assert str(err).startswith("Tindeq Progressor: ")
    assert len(str(err)) > 40  # says what to do, not just what failed


@pytest.mark.parametrize(("bleak_reason", "reason"), [
    ("NO_BLUETOOTH", "no_adapter"),
    ("NO_BLE_CENTRAL_ROLE", "no_adapter"),
    ("POWERED_OFF", "bluetooth_off"),
    ("DENIED_BY_USER", "permission_denied"),
    ("DENIED_BY_SYSTEM", "permission_denied"),
    ("DENIED_BY_UNKNOWN", "permission_denied"),
])
def test_bleak_s_typed_reason_comes_before_its_message(bleak_reason: str,
                                                       reason: str) -> None:
    """bleak's reason decides, whatever the (platform-dependent) message says: this one
    would read as "busy" by its words."""
    from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason

    from isogrip.ble_device.bleak_errors import device_error

    exc = BleakBluetoothNotAvailableError(
        "the operation is in progress", BleakBluetoothNotAvailableReason[bleak_reason])
    err = device_error(exc, "Bluetooth scan")
    assert err.reason.value == reason
    assert str(err).startswith("Bluetooth scan: ") and "\n" not in str(err)
    if bleak_reason == "NO_BLE_CENTRAL_ROLE":
        assert "Bluetooth LE" in str(err)


def test_bleak_s_unknown_reason_falls_back_to_the_message() -> None:
    from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason

    from isogrip.ble_device.bleak_errors import device_error

    exc = BleakBluetoothNotAvailableError("Bluetooth device is turned off",
                                          BleakBluetoothNotAvailableReason.UNKNOWN)
    assert device_error(exc, "scan").reason.value == "bluetooth_off"


async def test_whc06_follows_the_nearest_scale() -> None:
    async with VirtualBleWorld() as world:
        await world.add(Whc06Advertiser(force_kg=lambda t: 1.0, rssi=-95))
        near = await world.add(Whc06Advertiser(force_kg=lambda t: 2.0, rssi=-30))
        dev = AdvertisementDevice(WHC06, None, scanner_backend=world.scanner_backend,
                                  scan_timeout_s=3.0)
        batches: list[SampleBatch] = []
        dev.set_handlers(batches.append)
        await dev.connect()
        await dev.start()
        await asyncio.sleep(0.5)
        await dev.disconnect()
    assert dev.address == near
    np.testing.assert_allclose(np.concatenate([b.force_n for b in batches]) / KGF_N, 2.0,
                               atol=0.005)
