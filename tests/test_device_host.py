"""One device thread for scanning, the preview and the session, and the handover."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from isogrip.device_host import DeviceHost
from isogrip.preview import DevicePreview
from isogrip.runtime import SessionConfig, SessionRuntime

SAFETY_S = 30.0  # only a safety net: every wait below ends on a condition


def _until(condition: object, what: str) -> None:
    deadline = time.monotonic() + SAFETY_S
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_the_host_runs_work_on_its_one_thread_and_refuses_it_once_closed() -> None:
    host = DeviceHost()

    async def where() -> str:
        return threading.current_thread().name

    assert host.submit(where()).result(SAFETY_S) == "isogrip-devices"
    host.close()
    assert not host.running
    with pytest.raises(RuntimeError, match="closed"):
        host.submit(where())
    host.call_soon(print, "dropped")  # no error: the host is gone
    host.close()  # twice is fine


def test_a_session_on_a_shared_host_leaves_the_host_running(tmp_path: Path) -> None:
    with DeviceHost() as host:
        rt = SessionRuntime(SessionConfig(device="sim?seed=2", speed=None,
                                          data_dir=tmp_path), host=host)
        result = rt.run()
        rt.close()
        assert result.status == "complete" and len(result.holds) == 4
        assert host.running  # the next scan or preview uses it


def test_the_preview_hands_its_connection_to_the_session_without_reconnecting(
        tmp_path: Path) -> None:
    host = DeviceHost()
    preview = DevicePreview("sim?seed=2", host=host)
    preview.connect().result(SAFETY_S)
    _until(lambda: preview.latest_force() is not None, "the preview's first samples")
    handover = preview.hand_over()
    connects: list[float] = []
    real_connect = handover.device.connect

    async def counted_connect() -> None:
        connects.append(time.monotonic())
        await real_connect()

    handover.device.connect = counted_connect  # type: ignore[method-assign]
    preview.close()  # the device is the session's now: left connected
    assert handover.device.is_connected
    rt = SessionRuntime(SessionConfig(device="sim?seed=2", speed=1.0, data_dir=tmp_path),
                        handover=handover)
    threads: list[str] = []
    rt.start()
    _until(lambda: rt.samples > 0, "the session's first samples")
    host.submit(asyncio.sleep(0)).add_done_callback(
        lambda _: threads.append(threading.current_thread().name))
    rt.stop()
    result = rt.wait(SAFETY_S)
    rt.close()
    host.close()
    assert connects == []  # started on the preview's connection
    assert result.samples > 0 and result.status == "aborted"
    assert threads == ["isogrip-devices"]


def test_a_handover_only_goes_to_a_real_time_session_of_the_same_device(
        tmp_path: Path) -> None:
    with DeviceHost() as host:
        preview = DevicePreview("sim?seed=2", host=host)
        preview.connect().result(SAFETY_S)
        handover = preview.hand_over()
        with pytest.raises(Exception, match="same device"):
            SessionRuntime(SessionConfig(device="sim?seed=3", speed=1.0, data_dir=tmp_path),
                           handover=handover)
        with pytest.raises(RuntimeError, match="no connected device"):
            preview.hand_over()


def test_a_ble_preview_hands_its_link_to_the_session_over_a_real_gatt_stack(
        tmp_path: Path) -> None:
    # bumble's controllers belong to the loop they are built on: build the virtual
    # Progressor on the device host's loop, where the preview and the session run.
    from virtual_ble import ProgressorPeripheral, VirtualBleWorld

    host = DeviceHost()
    world = VirtualBleWorld()
    peripheral = ProgressorPeripheral(force_kg=lambda t: 10.0)

    async def build() -> None:
        await world.__aenter__()
        await world.add(peripheral)

    host.submit(build()).result(SAFETY_S)
    backends = {"ble_backend": world.client_backend,
                "ble_scanner_backend": world.scanner_backend}
    try:
        preview = DevicePreview("progressor", host=host, **backends)
        preview.connect().result(SAFETY_S)
        _until(lambda: preview.latest_force() is not None, "the preview's first samples")
        assert peripheral.connection_count == 1
        handover = preview.hand_over()
        preview.close()
        rt = SessionRuntime(SessionConfig(device="progressor", speed=1.0, tare=False,
                                          data_dir=tmp_path), handover=handover)
        rt.start()
        _until(lambda: rt.samples > 0, "the session's first samples")
        rt.stop()
        result = rt.wait(SAFETY_S)
        rt.close()
        assert result.samples > 0 and result.status == "aborted"
        assert peripheral.connection_count == 1  # the preview's link, not a new one
    finally:
        host.submit(world.close()).result(SAFETY_S)
        host.close()
