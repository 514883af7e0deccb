"""What the desktop-app tests share: the accelerated window and waiting for a summary.

The fixtures are registered for the whole suite by ``conftest.py``; the GUI test
modules import the constants and :func:`wait_summary`.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from isogrip.settings import Settings, save_settings
from isogrip.ui.main_window import MainWindow

SPEED = 100.0
SESSION_TIMEOUT_MS = 60_000


@pytest.fixture(autouse=True)
def collect_garbage_only_between_qt_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """No automatic garbage collection while a Qt test runs, as in the app (run_app).

    A collection that a worker thread (the session's loop, the recorder's writer)
    happens to trigger may destroy Qt objects of the GUI thread mid-paint, which
    crashes the process (a pyqtgraph AxisItem "has been deleted" inside its own paint,
    then a segmentation fault; seen once in the suite with both cores busy). This
    fixture is set up before ``qtbot`` (autouse) and so torn down after it: the
    collection runs on the GUI thread once the test's widgets are closed.
    """
    if "qtbot" not in request.fixturenames:
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        if was_enabled:
            gc.enable()


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "config" / "settings.json"
    save_settings(Settings(first_run_done=True), path)
    return path


@pytest.fixture
def window(qtbot, tmp_path: Path, settings_file: Path) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    w = MainWindow(settings_file=settings_file, data_dir=tmp_path / "data", speed=SPEED)
    w.confirm = lambda title, text: True  # type: ignore[method-assign]
    qtbot.addWidget(w)
    w.show()
    yield w
    if w.controller.running:
        w.controller.stop()


def wait_summary(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: window.current_page() == "summary" and window.summary.data
                    is not None, timeout=SESSION_TIMEOUT_MS)
