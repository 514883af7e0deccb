"""The Progressor driver against a virtual Progressor over a real ATT/GATT stack
(bleak over bumble's in-process controllers)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from virtual_ble import DATA_UUID, ProgressorPeripheral, VirtualBleWorld
from virtual_ble.fake_time import FAKE_TIME

from isogrip.ble_device.base import DeviceStatus, SampleBatch
from isogrip.ble_device.gatt import GattDevice
from isogrip.ble_device.profiles import PROGRESSOR
from isogrip.ble_device.scanner import scan
from isogrip.errors import DeviceError, DeviceErrorReason
from isogrip.protocols.loader import load_protocol
from isogrip.protocols.model import MvcSpec
from isogrip.runtime import SessionConfig, SessionRuntime
from isogrip.signal.units import KGF_N
from isogrip.storage.store import Store
from isogrip.types import Hand

# Sessions and streams run on fake loop time (see virtual_ble.fake_time).
pytestmark = FAKE_TIME


def driver(world: VirtualBleWorld, address: str | None = None, **kw: float) -> GattDevice:
    return GattDevice(PROGRESSOR, address, backend=world.client_backend,
                      scanner_backend=world.scanner_backend, scan_timeout_s=3.0, **kw)


async def wait_for(cond, timeout: float = 2.0) -> None:  # type: ignore[no-untyped-def]
    async def loop() -> None:
        while not cond():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(loop(), timeout)


async def test_scan_recognises_progressors_nearest_first() -> None:
    async with VirtualBleWorld() as world:
        near = await world.add(ProgressorPeripheral("Progressor_0001", rssi=-40))
        clone = await world.add(ProgressorPeripheral("Progressor_1719", uuid_in_adv=False,
                                                     rssi=-70))
        found = await scan(0.5, backend=world.scanner_backend)
    assert [d.address for d in found] == [near, clone]
    assert all(d.kind == "progressor" for d in found)
    assert found[0].rssi == -40 and found[0].spec == f"progressor:{near}"


async def test_connect_reads_info_and_streams_newtons() -> None:
    async with VirtualBleWorld() as world:
        p = ProgressorPeripheral(force_kg=lambda t: 10.0, battery_mv=3900)
        await world.add(p)
        dev = driver(world)
        batches: list[SampleBatch] = []
        dev.set_handlers(batches.append)
        await dev.connect()
        assert dev.info.firmware == "1.2.3"
        assert dev.info.extra["battery_mv"] == 3900
        assert await dev.battery() == pytest.approx(67.0)
        await dev.start()
        await asyncio.sleep(1.0)
        await dev.stop()
        await dev.disconnect()
    n = sum(len(b) for b in batches)
    assert 72 <= n <= 88  # 80 Hz for 1 s
    f = np.concatenate([b.force_n for b in batches])
    np.testing.assert_allclose(f, 10.0 * KGF_N, rtol=1e-6)
    t = np.concatenate([b.device_t_s for b in batches if b.device_t_s is not None])
    np.testing.assert_allclose(np.diff(t), 1 / 80, atol=2e-6)


async def test_bytes_on_the_wire_and_never_power_off() -> None:
    async with VirtualBleWorld() as world:
        p = ProgressorPeripheral()
        await world.add(p)
        dev = driver(world)
        dev.set_handlers(lambda b: None)
        await dev.connect()
        await dev.start()
        await dev.tare()
        await dev.stop()
        await dev.disconnect()
        await wait_for(lambda: not p.connected)
    ops = [data for _uuid, data in p.writes]
    # firmware, battery on connect; start; tare then a fresh start; stop.
    assert ops == [b"\x6b", b"\x6f", b"\x65", b"\x64", b"\x65", b"\x66"]
    assert p.power_off_requests == []


async def test_peripheral_drop_is_reported_and_reconnect_resumes() -> None:
    async with VirtualBleWorld() as world:
        p = ProgressorPeripheral(force_kg=lambda t: 5.0)
        await world.add(p)
        dev = driver(world)
        batches: list[SampleBatch] = []
        drops: list[str] = []
        dev.set_handlers(batches.append, drops.append)
        await dev.connect()
        await dev.start()
        await asyncio.sleep(0.3)
        await p.disconnect()
        await wait_for(lambda: bool(drops))
        assert not dev.is_connected
        before = len(batches)
        await dev.connect()
        await dev.start()
        await asyncio.sleep(0.3)
        await dev.disconnect()
    assert drops == ["the Bluetooth link was lost"]
    assert len(batches) > before + 10


async def test_low_battery_and_damaged_packets_are_reported_not_raised() -> None:
    async with VirtualBleWorld() as world:
        p = ProgressorPeripheral(force_kg=lambda t: 3.0)
        await world.add(p)
        dev = driver(world)
        batches: list[SampleBatch] = []
        statuses: list[DeviceStatus] = []
        dev.set_handlers(batches.append, None, statuses.append)
        await dev.connect()
        await dev.start()
        await p.notify(DATA_UUID, b"\x01\x03abc")  # length not a multiple of 8
        await p.notify(DATA_UUID, b"\x09\x00")  # unknown record type
        await p.send_low_battery()
        await asyncio.sleep(0.3)
        await dev.disconnect()
    kinds = [s.kind for s in statuses]
    assert kinds.count("malformed") == 1 and "low_battery" in kinds
    assert dev.malformed_count == 2
    assert sum(len(b) for b in batches) > 10  # the stream went on


async def test_not_found_is_a_clear_device_error() -> None:
    async with VirtualBleWorld() as world:
        dev = GattDevice(PROGRESSOR, "F0:00:00:00:00:99", backend=world.client_backend,
                         scanner_backend=world.scanner_backend, scan_timeout_s=0.5)
        with pytest.raises(DeviceError) as exc:
            await dev.connect()
    assert exc.value.reason is DeviceErrorReason.NOT_FOUND
    assert "Switch the device on" in str(exc.value)


@pytest.mark.looptime(False)
async def test_session_survives_a_drop_in_the_middle_of_a_hold(tmp_path: Path) -> None:
    # The one BLE session left on real time (the wall clock, the loop's real timers),
    # so fake time cannot hide a fault of the live path; a short protocol keeps it to
    # a few seconds.
    protocol = replace(
        load_protocol("ihg-4x2-30-alternating"), reps=2, hold_s=4.0, rest_s=0.5,
        prepare_s=0.2, countdown_s=0.5, ramp_s=0.5, rest_after_mvc_s=0.2,
        breathing_reminder_s=0.0, mvc=MvcSpec(trials_per_hand=1, effort_s=1.0, rest_s=0.2),
    )
    async with VirtualBleWorld() as world:
        p = ProgressorPeripheral(force_kg=lambda t: 12.0)
        await world.add(p)
        store = Store.open(tmp_path)
        rt = SessionRuntime(
            SessionConfig(device="progressor", protocol=protocol, data_dir=tmp_path,
                          known_mvc={Hand.RIGHT: 40 * KGF_N, Hand.LEFT: 40 * KGF_N},
                          tare=False),  # the virtual hand is already on the device
            store=store, ble_backend=world.client_backend,
            ble_scanner_backend=world.scanner_backend,
        )

        async def drop_mid_hold() -> None:
            await wait_for(lambda: rt.snapshot().phase.value == "hold", 10)
            await asyncio.sleep(1.5)
            await p.disconnect()

        dropper = asyncio.create_task(drop_mid_hold())
        result = await rt.run_here()
        await dropper
    assert result.status == "complete"
    events = [e.kind for e in store.load_events(result.session_id)]
    assert "device_disconnected" in events and "device_reconnected" in events
    hold = result.holds[0]
    assert hold.completed
    assert hold.t_end_s - hold.t_go_s == pytest.approx(4.0)  # kept its clock
    t, _, f = store.load_samples(result.session_id)
    assert len(f) == result.samples and np.allclose(f, 12.0 * KGF_N, atol=0.01)
    in_hold = t[(t >= hold.t_go_s) & (t <= hold.t_end_s)]
    assert np.diff(in_hold).max() > 0.2  # the drop is visible in the recording
    assert p.power_off_requests == []


class SlowFirmwareReply(ProgressorPeripheral):
    """Answers the next firmware request late (as a busy device can)."""

    delay_next_firmware = False

    def _on_control(self, data: bytes) -> None:
        if data[:1] == b"\x6b" and self.delay_next_firmware:
            self.delay_next_firmware = False

            async def later() -> None:
                await asyncio.sleep(0.4)
                await self.notify(DATA_UUID, bytes([0, 5]) + b"1.2.3")

            self.spawn(later())
            return
        super()._on_control(data)


async def test_a_late_answer_is_not_taken_for_the_next_request() -> None:
    async with VirtualBleWorld() as world:
        p = SlowFirmwareReply(battery_mv=3900)
        await world.add(p)
        dev = driver(world)
        dev.set_handlers(lambda b: None)
        await dev.connect()
        p.delay_next_firmware = True
        with pytest.raises(TimeoutError):
            await dev.request(b"\x6b", timeout=0.1)
        answer = await dev.request(b"\x6f", timeout=1.0)
        await dev.disconnect()
    assert int.from_bytes(answer[:4], "little") == 3900


async def test_u32_clock_wrap_over_ble_keeps_mapped_time_smooth() -> None:
    from isogrip.signal.timebase import Timebase

    async with VirtualBleWorld() as world:
        # The device's microsecond counter wraps 0.3 s into the stream.
        p = ProgressorPeripheral(force_kg=lambda t: 1.0, clock_start_us=2**32 - 300_000)
        await world.add(p)
        dev = driver(world)
        batches: list[SampleBatch] = []
        dev.set_handlers(batches.append)
        await dev.connect()
        await dev.start()
        await asyncio.sleep(0.8)
        await dev.disconnect()
    tb = Timebase(nominal_rate_hz=80)
    mapped = []
    for b in batches:
        t, _ = tb.map(b.host_rx_s, len(b), b.device_t_s)
        mapped.append(t)
    t_all = np.concatenate(mapped)
    raw = np.concatenate([b.device_t_s for b in batches if b.device_t_s is not None])
    assert raw.min() < 0.1 < 4294 < raw.max()  # the raw counter did wrap
    assert tb.wraps == 1 and tb.resyncs == 0
    np.testing.assert_allclose(np.diff(t_all), 1 / 80, atol=0.002)
