"""The programme on the start page: where you are, what is due, and a way to begin one.

Without a programme it offers one in a sentence and a button (the first-run choice);
with one it says which week it is, the sessions done this week and so far, when the
next session and the next blood-pressure readings are due, and the last change the
programme made with its reason. The words are :mod:`isogrip.programme.words`, the same
as ``isogrip programme status``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from isogrip.errors import IsogripError
from isogrip.programme.plan import ProgrammePlan
from isogrip.programme.words import status_lines
from isogrip.programme_status import load_view
from isogrip.protocols import sentences
from isogrip.storage.store import Store
from isogrip.ui.common import button, label, set_text

#: What a programme is, for the person who has none yet.
OFFER = ("Blood pressure comes down with regular training: a programme plans it for "
         "you. First a week of measuring your blood pressure at home, then 8 weeks of "
         "3 sessions a week, then 1 a week to keep it up.")


class ProgrammeCard(QFrame):
    """A panel with the programme's status, or the offer to start one.

    Signals:
        start_requested(): The user pressed "Start my programme".
    """

    start_requested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "panel")
        self.heading = label("Your programme", "heading")
        self.text = label("", wrap=True)
        self.start_btn = button("Start my programme", slot=self.start_requested.emit)
        row = QHBoxLayout()
        row.addWidget(self.start_btn)
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
        try:
            view = load_view(store, participant, today, record=True)
        except IsogripError as exc:  # a damaged programme row: say so, keep going
            set_text(self.text, f"The programme cannot be read: {exc}")
            return
        self.start_btn.setVisible(view is None)
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
