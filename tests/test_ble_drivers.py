"""The driver base: one notification path and one software tare for every driver; and
recognition of scanned devices by every registered driver, built-in and plugin."""

from __future__ import annotations

import asyncio
import importlib.metadata
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from virtual_ble import ProgressorPeripheral, VirtualBleWorld
from virtual_ble.fake_time import FAKE_TIME
from virtual_ble.plugin_driver import ENTRY_POINT, GripletDevice

from isogrip.ble_device import registry
from isogrip.ble_device.advert import AdvertisementDevice
from isogrip.ble_device.auto import AutoDevice
from isogrip.ble_device.base import (
    Advert,
    DeviceInfo,
    DeviceStatus,
    ForceDevice,
    Packet,
    SampleBatch,
)
from isogrip.ble_device.codec import CommandResponse, DecodeError
from isogrip.ble_device.driver import DriverBase, SoftwareTare
from isogrip.ble_device.export_replay import ExportReplayDevice
from isogrip.ble_device.gatt import GattDevice
from isogrip.ble_device.registry import DeviceContext, open_device
from isogrip.ble_device.replay import ReplayDevice
from isogrip.ble_device.scanner import scan
from isogrip.ble_device.sim import SimDevice
from isogrip.clock import LoopClock, VirtualClock
from isogrip.signal.units import KGF_N

CAPTURE = Path(__file__).parents[1] / "fixtures" / "captures" / "progressor.hex"
DRIVERS = [GattDevice, AdvertisementDevice, SimDevice, ReplayDevice, ExportReplayDevice]


# -- one notification path, one tare -------------------------------------------------
class Decicounter(DriverBase[bytes]):
    """A made-up device defined by its decode alone: one u16 BE per packet, in 0.1 N."""

    def __init__(self) -> None:
        super().__init__()
        self._info = DeviceInfo(kind="decicounter", name="Decicounter", has_clock=False,
                                full_scale_n=6553.5)

    def _decode(self, data: bytes) -> Packet:
        if data == b"BAT":
            return DeviceStatus("low_battery", "Battery low.")
        if data.startswith(b"R"):
            return CommandResponse(data[1:])
        if len(data) != 2:
            raise DecodeError(f"{len(data)} bytes, the device sends 2", "truncated")
        raw = int.from_bytes(data, "big")
        return SampleBatch(np.array([raw / 10]), np.array([99.0]), saturated=raw == 0xFFFF)


def _u16(tenths: int) -> bytes:
    return tenths.to_bytes(2, "big")


async def test_a_driver_with_only_a_decode_gets_hand_over_and_tare_for_free() -> None:
    dev = Decicounter()
    assert isinstance(dev, ForceDevice)
    got: list[SampleBatch] = []
    statuses: list[DeviceStatus] = []
    dev.set_handlers(got.append, None, statuses.append)
    await dev.connect()
    await dev.start()
    assert dev.is_connected and await dev.battery() is None
    for k, tenths in enumerate([95, 100, 105]):  # at rest, ~10 N on the sensor
        assert dev._receive(_u16(tenths), 1.0 + 0.25 * k) is not None
    assert [b.host_rx_s for b in got] == [1.0, 1.25, 1.5]  # stamped on arrival
    assert got[0].force_n.tolist() == [9.5] and got[0].device_t_s is None  # has no clock
    assert dev._receive(b"\x01", 1.6) is None  # damaged: counted and reported, not raised
    assert dev.malformed_count == 1 and statuses[-1].kind == "malformed"
    dev._receive(b"BAT", 1.6)
    assert statuses[-1].kind == "low_battery"
    await dev.tare()  # software tare: the mean of the last second, 10 N
    dev._receive(_u16(300), 2.0)
    assert got[-1].force_n.tolist() == pytest.approx([20.0])
    dev._receive(_u16(0xFFFF), 2.1)
    assert statuses[-1].kind == "saturated" and "668 kg" in statuses[-1].message
    assert len(got) == 5 and dev.stats.saturated == 1 and dev.stats.decoded == 6
    await dev.disconnect()
    assert not dev.is_connected


