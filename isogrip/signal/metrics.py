"""Metrics of one sustained hold (SCIENCE.md "Metrics from a hold").

The first ``ramp_s`` seconds after the go cue are the ramp up to the target and are
left out of every accuracy and steadiness figure; only the impulse and the peak use
the whole hold. Times in or out of the band are time-weighted (each sample holds until
the next one, but never longer than the gap threshold), so irregular sampling and
dropouts are handled; means, errors and the SD are plain per-sample statistics of the
steady part. See docs/signal.md for the table of metrics.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from isogrip.signal.hold_parts import (
    BandTimes,
    Span,
    SteadyStats,
    band_times,
    gaps,
    hold_samples,
    steady_stats,
)

__all__ = [
    "DEFAULT_RAMP_S",
    "GAP_NOTIFICATIONS",
    "GAP_SAMPLE_INTERVALS",
    "MIN_GAP_THRESHOLD_S",
    "HoldMetrics",
    "gap_threshold",
    "hold_metrics",
]

#: Ramp excluded from the steady part (s): "excluding the first ~3 s" (SCIENCE.md).
DEFAULT_RAMP_S = 3.0
#: Smallest gap threshold (s), whatever the sample rate (see :func:`gap_threshold`).
MIN_GAP_THRESHOLD_S = 0.25
#: A stretch without samples longer than this many sample intervals is a gap.
GAP_SAMPLE_INTERVALS = 5.0
#: ... or, judged on arrival, longer than this many intervals between notifications.
GAP_NOTIFICATIONS = 3.0

_F64 = np.float64
_NAN = math.nan


@dataclass(frozen=True)
class HoldMetrics:
    """Metrics of one hold. NaN marks a value that cannot be computed.

    The "steady part" runs from ``start + ramp_s`` to the end of the hold. "% MVC"
    values are NaN when no MVC was given.

    Attributes:
        duration_s: Length of the hold, end minus start (s).
        n_samples: Valid samples within the hold (count).
        n_steady: Valid samples in the steady part (count).
        steady_s: Length of the steady part, end minus (start + ramp) (s); 0 for a
            hold shorter than the ramp, which has no steady part.
        time_in_band_pct: Time in the band as a percentage of the steady time covered
            by data (%); gaps are excluded from both numerator and denominator.
        time_in_band_s: Steady time with force within [band low, band high] (s).
        time_below_s: Steady time with force below the band (s).
        time_above_s: Steady time with force above the band (s).
        mean_force_n: Mean force over the steady part (N).
        mean_pct_mvc: Mean force over the steady part (% MVC).
        constant_error_n: Mean signed error, force minus target; negative means
            under target (N).
        constant_error_pct_mvc: Constant error (% MVC).
        absolute_error_n: Mean absolute error vs target (N).
        absolute_error_pct_mvc: Absolute error (% MVC).
        rmse_n: Root mean square error vs target (N).
        rmse_pct_mvc: RMSE (% MVC).
        sd_n: Sample standard deviation of force (ddof = 1) over the steady part (N).
        sd_pct_mvc: SD (% MVC).
        cv_mean_pct: Coefficient of variation SD / mean force x 100 (CVM, %).
        cv_target_pct: Coefficient of variation SD / target x 100 (CVT, %).
        drift_n_per_min: Least-squares slope of force over the steady part (N/min);
            negative when force fades.
        drift_pct_mvc_per_min: The same slope (% MVC per minute).
        impulse_ns: Trapezoidal force-time integral over the whole hold (N*s).
        peak_n: Highest force over the whole hold (N).
        longest_excursion_s: Longest continuous time out of the band in the steady
            part (s); a gap ends an excursion. NaN when no steady time is covered by
            data (a hold shorter than the ramp, or a steady part that is all gap).
        gap_s: Hold time not covered by data (s): each stretch without samples
            (between samples, from the start to the first sample, from the last
            sample to the end) longer than the gap threshold adds its excess over the
            threshold; with no samples at all, the whole hold.
        max_gap_s: Full length of the longest stretch without samples that counted as
            a gap (s); 0 when there was none.
        gap_threshold_s: Gap threshold used (s).
    """

    duration_s: float
    n_samples: int
    n_steady: int
    steady_s: float
    time_in_band_pct: float
    time_in_band_s: float
    time_below_s: float
    time_above_s: float
    mean_force_n: float
    mean_pct_mvc: float
    constant_error_n: float
    constant_error_pct_mvc: float
    absolute_error_n: float
    absolute_error_pct_mvc: float
    rmse_n: float
    rmse_pct_mvc: float
    sd_n: float
    sd_pct_mvc: float
    cv_mean_pct: float
    cv_target_pct: float
    drift_n_per_min: float
    drift_pct_mvc_per_min: float
    impulse_ns: float
    peak_n: float
    longest_excursion_s: float
    gap_s: float
    max_gap_s: float
    gap_threshold_s: float

    def as_dict(self) -> dict[str, float | int]:
        """All fields as a flat ``{name: value}`` dict (NaN stays NaN), for JSON."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def gap_threshold(sample_interval_s: float, notification_interval_s: float = 0.0) -> float:
    """The gap rule: the longest stretch without samples that still counts as data, s.

    ``max(0.25 s, 5 x the median sample interval, 3 x the notification interval)``.
    Hold metrics, the live "no data" alert of the protocol engine and the exports all
    use it, so a dropout is a gap (or not) everywhere alike: 0.25 s up to 200 Hz, 5
    intervals below that (0.5 s at 10 Hz). The notification term is only known where
    samples are judged as they arrive (the engine): a device that sends many samples
    per notification is silent between notifications as a matter of course.

    Args:
        sample_interval_s: Median interval between sample times, s (NaN or <= 0 when
            unknown: only the other terms count).
        notification_interval_s: Typical interval between notifications, s (0 when
            not known).

    Returns:
        The threshold, s.

    Example:
        >>> gap_threshold(1 / 80), gap_threshold(1 / 1000), gap_threshold(0.1)
        (0.25, 0.25, 0.5)
    """
    thr = MIN_GAP_THRESHOLD_S
    if sample_interval_s > 0 and math.isfinite(sample_interval_s):
        thr = max(thr, GAP_SAMPLE_INTERVALS * sample_interval_s)
    if notification_interval_s > 0 and math.isfinite(notification_interval_s):
        thr = max(thr, GAP_NOTIFICATIONS * notification_interval_s)
    return thr


