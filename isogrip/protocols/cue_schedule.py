"""Cues due at set times (countdown numbers, halfway, breathing reminders).

A repeating cue is due at ``anchor + k * every`` (k = 1, 2, ...) before ``until``;
only its next time is ever scheduled, and it is re-armed when given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from isogrip.protocols.records import Cue


@dataclass
class _Scheduled:
    record: Cue  # given as it is, at its own time
    every: float = 0.0
    anchor: float = 0.0
    k: int = 0
    until: float = math.inf


class CueSchedule:
    """The cues of the current phase, each given once at its time."""

    def __init__(self) -> None:
        self._cues: list[_Scheduled] = []

    def add(self, cue: Cue) -> None:
        """Give ``cue`` at ``cue.t``."""
        self._cues.append(_Scheduled(cue))

    def add_repeating(self, cue: Cue, *, every: float, anchor: float, until: float) -> None:
        """Give ``cue`` at ``cue.t`` (= ``anchor + every``), then every ``every`` s."""
        self._cues.append(_Scheduled(cue, every=every, anchor=anchor, k=1, until=until))

    def clear(self) -> None:
        """Drop every cue (the phase has changed)."""
        self._cues = []

    def next_time(self) -> float | None:
        """When the next cue is due, if any is."""
        return min((c.record.t for c in self._cues), default=None)

    def take_due(self, at: float, now: float) -> list[Cue]:
        """Take the cues due at or before ``at``; repeating ones are re-armed after ``now``.

        The next time of a repeating cue is the first of its own times after ``now``,
        the time the engine is advanced to: a tick after a long jump of the clock (a
        suspended laptop, a stalled event loop) gives one reminder, not every one it
        missed, and however small the interval the list holds one such cue. Regular
        ticks keep the times exact.
        """
        due = [c for c in self._cues if c.record.t <= at]
        if not due:
            return []
        self._cues = [c for c in self._cues if c.record.t > at]
        for c in due:
            self._rearm(c, now)
        return [c.record for c in due]

    def _rearm(self, cue: _Scheduled, now: float) -> None:
        if cue.every <= 0:
            return
        steps = (now - cue.anchor) / cue.every
        if not math.isfinite(steps):  # an interval too small to count in
            return
        k = max(cue.k + 1, math.floor(steps) + 1)
        t = cue.anchor + k * cue.every
        # ``t <= now`` only when the interval is lost in rounding: stop, do not spin.
        if now < t < cue.until:
            self._cues.append(replace(cue, record=replace(cue.record, t=t), k=k))
