"""A start-up probe: print when the main window's first frame is painted, then quit.

With ``ISOGRIP_EXIT_AFTER_FIRST_FRAME=1`` in the environment the desktop app prints one
line, ``isogrip: first frame at <time.time()>``, on standard output as soon as the main
window has been painted once, and exits with status 0. ``bench/cold_start.py`` starts
the app in a subprocess (``QT_QPA_PLATFORM=offscreen``) with it and takes the time from
the start of the process to that line. Without the variable nothing changes.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PyQt6.QtWidgets import QApplication, QWidget

#: The environment variable that turns the probe on (any value but "" and "0").
EXIT_AFTER_FIRST_FRAME_ENV = "ISOGRIP_EXIT_AFTER_FIRST_FRAME"


def exit_after_first_frame_requested() -> bool:
    """Whether :data:`EXIT_AFTER_FIRST_FRAME_ENV` asks for the probe."""
    return os.environ.get(EXIT_AFTER_FIRST_FRAME_ENV, "") not in ("", "0")


def exit_after_first_frame(app: QApplication, window: QWidget) -> None:
    """After ``window`` is first painted, print the time stamp and quit ``app``.

    Call it right after ``window.show()``. The paint event is watched on the window
    itself; the line is printed from a zero-delay timer started by that event, that
    is once the paint has finished and control is back in the event loop.
    """
    from PyQt6.QtCore import QEvent, QObject, QTimer

    def done() -> None:
        print(f"isogrip: first frame at {time.time():.6f}", flush=True)
        app.quit()

    class FirstPaint(QObject):
        def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:
            if event is not None and event.type() == QEvent.Type.Paint:
                window.removeEventFilter(self)
                QTimer.singleShot(0, done)
            return False

    probe = FirstPaint(window)  # owned by the window: lives as long as it does
    window.installEventFilter(probe)
    if not window.isVisible():  # nothing will be painted: do not wait forever
        print("isogrip: the window is not visible; no first frame", file=sys.stderr)
        QTimer.singleShot(0, app.quit)
