"""Blood-pressure categories of ACC/AHA 2017 and ESH 2023, for office and home values.

Each guideline's categories are a ladder of levels; a value is at a level when its
systolic *or* diastolic pressure reaches it (the guidelines' "and/or"), and the
highest level reached wins. Home averages use home thresholds where the guideline
gives them:

- ACC/AHA 2017 (Whelton et al., Table 11 of home equivalents): office 120/80 and
  130/80 are the same at home; office 140/90 (stage 2) is 135/85 at home. The crisis
  limits (above 180 and/or 120) are about any single reading and are not mapped.
- ESH 2023 (Mancia et al.) defines home hypertension (>= 135/85) and no home grades,
  so a home average is either below or at/above that threshold. None are invented.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from isogrip.bp_check import BpLimits

#: The fewest readings (after the first day is left out) an average can be acted on.
MIN_READINGS: Final = 12
#: A single reading above either value is in the crisis range (ACC/AHA 2017; strict >).
CRISIS_SBP: Final = 180
CRISIS_DBP: Final = 120


class Guideline(enum.StrEnum):
    """Which guideline names the categories."""

    ACC_AHA_2017 = "acc-aha-2017"
    ESH_2023 = "esh-2023"

    @property
    def label(self) -> str:
        """The guideline as people write it: ``ACC/AHA 2017``."""
        return "ACC/AHA 2017" if self is Guideline.ACC_AHA_2017 else "ESH 2023"


#: Home averages at or above these are high blood pressure at home: ESH 2023 135/85;
#: ACC/AHA 2017 calls blood pressure high from stage 1, 130/80, the same at home.
HOME_THRESHOLDS: Final = {Guideline.ACC_AHA_2017: BpLimits(130, 80),
                          Guideline.ESH_2023: BpLimits(135, 85)}


@dataclass(frozen=True, slots=True)
class Category:
    """The range an average (or a reading) falls in, under one guideline.

    Attributes:
        code: Short code for files, e.g. ``"stage-2"``, ``"home-hypertension"``.
        label: Plain words, e.g. ``"stage 2 high blood pressure"``.
        guideline: The guideline that names it.
        home: Whether home thresholds were used.
        rank: 0 for the lowest category of that guideline and setting, then 1, 2...
    """

    code: str
    label: str
    guideline: Guideline
    home: bool
    rank: int


# A level: (code, label, systolic from, diastolic from, strict). ``None`` for
# diastolic: systolic alone decides (ACC/AHA "elevated" needs diastolic < 80, so
# diastolic alone never lifts a value to it). ``strict``: above, not at or above.
_Level = tuple[str, str, float, float | None, bool]
_CRISIS: Final[_Level] = ("crisis", "crisis range", CRISIS_SBP, CRISIS_DBP, True)
_HIGH = "high blood pressure"
_LEVELS: Final[dict[tuple[Guideline, bool], tuple[_Level, ...]]] = {
    (Guideline.ACC_AHA_2017, False): (
        ("normal", "normal", 0, 0, False),
        ("elevated", "elevated", 120, None, False),
        ("stage-1", f"stage 1 {_HIGH}", 130, 80, False),
        ("stage-2", f"stage 2 {_HIGH}", 140, 90, False),
        _CRISIS),
    (Guideline.ACC_AHA_2017, True): (
        ("normal", "normal", 0, 0, False),
        ("elevated", "elevated", 120, None, False),
        ("stage-1", f"stage 1 {_HIGH}", 130, 80, False),
        ("stage-2", f"stage 2 {_HIGH}", 135, 85, False),  # office 140/90
        _CRISIS),
    (Guideline.ESH_2023, False): (
        ("optimal", "optimal", 0, 0, False),
        ("normal", "normal", 120, 80, False),
        ("high-normal", "high-normal", 130, 85, False),
        ("grade-1", f"grade 1 {_HIGH}", 140, 90, False),
        ("grade-2", f"grade 2 {_HIGH}", 160, 100, False),
        ("grade-3", f"grade 3 {_HIGH}", 180, 110, False)),
    (Guideline.ESH_2023, True): (
        ("home-normal", f"below the home {_HIGH} threshold (135/85)", 0, 0, False),
        ("home-hypertension", f"at or above the home {_HIGH} threshold (135/85)",
         135, 85, False)),
}


def _reaches(value: float, limit: float | None, strict: bool) -> bool:
    return limit is not None and (value > limit if strict else value >= limit)


def classify(sbp_mean: float, dbp_mean: float, guideline: Guideline, *,
             home: bool = True) -> Category:
    """The category of an average (or a single reading) under ``guideline``.

    Args:
        sbp_mean: Systolic pressure, mmHg.
        dbp_mean: Diastolic pressure, mmHg.
        guideline: Which guideline's categories (a :class:`Guideline` or its value).
        home: Home thresholds (a home average); ``False``: the office categories.

    Example:
        >>> classify(136, 70, Guideline.ACC_AHA_2017).code
        'stage-2'
        >>> classify(136, 70, Guideline.ACC_AHA_2017, home=False).code
        'stage-1'
    """
    guideline = Guideline(guideline)
    levels = _LEVELS[guideline, home]
    rank = 0
    for i, (_, _, sbp_from, dbp_from, strict) in enumerate(levels):
        if _reaches(sbp_mean, sbp_from, strict) or _reaches(dbp_mean, dbp_from, strict):
            rank = i
    code, label = levels[rank][:2]
    return Category(code, label, guideline, home, rank)