def test_replies_to_commands_go_to_the_driver_not_the_consumer() -> None:
    replies: list[bytes] = []

    class Asking(Decicounter):
        def _on_response(self, response: CommandResponse) -> None:
            replies.append(response.payload)

    dev = Asking()
    got: list[SampleBatch] = []
    dev.set_handlers(got.append)
    dev._receive(b"R\x01\x02", 0.0)
    assert replies == [b"\x01\x02"] and got == []


def test_the_software_tare_averages_the_last_second_and_replaces_its_offset() -> None:
    tare = SoftwareTare()
    tare.note(0.0, np.array([50.0, 50.0]))  # a squeeze long ago: outside the window
    tare.note(5.0, np.array([1.0, 2.0]))
    tare.note(5.5, np.array([3.0]))
    tare.zero()
    assert tare.offset_n == pytest.approx(2.0)
    tare.note(6.0, np.array([4.0]))
    tare.note(7.0, np.array([4.0]))
    tare.zero()  # a second tare replaces the offset, it does not add to it
    assert tare.offset_n == pytest.approx(4.0)
    empty = SoftwareTare()
    empty.zero()
    assert empty.offset_n == 0.0


@pytest.mark.parametrize("cls", DRIVERS, ids=lambda c: c.__name__)
def test_no_driver_has_its_own_tare_or_notification_path(cls: type) -> None:
    # What differs is a driver's decode and its commands (_tare_command); the tare
    # and the path from packet to consumer are the base's.
    assert issubclass(cls, DriverBase)
    for name in ("tare", "_receive", "_hand_over"):
        assert name not in vars(cls), f"{cls.__name__} has its own {name}"


def _export(tmp_path: Path, force_n: float) -> Path:
    rows = [f"{k / 80},{k / 80},{force_n}" for k in range(400)]
    (tmp_path / "samples.csv").write_text("t_s,t_device_s,force_n\n" + "\n".join(rows) + "\n")
    return tmp_path


