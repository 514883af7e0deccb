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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from isogrip.errors import BpValueError

#: Plausible readings (mmHg, beats/min); anything else is a typing error.
BP_PLAUSIBLE: Final = {"sbp": (60, 300), "dbp": (30, 200), "pulse": (25, 250)}

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
        sbp_i = _plausible("sbp", sbp)
        dbp_i = _plausible("dbp", dbp)
        pulse_i = None if pulse is None else _plausible("pulse", pulse)
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


def _plausible(key: str, value: object) -> int:
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
