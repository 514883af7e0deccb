"""Starting the desktop app (``isogrip`` with no arguments, ``isogrip gui``, ``make demo``)."""

from __future__ import annotations

import gc
import os
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PyQt6.QtGui import QIcon
    from PyQt6.QtWidgets import QApplication

#: The app's reverse-DNS id: the name of its freedesktop ``.desktop`` file, AppStream
#: metainfo and icon (packaging/linux/), and Qt's desktop file name (the Wayland app id).
APP_ID = "io.github.isogrip.isogrip"
#: Pixel sizes of the icon's PNG renders in ``isogrip/resources/icons``.
ICON_SIZES = (16, 32, 48, 64, 128, 256)


def display_available() -> bool:
    """Whether a graphical display can be used.

    On Linux a display server must be named (``DISPLAY`` or ``WAYLAND_DISPLAY``);
    Windows and macOS always have one. Qt's off-screen platform does not count: nobody
    could see or close the window.
    """
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def desktop_problem() -> str | None:
    """Why the desktop app cannot start although a display exists, in one sentence.

    Qt aborts the whole process when its X11 platform plugin cannot load (system
    libraries missing), so this is asked before Qt starts; None where Qt can start or
    would not use X11 (see :mod:`isogrip.ui.qt_platform`).
    """
    from isogrip.ui.qt_platform import check_xcb

    result = check_xcb()
    return None if result.ok else result.message


def app_icon() -> QIcon:
    """The application icon, from its PNG renders shipped as package data."""
    from PyQt6.QtGui import QIcon, QPixmap

    icon = QIcon()
    folder = resources.files("isogrip") / "resources" / "icons"
    for size in ICON_SIZES:
        pixmap = QPixmap()
        if pixmap.loadFromData((folder / f"isogrip-{size}.png").read_bytes(), "PNG"):
            icon.addPixmap(pixmap)
    return icon


def setup_application() -> QApplication:
    """The QApplication (created if there is none), named and given its icon."""
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("isogrip")  # also the X11 WM_CLASS (StartupWMClass)
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    return app


def run_app(*, data_dir: Path | None = None, device: str | None = None,
            speed: float | None = 1.0, settings_file: Path | None = None) -> int:
    """Open the main window and run until it is closed.

    Args:
        data_dir: Data folder overriding the one chosen in Settings.
        device: Device spec to preselect (``sim`` for the demo).
        speed: Session clock speed for the simulated device (1 = real time).
        settings_file: Settings file (default: the user's config folder).

    Returns:
        The exit status.
    """
    # Imported here so the command line works on machines without Qt libraries.
    import pyqtgraph as pg
    from pyqtgraph.util.garbage_collector import GarbageCollector

    from isogrip.ui.main_window import MainWindow

    pg.setConfigOptions(antialias=False, background=None, foreground="k")
    app = setup_application()
    # Garbage is collected on the GUI thread only, on a timer: a collection that the
    # session's threads trigger could otherwise destroy Qt objects mid-paint and crash.
    collector = GarbageCollector(interval=1.0)
    window = MainWindow(settings_file=settings_file, data_dir=data_dir, speed=speed,
                        device=device)
    window.show()
    from isogrip.ui.first_frame import exit_after_first_frame, exit_after_first_frame_requested

    if exit_after_first_frame_requested():  # bench/cold_start.py: time to the first frame
        exit_after_first_frame(app, window)
    try:
        return int(app.exec())
    finally:
        collector.timer.stop()
        gc.enable()
