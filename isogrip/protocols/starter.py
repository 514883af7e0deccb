"""When to suggest the gentler starter protocol: a hold at 30 % MVC that was not held.

SCIENCE.md (Baffour-Awuah et al. 2023): if 2 minutes at 30 % MVC cannot be held,
start at 15-20 % and build up. This module turns a session's hold results into that
advice. It is advice, not a diagnosis: a bad day, a loose grip or a distraction look
the same in the numbers, so the sentence says what was seen and what the person may
try, never what is wrong with them.

The rule (docs/science.md, "Starter protocol"): a hold with a target of at least
:data:`MIN_TARGET_PCT` was not held when, over its steady part,

* less than :data:`MIN_TIME_IN_BAND_PCT` of the time was in the green band **and** the
  mean force was below the band (the hand could not keep the force up, as opposed to
  an unsteady hand that is on target on average), or
* the force fell by more than :data:`MAX_FALL_PCT_MVC_PER_MIN` % MVC per minute (the
  band is +/-3 % MVC, so over 2 minutes such a fall leaves it: fatigue).

Sham protocols never get the advice: their true target is far below the threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

#: The protocol suggested instead.
STARTER_PROTOCOL: Final = "ihg-4x2-20-starter"
#: Holds with a lower target are not judged (the starter itself, shams).
MIN_TARGET_PCT: Final = 25.0
#: Below this share of the hold in band (with the mean under the band): not held.
MIN_TIME_IN_BAND_PCT: Final = 60.0
#: A fall steeper than this (% MVC per minute, as a positive number): not held.
MAX_FALL_PCT_MVC_PER_MIN: Final = 5.0


@dataclass(frozen=True)
class HoldOutcome:
    """What the starter rule needs of one hold attempt.

    Attributes:
        rep: Hold number (1-based).
        target_pct: Target, % MVC.
        band_low_pct: Lower edge of the green band, % MVC.
        time_in_band_pct: Share of the steady part in the band, % (NaN if unknown).
        mean_pct_mvc: Mean force over the steady part, % MVC (NaN if unknown).
        drift_pct_mvc_per_min: Slope of the force, % MVC per minute (NaN if unknown).
    """

    rep: int
    target_pct: float
    band_low_pct: float
    time_in_band_pct: float = math.nan
    mean_pct_mvc: float = math.nan
    drift_pct_mvc_per_min: float = math.nan


def not_held_reason(hold: HoldOutcome, min_target_pct: float = MIN_TARGET_PCT) -> str:
    """Why this hold counts as not held, in a few plain words; ``""`` if it was held.

    Args:
        hold: The hold attempt.
        min_target_pct: Holds with a lower target are not judged. A programme that
            builds up from 20 % judges every hold it set (it passes 0).
    """
    if not hold.target_pct >= min_target_pct:
        return ""
    if (hold.time_in_band_pct < MIN_TIME_IN_BAND_PCT
            and hold.mean_pct_mvc < hold.band_low_pct):
        return "the force stayed mostly below the green band"
    if hold.drift_pct_mvc_per_min < -MAX_FALL_PCT_MVC_PER_MIN:
        return "the force kept falling during the hold"
    return ""


def starter_advice(holds: Sequence[HoldOutcome]) -> str:
    """One or two sentences suggesting the starter protocol, or ``""`` when not needed."""
    for hold in holds:
        why = not_held_reason(hold)
        if why:
            return (f"Hold {hold.rep} looked hard: {why}. If 2 minutes at this level "
                    "felt too hard, you could start with the gentler starter session "
                    f"(20 % of your maximum, \u201c{STARTER_PROTOCOL}\u201d in Settings) "
                    "and build up to 30 %. Ask your doctor or trainer if unsure.")
    return ""
