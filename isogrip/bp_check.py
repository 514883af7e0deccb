"""The blood-pressure check before a session: plausibility first, then the safety limits.

Pure rules shared by the desktop app, the command line and the store, so every way in
gives the same answer for the same reading:

1. A reading outside what a living person measures (systolic 60-300 mmHg, diastolic
   30-200, pulse 25-250, systolic above diastolic) is a typing error and is refused as
   such, before any advice: 300/20 is not "high blood pressure".
2. A plausible reading at or above the limits in force (Settings; default 180/110,
   docs/science.md) is advice not to train today. Training anyway is a deliberate
   choice made for that reading only, and is recorded with the reading and the limits
   (:class:`BpCheck`), so a clinician can see it.

The rules for what comes with a reading are here too, so ``bp add`` and ``bp import``
share them: when it was taken (:func:`parse_taken_at`, :func:`check_taken_at`: from
1900 to at most a day after now; a time without a UTC offset is the local time of this
computer), and how long a typed text may be (:func:`bounded_text`, :func:`check_note`).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from isogrip.errors import BpValueError

#: Plausible readings (mmHg, beats/min); anything else is a typing error.
BP_PLAUSIBLE: Final = {"sbp": (60, 300), "dbp": (30, 200), "pulse": (25, 250)}
#: No reading was taken before this (an earlier date is a typing error: year 1, 0001...).
BP_EARLIEST: Final = _dt.datetime(1900, 1, 1, tzinfo=_dt.UTC)
#: How far a reading may be ahead of this computer's clock (a cuff's clock or a time
#: zone off by some hours); further ahead is a typing error (a wrong year).
BP_FUTURE_SLACK: Final = _dt.timedelta(days=1)
#: The longest note kept with a reading, in characters.
BP_NOTE_MAX: Final = 500
#: The longest time text read (``2026-11-23T08:15:00.000+01:00`` is 29 characters).
BP_TIME_TEXT_MAX: Final = 64
#: The longest reading typed as text (``128/82``, with some spaces).
BP_READING_TEXT_MAX: Final = 20

_WHOLE_RE: Final = re.compile(r"[0-9]{1,4}")

_NAMES: Final = {"sbp": "systolic pressure", "dbp": "diastolic pressure", "pulse": "pulse"}


@dataclass(frozen=True)
class BpEntry:
    """One plausible blood-pressure reading, as entered.

    Attributes:
        sbp: Systolic (upper) pressure, mmHg.
        dbp: Diastolic (lower) pressure, mmHg.
        pulse: Pulse, beats per minute, if measured.
    """

    sbp: int
    dbp: int
    pulse: int | None = None

    @classmethod
    def checked(cls, sbp: object, dbp: object, pulse: object = None) -> BpEntry:
        """A reading from entered values, refused when it cannot be a real reading.

        Raises:
            BpValueError: A value is not a whole number, is outside the plausible
                range ("... looks like a typing error"), or the pressures are in the
                wrong order.
        """
        sbp_i = plausible("sbp", sbp)
        dbp_i = plausible("dbp", dbp)
        pulse_i = None if pulse is None else plausible("pulse", pulse)
        if sbp_i <= dbp_i:
            raise BpValueError("The systolic (upper) pressure must be higher than the "
                               "diastolic (lower) one; check the order of the numbers.")
        return cls(sbp_i, dbp_i, pulse_i)

    def __str__(self) -> str:
        return f"{self.sbp}/{self.dbp} mmHg"


@dataclass(frozen=True)
class BpLimits:
    """Advise against training at or above either pressure (mmHg)."""

    sbp: int = 180
    dbp: int = 110

    def too_high(self, reading: BpEntry) -> bool:
        """Whether the reading is at or above either limit."""
        return reading.sbp >= self.sbp or reading.dbp >= self.dbp

    def __str__(self) -> str:
        return f"{self.sbp}/{self.dbp} mmHg"


@dataclass(frozen=True)
class BpCheck:
    """The pre-session reading, the limits it was checked against, and the choice made.

    Attributes:
        reading: The reading entered before the session.
        limits: The limits in force when it was checked.
        trained_anyway: The reading was too high and the person chose to train
            (after the advice not to).
    """

    reading: BpEntry
    limits: BpLimits
    trained_anyway: bool = False

    @property
    def too_high(self) -> bool:
        """Whether the reading was at or above the limits."""
        return self.limits.too_high(self.reading)

    def note(self) -> str:
        """One sentence for a clinician's report; empty when the reading was fine."""
        if not self.trained_anyway:
            return ""
        return (f"Trained despite a high blood pressure before the session: {self.reading} "
                f"(advice not to train at or above {self.limits}); the participant "
                "chose to continue.")


def high_bp_advice(reading: BpEntry, limits: BpLimits) -> str:
    """The advice shown for a reading at or above the limits (plain words)."""
    return (f"Your blood pressure is high today ({reading}). Please do not train now: "
            "rest, measure again later, and talk to your doctor if it stays at "
            f"{limits.sbp}/{limits.dbp} or above.")


