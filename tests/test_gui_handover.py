"""The Device screen's connection goes on into the session: one device thread, no reconnect."""

from __future__ import annotations

import time
from pathlib import Path

from isogrip.signal.units import KGF_N
from isogrip.types import Hand
from isogrip.ui.main_window import MainWindow

SAFETY_MS = 30_000  # a safety net only: every wait ends on a condition


def test_a_real_time_session_starts_on_the_previews_connection(
        qtbot, tmp_path: Path, settings_file: Path) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(settings_file=settings_file, data_dir=tmp_path / "data",
                        speed=1.0, device="sim?seed=5")
    window.confirm = lambda title, text: True  # type: ignore[method-assign]
    qtbot.addWidget(window)
    preview = window.device.preview
    assert preview is not None and preview.host is window.host
    qtbot.waitUntil(lambda: preview.latest_force() is not None, timeout=SAFETY_MS)
    device = preview.device
    connects: list[float] = []
    real_connect = device.connect

    async def counted_connect() -> None:
        connects.append(time.monotonic())
        await real_connect()

    device.connect = counted_connect  # type: ignore[method-assign]
    window.pending_spec = window.device.connected_spec  # as "Start training" sets it
    window.begin_session(None, {Hand.LEFT: 30 * KGF_N, Hand.RIGHT: 32 * KGF_N})
    rt = window.controller.runtime
    assert rt is not None and rt.device is device  # the same connected object
    qtbot.waitUntil(lambda: rt.samples > 0, timeout=SAFETY_MS)
    assert window.device.preview is None  # the screen let go of it
    window.controller.stop()
    qtbot.waitUntil(lambda: window.last_result is not None, timeout=SAFETY_MS)
    assert connects == []
    assert window.last_result.samples > 0  # type: ignore[union-attr]
    window.close()
    assert not window.host.running