def _pct(value: float, ref: float | None) -> float:
    """``value`` as a percentage of ``ref``; NaN without a usable reference."""
    if ref is None or not math.isfinite(ref) or ref == 0:
        return _NAN
    return value / ref * 100.0


def _empty(duration: float, steady: float, gap: float, thr: float) -> HoldMetrics:
    return HoldMetrics(
        duration_s=duration,
        n_samples=0,
        n_steady=0,
        steady_s=steady,
        time_in_band_pct=_NAN,
        time_in_band_s=0.0,
        time_below_s=0.0,
        time_above_s=0.0,
        mean_force_n=_NAN,
        mean_pct_mvc=_NAN,
        constant_error_n=_NAN,
        constant_error_pct_mvc=_NAN,
        absolute_error_n=_NAN,
        absolute_error_pct_mvc=_NAN,
        rmse_n=_NAN,
        rmse_pct_mvc=_NAN,
        sd_n=_NAN,
        sd_pct_mvc=_NAN,
        cv_mean_pct=_NAN,
        cv_target_pct=_NAN,
        drift_n_per_min=_NAN,
        drift_pct_mvc_per_min=_NAN,
        impulse_ns=_NAN,
        peak_n=_NAN,
        longest_excursion_s=_NAN,
        gap_s=gap,
        max_gap_s=gap,
        gap_threshold_s=thr,
    )


def hold_metrics(
    t: ArrayLike,
    force_n: ArrayLike,
    target_n: float,
    band_low_n: float,
    band_high_n: float,
    ramp_s: float = DEFAULT_RAMP_S,
    *,
    mvc_n: float | None = None,
    start_s: float | None = None,
    end_s: float | None = None,
    gap_threshold_s: float | None = None,
) -> HoldMetrics:
    """Compute the metrics of one hold.

    Samples outside ``[start_s, end_s]`` and samples with a non-finite time or force
    are dropped. Bad or missing data never raises: values that cannot be computed are
    NaN.

    Args:
        t: Sample times (s), on the same clock as ``start_s`` and ``end_s``.
        force_n: Forces (N), one per time.
        target_n: Target force (N).
        band_low_n: Lower edge of the green band (N), inclusive.
        band_high_n: Upper edge of the green band (N), inclusive.
        ramp_s: Ramp after the start excluded from the steady part (s).
        mvc_n: The MVC (N) for "% MVC" values; ``None`` makes them NaN.
        start_s: Start of the hold, the go cue (s); defaults to the first sample time.
        end_s: End of the hold (s); defaults to the last sample time.
        gap_threshold_s: Longest interval a sample may stand for (s); defaults to
            the gap rule, :func:`gap_threshold` of the median sample interval.

    Returns:
        The :class:`HoldMetrics`.

    Raises:
        ValueError: ``t`` and ``force_n`` differ in length, the band is inverted,
            ``ramp_s`` is negative or ``gap_threshold_s`` is not positive.
    """
    ta = np.asarray(t, dtype=_F64).reshape(-1)
    fa = np.asarray(force_n, dtype=_F64).reshape(-1)
    _check_hold_args(ta, fa, band_low_n, band_high_n, ramp_s, gap_threshold_s)
    ta, fa = hold_samples(ta, fa, start_s, end_s)
    if ta.shape[0] == 0:
        return _no_samples(start_s, end_s, ramp_s, gap_threshold_s)
    span = _span(ta, start_s, end_s, ramp_s, gap_threshold_s)
    band = band_times(ta, fa, span, band_low_n, band_high_n)
    steady = steady_stats(ta, fa, span.t_steady, target_n)
    return _assemble(ta, fa, span, band, steady, target_n, mvc_n)


