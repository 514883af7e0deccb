"""Drawing a report page: the off-screen Qt app, the A4 page and its rendering.

The reports (:mod:`isogrip.ui.report`, :mod:`isogrip.ui.progress_report`) lay out a
page of ordinary Qt widgets with :func:`new_page`; :func:`render` draws it with
QPainter into a PDF (``QPdfWriter``, vector text) or a PNG (150 dpi). Qt is imported
only when a page is made, so importing a report module stays cheap.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO, Any

from isogrip.errors import IsogripError
from isogrip.files import write_atomic
from isogrip.storage.export import output_folder

__all__ = [
    "FOOTER",
    "INK",
    "PAGE_H",
    "PAGE_W",
    "PNG_DPI",
    "ReportError",
    "checked_output",
    "fit_table",
    "new_page",
    "qt_app",
    "render",
]

#: A4 at 96 px per inch: the layout size of a page, px.
PAGE_W, PAGE_H = 794, 1123
PNG_DPI = 150


_APP: Any = None


class ReportError(IsogripError, ValueError):
    """A report cannot be made (unknown output type, nothing to report)."""


def qt_app() -> Any:
    """The QApplication, created off-screen when there is no display."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and \
            sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtWidgets import QApplication

    global _APP
    app = QApplication.instance()
    if app is None:
        if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
            _quiet_offscreen()
        _APP = app = QApplication(sys.argv[:1])  # kept: Qt needs it alive
    return app


def _quiet_offscreen() -> None:
    """Drop the off-screen platform's notice that a shown page has no window sizes.

    It is printed for every report drawn off-screen and means nothing here; every
    other Qt message still goes to stderr.
    """
    from PyQt6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

    def handler(_kind: QtMsgType, _ctx: QMessageLogContext, message: str | None) -> None:
        if message and "propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def checked_output(out: Path | str) -> Path:
    """Check a report's file name and its folder before any drawing.

    Raises:
        ReportError: Not a .pdf or .png name.
        StorageError: The folder cannot be created or written to.
    """
    out = Path(out).expanduser().absolute()
    if out.suffix.lower() not in (".pdf", ".png"):
        raise ReportError(f"a report is written as .pdf or .png, not {out.name!r}")
    output_folder(out.parent, "the report's folder")
    return out


def render(page: Any, out: Path) -> Path:
    """Render a page widget into ``out`` (.pdf or .png).

    The page is drawn into memory and then written with the exports' atomic writer,
    so Qt never opens the file: a folder that cannot be written gives one clear error
    (not Qt warnings), and a failure leaves no partial file.
    """
    from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QPoint
    from PyQt6.QtGui import QImage, QPageLayout, QPageSize, QPainter, QPdfWriter

    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".png"):
        raise ReportError(f"a report is written as .pdf or .png, not {out.name!r}")
    page.resize(PAGE_W, PAGE_H)
    page.show()
    qt_app().processEvents()
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if suffix == ".pdf":
        writer = QPdfWriter(buf)
        writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4),
                                         QPageLayout.Orientation.Portrait,
                                         QMarginsF(0, 0, 0, 0)))
        writer.setResolution(300)
        writer.setTitle(page.windowTitle())
        writer.setCreator("isogrip")
        painter = QPainter(writer)
        scale = writer.width() / PAGE_W
        painter.scale(scale, scale)
        page.render(painter, QPoint(0, 0))
        painter.end()
        del writer  # finishes the PDF into the buffer
    else:
        scale = PNG_DPI / 96
        img = QImage(int(PAGE_W * scale), int(PAGE_H * scale), QImage.Format.Format_RGB32)
        img.fill(0xFFFFFF)
        img.setDotsPerMeterX(int(PNG_DPI / 0.0254))
        img.setDotsPerMeterY(int(PNG_DPI / 0.0254))
        painter = QPainter(img)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.scale(scale, scale)
        page.render(painter, QPoint(0, 0))
        painter.end()
        if not img.save(buf, "PNG"):
            raise ReportError(f"could not draw the report {out.name}")
    page.close()
    buf.close()
    content = bytes(data.data())

    def write(fh: IO[bytes]) -> None:
        fh.write(content)

    return write_atomic(out, write)


_SHEET = """
QWidget { background: #ffffff; color: #000000; font-size: 9pt; }
QLabel[role="title"] { font-size: 16pt; font-weight: 600; }
QLabel[role="heading"] { font-size: 11pt; font-weight: 600; margin-top: 6px; }
QLabel[role="muted"] { color: #333333; }
QTableWidget { border: 1px solid #888888; gridline-color: #aaaaaa; }
QHeaderView::section { background: #eeeeee; color: #000000; border: none;
    border-bottom: 1px solid #888888; padding: 3px; font-weight: 600; }
"""


def new_page(title: str) -> tuple[Any, Any]:
    """A blank white A4 page widget titled ``title`` and its vertical layout."""
    from PyQt6.QtWidgets import QVBoxLayout, QWidget

    qt_app()
    page = QWidget()
    page.setWindowTitle(title)
    page.setStyleSheet(_SHEET)
    lay = QVBoxLayout(page)
    lay.setContentsMargins(48, 40, 48, 36)
    lay.setSpacing(6)
    return page, lay


def fit_table(t: Any) -> None:
    """Show every row and whole headers: a printed table cannot scroll."""
    from PyQt6.QtCore import Qt
    from PyQt6.QtWidgets import QHeaderView

    row_h = 22
    t.verticalHeader().setDefaultSectionSize(row_h)
    for i in range(t.rowCount()):
        t.setRowHeight(i, row_h)
    header = t.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    t.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    t.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    t.setFixedHeight((t.rowCount() + 1) * row_h + header.sizeHint().height()
                     + 2 * t.frameWidth())

#: Ink on white for printed plots.
INK = "#000000"
#: The last line of every report page.
FOOTER = "isogrip \u00b7 training software, not a medical device"
