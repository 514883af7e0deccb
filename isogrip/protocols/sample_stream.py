"""What the engine knows of the sample stream: its rhythm, its last sample, its gaps.

A gap is silence longer than the gap rule (:func:`isogrip.signal.metrics.gap_threshold`)
of the nominal sample interval and the typical interval between batches, so devices
that send many samples per notification are not taken to be silent between them.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from isogrip.protocols import sentences as say
from isogrip.protocols.records import Event, GapEnded, GapStarted
from isogrip.signal.metrics import gap_threshold

F64 = NDArray[np.float64]

#: Forces beyond this magnitude are not physical readings and are ignored, N.
MAX_FORCE_N = 1e6


class SampleStream:
    """The rhythm and the gaps of the samples fed to the engine.

    Args:
        sample_rate_hz: The device's nominal sample rate.
    """

    def __init__(self, sample_rate_hz: float) -> None:
        self.sample_dt = 1.0 / sample_rate_hz if sample_rate_hz > 0 else 0.0
        self.batch_dt = 0.0  # smoothed interval between batches, s
        self.last_t: float | None = None
        self.in_gap = False
        self._gap_start = 0.0

    @property
    def threshold_s(self) -> float:
        """Silence that counts as a gap now, s."""
        return gap_threshold(self.sample_dt, self.batch_dt)

    def clean(self, ta: F64, fa: F64) -> tuple[F64, F64]:
        """The batch without unusable samples, its times kept monotonic."""
        # One cheap check for the usual all-good batch (NaN fails the comparison).
        if not (float(np.abs(fa).max()) < MAX_FORCE_N and math.isfinite(float(ta.sum()))):
            ok = np.isfinite(ta) & (np.abs(fa) < MAX_FORCE_N)
            ta, fa = ta[ok], fa[ok]
        if ta.size and self.last_t is not None and ta[0] < self.last_t:
            # Late or out-of-order samples: keep the engine's time monotonic.
            ta = np.maximum(ta, self.last_t)
        return ta, fa

    def arrived(self, t_first: float, out: list[Event]) -> None:
        """Samples from ``t_first`` on have arrived: a gap, if one ran, ends."""
        if self.in_gap:
            self.in_gap = False
            out.append(GapEnded(t=t_first, message=say.GAP_ENDED,
                                duration_s=t_first - self._gap_start))

    def batch_done(self, t_last: float) -> None:
        """A batch ending at ``t_last`` has been taken in."""
        if self.last_t is not None:
            dt = t_last - self.last_t
            if 0.0 < dt < 2.0:  # silences are gaps, not the device's rhythm
                self.batch_dt = dt if self.batch_dt == 0.0 else 0.9 * self.batch_dt + 0.1 * dt
        self.last_t = t_last

    def effort_started(self, t: float) -> None:
        """An effort starts at ``t``: silence from here on is a gap."""
        if not self.in_gap:  # a gap running across efforts keeps its start
            self._gap_start = t
        if self.last_t is None or self.last_t < t - self.threshold_s:
            self.last_t = t  # as if a sample arrived at the cue

    def resumed(self, t: float) -> None:
        """The session resumes at ``t``: the pause was no gap."""
        self.last_t = max(self.last_t or t, t)

    def check(self, t: float, out: list[Event]) -> None:
        """At ``t`` during an effort: report a gap that has just begun."""
        if self.in_gap or self.last_t is None or t - self.last_t <= self.threshold_s:
            return
        self.in_gap = True
        self._gap_start = self.last_t
        out.append(GapStarted(t=t, message=say.GAP_STARTED, since_s=self.last_t))