def plausible(key: str, value: object) -> int:
    """One value of a reading (``"sbp"``, ``"dbp"`` or ``"pulse"``) if it is plausible.

    Raises:
        BpValueError: Not a whole number, or outside :data:`BP_PLAUSIBLE`.
    """
    low, high = BP_PLAUSIBLE[key]
    unit = "beats per minute" if key == "pulse" else "mmHg"
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not math.isfinite(value) or value != int(value):
        raise BpValueError(f"The {_NAMES[key]} must be a whole number of {unit}, "
                           f"got {value!r}.")
    if not low <= value <= high:
        raise BpValueError(f"The {_NAMES[key]} must be between {low} and {high} "
                           f"{unit}; {int(value)} looks like a typing error.")
    return int(value)


def whole_number(key: str, text: str) -> int:
    """A value of a reading typed as text (``"128"``), checked with :func:`plausible`.

    Raises:
        BpValueError: Not written with the digits 0-9 only, or not plausible.
    """
    digits = text.strip()
    if not _WHOLE_RE.fullmatch(digits):
        unit = "beats per minute" if key == "pulse" else "mmHg"
        raise BpValueError(f"The {_NAMES[key]} must be a whole number of {unit}, "
                           f"got {shown(text)}.")
    return plausible(key, int(digits))


def shown(text: str, limit: int = 40) -> str:
    """``repr(text)`` for a message, cut after ``limit`` characters (a message is one line).

    Example:
        >>> shown("x" * 50, 5)
        "'xxxxx'... (50 characters)"
    """
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


def bounded_text(what: str, text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters.

    Raises:
        BpValueError: It is longer (the message names ``what`` and the limit).
    """
    if len(text) > limit:
        raise BpValueError(f"{what} is too long ({len(text)} characters; at most {limit})")
    return text


def check_note(text: str | None) -> str | None:
    """A note to keep with a reading: stripped, ``None`` when empty.

    Raises:
        BpValueError: Longer than :data:`BP_NOTE_MAX` characters, or holding a line
            break or another control character (a note is one line of plain text).
    """
    if text is None or not text.strip():
        return None
    note = bounded_text("the note", text.strip(), BP_NOTE_MAX)
    for i, ch in enumerate(note):
        if unicodedata.category(ch) == "Cc":
            raise BpValueError(f"the note must be one line of plain text; it has the "
                               f"control character {ch!r} at character {i + 1}")
    return note


def check_taken_at(when: _dt.datetime, *, now: _dt.datetime | None = None) -> _dt.datetime:
    """The time a reading was taken, in UTC, refused when it cannot be right.

    A time without a UTC offset is the local time of this computer. Accepted: from
    :data:`BP_EARLIEST` (1900) up to :data:`BP_FUTURE_SLACK` (a day) after ``now``.

    Args:
        when: The time (naive: local time).
        now: The present (default: this computer's clock).

    Raises:
        BpValueError: Before 1900 or in the future (the message says which).
    """
    now = _dt.datetime.now(_dt.UTC) if now is None else now.astimezone(_dt.UTC)
    latest = now + BP_FUTURE_SLACK
    # The year first: converting a time at the ends of the calendar (year 1, 9999)
    # to UTC overflows, and such a year is a typing error anyway.
    if when.year < BP_EARLIEST.year:
        raise BpValueError(f"{when.isoformat(' ')} is before {BP_EARLIEST.year}; "
                           "check the year")
    if when.year > latest.year:
        raise BpValueError(f"{when.isoformat(' ')} is in the future; check the year "
                           "(and this computer's clock)")
    try:
        utc = when.astimezone(_dt.UTC)
    except (OverflowError, ValueError):  # pragma: no cover - the year check comes first
        raise BpValueError(f"{when.isoformat(' ')} is not a time that can be "
                           "stored") from None
    if utc < BP_EARLIEST:
        raise BpValueError(f"{when.isoformat(' ')} is before {BP_EARLIEST.year}; "
                           "check the year")
    if utc > latest:
        raise BpValueError(f"{when.isoformat(' ')} is in the future (more than a day "
                           "after now); check the date (and this computer's clock)")
    return utc


def parse_taken_at(text: str, *, now: _dt.datetime | None = None) -> _dt.datetime:
    """The time a reading was taken, typed in ISO 8601, in UTC (see :func:`check_taken_at`).

    ``2026-11-23 08:15`` is local time; ``2026-11-23T08:15+01:00`` and
    ``2026-11-23T07:15Z`` name their offset from UTC; ``2026-11-23`` is midnight.

    Raises:
        BpValueError: Empty, too long, not a date and time, or out of range.
    """
    typed = text.strip()
    if not typed:
        raise BpValueError("the time is missing; give a date and time such as "
                           "2026-11-23 08:15")
    bounded_text("the time", typed, BP_TIME_TEXT_MAX)
    try:
        when = _dt.datetime.fromisoformat(typed)
    except ValueError:
        raise BpValueError(f"must be a date and time such as 2026-11-23 08:15, got "
                           f"{shown(typed)}") from None
    return check_taken_at(when, now=now)
