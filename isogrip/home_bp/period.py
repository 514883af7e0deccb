"""One measurement period of home readings, summarised by the guideline rule.

The rule (ESH 2021 practice guidelines; AHA/AMA 2020 policy statement; see
docs/science.md, "Home blood pressure"):

1. Readings are grouped by the participant's local calendar day (``tz``).
2. When the period has readings on more than one day, every reading of its first day
   with readings is left out: first-day readings run high (a new routine, some
   alarm), and both documents say to discard them.
3. Every remaining reading is averaged, each reading counting once.
4. Fewer than :data:`~isogrip.home_bp.categories.MIN_READINGS` remaining readings
   are too few for a decision: the numbers are kept, but ``enough`` is false, no
   category is given, and the message says so.
"""

from __future__ import annotations

import datetime as _dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from isogrip.bp_check import BpLimits, shown
from isogrip.errors import BpValueError
from isogrip.home_bp.categories import (
    CRISIS_DBP,
    CRISIS_SBP,
    HOME_THRESHOLDS,
    MIN_READINGS,
    Category,
    Guideline,
    classify,
)
from isogrip.home_bp.sentences import average_high, crisis_readings, period_message
from isogrip.storage.rows import BpReading


@dataclass(frozen=True, slots=True)
class HomeReading:
    """One reading as the summaries need it.

    Attributes:
        taken_at: When it was taken (timezone-aware).
        sbp: Systolic pressure, mmHg.
        dbp: Diastolic pressure, mmHg.
        pulse: Beats per minute, if measured.
    """

    taken_at: _dt.datetime
    sbp: int
    dbp: int
    pulse: int | None = None

    def __post_init__(self) -> None:
        if self.taken_at.tzinfo is None:  # its local day would be a guess
            raise ValueError("taken_at must carry a UTC offset")

    @classmethod
    def from_row(cls, row: BpReading) -> HomeReading:
        """A stored reading (``taken_at`` is ISO 8601 text in UTC).

        Raises:
            BpValueError: ``taken_at`` is not an ISO 8601 time (a damaged row).
        """
        try:
            when = _dt.datetime.fromisoformat(row.taken_at.strip())
        except ValueError:
            raise BpValueError(f"blood-pressure reading {row.id}: the time "
                               f"{shown(row.taken_at)} is not an ISO 8601 time") from None
        # The store writes UTC; a time without an offset can only be UTC.
        return cls(when if when.tzinfo else when.replace(tzinfo=_dt.UTC),
                   row.sbp, row.dbp, row.pulse)


Reading = BpReading | HomeReading