@pytest.mark.parametrize("spec", ["sim?seed=2", f"replay:{CAPTURE}", "export"])
async def test_every_batch_reaches_the_consumer_through_the_base(
        spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    handed: list[int] = []
    zeroed: list[float] = []
    hand_over, zero = DriverBase._hand_over, SoftwareTare.zero

    def spy_hand_over(self: DriverBase[Any], batch: SampleBatch, host_rx_s: float) -> None:
        handed.append(len(batch))
        hand_over(self, batch, host_rx_s)

    def spy_zero(self: SoftwareTare) -> None:
        zero(self)
        zeroed.append(self.offset_n)

    monkeypatch.setattr(DriverBase, "_hand_over", spy_hand_over)
    monkeypatch.setattr(SoftwareTare, "zero", spy_zero)
    clock = VirtualClock()
    runner = asyncio.get_running_loop().create_task(clock.run())
    if spec == "export":
        spec = f"replay:{_export(tmp_path, 7.0)}"
    dev = open_device(spec, DeviceContext(clock=clock))
    got: list[SampleBatch] = []
    dev.set_handlers(got.append)
    await dev.connect()
    await dev.tare()
    await dev.start()
    await clock.sleep_until(3.0)
    await dev.disconnect()
    runner.cancel()
    assert got and [len(b) for b in got] == [n for n in handed if n]
    if isinstance(dev, SimDevice):
        assert zeroed == []  # the simulated firmware has a tare command
    else:
        assert len(zeroed) == 1  # a recording takes no commands: software tare
    if isinstance(dev, ExportReplayDevice):
        # Before the play, the tare sees the recording's first batch, what the device
        # showed at rest: the replayed force is the recorded one, zeroed.
        assert zeroed == [pytest.approx(7.0)]
        np.testing.assert_allclose(np.concatenate([b.force_n for b in got]), 0.0, atol=1e-9)


# -- recognition: built-in and plugin drivers alike ---------------------------------------
@pytest.fixture
def griplet_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Install the Griplet driver as a package would: an ``isogrip.devices`` entry point."""
    real = importlib.metadata.entry_points
    name, value = ENTRY_POINT

    def entry_points(**params: Any) -> Any:
        if params.get("group") == registry.ENTRY_POINT_GROUP:
            return importlib.metadata.EntryPoints(
                [importlib.metadata.EntryPoint(name, value, registry.ENTRY_POINT_GROUP)])
        return real(**params)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)


@pytest.mark.parametrize(("advert", "kind"), [
    (Advert("Progressor_1719"), "progressor"),
    (Advert("Force Board"), "forceboard"),
    (Advert("CTS500"), "cts500"),
    (Advert("ENTRALPI", ("0000181d-0000-1000-8000-00805f9b34fb",)), "entralpi"),
    (Advert("", manufacturer_data={0x0100: bytes(17)}), "whc06"),
    (Advert("DIY", ("0000181D-0000-1000-8000-00805F9B34FB",)), "weightscale"),
    (Advert("Griplet-42"), None),  # no plugin installed
    (Advert("Headphones"), None),
])
def test_built_in_drivers_recognise_their_adverts(advert: Advert, kind: str | None) -> None:
    assert _kind(advert) == kind


def _kind(advert: Advert) -> str | None:
    found = registry.recognise(advert)
    return found.driver if found else None


def test_a_plugin_driver_class_is_asked_like_the_built_in_ones(griplet_plugin: None) -> None:
    names = [r.driver for r in registry.recognisers()]
    assert "griplet" in names and names[-1] == "weightscale"  # the generic scale last
    assert "sim" not in names and "replay" not in names  # they recognise nothing
    found = registry.recognise(Advert("Griplet-42"))
    assert found is not None and (found.driver, found.label) == ("griplet", "Griplet")
    # Its own name beats the generic SIG weight-scale service it might also advertise.
    scale_too = Advert("Griplet-7", ("0000181d-0000-1000-8000-00805f9b34fb",))
    assert _kind(scale_too) == "griplet"
    assert _kind(Advert("Progressor_1")) == "progressor"


def test_a_broken_plugin_does_not_stop_recognition(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_entry_point_drivers",
                        lambda: {"broken": "isogrip_no_such_plugin_module:Driver"})
    names = [r.driver for r in registry.recognisers()]
    assert "broken" not in names and "progressor" in names


@FAKE_TIME
async def test_scan_lists_a_plugin_device_and_ble_address_opens_it(griplet_plugin: None) -> None:
    async with VirtualBleWorld() as world:
        griplet = ProgressorPeripheral("Griplet-42", uuid_in_adv=False,
                                       force_kg=lambda t: 12.0)
        address = await world.add(griplet)
        other = await world.add(ProgressorPeripheral("Progressor_1719"))
        found = {d.address: d for d in await scan(0.5, backend=world.scanner_backend)}
        assert (found[address].kind, found[address].kind_label) == ("griplet", "Griplet")
        assert found[address].spec == f"griplet:{address}"
        assert found[other].kind == "progressor"

        context = DeviceContext(clock=LoopClock(), ble_backend=world.client_backend,
                                ble_scanner_backend=world.scanner_backend)
        dev = open_device(f"ble:{address}", context)
        assert isinstance(dev, AutoDevice)
        got: list[SampleBatch] = []
        dev.set_handlers(got.append)
        await dev.connect()
        assert isinstance(dev.inner, GripletDevice)
        assert (dev.info.kind, dev.info.address) == ("griplet", address)
        await dev.start()
        await asyncio.sleep(0.5)
        await dev.disconnect()
    f = np.concatenate([b.force_n for b in got]) / KGF_N
    assert len(f) > 20
    np.testing.assert_allclose(f, 12.0, atol=1e-4)
