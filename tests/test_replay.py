from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from isogrip.ble_device.base import SampleBatch
from isogrip.ble_device.capture import CaptureFileError, read_capture, write_capture
from isogrip.ble_device.registry import DeviceContext, open_device
from isogrip.ble_device.replay import ReplayDevice
from isogrip.clock import VirtualClock
from isogrip.errors import DeviceSpecError
from isogrip.signal.units import KGF_N

CAPTURE = Path(__file__).parents[1] / "fixtures" / "captures" / "progressor.hex"


async def test_replay_plays_every_notification_through_the_codec() -> None:
    clock = VirtualClock()
    runner = asyncio.get_running_loop().create_task(clock.run())
    dev = open_device(f"replay:{CAPTURE}", DeviceContext(clock=clock))
    assert isinstance(dev, ReplayDevice) and dev.info.kind == "progressor"
    batches: list[SampleBatch] = []
    dev.set_handlers(batches.append)
    await dev.connect()
    await dev.start()
    await clock.sleep_until(10.0)
    await dev.disconnect()
    runner.cancel()
    f = np.concatenate([b.force_n for b in batches])
    assert len(f) == 240
    assert f.max() == pytest.approx(30 * KGF_N, rel=1e-5)
    rx = [b.host_rx_s for b in batches]
    assert rx[-1] - rx[0] == pytest.approx(119 * 0.025)  # the capture's own timing


def test_capture_round_trip_and_errors(tmp_path: Path) -> None:
    items = [(0.0, b"\x01\x02"), (0.5, b"")]
    write_capture(tmp_path / "x.hex", items)
    assert read_capture(tmp_path / "x.hex") == items
    bad = tmp_path / "bad.hex"
    bad.write_text("0.1 0102\n0.2 zz\n")
    with pytest.raises(CaptureFileError, match=r"bad.hex:2"):
        read_capture(bad)
    back = tmp_path / "back.hex"
    back.write_text("0.2 01\n0.1 01\n")
    with pytest.raises(CaptureFileError, match="backwards"):
        read_capture(back)


@pytest.mark.parametrize(("spec", "phrase"), [
    ("replay", "needs a file"),
    ("replay:/no/such.hex", "no such capture file"),
    (f"replay:{CAPTURE}?speed=2", "unknown option"),
    (f"replay:{CAPTURE}?device=toaster", "cannot tell which device"),
])
def test_replay_spec_errors(spec: str, phrase: str) -> None:
    with pytest.raises(DeviceSpecError, match=phrase):
        open_device(spec)


@pytest.mark.parametrize("device", ["progressor", "forceboard", "cts500", "entralpi",
                                    "weightscale"])
async def test_every_connected_device_capture_replays(device: str) -> None:
    clock = VirtualClock()
    runner = asyncio.get_running_loop().create_task(clock.run())
    dev = open_device(f"replay:{CAPTURE.parent / (device + '.hex')}", DeviceContext(clock=clock))
    batches: list[SampleBatch] = []
    dev.set_handlers(batches.append)
    await dev.connect()
    await dev.start()
    await clock.sleep_until(30.0)
    await dev.disconnect()
    runner.cancel()
    assert isinstance(dev, ReplayDevice) and dev.malformed_count == 0
    f = np.concatenate([b.force_n for b in batches]) / KGF_N
    assert len(f) > 10 and 25 < f.max() < 35  # each capture is a squeeze to ~30 kg
