"""The parts of a hold's metrics, for :func:`isogrip.signal.metrics.hold_metrics`.

Each function computes one group of :class:`~isogrip.signal.metrics.HoldMetrics`
fields from samples that are already finite, inside the hold and sorted by time
(:func:`hold_samples` makes them so). The rules (time weights capped at the gap
threshold, the steady part after the ramp) are described in that module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BandTimes",
    "Gaps",
    "Span",
    "SteadyStats",
    "band_times",
    "gaps",
    "hold_samples",
    "longest_excursion",
    "steady_overlap",
    "steady_stats",
]

_F64 = np.float64
#: Slack (s) on the start of the steady part so float rounding of evenly spaced
#: sample times does not drop the sample that falls exactly on it.
_EPS_S = 1e-7
_NAN = math.nan


@dataclass(frozen=True)
class Span:
    """Where a hold with samples starts and ends, and how its samples are spaced.

    Attributes:
        start: Start of the hold (s).
        end: End of the hold (s).
        t_steady: Start of the steady part, ``start + ramp`` (s).
        thr: Gap threshold (s).
        dt: Intervals between consecutive (sorted) sample times (s).
    """

    start: float
    end: float
    t_steady: float
    thr: float
    dt: NDArray[np.float64]


@dataclass(frozen=True)
class BandTimes:
    """Time-weighted band figures of the steady part, s and %.

    The fields are the ``time_in_band_s``, ``time_below_s``, ``time_above_s``,
    ``time_in_band_pct`` and ``longest_excursion_s`` of
    :class:`~isogrip.signal.metrics.HoldMetrics`.
    """

    in_band_s: float
    below_s: float
    above_s: float
    in_band_pct: float
    longest_excursion_s: float


@dataclass(frozen=True)
class Gaps:
    """Gap figures of the whole hold: ``gap_s`` and ``max_gap_s`` of HoldMetrics."""

    gap_s: float
    max_gap_s: float


@dataclass(frozen=True)
class SteadyStats:
    """Per-sample statistics of the steady part; NaN where they cannot be computed.

    Attributes:
        n: Valid samples in the steady part.
        mean: Mean force (N).
        ce: Constant error, mean of force minus target (N).
        ae: Absolute error, mean of ``|force - target|`` (N).
        rmse: Root mean square error vs target (N).
        sd: Sample standard deviation (ddof = 1) (N).
        drift: Least-squares slope of force (N/min).
    """

    n: int
    mean: float
    ce: float
    ae: float
    rmse: float
    sd: float
    drift: float


def hold_samples(ta: NDArray[np.float64], fa: NDArray[np.float64], start_s: float | None,
                 end_s: float | None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The finite samples within ``[start_s, end_s]``, sorted by time (stable)."""
    keep = np.isfinite(ta) & np.isfinite(fa)
    if start_s is not None:
        keep &= ta >= start_s
    if end_s is not None:
        keep &= ta <= end_s
    if not keep.all():
        ta, fa = ta[keep], fa[keep]
    if ta.shape[0] > 1 and bool(np.any(np.diff(ta) < 0)):
        order = np.argsort(ta, kind="stable")
        ta, fa = ta[order], fa[order]
    return ta, fa


def steady_overlap(ta: NDArray[np.float64], span: Span) -> NDArray[np.float64]:
    """Part of each sample's interval inside the steady part (s).

    Each sample stands for the time until the next one (or the end), capped at the
    gap threshold so a dropout is not credited to one sample.
    """
    n = ta.shape[0]
    nxt = np.empty(n, dtype=_F64)
    nxt[:-1] = ta[1:]
    nxt[-1] = max(span.end, float(ta[-1]))
    held_until = np.minimum(nxt, ta + span.thr)
    overlap: NDArray[np.float64] = np.clip(
        np.minimum(held_until, span.end) - np.maximum(ta, span.t_steady), 0.0, None)
    return overlap


def band_times(ta: NDArray[np.float64], fa: NDArray[np.float64], span: Span,
               band_low_n: float, band_high_n: float) -> BandTimes:
    """Time in, below and above the band over the steady part, and the longest excursion."""
    overlap = steady_overlap(ta, span)
    below = fa < band_low_n
    above = fa > band_high_n
    inband = ~(below | above)
    tib = float(overlap[inband].sum())
    t_below = float(overlap[below].sum())
    t_above = float(overlap[above].sum())
    covered = tib + t_below + t_above
    tib_pct = tib / covered * 100.0 if covered > 0 else _NAN
    longest = longest_excursion(~inband, overlap, span, covered)
    return BandTimes(tib, t_below, t_above, tib_pct, longest)


def longest_excursion(out: NDArray[np.bool_], overlap: NDArray[np.float64], span: Span,
                      covered: float) -> float:
    """Longest run of consecutive out-of-band samples (s), split at gaps.

    Without steady time covered by data (a hold shorter than the ramp, or a steady
    part that is all gap) there is nothing to judge: NaN, not a reassuring 0.
    """
    if not covered > 0:
        return _NAN
    if not out.any():
        return 0.0
    brk = np.empty(out.shape[0], dtype=bool)
    brk[0] = True
    brk[1:] = (out[1:] != out[:-1]) | (span.dt > span.thr)
    run_id = np.cumsum(brk) - 1
    runs = np.bincount(run_id, weights=np.where(out, overlap, 0.0))
    return float(runs.max())


def gaps(ta: NDArray[np.float64], span: Span) -> Gaps:
    """Every stretch without samples (edges included) longer than the threshold."""
    stretches = np.concatenate(([ta[0] - span.start], span.dt, [span.end - ta[-1]]))
    is_gap = stretches > span.thr
    gap = float((stretches[is_gap] - span.thr).sum())
    max_gap = float(stretches[is_gap].max()) if is_gap.any() else 0.0
    return Gaps(gap, max_gap)


def steady_stats(ta: NDArray[np.float64], fa: NDArray[np.float64], t_steady: float,
                 target_n: float) -> SteadyStats:
    """Mean, errors vs target, SD and least-squares drift of the steady samples."""
    steady = ta >= t_steady - _EPS_S
    fs = fa[steady]
    ns = fs.shape[0]
    if ns:
        err = fs - target_n
        mean_f = float(fs.mean())
        ce = float(err.mean())
        ae = float(np.abs(err).mean())
        rmse = float(np.sqrt(np.mean(err * err)))
    else:
        mean_f = ce = ae = rmse = _NAN
    sd = float(fs.std(ddof=1)) if ns >= 2 else _NAN
    drift = _NAN
    if ns >= 2:
        ts = ta[steady]
        tc = ts - ts.mean()
        sxx = float(np.dot(tc, tc))
        if sxx > 0:
            drift = float(np.dot(tc, fs - mean_f)) / sxx * 60.0
    return SteadyStats(ns, mean_f, ce, ae, rmse, sd, drift)
