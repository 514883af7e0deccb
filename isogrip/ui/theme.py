"""Colours, text sizes and the style sheet of the desktop app.

Colour carries meaning and is used for nothing else: green means "in the band",
amber "close to it", orange "out of it". Every colour cue also has words and a shape,
so nobody depends on telling colours apart. Sizes are chosen to be read at arm's length
by someone who has taken their reading glasses off.
"""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtGui import QColor

from isogrip.protocols.events import Zone


@dataclass(frozen=True)
class Palette:
    """The colours of one theme (hex strings)."""

    background: str
    panel: str
    text: str
    muted: str
    accent: str
    green: str
    green_fill: str
    amber: str
    amber_fill: str
    out: str
    stop: str
    trace: str
    border: str

    def qcolor(self, name: str, alpha: int = 255) -> QColor:
        """One of the colours as a QColor with ``alpha`` (0..255)."""
        c = QColor(getattr(self, name))
        c.setAlpha(alpha)
        return c


NORMAL = Palette(
    background="#f6f7f9", panel="#ffffff", text="#1b1f24", muted="#58606b",
    accent="#1f5fa8", green="#1e7d32", green_fill="#b9e3bf", amber="#b7790b",
    amber_fill="#fbe6b3", out="#c4480c", stop="#b3261e", trace="#1b1f24", border="#cfd5dc",
)
HIGH_CONTRAST = Palette(
    background="#000000", panel="#111111", text="#ffffff", muted="#e0e0e0",
    accent="#7fc4ff", green="#3cff6e", green_fill="#145c26", amber="#ffd23c",
    amber_fill="#5c4a08", out="#ff8a3c", stop="#ff5c5c", trace="#ffffff", border="#ffffff",
)


def palette(high_contrast: bool) -> Palette:
    """The palette for the chosen contrast mode."""
    return HIGH_CONTRAST if high_contrast else NORMAL


def zone_colour(pal: Palette, zone: Zone) -> str:
    """The colour that means ``zone``."""
    if zone is Zone.IN_BAND:
        return pal.green
    if zone in (Zone.NEAR_LOW, Zone.NEAR_HIGH):
        return pal.amber
    if zone in (Zone.LOW, Zone.HIGH):
        return pal.out
    return pal.muted


#: A shape for every zone, so colour is never the only cue.
ZONE_SYMBOLS = {
    Zone.NONE: "",
    Zone.IN_BAND: "\u2714",  # heavy check mark
    Zone.NEAR_LOW: "\u25b2",  # up triangle: a little more
    Zone.LOW: "\u25b2\u25b2",
    Zone.NEAR_HIGH: "\u25bc",  # down triangle: a little less
    Zone.HIGH: "\u25bc\u25bc",
}


def base_point_size(large_text: bool) -> int:
    """Body text size, points."""
    return 17 if large_text else 13


def stylesheet(pal: Palette, large_text: bool) -> str:
    """The application style sheet."""
    pt = base_point_size(large_text)
    return f"""
    QWidget {{ background: {pal.background}; color: {pal.text}; font-size: {pt}pt; }}
    QLabel[role="title"] {{ font-size: {pt + 9}pt; font-weight: 600; }}
    QLabel[role="heading"] {{ font-size: {pt + 4}pt; font-weight: 600; }}
    QLabel[role="muted"] {{ color: {pal.muted}; }}
    QLabel[role="banner"] {{ background: {pal.amber_fill}; color: {pal.text};
        border: 2px solid {pal.amber}; border-radius: 8px; padding: 8px 14px;
        font-size: {pt + 3}pt; font-weight: 600; }}
    QLabel[role="error"] {{ background: {pal.panel}; color: {pal.stop};
        border: 2px solid {pal.stop}; border-radius: 8px; padding: 8px 14px; }}
    QFrame[role="panel"] {{ background: {pal.panel}; border: 1px solid {pal.border};
        border-radius: 10px; }}
    QFrame[role="panel"] QLabel {{ background: transparent; }}
    QFrame[role="panel"] > QWidget {{ background: transparent; }}
    QPushButton {{ background: {pal.panel}; color: {pal.text}; border: 2px solid {pal.border};
        border-radius: 8px; padding: 8px 18px; min-height: 30px; }}
    QPushButton:hover {{ border-color: {pal.accent}; }}
    QPushButton:disabled {{ color: {pal.muted}; border-color: {pal.border}; }}
    QPushButton[role="primary"] {{ background: {pal.accent}; color: #ffffff;
        border-color: {pal.accent}; font-weight: 600; }}
    QPushButton[role="primary"]:disabled {{ background: {pal.border}; color: {pal.muted};
        border-color: {pal.border}; }}
    QPushButton[role="stop"] {{ background: {pal.panel}; color: {pal.stop};
        border-color: {pal.stop}; font-weight: 600; }}
    QPushButton[role="nav"] {{ border: none; border-bottom: 4px solid transparent;
        border-radius: 0; padding: 10px 20px; }}
    QPushButton[role="nav"]:checked {{ border-bottom-color: {pal.accent}; }}
    QLineEdit, QSpinBox, QDoubleSpinBox, QComboBox {{ background: {pal.panel};
        border: 2px solid {pal.border}; border-radius: 6px; padding: 4px 8px;
        min-height: 28px; }}
    QTableWidget {{ background: {pal.panel}; gridline-color: {pal.border};
        border: 1px solid {pal.border}; }}
    QHeaderView::section {{ background: {pal.background}; color: {pal.muted};
        border: none; border-bottom: 1px solid {pal.border}; padding: 6px; }}
    QCheckBox::indicator {{ width: 22px; height: 22px; }}
    """
