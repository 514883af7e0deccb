"""The page shown just before a session: an optional blood-pressure check and the MVC.

A reading that cannot be real (300/20) is refused as a typing error first. A resting
blood pressure of 180/110 mmHg or more (thresholds in Settings) is a reason not to
train today; the page says so plainly and the session cannot start without a
deliberate second choice, which holds for that reading only: any edit of the fields
checks again. The MVC is measured every session (SCIENCE.md); reusing one measured in
the last few days is an explicit, unticked choice that says what it costs.
"""

from __future__ import annotations

import datetime as _dt
import math

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QButtonGroup,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from isogrip.bp_check import BpCheck, BpEntry, BpLimits, high_bp_advice
from isogrip.errors import IsogripError
from isogrip.signal.units import Unit
from isogrip.storage.rows import BpReading
from isogrip.timefmt import local_datetime
from isogrip.types import Hand
from isogrip.ui.common import button, fmt_force, label, panel, set_text
from isogrip.ui.cuff_reader import CuffControl


def parse_optional_int(text: str, what: str) -> int | None:
    """A whole number typed by the user, or ``None`` for an empty field.

    Raises:
        ValueError: The text is not a whole number (message names ``what``).
    """
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} must be a whole number, e.g. 128; got {text!r}") from None
    if not math.isfinite(value) or value != int(value):
        raise ValueError(f"{what} must be a whole number, e.g. 128; got {text!r}")
    return int(value)


def typed_reading(sbp: str, dbp: str, pulse: str) -> BpEntry:
    """The reading typed in a form's three fields (pulse may be empty).

    Raises:
        ValueError: A field is not a whole number, or a pressure is missing.
        BpValueError: The numbers cannot be a real reading (the message says why).
    """
    sbp_i = parse_optional_int(sbp, "The upper number")
    dbp_i = parse_optional_int(dbp, "The lower number")
    pulse_i = parse_optional_int(pulse, "The pulse")
    if sbp_i is None or dbp_i is None:
        raise ValueError("Type both numbers of the reading, e.g. 128 / 82.")
    return BpEntry.checked(sbp_i, dbp_i, pulse_i)


