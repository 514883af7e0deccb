"""Every sentence of the home blood pressure summaries that a participant reads.

One block, so the wording can be reviewed in one place (calm, plain, never a
diagnosis, never a promise, never a reason to stop anything) and translated as one
file. The command line and any other screen take their words from here.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Final

from isogrip.bp_check import BpLimits
from isogrip.home_bp.categories import (
    CRISIS_DBP,
    CRISIS_SBP,
    HOME_THRESHOLDS,
    MIN_READINGS,
    Guideline,
)

if TYPE_CHECKING:
    from isogrip.home_bp.change import BpChange

#: What the training may do, as context for a change (averages from meta-analyses;
#: docs/science.md). Context, never a promise.
EXPECTED_EFFECT: Final = (
    "For context: in studies, some weeks of handgrip training lowered blood pressure "
    "measured at the clinic by about 5 to 8 mmHg (upper number) and 3 to 4 mmHg (lower "
    "number) on average. That is an average over many people, not a promise for you, "
    "and home readings vary more than that from day to day.")
#: The same context in one line, where a screen has little room.
EXPECTED_EFFECT_SHORT: Final = (
    "For context: in studies, training lowered clinic blood pressure by about 5 to 8 "
    "(upper) and 3 to 4 mmHg (lower) on average. Not a promise for you.")
#: Under every category shown.
NOT_A_DIAGNOSIS: Final = ("These numbers are not a diagnosis: only your doctor can say "
                          "what they mean for you.")


def period_message(n_in_period: int, n_kept: int, discarded: _dt.date | None) -> str:
    """How many readings a period has, and whether that is enough."""
    if n_in_period == 0:
        return "No blood-pressure readings in this period."
    after = " after the first day" if discarded is not None else ""
    if n_kept < MIN_READINGS:
        return (f"Only {n_kept} reading{'' if n_kept == 1 else 's'}{after}; at least "
                f"{MIN_READINGS} are needed for an average you can act on.")
    left_out = (f" (the first day, {discarded.isoformat()}, is left out, as the "
                "guidelines advise)") if discarded is not None else ""
    return f"Average of {n_kept} readings{left_out}."


def average_high(sbp: float, dbp: float, limits: BpLimits, guideline: Guideline,
                 enough: bool) -> str:
    """The period average is at or above ``limits``."""
    level = (f"{limits}, the level {guideline.label} uses for high blood pressure at "
             "home" if limits == HOME_THRESHOLDS[guideline] else f"your limits ({limits})")
    if not enough:
        return (f"Your readings so far average {sbp:.1f}/{dbp:.1f} mmHg, at or above "
                f"{level}. There are too few to be sure: keep measuring, and talk to "
                "your doctor if they stay this high.")
    return (f"Your home average is {sbp:.1f}/{dbp:.1f} mmHg, at or above {level}. This "
            "is not a diagnosis, but please talk to your doctor and show them these "
            "readings.")


def crisis_readings(n: int, sbp: int, dbp: int, day: _dt.date) -> str:
    """Readings in the crisis range: what to do, calmly (the usual AHA advice)."""
    which = "A reading was" if n == 1 else f"{n} readings were"
    return (f"{which} very high (above {CRISIS_SBP}/{CRISIS_DBP}); the highest was "
            f"{sbp}/{dbp} mmHg on {day.isoformat()}. If a reading is this high, rest "
            "for 5 minutes and measure again; if it is still this high, contact your "
            "doctor today. With chest pain, shortness of breath, weakness, or trouble "
            "speaking or seeing, call emergency services.")


def baseline_too_few(n_kept: int, minimum: int) -> str:
    """The baseline week has too few readings for a change to be worked out."""
    return (f"Your baseline week has {n_kept} blood-pressure reading"
            f"{'' if n_kept == 1 else 's'} after its first day ({minimum} are needed), so "
            "the change in your blood pressure cannot be worked out against it. The "
            "readings of your next measurement week are still averaged.")


def change_sentence(change: BpChange) -> str:
    """A change from baseline in plain words, with its uncertainty."""
    parts = []
    for name, d in (("upper", change.sbp), ("lower", change.dbp)):
        way = "lower" if d.mean < 0 else "higher"
        text = (f"{abs(d.mean):.1f} mmHg {way} for the {name} number" if round(d.mean, 1)
                else f"about the same for the {name} number")
        if d.low is not None and d.high is not None:
            text += f" (likely between {d.low:+.1f} and {d.high:+.1f} mmHg)"
        parts.append(text)
    return f"Compared with your baseline, your home average is {parts[0]}, and {parts[1]}."


def change_brief(change: BpChange, when: str) -> str:
    """A change from baseline in one short sentence (a plot beside it shows the range).

    Args:
        change: The change.
        when: The measurement week it is for, e.g. ``Training week 4``.
    """
    parts = []
    for d in (change.sbp, change.dbp):
        way = "lower" if d.mean < 0 else "higher"
        parts.append(f"{abs(d.mean):.1f} mmHg {way}" if round(d.mean, 1) else "about the same")
    return (f"{when}: upper number {parts[0]}, lower number {parts[1]}, compared with your "
            "baseline week (the bars show the likely range).")