def _check_hold_args(ta: NDArray[np.float64], fa: NDArray[np.float64], band_low_n: float,
                     band_high_n: float, ramp_s: float,
                     gap_threshold_s: float | None) -> None:
    """Raise the :func:`hold_metrics` argument errors, in the order it documents."""
    if ta.shape != fa.shape:
        raise ValueError(f"t has {ta.shape[0]} samples but force has {fa.shape[0]}")
    if not band_low_n <= band_high_n:
        raise ValueError(f"band low {band_low_n!r} N is above band high {band_high_n!r} N")
    if not (math.isfinite(ramp_s) and ramp_s >= 0):
        raise ValueError(f"ramp_s must be >= 0, got {ramp_s!r}")
    if gap_threshold_s is not None and not (gap_threshold_s > 0):
        raise ValueError(f"gap_threshold_s must be positive, got {gap_threshold_s!r}")


def _no_samples(start_s: float | None, end_s: float | None, ramp_s: float,
                gap_threshold_s: float | None) -> HoldMetrics:
    """The metrics of a hold without a single valid sample: all of it is gap."""
    start = _NAN if start_s is None else float(start_s)
    end = _NAN if end_s is None else float(end_s)
    duration = end - start
    thr = MIN_GAP_THRESHOLD_S if gap_threshold_s is None else float(gap_threshold_s)
    steady_s = max(0.0, duration - ramp_s) if math.isfinite(duration) else _NAN
    return _empty(duration, steady_s, duration, thr)


def _span(ta: NDArray[np.float64], start_s: float | None, end_s: float | None, ramp_s: float,
          gap_threshold_s: float | None) -> Span:
    """The hold's :class:`Span`; ``ta`` is sorted and not empty."""
    start = float(ta[0]) if start_s is None else float(start_s)
    end = float(ta[-1]) if end_s is None else float(end_s)
    dt = np.diff(ta)
    if gap_threshold_s is not None:
        thr = float(gap_threshold_s)
    else:
        thr = gap_threshold(float(np.median(dt)) if ta.shape[0] > 1 else math.nan)
    return Span(start, end, start + ramp_s, thr, dt)


def _assemble(ta: NDArray[np.float64], fa: NDArray[np.float64], span: Span,
              band: BandTimes, steady: SteadyStats, target_n: float,
              mvc_n: float | None) -> HoldMetrics:
    """Put the parts together, adding the whole-hold figures and the "% MVC" values."""
    n = ta.shape[0]
    gap_info = gaps(ta, span)
    return HoldMetrics(
        duration_s=span.end - span.start,
        n_samples=n,
        n_steady=steady.n,
        steady_s=max(0.0, span.end - span.t_steady),
        time_in_band_pct=band.in_band_pct,
        time_in_band_s=band.in_band_s,
        time_below_s=band.below_s,
        time_above_s=band.above_s,
        mean_force_n=steady.mean,
        mean_pct_mvc=_pct(steady.mean, mvc_n),
        constant_error_n=steady.ce,
        constant_error_pct_mvc=_pct(steady.ce, mvc_n),
        absolute_error_n=steady.ae,
        absolute_error_pct_mvc=_pct(steady.ae, mvc_n),
        rmse_n=steady.rmse,
        rmse_pct_mvc=_pct(steady.rmse, mvc_n),
        sd_n=steady.sd,
        sd_pct_mvc=_pct(steady.sd, mvc_n),
        cv_mean_pct=_pct(steady.sd, steady.mean) if steady.mean > 0 else _NAN,
        cv_target_pct=_pct(steady.sd, target_n) if target_n > 0 else _NAN,
        drift_n_per_min=steady.drift,
        drift_pct_mvc_per_min=_pct(steady.drift, mvc_n),
        # Trapezoidal impulse and the peak use the whole hold, ramp included.
        impulse_ns=float(np.sum(0.5 * (fa[1:] + fa[:-1]) * span.dt)) if n > 1 else 0.0,
        peak_n=float(fa.max()),
        longest_excursion_s=band.longest_excursion_s,
        gap_s=gap_info.gap_s,
        max_gap_s=gap_info.max_gap_s,
        gap_threshold_s=span.thr,
    )
