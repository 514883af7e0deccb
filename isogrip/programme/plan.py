"""The numbers a training programme is started with, each checked and traced to a source.

Defaults (docs/science.md, "The programme"): a baseline week of home blood pressure
before any training (ESH 2021 home-monitoring protocol), then 8 weeks of 3 sessions a
week (ACC/AHA 2017: 3 a week for 8-10 weeks), then maintenance at 1 session a week
(Cohen et al. 2023: once a week kept the effect after 12 weeks). Blood pressure is
measured again every 4 weeks and at the end of training. The target is 30 % MVC and
never more (Baffour-Awuah et al. 2023); a person who cannot hold 2 minutes at 30 %
starts at 20 % and steps up 5 % at a time, never below 15 %.

A plan is stored with its programme as JSON (:meth:`ProgrammePlan.to_json`), so a
programme keeps the rules it was started with when a later isogrip changes a default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from isogrip.errors import IsogripError

#: The intensity cap: never train above 30 % MVC (SCIENCE.md, Baffour-Awuah 2023).
INTENSITY_CAP_PCT: Final = 30.0


class ProgrammeError(IsogripError, ValueError):
    """A programme cannot be started or read as asked (the message says why)."""


#: Each number's allowed range and what it is, for the one-line message on bad input.
_RANGES: Final[dict[str, tuple[float, float, str]]] = {
    "baseline_weeks": (1, 4, "baseline blood-pressure weeks"),
    "training_weeks": (1, 52, "training weeks"),
    "sessions_per_week": (1, 7, "sessions a week"),
    "maintenance_sessions_per_week": (0, 7, "maintenance sessions a week"),
    "bp_every_weeks": (1, 52, "weeks between blood-pressure weeks"),
    "target_pct": (5, INTENSITY_CAP_PCT, "target intensity (% MVC)"),
    "starter_pct": (5, INTENSITY_CAP_PCT, "starter intensity (% MVC)"),
    "floor_pct": (5, INTENSITY_CAP_PCT, "lowest intensity (% MVC)"),
    "step_pct": (1, 15, "intensity step (% MVC)"),
    "held_to_step_up": (1, 10, "sessions held well before a step up"),
    "not_held_to_step_down": (1, 10, "sessions not held before a step down"),
}


@dataclass(frozen=True)
class ProgrammePlan:
    """A training programme's rules.

    Attributes:
        protocol_name: The session protocol trained with (its timing; the programme
            sets the target intensity).
        baseline_weeks: Weeks of home blood pressure before training starts.
        training_weeks: Training weeks (a missed week adds one; see
            :mod:`isogrip.programme.review`).
        sessions_per_week: Sessions planned in a training week.
        maintenance_sessions_per_week: Sessions a week once training is done.
        bp_every_weeks: A blood-pressure week every this many training weeks (and the
            last training week always is one).
        target_pct: The intensity trained at once built up, % MVC (at most 30).
        starter_pct: Where a person starts who could not hold the target, % MVC.
        floor_pct: The lowest intensity the programme steps down to, % MVC.
        step_pct: One step up or down, % MVC.
        held_to_step_up: Sessions in a row held well before a step up.
        not_held_to_step_down: Sessions in a row not held before a step down.
    """

    protocol_name: str = "ihg-4x2-30-alternating"
    baseline_weeks: int = 1
    training_weeks: int = 8
    sessions_per_week: int = 3
    maintenance_sessions_per_week: int = 1
    bp_every_weeks: int = 4
    target_pct: float = INTENSITY_CAP_PCT
    starter_pct: float = 20.0
    floor_pct: float = 15.0
    step_pct: float = 5.0
    held_to_step_up: int = 2
    not_held_to_step_down: int = 2

    def __post_init__(self) -> None:
        for name, (low, high, what) in _RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ProgrammeError(f"{what} must be a number, got {value!r}")
            if not low <= value <= high:
                raise ProgrammeError(f"{what} must be from {low:g} to {high:g}, "
                                     f"got {value:g}")
            if _is_count(name) and value != int(value):
                raise ProgrammeError(f"{what} must be a whole number, got {value:g}")
        if not self.floor_pct <= self.starter_pct <= self.target_pct:
            raise ProgrammeError(
                f"the intensities must rise from the lowest ({self.floor_pct:g} %) to the "
                f"starter ({self.starter_pct:g} %) to the target ({self.target_pct:g} %)")

    def to_json(self) -> dict[str, Any]:
        """The plan as a JSON-ready mapping (every field)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProgrammePlan:
        """A plan from :meth:`to_json` (unknown keys are refused, missing ones default).

        Raises:
            ProgrammeError: A key is unknown or a value is out of range.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ProgrammeError(f"unknown programme setting {unknown[0]!r}")
        counts = {k: int(v) for k, v in data.items()
                  if _is_count(k) and isinstance(v, int | float) and v == int(v)}
        return cls(**{**data, **counts})


def _is_count(name: str) -> bool:
    return not name.endswith("_pct")
