"""Small helpers every screen uses: labelled widgets, formatting, background tasks."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from typing import Any

from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from isogrip.signal.units import Unit, from_newtons
from isogrip.ui.theme import Palette


def label(text: str = "", role: str | None = None, *, wrap: bool = False,
          align: Qt.AlignmentFlag | None = None, point_size: int | None = None,
          rich: bool = False) -> QLabel:
    """A QLabel with a style-sheet role (``title``, ``heading``, ``muted``, ``banner``).

    Args:
        text: What it shows.
        role: Style-sheet role.
        wrap: Wrap long lines.
        align: Alignment of the text.
        point_size: A font size of its own.
        rich: The text is HTML written in isogrip's code. Otherwise it is shown
            exactly as given: a QLabel would render anything that looks like HTML
            (a title ``<b>x</b>``, a file path with ``<``), so text from files,
            devices and the database could change how a label looks or hide words.
    """
    w = QLabel(text)
    w.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    if role:
        w.setProperty("role", role)
    w.setWordWrap(wrap)
    if align is not None:
        w.setAlignment(align)
    if point_size is not None:
        set_point_size(w, point_size)
    return w


def question_box(parent: QWidget | None, title: str, text: str) -> QMessageBox:
    """A Yes/No question (No is the default) whose text is shown exactly as given.

    The text often quotes an error with a file path; a message box would otherwise
    render it as HTML if it looked like HTML.
    """
    box = QMessageBox(QMessageBox.Icon.Question, title, text,
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box


def set_point_size(w: QWidget, points: int, bold: bool = True) -> None:
    """Give a widget its own (large) font size, independent of the style sheet."""
    w.setStyleSheet(f"font-size: {points}pt; font-weight: {600 if bold else 400};"
                    " background: transparent;")


def set_text(w: QLabel | QAbstractButton, text: str) -> None:
    """Set a widget's text only when it changed (avoids a relayout every frame)."""
    if w.text() != text:
        w.setText(text)


def table(columns: list[str], *, selectable: bool = False) -> QTableWidget:
    """A read-only table with stretched columns and no row numbers.

    Args:
        columns: Header labels.
        selectable: Whole rows can be selected (one at a time).
    """
    t = QTableWidget(0, len(columns))
    t.setHorizontalHeaderLabels(columns)
    vh, hh = t.verticalHeader(), t.horizontalHeader()
    assert vh is not None and hh is not None
    vh.setVisible(False)
    hh.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    if selectable:
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    else:
        t.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        t.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return t


def fill_table(t: QTableWidget, rows: Sequence[tuple[str, ...]]) -> None:
    """Replace a table's rows with these texts."""
    from PyQt6.QtWidgets import QTableWidgetItem

    t.setRowCount(len(rows))
    for i, cells in enumerate(rows):
        for j, text in enumerate(cells):
            t.setItem(i, j, QTableWidgetItem(text))


def selected_row(t: QTableWidget) -> int | None:
    """Index of the selected row, if any."""
    model = t.selectionModel()
    rows = model.selectedRows() if model is not None else []
    return rows[0].row() if rows else None


def button(text: str, role: str | None = None,
           slot: Callable[[], Any] | None = None) -> QPushButton:
    """A push button with a style-sheet role (``primary``, ``stop``, ``nav``)."""
    b = QPushButton(text)
    if role:
        b.setProperty("role", role)
    if slot is not None:
        b.clicked.connect(lambda _checked=False: slot())
    b.setCursor(Qt.CursorShape.PointingHandCursor)
    return b


def control_row(*middle: QPushButton) -> tuple[QHBoxLayout, QPushButton, QPushButton]:
    """The session controls: Pause at the left, ``middle``, Stop alone at the right.

    Returns:
        The row, the Pause button and the Stop button.
    """
    pause = button("Pause  (P)")
    stop = button("Stop  (Esc)", "stop")
    row = QHBoxLayout()
    for b in (pause, *middle):
        row.addWidget(b)
    row.addStretch(1)  # Stop stays far from the other buttons: no slip of the finger
    row.addWidget(stop)
    return row, pause, stop


