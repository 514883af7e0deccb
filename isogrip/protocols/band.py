"""The green band of a hold: where it lies, and feedback with hysteresis.

:func:`band_for` gives a hand's band in true newtons (for a sham, the band the
participant sees mapped back through the display curve, so zones, cues and time in
band mean what they mean in the active arm). :class:`BandTracker` turns a hold's
filtered force into "out of band" / "back in band" cues, each given only after the
force has stayed on its side for a debounce time, and one warning per hold when the
force stays above the warning level.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from isogrip.protocols import sentences as say
from isogrip.protocols.display import display_map, true_band
from isogrip.protocols.events import EventKind, Zone
from isogrip.protocols.model import Protocol
from isogrip.protocols.records import Cue, Event, SessionWarning

F64 = NDArray[np.float64]

#: Time the force must stay outside the green band before "out of band" is reported, s.
OUT_OF_BAND_DEBOUNCE_S = 1.0
#: Time the force must be back in the band before "back in band" is reported, s.
BACK_IN_BAND_DEBOUNCE_S = 0.5
#: Time above the warning level before the warning is given, s.
WARN_DEBOUNCE_S = 1.0


@dataclass(frozen=True)
class Band:
    """A hold's target and band edges, true N."""

    target_n: float
    low_n: float
    high_n: float
    near_low_n: float
    near_high_n: float

    def zone(self, force_n: float) -> Zone:
        """Where ``force_n`` lies relative to the band."""
        if force_n < self.near_low_n:
            return Zone.LOW
        if force_n < self.low_n:
            return Zone.NEAR_LOW
        if force_n <= self.high_n:
            return Zone.IN_BAND
        if force_n <= self.near_high_n:
            return Zone.NEAR_HIGH
        return Zone.HIGH


def band_for(protocol: Protocol, mvc_n: float) -> Band:
    """The band of a hand whose MVC is ``mvc_n``, true N."""
    if not display_map(protocol, mvc_n).is_identity:
        b = true_band(protocol, mvc_n)
        return Band(*b.as_tuple())
    p = protocol
    return Band(
        p.target_pct / 100 * mvc_n,
        (p.target_pct - p.green_pct) / 100 * mvc_n,
        (p.target_pct + p.green_pct) / 100 * mvc_n,
        (p.target_pct - p.amber_pct) / 100 * mvc_n,
        (p.target_pct + p.amber_pct) / 100 * mvc_n,
    )


def warn_level_for(protocol: Protocol, mvc_n: float) -> float:
    """The warning level of a hand, true N (a sham's shown level mapped back)."""
    if not display_map(protocol, mvc_n).is_identity:
        return true_band(protocol, mvc_n).warn_n
    return protocol.warn_above_pct / 100 * mvc_n


class BandTracker:
    """Feedback about the band during one hold (started again at each go cue).

    Args:
        protocol: The protocol (ramp time, warning level as shown).
    """

    def __init__(self, protocol: Protocol) -> None:
        self._protocol = protocol
        self._band = Band(math.nan, math.nan, math.nan, math.nan, math.nan)
        self._warn_n = math.inf
        self._judged_from = 0.0
        self._side = 0  # -1 low, 0 in band, +1 high (filtered force)
        self._side_since = 0.0
        self._reported_side = 0
        self._above_since: float | None = None
        self._warned = False

    def start(self, t: float, band: Band, warn_n: float) -> None:
        """A hold starts at ``t`` (its go cue): nothing reported yet."""
        self._band, self._warn_n = band, warn_n
        self._judged_from = t + self._protocol.ramp_s  # the ramp is not judged
        self._side, self._side_since, self._reported_side = 0, t, 0
        self._above_since, self._warned = None, False

    def feed(self, t: F64, ff: F64, out: list[Event]) -> None:
        """Judge a batch of filtered force ``ff`` at times ``t``; cues go to ``out``."""
        band = self._band
        lo, hi = float(ff.min()), float(ff.max())
        judged = t[0] >= self._judged_from
        if judged and band.low_n <= lo and hi <= band.high_n and hi <= self._warn_n:
            # The common case: the whole batch is in the band.
            if self._side != 0:
                self._side, self._side_since = 0, float(t[0])
            self._report(float(t[-1]), out)
            self._above_since = None
            return
        side = (ff > band.high_n).astype(np.int8) - (ff < band.low_n).astype(np.int8)
        if not judged:
            side[t < self._judged_from] = 0
        # Segments of constant side; a handful per batch at most (filtered force).
        bounds = np.concatenate(([0], np.flatnonzero(np.diff(side)) + 1, [len(side)]))
        for s, e in itertools.pairwise(bounds):
            c = int(side[s])
            if c != self._side:
                self._side, self._side_since = c, float(t[s])
            self._report(float(t[e - 1]), out)
        self._warn(t, ff > self._warn_n, out)

    def _warn(self, t: F64, above: NDArray[np.bool_], out: list[Event]) -> None:
        """Warn once per hold when the force stays above the warning level."""
        if not above[-1]:
            self._above_since = None
            return
        below = np.flatnonzero(~above)
        if below.size:
            self._above_since = float(t[below[-1] + 1])
        elif self._above_since is None:
            self._above_since = float(t[0])
        if not self._warned and float(t[-1]) - self._above_since >= WARN_DEBOUNCE_S:
            self._warned = True
            p = self._protocol
            out.append(SessionWarning(
                t=self._above_since + WARN_DEBOUNCE_S,
                # Shown as the participant sees it, so a sham stays blind.
                message=say.above_warning_level(p.warn_above_pct * p.display_scale),
                reason="above_warn_level", warn_above_pct=p.warn_above_pct,
            ))

    def _report(self, seg_end: float, out: list[Event]) -> None:
        c = self._side
        if c == self._reported_side:
            return
        wait = BACK_IN_BAND_DEBOUNCE_S if c == 0 else OUT_OF_BAND_DEBOUNCE_S
        if seg_end - self._side_since < wait:
            return
        self._reported_side = c
        at = self._side_since + wait
        if c == 0:
            out.append(Cue(t=at, cue=EventKind.BACK_IN_BAND, message=say.BACK_IN_BAND))
        else:
            out.append(Cue(t=at, cue=EventKind.OUT_OF_BAND,
                           message=say.TOO_LIGHT if c < 0 else say.TOO_HARD,
                           side="low" if c < 0 else "high"))
