"""Maximal voluntary contraction (MVC): scoring single efforts and judging a set.

Method (SCIENCE.md "Measuring MVC", details in docs/signal.md):

* Each trial is scored as the maximum of a short, time-based moving average (0.5 s by
  default) because single-sample peaks at 80-250 Hz are spike-prone; the raw peak is
  kept too.
* The session MVC is the best (maximum) plausible trial, the most reliable score
  (Roberts et al. 2011, Age Ageing, doi:10.1093/ageing/afr051).
* Because the minimal detectable change of grip strength is ~15-20 %, two best trials
  more than ~10 % apart deserve another trial; and since the best attempt is often the
  2nd or 3rd (Reijnierse 2017), a set whose last trial was its best may still be
  rising, so another trial is offered then too.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from isogrip.signal.units import KGF_N

__all__ = [
    "DEFAULT_FLOOR_N",
    "DEFAULT_WINDOW_S",
    "RFD_MIN_RATE_HZ",
    "RFD_WINDOW_S",
    "MvcAssessment",
    "MvcFlag",
    "TrialScore",
    "assess_mvc",
    "moving_average",
    "score_trial",
]

#: Moving-average window used to score a trial (s).
DEFAULT_WINDOW_S = 0.5
#: Lowest score taken as a real maximal effort (N): 2 kg, far below any adult's grip
#: but above what an idle or unloaded device reads.
DEFAULT_FLOOR_N = 2 * KGF_N
#: Rate of force development needs fast sampling to mean anything (SCIENCE.md).
RFD_MIN_RATE_HZ = 500.0
#: Window over which the rate of force development is measured (s).
RFD_WINDOW_S = 0.020

_F64 = np.float64
#: Slack (s) for window edges, so float rounding of evenly spaced times neither drops
#: the first full window nor lets a sample exactly one window back into it. Far below
#: any sample interval (1 ms at 1 kHz).
_EPS_S = 1e-7


@dataclass(frozen=True)
class TrialScore:
    """The score of one maximal effort.

    Attributes:
        score_n: Maximum of the moving average (N); NaN without data.
        raw_peak_n: Highest single sample (N); NaN without data.
        time_to_peak_s: Time from the effort start to the raw peak (s).
        t_peak_s: Absolute time of the moving-average peak (s): the end of the best
            window.
        n_samples: Number of valid (finite) samples used.
        plausible: Whether the score looks like a real maximal effort.
        message: Empty when plausible; otherwise a sentence for the user.
        rfd_n_per_s: Peak rate of force development over 20 ms (N/s), only for
            traces sampled at 500 Hz or faster; otherwise ``None``.
    """

    score_n: float
    raw_peak_n: float
    time_to_peak_s: float
    t_peak_s: float
    n_samples: int
    plausible: bool
    message: str = ""
    rfd_n_per_s: float | None = None


def _clean(t: ArrayLike, force_n: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """1-D float arrays with non-finite samples dropped, sorted by time."""
    ta = np.asarray(t, dtype=_F64).reshape(-1)
    fa = np.asarray(force_n, dtype=_F64).reshape(-1)
    if ta.shape != fa.shape:
        raise ValueError(f"t has {ta.shape[0]} samples but force has {fa.shape[0]}")
    ok = np.isfinite(ta) & np.isfinite(fa)
    if not ok.all():
        ta, fa = ta[ok], fa[ok]
    if ta.shape[0] > 1 and bool(np.any(np.diff(ta) < 0)):
        order = np.argsort(ta, kind="stable")
        ta, fa = ta[order], fa[order]
    return ta, fa


def moving_average(
    t: NDArray[np.float64], x: NDArray[np.float64], window_s: float
) -> NDArray[np.float64]:
    """Time-based trailing moving average.

    Element ``i`` is the mean of the samples with times in ``(t[i] - window_s, t[i]]``,
    so irregular sampling and gaps are handled (a sample exactly ``window_s`` before
    ``t[i]``, within 0.1 us, is outside the window). Computed with a cumulative sum and a
    binary search: O(n log n), no Python loop.

    Args:
        t: Sample times (s), non-decreasing.
        x: Values, same length as ``t``.
        window_s: Window length (s), > 0.

    Returns:
        The moving average, same length as ``x``.
    """
    n = t.shape[0]
    if n == 0:
        return np.empty(0, dtype=_F64)
    # Subtract the first value before summing so long traces keep their precision.
    ref = x[0]
    cs = np.concatenate(([0.0], np.cumsum(x - ref)))
    rel = t - t[0]  # small magnitudes keep the edge arithmetic exact
    lo = np.searchsorted(rel, rel - window_s + _EPS_S, side="right")
    hi = np.arange(1, n + 1)
    out: NDArray[np.float64] = (cs[hi] - cs[lo]) / (hi - lo) + ref
    return out


def _kg(value_n: float) -> str:
    return f"{value_n / KGF_N:.1f} kg"


def score_trial(
    t: ArrayLike,
    force_n: ArrayLike,
    *,
    window_s: float = DEFAULT_WINDOW_S,
    floor_n: float = DEFAULT_FLOOR_N,
    t_start: float | None = None,
) -> TrialScore:
    """Score one maximal effort.

    The score is the maximum of a time-based moving average of length ``window_s``,
    taken only where a full window fits inside the trace; a trace shorter than the
    window is scored by its overall mean. NaN samples are ignored. Bad input never
    raises: an empty trace gives an implausible score with a message.

    Args:
        t: Sample times (s).
        force_n: Forces (N), one per time.
        window_s: Moving-average window (s).
        floor_n: Scores below this (N) are implausible as a maximal effort.
        t_start: Start of the effort (s), for time to peak; defaults to the first
            sample time.

    Returns:
        The :class:`TrialScore`.

    Raises:
        ValueError: ``window_s`` is not positive, or ``t`` and ``force_n`` differ in
            length.
    """
    if not (math.isfinite(window_s) and window_s > 0):
        raise ValueError(f"window_s must be positive, got {window_s!r}")
    ta, fa = _clean(t, force_n)
    n = ta.shape[0]
    if n == 0:
        return _NO_DATA
    start = float(ta[0]) if t_start is None else float(t_start)
    i_raw = int(np.argmax(fa))
    best = _best_window(ta, fa, window_s)
    plausible = best.score_n >= floor_n
    return TrialScore(
        score_n=best.score_n,
        raw_peak_n=float(fa[i_raw]),
        time_to_peak_s=float(ta[i_raw]) - start,
        t_peak_s=best.t_peak_s,
        n_samples=n,
        plausible=plausible,
        message="" if plausible else _too_weak(best.score_n, floor_n),
        rfd_n_per_s=_peak_rfd(ta, fa),
    )


#: The score of an effort without a single valid sample.
_NO_DATA = TrialScore(math.nan, math.nan, math.nan, math.nan, 0, False, (
    "No force was recorded during that effort. Check that the device is connected and "
    "switched on, then try again."))


@dataclass(frozen=True)
class _Window:
    """The best moving-average window of a trace: its mean and its end time."""

    score_n: float
    t_peak_s: float


def _best_window(ta: NDArray[np.float64], fa: NDArray[np.float64], window_s: float) -> _Window:
    """The highest moving average over a full window (the mean of a shorter trace)."""
    if ta[-1] - ta[0] < window_s - _EPS_S:
        return _Window(float(fa.mean()), float(ta[-1]))
    ma = moving_average(ta, fa, window_s)
    # Only windows that fit inside the trace count: an early partial window is a
    # mean of fewer samples and would favour a single spike.
    first = int(np.searchsorted(ta, ta[0] + window_s - _EPS_S, side="left"))
    i_ma = first + int(np.argmax(ma[first:]))
    return _Window(float(ma[i_ma]), float(ta[i_ma]))


def _too_weak(score_n: float, floor_n: float) -> str:
    """The message for a score below the plausibility floor."""
    return (f"That effort peaked at {_kg(score_n)}, below the {_kg(floor_n)} a maximal "
            "squeeze reaches. Squeeze as hard as you can and try again.")


def _peak_rfd(t: NDArray[np.float64], f: NDArray[np.float64]) -> float | None:
    """Peak rate of force development over a 20 ms window, or None if too slow."""
    if t.shape[0] < 3:
        return None
    dt = float(np.median(np.diff(t)))
    if not (dt > 0 and 1.0 / dt >= RFD_MIN_RATE_HZ * (1 - 1e-9)):
        return None
    ok = t - RFD_WINDOW_S >= t[0] - _EPS_S
    if not ok.any():
        return None
    tt = t[ok]
    # Force 20 ms earlier, interpolated so the window is exact at any sample rate.
    earlier = np.interp(tt - RFD_WINDOW_S, t, f)
    return float(np.max((f[ok] - earlier) / RFD_WINDOW_S))


class MvcFlag(enum.StrEnum):
    """Why a set of MVC trials deserves another trial."""

    #: The best two plausible scores differ by more than the allowed percentage.
    DISAGREE = "disagree"
    #: The most recent trial beat the best earlier one by more than the allowed
    #: margin, so strength may still be rising.
    LAST_BEST = "last_best"
    #: No trial looked like a maximal effort.
    NONE_PLAUSIBLE = "none_plausible"


@dataclass(frozen=True)
class MvcAssessment:
    """Verdict on a set of MVC trials for one hand.

    Attributes:
        best_n: The MVC (N): the best plausible score, or ``None`` if none is
            plausible.
        best_index: Index of that trial in the sequence given, or ``None``.
        flags: Reasons to offer another trial (empty before ``planned`` trials).
        offer_another: True when flagged and fewer than ``max_trials`` were done.
        message: A plain sentence explaining the flags; empty when there are none.
    """

    best_n: float | None
    best_index: int | None
    flags: tuple[MvcFlag, ...] = ()
    offer_another: bool = False
    message: str = ""


def assess_mvc(
    trials: Sequence[TrialScore],
    *,
    planned: int = 3,
    max_trials: int = 5,
    disagreement_pct: float = 10.0,
    improvement_pct: float = 5.0,
) -> MvcAssessment:
    """Pick the MVC from a set of trials and decide whether to offer another.

    Only plausible trials count. Flags are raised only once at least ``planned``
    trials were done; ``LAST_BEST`` needs at least two plausible trials and a last
    trial that beat the best earlier one by more than ``improvement_pct``: a smaller
    gain is within the trial-to-trial error of grip strength, and another maximal
    effort would add fatigue and pressor exposure without a more reliable score.

    Args:
        trials: Trial scores in the order they were done.
        planned: Trials planned per hand.
        max_trials: Most trials allowed per hand (extra ones included).
        disagreement_pct: Largest accepted gap between the best two scores, as a
            percentage of the best.
        improvement_pct: Smallest gain of the last trial over the best earlier one,
            as a percentage of that earlier best, that asks for another trial.

    Returns:
        The :class:`MvcAssessment`.
    """
    best = _best_plausible(trials)
    done = len(trials)
    if done == 0 or done < planned:
        return MvcAssessment(best.best_n, best.best_index)
    if best.best_n is None:
        findings = [_Finding(MvcFlag.NONE_PLAUSIBLE, _NONE_PLAUSIBLE)]
    else:
        findings = _set_findings(trials, best, done, disagreement_pct, improvement_pct)
    offer = bool(findings) and done < max_trials
    sentences = [f.sentence for f in findings]
    if findings:
        if offer:
            sentences.append("One more try will give a more reliable maximum.")
        elif best.best_n is not None:
            sentences.append(f"The best squeeze, {_kg(best.best_n)}, is used.")
    return MvcAssessment(best.best_n, best.best_index, tuple(f.flag for f in findings),
                         offer, " ".join(sentences))


_NONE_PLAUSIBLE = (
    "None of the squeezes looked like a maximal effort. Check that the device "
    "is connected and zeroed, and squeeze as hard as you can."
)


@dataclass(frozen=True)
class _Best:
    """The plausible trials of a set and the best of them.

    Attributes:
        plausible: Indices of the plausible trials, in order.
        best_index: Index of the best plausible trial, or ``None``.
        best_n: Its score (N), or ``None``.
    """

    plausible: list[int]
    best_index: int | None
    best_n: float | None


@dataclass(frozen=True)
class _Finding:
    """One reason to offer another trial and the sentence that explains it."""

    flag: MvcFlag
    sentence: str


def _best_plausible(trials: Sequence[TrialScore]) -> _Best:
    """The best plausible trial; ``None`` fields when no trial is plausible."""
    plausible = [i for i, tr in enumerate(trials) if tr.plausible]
    if not plausible:
        return _Best(plausible, None, None)
    # max() keeps the earliest of equal scores: a tie means strength has levelled.
    best_index = max(plausible, key=lambda i: (trials[i].score_n, -i))
    return _Best(plausible, best_index, float(trials[best_index].score_n))


def _set_findings(trials: Sequence[TrialScore], best: _Best, done: int,
                  disagreement_pct: float, improvement_pct: float) -> list[_Finding]:
    """The DISAGREE and LAST_BEST findings of a set with a plausible trial."""
    scores = sorted((trials[i].score_n for i in best.plausible), reverse=True)
    if len(scores) < 2:
        return []
    findings: list[_Finding] = []
    disagree = _disagreement(scores[0], scores[1], disagreement_pct)
    if disagree is not None:
        findings.append(disagree)
    gain = _last_gain_pct(trials, best.plausible, best.best_index, done)
    if gain is not None and gain > improvement_pct + 1e-9:
        findings.append(_Finding(MvcFlag.LAST_BEST, (
            f"Your last squeeze was your strongest, {gain:.0f} % more than your "
            f"best before it (more than the {improvement_pct:g} % that squeezes "
            "vary by), so you may be able to squeeze harder still.")))
    return findings


def _disagreement(first: float, second: float, disagreement_pct: float) -> _Finding | None:
    """The DISAGREE finding when the best two scores are too far apart, else ``None``."""
    gap_pct = (first - second) / first * 100.0
    # The tolerance keeps a gap of exactly the limit (in decimal) unflagged.
    if not gap_pct > disagreement_pct + 1e-9:
        return None
    # Whole percents read best, unless rounding would hide the excess.
    shown = f"{gap_pct:.0f}" if round(gap_pct) > disagreement_pct else f"{gap_pct:.1f}"
    return _Finding(MvcFlag.DISAGREE, (
        f"Your two best squeezes ({_kg(first)} and {_kg(second)}) "
        f"differ by {shown} %, more than the {disagreement_pct:g} % "
        "expected between maximal efforts."))


def _last_gain_pct(trials: Sequence[TrialScore], plausible: list[int],
                   best_index: int | None, done: int) -> float | None:
    """How much the last trial beat the best earlier plausible one, % of that best.

    ``None`` when the last trial is not the best or no earlier plausible trial exists.
    """
    if best_index != done - 1:
        return None
    earlier = [trials[i].score_n for i in plausible if i < best_index]
    if not earlier or max(earlier) <= 0:
        return None
    prev = max(earlier)
    return (trials[best_index].score_n - prev) / prev * 100.0