class Redraws:
    """Mixin for screens that draw stored data: a new look or unit redraws them."""

    pal: Palette
    unit: Unit
    data: Any

    def _show(self, data: Any) -> None:
        raise NotImplementedError

    def _unit_changed(self) -> None:
        """Hook for unit labels that are not part of the data drawing."""

    def set_palette(self, pal: Palette) -> None:
        """Use another palette."""
        self.pal = pal
        if self.data is not None:
            self._show(self.data)

    def set_unit(self, unit: Unit) -> None:
        """Show forces in ``unit``."""
        self.unit = unit
        self._unit_changed()
        if self.data is not None:
            self._show(self.data)


def panel(*widgets: QWidget) -> QFrame:
    """A white rounded panel holding ``widgets`` one under the other."""
    f = QFrame()
    f.setProperty("role", "panel")
    lay = QVBoxLayout(f)
    lay.setContentsMargins(16, 12, 16, 12)
    for w in widgets:
        lay.addWidget(w)
    return f


def vertical_scroll(body: QWidget) -> QScrollArea:
    """``body`` in an area that scrolls vertically, never sideways.

    A page taller than the window (large text, a small screen) scrolls instead of
    pushing the window past the screen's edge or squeezing its text until it clips.
    """
    scroll = QScrollArea()
    scroll.setWidget(body)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return scroll


def fmt_clock(seconds: float | None) -> str:
    """``83.2`` -> ``"1:24"`` (rounded up: a countdown shows 0:00 only at the end)."""
    if seconds is None or not math.isfinite(seconds):
        return ""
    s = max(0, math.ceil(seconds - 1e-6))
    return f"{s // 60}:{s % 60:02d}"


def fmt_count(seconds: float | None) -> str:
    """A 3-2-1 countdown: whole seconds left, rounded up (``2.4`` -> ``"3"``)."""
    if seconds is None or not math.isfinite(seconds):
        return ""
    return str(max(1, math.ceil(seconds - 1e-6)))


def fmt_force(value_n: float | None, unit: Unit, decimals: int = 1) -> str:
    """A force in the user's unit (``"12.3 kg"``), or an em dash."""
    if value_n is None or not math.isfinite(value_n):
        return "\u2014"
    return f"{from_newtons(value_n, unit):.{decimals}f} {unit.value}"


def fmt_num(value: float | None, decimals: int = 0, suffix: str = "") -> str:
    """A number with a suffix, or an em dash for missing values."""
    if value is None or not isinstance(value, int | float) or not math.isfinite(value):
        return "\u2014"
    return f"{value:.{decimals}f}{suffix}"


class Task(QObject):
    """Runs a function on a background thread and reports back on the GUI thread.

    Signals:
        done(object): The function's return value.
        failed(object): The exception it raised.
    """

    done = pyqtSignal(object)
    failed = pyqtSignal(object)

    def __init__(self, fn: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn
        self._worker = threading.Thread(target=self._run, name="isogrip-task", daemon=True)

    def start(self) -> Task:
        """Start the thread; returns ``self`` for chaining."""
        self._worker.start()
        return self

    def _run(self) -> None:
        try:
            value = self._fn()
        except BaseException as exc:  # reported to the GUI, never lost
            self.failed.emit(exc)
        else:
            self.done.emit(value)


def run_task(parent: QObject, fn: Callable[[], Any], on_done: Callable[[Any], None],
             on_failed: Callable[[BaseException], None]) -> Task:
    """Run ``fn`` off the GUI thread and call back on the GUI thread.

    The task is parented to ``parent`` so it lives as long as the screen.
    """
    task = Task(fn, parent)
    # The task object lives in the GUI thread, so its signals are delivered there.
    task.done.connect(on_done)
    task.failed.connect(on_failed)
    return task.start()
