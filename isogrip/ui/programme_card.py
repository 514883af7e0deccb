"""The programme on the start page: where you are, what is due, and a way to begin one.

Without a programme it offers one in a sentence and a button (the first-run choice);
with one it says which week it is, the sessions done this week and so far, when the
next session and the next blood-pressure readings are due, and the last change the
programme made with its reason. The words are :mod:`isogrip.programme.words`, the same
as ``isogrip programme status``. On a day blood-pressure readings are due it offers the
guide through them (:mod:`isogrip.ui.bp_guide`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from isogrip.device_host import DeviceHost
from isogrip.errors import IsogripError
from isogrip.programme.plan import ProgrammePlan
from isogrip.programme.words import status_lines
from isogrip.programme_status import load_view
from isogrip.protocols import sentences
from isogrip.storage.store import Store
from isogrip.ui.bp_guide import BpGuide, open_bp_guide
from isogrip.ui.common import button, label, set_text

#: What a programme is, for the person who has none yet.
OFFER = ("Blood pressure comes down with regular training: a programme plans it for "
         "you. First a week of measuring your blood pressure at home, then 8 weeks of "
         "3 sessions a week, then 1 a week to keep it up.")


class ProgrammeCard(QFrame):
    """A panel with the programme's status, or the offer to start one.

    Signals:
        start_requested(): The user pressed "Start my programme".
        bp_saved(): The guide stored blood-pressure readings (the card reloads itself).
    """

    start_requested = pyqtSignal()
    bp_saved = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "panel")
        self.heading = label("Your programme", "heading")
        self.text = label("", wrap=True)
        self.start_btn = button("Start my programme", slot=self.start_requested.emit)
        self.bp_btn = button("Measure my blood pressure", slot=self.open_guide)
        self.bp_btn.hide()
        #: The guide last opened (``None``: none yet).
        self.guide: BpGuide | None = None
        self._shown: tuple[Store, str | None] | None = None
        # The device thread for the guide's "Read from cuff" (see attach_cuff).
        self._cuff: tuple[DeviceHost, dict[str, Any]] | None = None
        row = QHBoxLayout()
        row.addWidget(self.start_btn)
        row.addWidget(self.bp_btn)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 12, 16, 12)
        lay.addWidget(self.heading)
        lay.addWidget(self.text)
        lay.addLayout(row)

    def load(self, store: Store, participant: str | None,
             today: _dt.date | None = None) -> None:
        """Show the participant's programme as it stands (recording new steps).

        Args:
            store: The database.
            participant: Participant ID, or ``None``.
            today: The local date to show it for (default: today).
        """
        today = today or _dt.datetime.now().astimezone().date()
        self._shown = (store, participant)
        try:
            view = load_view(store, participant, today, record=True)
        except IsogripError as exc:  # a damaged programme row: say so, keep going
            set_text(self.text, f"The programme cannot be read: {exc}")
            self.bp_btn.hide()
            return
        self.start_btn.setVisible(view is None)
        self.bp_btn.setVisible(view is not None and view.status.next_bp == today)
        if view is None:
            set_text(self.text, OFFER)
            return
        # "So far" is left to History and the reports: the start page stays short,
        # so the device list keeps its room on a small screen with large text.
        lines = [line for line in status_lines(view.status) if not line.startswith("So far")]
        changes = [s for s in view.steps if s.kind != "start"]
        if changes:
            lines.append(f"Last change: {changes[-1].reason}")
        set_text(self.text, " ".join(lines))

    def attach_cuff(self, host: DeviceHost, **backends: Any) -> None:
        """Offer "Read from cuff" in the guides this card opens, read on ``host``."""
        self._cuff = (host, backends)

    def open_guide(self) -> BpGuide | None:
        """Open the blood-pressure guide for the programme shown (``None``: none is)."""
        if self._shown is None:
            return None
        store, participant = self._shown
        if self.guide is not None:
            self.guide.deleteLater()  # one guide at a time; the old one is closed
        host, backends = self._cuff if self._cuff is not None else (None, {})
        self.guide = open_bp_guide(self, store, participant, host=host, **backends)
        self.guide.saved.connect(lambda: self._bp_saved(store, participant))
        return self.guide

    def _bp_saved(self, store: Store, participant: str | None) -> None:
        # Four readings are due a day (two pairs): the button stays until the day has them.
        self.load(store, participant)
        self.bp_saved.emit()

    def start(self, store: Store, participant: str | None,
              confirm: Callable[[str, str], bool]) -> None:
        """Start the default programme today once the user confirms, then show it."""
        plan = ProgrammePlan()
        if not confirm("Start your programme?",
                       "This week: measure your blood pressure at home, morning and "
                       "evening. Then 8 weeks of 3 sessions a week, then 1 a week. "
                       "isogrip tells you what is due; you can end it at any time."):
            return
        try:
            store.programmes.start(
                plan, participant=participant,
                started_on=_dt.datetime.now().astimezone().date(),
                now=_dt.datetime.now(_dt.UTC),
                reason=sentences.programme_started(plan.training_weeks,
                                                   plan.sessions_per_week,
                                                   plan.protocol_name))
        except IsogripError as exc:
            set_text(self.text, str(exc))
            return
        self.load(store, participant)
