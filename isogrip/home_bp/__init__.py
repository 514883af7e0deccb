"""Home blood pressure summaries the way the guidelines ask for them: pure, no I/O.

Nothing here reads a clock or a file: readings, dates and the time zone of the
participant's local days are passed in. The rules and their sources are in
docs/science.md ("Home blood pressure"):

- :mod:`~isogrip.home_bp.categories`: ACC/AHA 2017 and ESH 2023 categories, with home
  thresholds for home averages (:func:`classify`).
- :mod:`~isogrip.home_bp.period`: one measurement period: group by local day, leave
  out the first day, average the rest, at least 12 readings for a decision
  (:func:`summarise_period`); "talk to your doctor" advice (:func:`bp_advice`).
- :mod:`~isogrip.home_bp.change`: change from a baseline period with a Welch t
  interval (:func:`change_from_baseline`).
- :mod:`~isogrip.home_bp.sentences`: every sentence a participant reads from these.

Importing this package is light (no numpy or scipy; scipy comes only when an interval
is computed), so the settings and the command line's parser may import it.
"""

from isogrip.home_bp.categories import (
    CRISIS_DBP,
    CRISIS_SBP,
    HOME_THRESHOLDS,
    MIN_READINGS,
    Category,
    Guideline,
    classify,
)
from isogrip.home_bp.change import BpChange, CiUnit, MeanDifference, change_from_baseline
from isogrip.home_bp.period import (
    HomeReading,
    PeriodSummary,
    Reading,
    bp_advice,
    summarise_period,
    summary_of,
)
from isogrip.home_bp.sentences import (
    EXPECTED_EFFECT,
    EXPECTED_EFFECT_SHORT,
    NOT_A_DIAGNOSIS,
    change_sentence,
)

__all__ = [
    "CRISIS_DBP",
    "CRISIS_SBP",
    "EXPECTED_EFFECT",
    "EXPECTED_EFFECT_SHORT",
    "HOME_THRESHOLDS",
    "MIN_READINGS",
    "NOT_A_DIAGNOSIS",
    "BpChange",
    "Category",
    "CiUnit",
    "Guideline",
    "HomeReading",
    "MeanDifference",
    "PeriodSummary",
    "Reading",
    "bp_advice",
    "change_from_baseline",
    "change_sentence",
    "classify",
    "summarise_period",
    "summary_of",
]
