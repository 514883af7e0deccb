"""The first-run page: what the training is, in plain words, and what isogrip is not."""

from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from isogrip.ui.common import button, label, panel

ABOUT = (
    "<p><b>Isometric handgrip training</b> means squeezing a handgrip gently and steadily. "
    "In each session you first squeeze as hard as you can a few times, so isogrip knows "
    "your maximum. Then you hold a light squeeze, about a third of your maximum, for two "
    "minutes, four times, with a one-minute rest in between. The whole session takes "
    "about 15 minutes.</p>"
    "<p>While you hold, keep the marker in the <b>green band</b>. The words and arrows tell "
    "you to squeeze a little harder or ease off. <b>Breathe normally</b> the whole time "
    "and never hold your breath.</p>"
    "<p>Studies found that training like this three times a week for at least four weeks "
    "can lower blood pressure a little.</p>"
)
SAFETY = (
    "<p><b>isogrip is not a medical device.</b> It does not diagnose or treat any condition "
    "and does not replace your doctor's advice. Ask your doctor before you start if you "
    "have heart disease, very high blood pressure, or have been told not to exercise.</p>"
    "<p><b>Stop at once</b> if you feel chest pain, dizziness, unusual shortness of breath "
    "or pain in your hand or arm. The Stop button is always on the screen.</p>"
)


class WelcomeScreen(QWidget):
    """Shown until the user has read it once.

    Signals:
        accepted(): The user pressed "I understand".
    """

    accepted = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        about = label(ABOUT, wrap=True, rich=True)
        safety = label(SAFETY, wrap=True, rich=True)
        self.ok_btn = button("I understand, continue", "primary", slot=self.accepted.emit)
        self.ok_btn.setMinimumHeight(52)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.ok_btn)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(40, 24, 40, 24)
        lay.addWidget(label("Welcome to isogrip", "title"))
        lay.addWidget(panel(about))
        lay.addWidget(panel(safety))
        lay.addStretch(1)
        lay.addLayout(row)
