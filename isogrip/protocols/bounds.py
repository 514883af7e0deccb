"""Sane ranges of the protocol fields that schedule something or count something.

Every duration, interval and count of a :class:`~isogrip.protocols.model.Protocol`
has a lower and an upper bound here, checked by :mod:`isogrip.protocols.loader` for
files and stored protocols alike. The bounds keep a protocol within what a session
can run: nothing is scheduled faster than the session is ticked
(:data:`MIN_STEP_S` is two ticks of :data:`isogrip.runtime.TICK_S`), reminders
cannot flood a hold, a countdown says at most ten numbers, and no duration is long
enough to be anything but minutes typed as seconds. ``docs/protocols.md`` has the
same table with the reasons.

This module is pure data (no isogrip imports), so the engine can use it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

__all__ = ["MAX_COUNTDOWN_S", "MAX_DURATION_S", "MIN_STEP_S", "RANGES", "Range",
           "out_of_range"]

#: Shortest rest, "get ready" or countdown step, s: two ticks of the session clock
#: (``isogrip.runtime.TICK_S`` = 0.05 s), so every phase is seen by at least one tick.
MIN_STEP_S: Final = 0.1
#: Longest duration accepted anywhere in a protocol, s: longer is almost surely a
#: number of minutes typed where seconds are meant.
MAX_DURATION_S: Final = 30 * 60.0
#: Longest countdown, s: it says one number per whole second ("3, 2, 1").
MAX_COUNTDOWN_S: Final = 10.0


@dataclass(frozen=True)
class Range:
    """The values one protocol field may take.

    Attributes:
        low: Smallest value allowed, inclusive.
        high: Largest value allowed, inclusive.
        off: Whether 0 is allowed as well (below ``low``): it turns the step off.
        unit: ``"s"`` for durations, else what a count counts (``"holds"``).
    """

    low: float
    high: float
    off: bool = False
    unit: str = "s"

    def allows(self, value: float) -> bool:
        """Whether ``value`` is in the range (NaN never is)."""
        return (self.off and value == 0) or self.low <= value <= self.high


#: Model attribute (``"mvc.<name>"`` for MVC settings) -> its range.
RANGES: Final = MappingProxyType({
    # [holds]
    "reps": Range(1, 20, unit="holds"),
    "hold_s": Range(1.0, MAX_DURATION_S),
    "rest_s": Range(MIN_STEP_S, MAX_DURATION_S),
    # [timing]
    "prepare_s": Range(MIN_STEP_S, MAX_DURATION_S, off=True),
    "countdown_s": Range(MIN_STEP_S, MAX_COUNTDOWN_S, off=True),
    # Only left out of the figures, never scheduled: any small value is harmless.
    "ramp_s": Range(0.0, 60.0),
    "rest_after_mvc_s": Range(MIN_STEP_S, MAX_DURATION_S, off=True),
    # More often than every 5 s would nag (and flood the event log); the longest
    # interval is the longest hold.
    "breathing_reminder_s": Range(5.0, MAX_DURATION_S, off=True),
    # [mvc]
    "mvc.trials_per_hand": Range(1, 10, unit="efforts"),
    "mvc.max_trials_per_hand": Range(1, 10, unit="efforts"),
    "mvc.effort_s": Range(1.0, 60.0),
    "mvc.rest_s": Range(MIN_STEP_S, MAX_DURATION_S),
    # Four samples at 80 Hz at the least; a window longer than 10 s is no peak.
    "mvc.window_s": Range(0.05, 10.0),
})


def out_of_range(protocol: Any) -> list[str]:
    """The fields of a protocol outside their :data:`RANGES`, as ``"name = value"``.

    The loader checks files and stored protocols with friendlier messages; this is the
    check for a protocol built in code, which the engine runs before it schedules
    anything, so that no protocol can make one tick emit an unbounded number of
    events.

    Args:
        protocol: A :class:`~isogrip.protocols.model.Protocol` (typed ``Any`` so this
            module imports nothing of isogrip's).
    """
    bad = []
    for name, allowed in RANGES.items():
        owner = protocol.mvc if name.startswith("mvc.") else protocol
        value = getattr(owner, name.removeprefix("mvc."))
        if not allowed.allows(float(value)):
            bad.append(f"{name} = {value!r}")
    return bad
