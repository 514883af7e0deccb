"""A guide through one pair of home blood-pressure readings, for the measurement weeks.

Home readings compare only when taken the same way every time (ESH 2023, AHA): 5 quiet
minutes seated (back supported, feet flat, arm at heart level, no talking), then two
readings one minute apart, morning (before medication, food, coffee) and evening. The
guide walks through that one large step at a time.

The waits are computed from an injectable monotonic clock (:attr:`BpGuide.now`); the
250 ms timer only asks for a redraw, so tests move a fake clock and call
:meth:`BpGuide.tick`, and nothing depends on how busy the machine is.
"""

from __future__ import annotations

import datetime as _dt
import enum
import time
from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import QSize, Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from isogrip.device_host import DeviceHost
from isogrip.errors import IsogripError
from isogrip.storage.bp_cuff import JustTaken
from isogrip.storage.store import Store
from isogrip.ui.before_screen import typed_reading
from isogrip.ui.common import button, fmt_clock, label, panel, set_point_size, set_text
from isogrip.ui.cuff_reader import CuffControl, CuffJob, CuffOutcome, reading_words

#: Quiet sitting before reading 1, and between the two readings, s.
REST_S, GAP_S = 300.0, 60.0
#: Redraw interval of a wait, ms (the clock, not the timer, says how long is left).
TICK_MS = 250
#: Sizes of the countdown and of the words, points: read from a chair at arm's length.
CLOCK_PT, TEXT_PT = 96, 18

INSTRUCTIONS = (
    "Sit on a chair with your back supported and both feet flat on the floor.",
    "Rest your arm on a table, so the cuff is at the height of your heart.",
    "Sit quietly for 5 minutes: no talking, no phone.",
    "Then take two readings, one minute apart.",
)
MORNING_NOTE = "In the morning, measure before your medication, breakfast and coffee."
EVENING_NOTE = "In the evening, measure before your evening meal."
NEXT_AFTER_MORNING = "Next: measure again this evening, the same way."
NEXT_AFTER_EVENING = ("Next: tomorrow morning, before your medication, breakfast and "
                      "coffee.")
READING_WORDS = ("Press the start button on your cuff and keep still until it has "
                 "finished. Then type the numbers it shows.")
SAME_AGAIN = ("That is reading 1 again. Take reading 2 with the cuff, then press "
              "\u201cRead from cuff\u201d.")


class Step(enum.Enum):
    """Where the guide is: its title, its main button and, for a wait, what to do."""

    INTRO = ("Your {pair} blood pressure", "Start the 5 minutes", "")
    REST = ("Sit quietly for 5 minutes", "Skip the wait", "Keep still, breathe normally "
            "and do not talk. Reading 1 comes when the time is up.")
    READING_1 = ("Take reading 1 now", "Save reading 1", "")
    GAP = ("Rest for 1 minute", "Skip the wait", "Leave the cuff on your arm and keep "
           "sitting quietly. Reading 2 comes when the time is up.")
    READING_2 = ("Take reading 2 now", "Save reading 2", "")
    DONE = ("Both readings are saved", "Close", "")


READINGS, WAITS = (Step.READING_1, Step.READING_2), (Step.REST, Step.GAP)


def big(text: str) -> QLabel:
    """A wrapping label in the guide's large type."""
    w = label(text, wrap=True)
    set_point_size(w, TEXT_PT, bold=False)
    return w


def top_aligned(page: QFrame, spacing: int | None = None) -> QFrame:
    """``page`` with its widgets at the top, not spread over the window's height."""
    lay = page.layout()
    if isinstance(lay, QVBoxLayout):
        lay.addStretch(1)
        if spacing is not None:
            lay.setSpacing(spacing)
    return page


