"""The large vertical force gauge of the Train and Calibrate screens.

In a hold it shows the target band (green) with its amber margins and the current
force as a thick marker with a pointer; the scale is fixed for the whole hold so the
band never moves. In an MVC trial it is a bar rising with the force, with a tick at the
trial's peak so far.
"""

from __future__ import annotations

import math

from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF, QTransform
from PyQt6.QtWidgets import QSizePolicy, QWidget

from isogrip.ui.theme import NORMAL, Palette


class ForceGauge(QWidget):
    """Vertical gauge. Forces are in display units (whatever the caller shows)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pal: Palette = NORMAL
        self.scale_max = 1.0
        self.force: float | None = None
        self.band: tuple[float, float] | None = None
        self.near: tuple[float, float] | None = None
        self.target: float | None = None
        self.peak: float | None = None
        self.colour = NORMAL.trace
        self.setMinimumSize(120, 300)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)

    def set_palette(self, pal: Palette) -> None:
        """Use another palette."""
        self.pal = pal
        self.update()

    def set_band(self, target: float | None, band: tuple[float, float] | None,
                 near: tuple[float, float] | None, scale_max: float) -> None:
        """Show a target band (hold mode); ``band=None`` switches to the rising bar."""
        self.target, self.band, self.near = target, band, near
        self.scale_max = scale_max if scale_max > 0 and math.isfinite(scale_max) else 1.0
        self.update()

    def set_force(self, force: float | None, colour: str, peak: float | None = None) -> None:
        """The current force (``None``: no reading), its colour and the peak so far."""
        if force == self.force and colour == self.colour and peak == self.peak:
            return  # nothing changed: spare the repaint
        self.force, self.colour, self.peak = force, colour, peak
        self.update()

    def _y(self, rect: QRectF, value: float) -> float:
        frac = min(max(value / self.scale_max, 0.0), 1.0)
        return rect.bottom() - frac * rect.height()

    def paintEvent(self, _event: object) -> None:
        """Draw the gauge."""
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.pal
        w, h = self.width(), self.height()
        tube = QRectF(w * 0.22, 14, w * 0.56, h - 28)
        p.setPen(QPen(pal.qcolor("border"), 2))
        p.setBrush(pal.qcolor("panel"))
        p.drawRoundedRect(tube, 10, 10)
        inner = tube.adjusted(3, 3, -3, -3)
        if self.band is not None:
            if self.near is not None:
                y1, y2 = self._y(inner, self.near[1]), self._y(inner, self.near[0])
                p.fillRect(QRectF(inner.left(), y1, inner.width(), y2 - y1),
                           pal.qcolor("amber_fill"))
            y1, y2 = self._y(inner, self.band[1]), self._y(inner, self.band[0])
            p.fillRect(QRectF(inner.left(), y1, inner.width(), y2 - y1), pal.qcolor("green_fill"))
            p.setPen(QPen(pal.qcolor("green"), 3))
            p.drawLine(QPointF(inner.left(), y1), QPointF(inner.right(), y1))
            p.drawLine(QPointF(inner.left(), y2), QPointF(inner.right(), y2))
            if self.target is not None:
                yt = self._y(inner, self.target)
                p.setPen(QPen(pal.qcolor("green"), 1, Qt.PenStyle.DashLine))
                p.drawLine(QPointF(inner.left(), yt), QPointF(inner.right(), yt))
        if self.force is None:
            p.end()
            return
        colour = QColor(self.colour)
        yf = self._y(inner, self.force)
        if self.band is None:
            # MVC mode: a bar rising from the bottom, and the peak so far as a tick.
            p.fillRect(QRectF(inner.left(), yf, inner.width(), inner.bottom() - yf), colour)
            if self.peak is not None:
                yp = self._y(inner, self.peak)
                p.setPen(QPen(pal.qcolor("text"), 3))
                p.drawLine(QPointF(tube.left() - 8, yp), QPointF(tube.right() + 8, yp))
        else:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(colour)
            p.drawRoundedRect(QRectF(tube.left() - 6, yf - 7, tube.width() + 12, 14), 5, 5)
            # Pointers either side make the marker readable against any band colour.
            for x0, dx in ((tube.left() - 6, -14), (tube.right() + 6, 14)):
                p.drawPolygon(QPolygonF([QPointF(x0, yf - 10), QPointF(x0, yf + 10),
                                         QPointF(x0 + dx, yf)]))
        p.end()


class HandIcon(QWidget):
    """A simple drawing of a left or right hand (back of the hand, fingers up)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hand: str | None = None
        self.pal: Palette = NORMAL
        self.setFixedSize(64, 72)

    def set_hand(self, hand: str | None) -> None:
        """``"left"``, ``"right"`` or ``None`` (hidden)."""
        if hand != self.hand:
            self.hand = hand
            self.update()

    def set_palette(self, pal: Palette) -> None:
        """Use another palette."""
        self.pal = pal
        self.update()

    def paintEvent(self, _event: object) -> None:
        """Draw the hand, mirrored for the left hand, with its initial on the palm."""
        if self.hand is None:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.hand == "left":
            # Seen from the back, a left hand has its thumb on the right.
            p.translate(self.width(), 0)
            p.scale(-1, 1)
        path = QPainterPath()
        path.addRoundedRect(QRectF(14, 30, 36, 36), 10, 10)  # palm
        for i, (x, top) in enumerate(((15, 10), (24, 4), (33, 6), (42, 14))):
            path.addRoundedRect(QRectF(x, top, 8, 34 - i % 2 * 2), 4, 4)  # fingers
        thumb = QPainterPath()
        thumb.addRoundedRect(QRectF(0, 0, 9, 26), 4.5, 4.5)
        path.addPath(QTransform().translate(4, 44).rotate(-40).map(thumb))
        p.setPen(QPen(self.pal.qcolor("accent"), 2))
        p.setBrush(self.pal.qcolor("panel"))
        p.drawPath(path.simplified())
        if self.hand == "left":
            p.resetTransform()
        p.setPen(self.pal.qcolor("accent"))
        f = QFont(self.font())
        f.setBold(True)
        f.setPointSize(14)
        p.setFont(f)
        p.drawText(QRectF(14, 34, 36, 30) if self.hand == "right" else
                   QRectF(self.width() - 50, 34, 36, 30),
                   Qt.AlignmentFlag.AlignCenter, self.hand[0].upper())
        p.end()
