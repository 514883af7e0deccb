"""Change of the home average from a baseline period to a later one, with its interval.

The difference is that of the two guideline averages (every kept reading counts
once, as in the summaries). Its 95 % interval is Welch's t interval (unequal
variances, Welch-Satterthwaite degrees of freedom, ``scipy.stats.t``). What counts
as one observation is a choice, :class:`CiUnit`:

- ``day`` (default): the standard error comes from the spread of the day means of
  each period. Readings of one person on one day (two in the morning a minute apart,
  two in the evening) are correlated, so treating 24 readings as 24 independent
  observations makes the interval too narrow. Day means are closer to independent,
  and their spread is the day-to-day variability that matters here. With the same
  number of readings every day this is exactly Welch's interval on the day means.
- ``reading``: Welch's interval on the two sets of readings, as if independent;
  narrower and more optimistic.

Either way the interval is an approximation: days are not fully independent either
(a cold week, a change of medication), and a participant is one person, not a sample.
"""

from __future__ import annotations

import datetime as _dt
import enum
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from isogrip.home_bp.period import PeriodSummary, Reading, summary_of


class CiUnit(enum.StrEnum):
    """What counts as one observation in the interval (see the module text)."""

    DAY = "day"
    READING = "reading"


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


@dataclass(frozen=True, slots=True)
class MeanDifference:
    """A difference of means (later minus baseline, mmHg) and its confidence interval.

    Attributes:
        mean: Later average minus baseline average (negative: lower now).
        low: Lower end of the interval, or ``None`` when it cannot be computed.
        high: Upper end of the interval, or ``None``.
        df: Welch-Satterthwaite degrees of freedom, or ``None``.
    """

    mean: float
    low: float | None
    high: float | None
    df: float | None

    def to_json(self) -> dict[str, float | None]:
        """As JSON values, to 0.1 mmHg (``df`` to 0.1)."""
        return {"mean": _round(self.mean), "ci_low": _round(self.low),
                "ci_high": _round(self.high), "df": _round(self.df)}


@dataclass(frozen=True, slots=True)
class BpChange:
    """Change of the home averages from a baseline period to a later one.

    Attributes:
        sbp: Systolic difference and interval.
        dbp: Diastolic difference and interval.
        unit: What one observation was in the interval (:class:`CiUnit`).
        confidence: The interval's confidence level (0.95).
        n_baseline: Readings averaged at baseline.
        n_later: Readings averaged later.
        days_baseline: Days with readings averaged at baseline.
        days_later: Days with readings averaged later.
    """

    sbp: MeanDifference
    dbp: MeanDifference
    unit: CiUnit
    confidence: float
    n_baseline: int
    n_later: int
    days_baseline: int
    days_later: int

    def to_json(self) -> dict[str, Any]:
        """As JSON values."""
        return {"sbp": self.sbp.to_json(), "dbp": self.dbp.to_json(),
                "ci_unit": self.unit.value, "confidence": self.confidence,
                "n_baseline": self.n_baseline, "n_later": self.n_later,
                "days_baseline": self.days_baseline, "days_later": self.days_later}


def _welch(diff: float, base: Sequence[float], later: Sequence[float],
           confidence: float) -> MeanDifference:
    """``diff`` with a Welch t interval whose standard error comes from the two samples."""
    if len(base) < 2 or len(later) < 2:  # no spread to estimate
        return MeanDifference(diff, None, None, None)
    va = statistics.variance(base) / len(base)
    vb = statistics.variance(later) / len(later)
    if va + vb == 0:  # every value identical: the interval is the point itself
        return MeanDifference(diff, diff, diff, None)
    df = (va + vb) ** 2 / (va ** 2 / (len(base) - 1) + vb ** 2 / (len(later) - 1))
    from scipy import stats  # scipy only when an interval is asked for

    half = float(stats.t.ppf(0.5 + confidence / 2, df)) * (va + vb) ** 0.5
    return MeanDifference(diff, diff - half, diff + half, df)


def change_from_baseline(baseline: PeriodSummary | Iterable[Reading],
                         later: PeriodSummary | Iterable[Reading], *,
                         tz: _dt.tzinfo | None = None, unit: CiUnit = CiUnit.DAY,
                         confidence: float = 0.95) -> BpChange | None:
    """The change of the home averages from ``baseline`` to ``later``, with its interval.

    The difference is that of the guideline averages (all kept readings). The
    interval is Welch's t interval; with ``unit=day`` its standard error and degrees
    of freedom come from the day means of each period (with the same number of
    readings every day this is exactly Welch's interval on the day means), with
    ``unit=reading`` from the readings themselves.

    Args:
        baseline: The baseline period, or its readings (then ``tz`` is needed).
        later: The later period, or its readings.
        tz: The time zone of the local days, for readings.
        unit: What one observation is in the interval (see :class:`CiUnit`).
        confidence: Confidence level of the interval.

    Returns:
        The change, or ``None`` when either period has fewer than
        :data:`~isogrip.home_bp.categories.MIN_READINGS`
        readings after the first day is left out. With
        ``unit=day`` and a period whose readings are all on one day, the interval
        ends are ``None``.

    Raises:
        ValueError: Readings were given without ``tz``.
    """
    unit = CiUnit(unit)
    a = summary_of(baseline, tz)
    b = summary_of(later, tz)
    if not (a.enough and b.enough) or a.sbp_mean is None or b.sbp_mean is None \
            or a.dbp_mean is None or b.dbp_mean is None:
        return None
    if unit is CiUnit.DAY:
        da, db = list(a.day_means().values()), list(b.day_means().values())
        sbp_a, sbp_b = [m[1] for m in da], [m[1] for m in db]
        dbp_a, dbp_b = [m[2] for m in da], [m[2] for m in db]
    else:
        sbp_a, sbp_b = [float(r.sbp) for r in a.kept], [float(r.sbp) for r in b.kept]
        dbp_a, dbp_b = [float(r.dbp) for r in a.kept], [float(r.dbp) for r in b.kept]
    return BpChange(
        sbp=_welch(b.sbp_mean - a.sbp_mean, sbp_a, sbp_b, confidence),
        dbp=_welch(b.dbp_mean - a.dbp_mean, dbp_a, dbp_b, confidence),
        unit=unit, confidence=confidence, n_baseline=a.n_readings,
        n_later=b.n_readings, days_baseline=a.n_days, days_later=b.n_days)