@dataclass(frozen=True)
class PeriodSummary:
    """A measurement period summarised by the guideline rule (see the module text).

    Attributes:
        guideline: The guideline of ``category``.
        tz: The time zone of the local days.
        start: First local day of the period (given, or the first reading's).
        end: Last local day of the period (given, or the last reading's).
        readings: Every reading in the period, oldest first (for crisis checks).
        kept: The readings averaged (the first day left out).
        discarded_day: The local day whose readings were left out, or ``None``.
        sbp_mean: Mean systolic of ``kept`` (mmHg), ``None`` without readings.
        dbp_mean: Mean diastolic of ``kept``, ``None`` without readings.
        pulse_mean: Mean pulse of the kept readings that have one, or ``None``.
        sbp_sd: Sample standard deviation of the kept systolic values, or ``None``.
        dbp_sd: Same for diastolic.
        category: The category of the means, ``None`` when not ``enough``.
        message: One plain sentence: how many readings, and whether enough.
    """

    guideline: Guideline
    tz: _dt.tzinfo
    start: _dt.date | None
    end: _dt.date | None
    readings: tuple[HomeReading, ...]
    kept: tuple[HomeReading, ...]
    discarded_day: _dt.date | None
    sbp_mean: float | None
    dbp_mean: float | None
    pulse_mean: float | None
    sbp_sd: float | None
    dbp_sd: float | None
    category: Category | None
    message: str

    @property
    def n_readings(self) -> int:
        """Readings averaged."""
        return len(self.kept)

    @property
    def n_days(self) -> int:
        """Local days with readings averaged."""
        return len(self.day_means())

    @property
    def enough(self) -> bool:
        """Whether the average can be acted on (at least :data:`MIN_READINGS`)."""
        return self.n_readings >= MIN_READINGS

    def average_text(self) -> str:
        """``132/84`` (mmHg, rounded) for a table cell, or ``too few readings``."""
        if self.enough and self.sbp_mean is not None and self.dbp_mean is not None:
            return f"{self.sbp_mean:.0f}/{self.dbp_mean:.0f}"
        return "too few readings"

    @property
    def first_day_discarded(self) -> bool:
        """Whether the first day's readings were left out."""
        return self.discarded_day is not None

    def day(self, reading: HomeReading) -> _dt.date:
        """The local day of a reading."""
        return reading.taken_at.astimezone(self.tz).date()

    def day_means(self) -> dict[_dt.date, tuple[int, float, float]]:
        """Per local day of ``kept``: (readings, mean systolic, mean diastolic)."""
        days: dict[_dt.date, list[HomeReading]] = {}
        for r in self.kept:
            days.setdefault(self.day(r), []).append(r)
        return {d: (len(rs), statistics.fmean(r.sbp for r in rs),
                    statistics.fmean(r.dbp for r in rs)) for d, rs in days.items()}

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON values (means to 0.1 mmHg; ``None`` for no value)."""
        cat = self.category
        return {
            "from": _iso(self.start), "to": _iso(self.end),
            "guideline": self.guideline.value,
            "n_readings": self.n_readings, "n_days": self.n_days,
            "n_in_period": len(self.readings),
            "first_day_discarded": self.first_day_discarded,
            "discarded_day": _iso(self.discarded_day),
            "sbp_mean": _round(self.sbp_mean), "dbp_mean": _round(self.dbp_mean),
            "pulse_mean": _round(self.pulse_mean),
            "sbp_sd": _round(self.sbp_sd), "dbp_sd": _round(self.dbp_sd),
            "enough": self.enough, "min_readings": MIN_READINGS,
            "category": None if cat is None else cat.code,
            "category_label": None if cat is None else cat.label,
            "home_threshold": _limits_json(HOME_THRESHOLDS[self.guideline]),
            "message": self.message,
            "days": [{"date": d.isoformat(), "n": n, "sbp_mean": _round(s),
                      "dbp_mean": _round(dm)} for d, (n, s, dm) in self.day_means().items()],
        }


def _iso(day: _dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


def _limits_json(limits: BpLimits) -> dict[str, int]:
    return {"sbp": limits.sbp, "dbp": limits.dbp}


def _home_readings(readings: Iterable[Reading]) -> list[HomeReading]:
    out = [r if isinstance(r, HomeReading) else HomeReading.from_row(r) for r in readings]
    return sorted(out, key=lambda r: r.taken_at)


def summarise_period(readings: Iterable[Reading], tz: _dt.tzinfo, *,
                     start: _dt.date | None = None, end: _dt.date | None = None,
                     guideline: Guideline = Guideline.ESH_2023) -> PeriodSummary:
    """Summarise one measurement period by the guideline rule (see the module text).

    Args:
        readings: The readings (any order; those outside ``start``..``end`` are ignored).
        tz: The time zone of the participant's local days.
        start: First local day of the period, inclusive (``None``: no lower bound).
        end: Last local day of the period, inclusive (``None``: no upper bound).
        guideline: Which guideline's home categories.
    """
    guideline = Guideline(guideline)
    dated = [(r, r.taken_at.astimezone(tz).date()) for r in _home_readings(readings)]
    dated = [(r, d) for r, d in dated
             if (start is None or d >= start) and (end is None or d <= end)]
    inside = tuple(r for r, _ in dated)
    days = [d for _, d in dated]
    # Only a period with more than one day loses its first: a single day is all there is.
    discarded = days[0] if days and days[0] != days[-1] else None
    kept = tuple(r for r, d in zip(inside, days, strict=True) if d != discarded)
    pulses = [r.pulse for r in kept if r.pulse is not None]
    sbp = [r.sbp for r in kept]
    dbp = [r.dbp for r in kept]
    sbp_mean = statistics.fmean(sbp) if kept else None
    dbp_mean = statistics.fmean(dbp) if kept else None
    enough = len(kept) >= MIN_READINGS
    category = classify(sbp_mean, dbp_mean, guideline) if (
        enough and sbp_mean is not None and dbp_mean is not None) else None
    return PeriodSummary(
        guideline=guideline, tz=tz,
        start=start if start is not None or not days else days[0],
        end=end if end is not None or not days else days[-1],
        readings=inside, kept=kept, discarded_day=discarded,
        sbp_mean=sbp_mean, dbp_mean=dbp_mean,
        pulse_mean=statistics.fmean(pulses) if pulses else None,
        sbp_sd=statistics.stdev(sbp) if len(kept) > 1 else None,
        dbp_sd=statistics.stdev(dbp) if len(kept) > 1 else None,
        category=category,
        message=period_message(len(inside), len(kept), discarded))


def summary_of(source: PeriodSummary | Iterable[Reading], tz: _dt.tzinfo | None,
               guideline: Guideline = Guideline.ESH_2023) -> PeriodSummary:
    """``source`` if it is a summary, else the summary of its readings (all of them).

    Raises:
        ValueError: Readings without ``tz`` (their local days would be a guess).
    """
    if isinstance(source, PeriodSummary):
        return source
    if tz is None:
        raise ValueError("tz is needed to group readings by local day")
    return summarise_period(source, tz, guideline=guideline)


def bp_advice(source: PeriodSummary | Iterable[Reading], limits: BpLimits | None = None,
              *, tz: _dt.tzinfo | None = None,
              guideline: Guideline = Guideline.ESH_2023) -> list[str]:
    """"Talk to your doctor" sentences for a period; empty when there is nothing to say.

    Advice, never a diagnosis, and nothing here stops anything: the caller shows it.

    Args:
        source: A summary, or readings (then ``tz`` is needed).
        limits: Average limits; default: the guideline's home threshold
            (:data:`HOME_THRESHOLDS`).
        tz: The time zone of the local days, for readings.
        guideline: The guideline, for readings (a summary has its own).

    Returns:
        A sentence when the period average is at or above ``limits`` (a gentler one
        while there are too few readings to be sure), and one for any single reading
        in the crisis range (systolic above 180 and/or diastolic above 120), the
        first day's readings included.

    Raises:
        ValueError: Readings were given without ``tz``.
    """
    s = summary_of(source, tz, guideline)
    limits = HOME_THRESHOLDS[s.guideline] if limits is None else limits
    out: list[str] = []
    if s.sbp_mean is not None and s.dbp_mean is not None and (
            s.sbp_mean >= limits.sbp or s.dbp_mean >= limits.dbp):
        out.append(average_high(s.sbp_mean, s.dbp_mean, limits, s.guideline, s.enough))
    crisis = [r for r in s.readings if r.sbp > CRISIS_SBP or r.dbp > CRISIS_DBP]
    if crisis:
        top = max(crisis, key=lambda r: (r.sbp, r.dbp))
        out.append(crisis_readings(len(crisis), top.sbp, top.dbp, s.day(top)))
    return out
