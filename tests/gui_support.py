"""What the desktop-app tests share: the stepped window and waiting on its session.

The window's sessions run on virtual time stepped by the display (``frame_step_s``):
each frame advances the session by :data:`STEP_S` and the next frame comes once the
session has got there. What every frame shows is therefore the same on an idle or a
loaded machine, and the tests wait for states of the session (:func:`run_until`,
:func:`wait_summary`), never for wall time; their timeouts are only a safety net.

The fixtures are registered for the whole suite by ``conftest.py``; the GUI test
modules import the constants and the helpers.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from isogrip.protocols.events import Snapshot
from isogrip.settings import Settings, save_settings
from isogrip.ui.main_window import MainWindow

#: Session time per display frame, s: what a 16 ms frame showed at 100x, but here the
#: session waits for every frame, however busy the machine.
STEP_S = 1.6
#: A safety net only (a stuck test): no assertion depends on how fast frames come.
SESSION_TIMEOUT_MS = 180_000


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
    w = MainWindow(settings_file=settings_file, data_dir=tmp_path / "data", frame_step_s=STEP_S)
    w.confirm = lambda title, text: True  # type: ignore[method-assign]
    qtbot.addWidget(w)
    w.show()
    yield w
    if w.controller.running:
        w.controller.stop()


def run_until(window: MainWindow, qtbot,  # type: ignore[no-untyped-def]
              condition: Callable[[Snapshot], bool]) -> Snapshot:
    """Let the session run until a frame meets ``condition``, and hold it there.

    ``condition`` is checked in every frame, after the window has drawn it, so it may
    read the screens too. From that frame on the session's time stands still (frames
    and commands go on) until the next :func:`run_until` or :func:`wait_summary`.

    Returns:
        The snapshot of the frame that met the condition.
    """
    c = window.controller
    hit: list[Snapshot] = []

    def check(snap: Snapshot, _events: list[object]) -> None:
        if not hit and condition(snap):
            hit.append(snap)
            c.frozen = True  # before the controller grants the next step

    c.frame.connect(check)
    c.frozen = False
    try:
        qtbot.waitUntil(lambda: bool(hit) or not c.running, timeout=SESSION_TIMEOUT_MS)
    finally:
        c.frame.disconnect(check)
    assert hit, "the session ended before the condition was met"
    return hit[0]


def wait_summary(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Let the session run to its end and wait for its summary."""
    window.controller.frozen = False
    qtbot.waitUntil(lambda: window.current_page() == "summary" and window.summary.data
                    is not None, timeout=SESSION_TIMEOUT_MS)