class BeforeScreen(QWidget):
    """Blood pressure (optional) and MVC choice, then "Begin".

    Signals:
        begin(object, object): ``(bp, reuse)``: the :class:`~isogrip.bp_check.BpCheck`
            of the reading entered (``None`` when none was), and the MVCs to reuse per
            hand (N) or ``None`` to measure.
    """

    begin = pyqtSignal(object, object)
    cancel = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.unit = Unit.KGF
        self.sbp_limit, self.dbp_limit = 180, 110
        self._reusable: dict[Hand, tuple[float, _dt.datetime]] = {}
        # The reading the person chose to train anyway with; any edit clears it.
        self._override_for: BpEntry | None = None
        # The reading the cuff filled in (stored already): the session links to it.
        self._from_cuff: BpReading | None = None
        self.cuff = CuffControl(self)
        self.cuff.got.connect(self.fill_from_cuff)

        self.sbp = QLineEdit()
        self.dbp = QLineEdit()
        self.pulse = QLineEdit()
        for w, hint in ((self.sbp, "e.g. 132"), (self.dbp, "e.g. 84"), (self.pulse, "optional")):
            w.setPlaceholderText(hint)
            w.setMaximumWidth(160)
            w.textChanged.connect(self._reading_changed)
        form = QFormLayout()
        form.addRow("Systolic (upper number), mmHg", self.sbp)
        form.addRow("Diastolic (lower number), mmHg", self.dbp)
        form.addRow("Pulse, beats per minute", self.pulse)
        bp_intro = label("If you have a blood-pressure monitor, measure after sitting quietly "
                         "for 5 minutes and enter the numbers. You can leave this empty.",
                         "muted", wrap=True)
        box = QWidget()
        box.setLayout(form)
        cuff_row = QHBoxLayout()
        cuff_row.setContentsMargins(0, 0, 0, 0)
        cuff_row.addWidget(self.cuff.button)
        cuff_row.addStretch(1)
        cuff_box = QWidget()
        cuff_box.setLayout(cuff_row)
        self.bp_panel = panel(label("Blood pressure (optional)", "heading"), bp_intro, box,
                              cuff_box, self.cuff.status)

        self.measure = QRadioButton("Measure my maximum now (about 3 minutes, recommended)")
        self.reuse = QRadioButton("")
        self.mvc_group = QButtonGroup(self)
        self.mvc_group.addButton(self.measure)
        self.mvc_group.addButton(self.reuse)
        self.measure.setChecked(True)
        # What reusing costs, in a wrapping label (a radio button's text does not wrap).
        self.reuse_cost = label("", "muted", wrap=True)
        self.mvc_panel = panel(label("Your maximum squeeze", "heading"), self.measure, self.reuse,
                               self.reuse_cost)

        self.message = label("", "error", wrap=True)
        self.message.hide()
        self.begin_btn = button("Begin  (Space)", "primary", slot=self.try_begin)
        self.begin_btn.setMinimumHeight(52)
        self.back_btn = button("Back", slot=self._back)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_btn)
        buttons.addStretch(1)
        buttons.addWidget(self.begin_btn)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 16, 24, 16)
        lay.addWidget(label("Before you start", "title"))
        lay.addWidget(self.bp_panel)
        lay.addWidget(self.mvc_panel)
        lay.addWidget(self.message)
        lay.addStretch(1)
        lay.addLayout(buttons)

    def prepare(self, reusable: dict[Hand, tuple[float, _dt.datetime]], hands: set[Hand],
                unit: Unit, sbp_limit: int, dbp_limit: int,
                now: _dt.datetime | None = None) -> None:
        """Reset the page for a new session.

        Args:
            reusable: Recent measured MVC per hand (N, when).
            hands: Hands this protocol trains (reuse is offered only if all are known).
            unit: Display unit.
            sbp_limit: Advise against training at or above this systolic pressure.
            dbp_limit: Likewise for diastolic.
            now: Current time (tests).
        """
        self.unit, self.sbp_limit, self.dbp_limit = unit, sbp_limit, dbp_limit
        for w in (self.sbp, self.dbp, self.pulse):
            w.clear()
        self._reading_changed()
        self._from_cuff = None
        self.cuff.reset()
        usable = {h: v for h, v in reusable.items() if h in hands}
        self._reusable = usable if hands and set(usable) == hands else {}
        if self._reusable:
            now = now or _dt.datetime.now(_dt.UTC)
            oldest = min(when for _, when in self._reusable.values())
            # Calendar days where the user is: last night's squeeze was "yesterday".
            days = max(0, (local_datetime(now).date() - local_datetime(oldest).date()).days)
            ago = "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"
            parts = ", ".join(f"{h.label} {fmt_force(v, unit)}"
                              for h, (v, _) in sorted(self._reusable.items()))
            self.reuse.setText(f"Use my maximum from {ago} instead ({parts})")
            set_text(self.reuse_cost, (
                "If you choose this, your target will be based on a squeeze from "
                f"{ago}, not on how strong you are today.") if days else (
                "If you choose this, your target will be based on the squeeze you "
                "measured earlier today."))
            self.reuse.show()
            self.reuse_cost.show()
        else:
            self.reuse.hide()
            self.reuse_cost.hide()
        # Measuring is the default every time: strength changes from day to day.
        self.measure.setChecked(True)

    def reading(self) -> BpEntry | None:
        """The blood pressure typed in, or ``None`` when the fields are empty.

        Raises:
            ValueError: A field is not a whole number, only one pressure was typed,
                or the reading cannot be real (a typing error).
        """
        sbp = parse_optional_int(self.sbp.text(), "Systolic pressure")
        dbp = parse_optional_int(self.dbp.text(), "Diastolic pressure")
        pulse = parse_optional_int(self.pulse.text(), "Pulse")
        if sbp is None and dbp is None:
            if pulse is not None:
                raise ValueError("Enter both pressures with the pulse, or leave all empty.")
            return None
        if sbp is None or dbp is None:
            raise ValueError("Enter both numbers (upper and lower), or leave both empty.")
        if sbp <= dbp:
            raise ValueError("The upper (systolic) number must be larger than the lower "
                             "(diastolic) one. Please check the order.")
        return BpEntry.checked(sbp, dbp, pulse)

    def try_begin(self) -> None:
        """Check the entries and emit :attr:`begin`, or explain what is wrong."""
        try:
            bp = self.reading()
        except (ValueError, IsogripError) as exc:
            self._error(str(exc))
            return
        check = None
        if bp is not None:
            limits = BpLimits(self.sbp_limit, self.dbp_limit)
            check = BpCheck(bp, limits, trained_anyway=limits.too_high(bp))
            if check.trained_anyway and self._override_for != bp:
                self._override_for = bp
                self._error(high_bp_advice(bp, limits) + " Press \u201cTrain anyway\u201d "
                            "only if your doctor has told you this is safe.")
                set_text(self.begin_btn, "Train anyway (my doctor agrees)")
                return
        reuse = {h: v for h, (v, _) in self._reusable.items()} \
            if self._reusable and self.reuse.isChecked() else None
        self.cuff.reset()  # the device thread is the session's now
        self.begin.emit(check, reuse)

    def fill_from_cuff(self, reading: BpReading) -> None:
        """Show the reading the cuff just took in the fields."""
        self.sbp.setText(str(reading.sbp))
        self.dbp.setText(str(reading.dbp))
        self.pulse.setText("" if reading.pulse is None else str(reading.pulse))
        self._from_cuff = reading

    def cuff_reading_id(self, entry: BpEntry) -> int | None:
        """The stored row of ``entry`` when it is the cuff's reading, unchanged."""
        r = self._from_cuff
        if r is None or (r.sbp, r.dbp, r.pulse) != (entry.sbp, entry.dbp, entry.pulse):
            return None
        return r.id

    def _back(self) -> None:
        self.cuff.reset()
        self.cancel.emit()

    def _reading_changed(self) -> None:
        """A field changed: the advice and any "train anyway" were for another reading."""
        self._override_for = None
        self.message.hide()
        set_text(self.begin_btn, "Begin  (Space)")

    def _error(self, text: str) -> None:
        set_text(self.message, text)
        self.message.show()
