"""What a participant is shown: the display mapping of blinded (sham) protocols.

A sham protocol trains at a low true force (5 or 10 % MVC) but must look like the
active protocol (30 % MVC). Multiplying the force by a constant (6 for 5 %) would put
the target in the right place, but it multiplies the participant's tremor, sensor
noise and every correction by the same factor: on the simulated participant the
shown trace was 4-5 times as unsteady as in the active arm, and it spent a third of
the time outside the green band. That difference is itself an unblinding cue.

:class:`DisplayMap` is therefore a smooth, monotonic curve from true to shown force:

* around the target (the whole amber band and everything above it) it is a straight
  line through (true target, shown target) with a modest slope ``k`` (shown N per
  true N), so a wobble of the hand moves the marker about as much as in the active
  arm;
* below that region a cubic rises from (0, 0) with the same slope ``k`` and joins the
  line smoothly, so a resting hand reads about 0 with the usual small jitter and a
  squeeze from zero still looks like a continuous ramp;
* below zero it continues with slope ``k``.

The green band, the amber margins and the warning level a participant sees are the
active arm's values in shown % MVC (the protocol's values times ``display_scale``);
the engine judges zones and warnings on the band mapped back to true force, which is
the same thing because the curve is monotonic. Recorded data and metrics stay true
newtons. Design and measurements: ``docs/protocols.md`` (Sham protocols).

Everything here is pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from isogrip.protocols.loader import protocol_from_dict
from isogrip.protocols.model import Protocol
from isogrip.signal.metrics import HoldMetrics, hold_metrics

F64 = NDArray[np.float64]

#: The straight part of the curve reaches this multiple of the amber half-width below
#: the shown target, so the whole amber band is on the straight part.
LINEAR_MARGIN = 1.25
#: The ramp (curved) part keeps at least this fraction of the true target, so the
#: curve never becomes a step; the slope is raised when needed to keep it.
MIN_RAMP_FRACTION = 0.25


@dataclass(frozen=True)
class DisplayMap:
    """A monotonic mapping from true force to shown force (N).

    Build one with :func:`display_map`; :data:`IDENTITY` is the map of every protocol
    that shows the true force.

    Attributes:
        true_target_n: True hold target, N.
        shown_target_n: Where the target appears, N.
        slope: Shown N per true N on the straight part around the target.
        knee_n: True force where the straight part starts, N (0 for the identity).
    """

    true_target_n: float = 0.0
    shown_target_n: float = 0.0
    slope: float = 1.0
    knee_n: float = 0.0

    @property
    def is_identity(self) -> bool:
        """Whether the map shows the true force unchanged."""
        return self.slope == 1.0 and self.shown_target_n == self.true_target_n

    @property
    def _knee_shown(self) -> float:
        return self.shown_target_n - self.slope * (self.true_target_n - self.knee_n)

    def show(self, force_n: ArrayLike) -> F64:
        """Shown force for true ``force_n`` (N), element-wise."""
        f = np.asarray(force_n, dtype=np.float64)
        if self.is_identity:
            return f.copy()
        k, xk = self.slope, self.knee_n
        out = self.shown_target_n + k * (f - self.true_target_n)  # the straight part
        below = f < xk
        if np.any(below) and xk <= 0.0:
            out[below] = k * f[below]  # the straight line through zero
        elif np.any(below):
            x = f[below]
            # Cubic Hermite on [0, knee]: (0, 0) slope k to (knee, knee_shown) slope k.
            u = np.clip(x / xk, 0.0, 1.0)
            h01 = u * u * (3.0 - 2.0 * u)
            h10 = u * (1.0 - u) ** 2
            h11 = u * u * (u - 1.0)
            cubic = self._knee_shown * h01 + k * xk * (h10 + h11)
            out[below] = np.where(x < 0.0, k * x, cubic)
        return out

    def show_one(self, force_n: float) -> float:
        """Shown force for one true force, N."""
        if self.is_identity:
            return force_n
        return float(self.show(np.array([force_n]))[0])

    def true_of(self, shown_n: float) -> float:
        """The true force that is shown as ``shown_n`` (the inverse map), N."""
        if self.is_identity:
            return shown_n
        k = self.slope
        if shown_n >= self._knee_shown:
            return self.true_target_n + (shown_n - self.shown_target_n) / k
        if shown_n <= 0.0:
            return shown_n / k
        lo, hi = 0.0, self.knee_n
        for _ in range(50):  # bisection: the curve is monotonic; 50 halvings < 1e-12 N
            mid = 0.5 * (lo + hi)
            if self.show_one(mid) < shown_n:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)


IDENTITY = DisplayMap()


@dataclass(frozen=True)
class ShownBand:
    """A hold's target, band and warning level, N, as shown or as true force.

    Attributes:
        target_n: Target.
        low_n: Lower edge of the green band.
        high_n: Upper edge of the green band.
        near_low_n: Lower edge of the amber margin.
        near_high_n: Upper edge of the amber margin.
        warn_n: Warning level.
    """

    target_n: float
    low_n: float
    high_n: float
    near_low_n: float
    near_high_n: float
    warn_n: float

    def as_tuple(self) -> tuple[float, float, float, float, float]:
        """(target, green low, green high, amber low, amber high), as the engine keeps it."""
        return (self.target_n, self.low_n, self.high_n, self.near_low_n, self.near_high_n)


def shown_pct(protocol: Protocol, pct: float) -> float:
    """A protocol percentage (target, band, warning) as the participant sees it."""
    return pct * protocol.display_scale


def shown_band(protocol: Protocol, mvc_n: float) -> ShownBand:
    """The band the participant sees, in shown newtons.

    It is the active arm's band: the protocol's percentages times its display scale
    (a 5 % sham with scale 6 and green +/-0.5 % shows 30 +/- 3 %).
    """
    s = protocol.display_scale * mvc_n / 100
    p = protocol
    return ShownBand(p.target_pct * s, (p.target_pct - p.green_pct) * s,
                     (p.target_pct + p.green_pct) * s, (p.target_pct - p.amber_pct) * s,
                     (p.target_pct + p.amber_pct) * s, p.warn_above_pct * s)


def display_map(protocol: Protocol, mvc_n: float) -> DisplayMap:
    """The display mapping of ``protocol`` for a hand whose MVC is ``mvc_n`` (N).

    The slope is ``protocol.display_slope``, raised when the straight part would not
    leave room for a ramp from zero (at least :data:`MIN_RAMP_FRACTION` of the
    target) and never above ``display_scale`` (which is the straight line through
    zero, the old linear display).
    """
    scale = protocol.display_scale
    if scale == 1.0 or not (mvc_n > 0 and math.isfinite(mvc_n)):
        return IDENTITY
    target = protocol.target_pct / 100 * mvc_n
    reach = LINEAR_MARGIN * protocol.amber_pct * scale / 100 * mvc_n  # shown N below S
    k_fit = reach / ((1.0 - MIN_RAMP_FRACTION) * target)
    k = min(scale, max(protocol.display_slope, k_fit))
    if k >= scale:
        return DisplayMap(target, target * scale, scale, 0.0)  # a straight line
    return DisplayMap(target, target * scale, k, target - reach / k)


def true_band(protocol: Protocol, mvc_n: float) -> ShownBand:
    """The shown band mapped back to true force, N: what the engine judges against.

    For a protocol that shows the true force this is the protocol's own band.
    """
    m = display_map(protocol, mvc_n)
    b = shown_band(protocol, mvc_n)
    return ShownBand(*(m.true_of(v) for v in (b.target_n, b.low_n, b.high_n,
                                               b.near_low_n, b.near_high_n, b.warn_n)))


def shown_hold_metrics(protocol: Protocol, t: ArrayLike, force_n: ArrayLike, *,
                       mvc_n: float, start_s: float | None = None,
                       end_s: float | None = None) -> HoldMetrics:
    """A hold's metrics computed on the force as the participant saw it.

    These are what a participant-facing summary shows for a blinded protocol (mean
    about 30 % of the maximum, the steadiness of the shown trace); research outputs
    keep the true metrics.
    """
    m = display_map(protocol, mvc_n)
    b = shown_band(protocol, mvc_n)
    return hold_metrics(t, m.show(force_n), b.target_n, b.low_n, b.high_n,
                        protocol.ramp_s, mvc_n=mvc_n, start_s=start_s, end_s=end_s)


def participant_title(protocol: Protocol) -> str:
    """The protocol's title as a participant may see it.

    A protocol that hides its intensity is described by its timing and the intensity
    it shows ("4 x 2 min at 30 % MVC, alternating hands"), never by its own title or
    name, which say "sham" and the true intensity.
    """
    if not protocol.hide_intensity and protocol.display_scale == 1.0:
        return protocol.title or protocol.name
    hold = f"{protocol.hold_s / 60:g} min" if protocol.hold_s % 60 == 0 else \
        f"{protocol.hold_s:g} s"
    hands = {"alternating": "alternating hands", "non-dominant": "non-dominant hand",
             "left": "left hand", "right": "right hand"}[protocol.hands.value]
    pct = shown_pct(protocol, protocol.target_pct)
    return f"{protocol.reps} x {hold} at {pct:g} % MVC, {hands}"


def stored_blinded_protocol(stored: Mapping[str, Any]) -> Protocol | None:
    """The protocol a session stored, when it is a blinded one (else ``None``).

    A session stored before the display mapping existed has no ``display_slope``:
    its participant saw the force times ``display_scale``, so that straight line is
    what its summary redraws. A stored protocol that cannot be read gives ``None``
    (the summary then shows the recorded values).
    """
    if not (stored.get("hide_intensity") or stored.get("display_scale", 1.0) != 1.0):
        return None
    d = dict(stored)
    d.setdefault("display_slope", d.get("display_scale", 1.0))
    try:
        return protocol_from_dict(d)
    except ValueError:
        return None