class BpGuide(QDialog):
    """Instructions, 5 quiet minutes, two readings one minute apart, stored at rest.

    Args:
        store: The database the readings go to.
        participant: Participant ID, or ``None``.
        parent: The window it is shown over.
        now: Monotonic clock, s (tests pass a fake one and call :meth:`tick`).
        local_now: The local time, to tell the morning pair from the evening pair.

    Signals:
        saved(): Readings were stored (typed, or from the cuff): views may reload.
    """

    saved = pyqtSignal()

    def __init__(self, store: Store, participant: str | None,
                 parent: QWidget | None = None, *,
                 now: Callable[[], float] = time.monotonic,
                 local_now: Callable[[], _dt.datetime] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("isogrip \u2014 blood pressure")
        self.store, self.participant, self.now = store, participant, now
        self.local_now = local_now or (lambda: _dt.datetime.now().astimezone())
        self.step = Step.INTRO
        #: The stored rows of this pair, and the readings in words.
        self.reading_ids: list[int] = []
        self._words: list[str] = []
        self._deadline: float | None = None
        # Decided once, at the start: a pair begun at 11:58 is still the morning pair.
        self.morning = self.local_now().hour < 12
        self.pair = "morning" if self.morning else "evening"
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        self.cuff = CuffControl(self)
        self.cuff.finished.connect(self._cuff_read)

        self.title = label("", "title", wrap=True)
        note = MORNING_NOTE if self.morning else EVENING_NOTE
        self.instructions = [big(f"{i}.  {text}")
                             for i, text in enumerate((*INSTRUCTIONS, note), start=1)]
        self.wait_text, self.clock = big(""), label("", align=Qt.AlignmentFlag.AlignCenter)
        set_point_size(self.clock, CLOCK_PT)
        self.done_text = big("")
        wait = panel(self.wait_text, self.clock)
        wait_lay = wait.layout()
        if isinstance(wait_lay, QVBoxLayout):  # the clock in the middle of the free space
            wait_lay.setStretchFactor(self.clock, 1)
        reading = self._reading_page()
        self.pages = QStackedWidget()
        self._pages = {Step.INTRO: top_aligned(panel(*self.instructions), spacing=14),
                       Step.REST: wait, Step.GAP: wait, Step.READING_1: reading,
                       Step.READING_2: reading, Step.DONE: top_aligned(panel(self.done_text))}
        for page in dict.fromkeys(self._pages.values()):  # a shared page once
            self.pages.addWidget(page)
        self.close_btn = button("Close", slot=self.reject)
        self.action_btn = button("", "primary", slot=self._act)
        self.action_btn.setMinimumHeight(52)
        for b in (self.close_btn, self.action_btn):  # Enter presses the default only
            b.setAutoDefault(False)
        row = QHBoxLayout()
        row.addWidget(self.close_btn)
        row.addStretch(1)
        row.addWidget(self.action_btn)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(32, 20, 32, 20)
        lay.addWidget(self.title)
        lay.addWidget(self.pages, 1)
        lay.addLayout(row)
        self._show(Step.INTRO)

    def _reading_page(self) -> QFrame:
        self.message = label("", "error", wrap=True)  # one line: what is wrong
        self.message.hide()
        self.sbp, self.dbp, self.pulse = QLineEdit(), QLineEdit(), QLineEdit()
        form = QFormLayout()
        for w, hint, what in ((self.sbp, "e.g. 132", "Upper number (systolic), mmHg"),
                              (self.dbp, "e.g. 84", "Lower number (diastolic), mmHg"),
                              (self.pulse, "optional", "Pulse, beats per minute")):
            w.setPlaceholderText(hint)
            w.setMaximumWidth(160)
            w.textChanged.connect(self.message.hide)
            form.addRow(what, w)
        fields = QWidget()
        fields.setLayout(form)
        page = top_aligned(panel(big(READING_WORDS), fields, self.cuff.button,
                                 self.cuff.status, self.message))
        lay = page.layout()
        if lay is not None:  # the button as wide as its words, like every other one
            lay.setAlignment(self.cuff.button, Qt.AlignmentFlag.AlignLeft)
        return page

    # ------------------------------------------------------------------ flow
    def _show(self, step: Step) -> None:
        self.step = step
        self.pages.setCurrentWidget(self._pages[step])
        title, action, words = step.value
        set_text(self.title, title.format(pair=self.pair))
        set_text(self.action_btn, action)
        # Skipping a wait is allowed but is not the thing to do: not the blue button, and
        # not what Enter does.
        self.action_btn.setProperty("role", None if step in WAITS else "primary")
        self.action_btn.setDefault(step not in WAITS)
        style = self.action_btn.style()
        if style is not None:  # a changed role needs the style sheet applied again
            style.unpolish(self.action_btn)
            style.polish(self.action_btn)
        self.close_btn.setVisible(step is not Step.DONE)
        self.cuff.reset()  # a read begun for the last step is not this step's reading
        if step in WAITS:
            saved = f"Reading 1 is saved: {self._words[0]}. " if self._words else ""
            set_text(self.wait_text, saved + words)
            self._deadline = self.now() + (REST_S if step is Step.REST else GAP_S)
            self.tick()
            self.timer.start()
        if step in READINGS:
            for w in (self.sbp, self.dbp, self.pulse):
                w.clear()
            self.message.hide()
            self.sbp.setFocus()

    def tick(self) -> None:
        """Redraw the countdown from the clock; when it reaches 0:00, go on to the reading."""
        if self._deadline is None:
            return
        left = self._deadline - self.now()
        set_text(self.clock, fmt_clock(left))
        if left <= 0:
            self._end_wait()

    def _end_wait(self) -> None:
        self.timer.stop()
        self._deadline = None
        # The new page, with its large title, is the cue that the time is up.
        self._show(Step.READING_1 if self.step is Step.REST else Step.READING_2)

    def _act(self) -> None:
        """The step's main button: start, skip, save or close."""
        if self.step is Step.INTRO:
            self._show(Step.REST)
        elif self.step in WAITS:
            self._end_wait()
        elif self.step in READINGS:
            self.save_typed()
        else:
            self.accept()

    def save_typed(self) -> None:
        """Store the reading typed in the fields, or say in one line what is wrong."""
        if self.step not in READINGS:
            return
        try:
            entry = typed_reading(self.sbp.text(), self.dbp.text(), self.pulse.text())
            row = self.store.add_bp_reading(sbp=entry.sbp, dbp=entry.dbp, pulse=entry.pulse,
                                            participant=self.participant, context="rest")
        except (ValueError, IsogripError) as exc:
            set_text(self.message, f"Not saved: {exc}")
            self.message.show()
            return
        self.saved.emit()
        self._taken(row, f"{entry.sbp}/{entry.dbp}"
                    + (f", pulse {entry.pulse}" if entry.pulse is not None else ""))

    def cuff_job(self) -> tuple[Store, CuffJob] | None:
        """Where a cuff read goes: the log at rest, its newest reading marked as just taken."""
        if self.step not in READINGS:
            return None
        return self.store, CuffJob(self.participant, context="rest",
                                   just_taken=JustTaken("rest"))

    def _cuff_read(self, outcome: CuffOutcome) -> None:
        if outcome.imported is not None and outcome.imported.added:
            self.saved.emit()
        r = outcome.reading
        if r is None or self.step not in READINGS:
            return  # the status line already says why nothing was taken
        if r.id in self.reading_ids:
            set_text(self.cuff.status, SAME_AGAIN)
            return
        self._taken(r.id, reading_words(r))

    def _taken(self, row: int, words: str) -> None:
        self.reading_ids.append(row)
        self._words.append(words)
        if self.step is Step.READING_1:
            self._show(Step.GAP)
            return
        following = NEXT_AFTER_MORNING if self.morning else NEXT_AFTER_EVENING
        set_text(self.done_text, f"Your {self.pair} pair is saved: {self._words[0]} and "
                 f"{self._words[1]}. {following}")
        self._show(Step.DONE)

    def done(self, result: int) -> None:
        """Close the guide: the wait stops and a cuff read under way is dropped."""
        self.timer.stop()
        self._deadline = None
        self.cuff.reset()
        super().done(result)


def open_bp_guide(parent: QWidget | None, store: Store, participant: str | None, *,
                  host: DeviceHost | None = None, now: Callable[[], float] = time.monotonic,
                  local_now: Callable[[], _dt.datetime] | None = None,
                  **backends: Any) -> BpGuide:
    """Open the blood-pressure guide over ``parent``'s window (it returns at once).

    Args:
        parent: A widget of the window to show it over, which owns it (``None``: a
            window of its own).
        store: The database the readings go to.
        participant: Participant ID, or ``None``.
        host: The program's device thread, to offer "Read from cuff" (``None``: the
            numbers are typed).
        now: Monotonic clock, s (tests).
        local_now: The local time (tests).
        **backends: bleak backends for the cuff (tests).

    Returns:
        The guide, shown; connect to :attr:`BpGuide.saved` to reload a view.
    """
    # The window is the parent, not the widget: a dialog inside a panel would take the
    # style sheet's transparent panel children's background and show the desktop.
    top = parent.window() if parent is not None else None
    guide = BpGuide(store, participant, top, now=now, local_now=local_now)
    if host is not None:
        guide.cuff.attach(host, guide.cuff_job, **backends)
    # As large as the window it covers: one thing at a time, in large type.
    guide.resize(top.size() if top is not None else QSize(1024, 600))
    guide.setWindowModality(Qt.WindowModality.WindowModal)
    guide.show()
    return guide
