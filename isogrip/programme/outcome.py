"""The programme's outcome: home blood pressure per measurement week, against training.

For each measurement week that has begun, its home average by the guideline rule
(:func:`isogrip.home_bp.summarise_period`: first day left out, at least 12 readings),
its change from the baseline week with a 95 % interval
(:func:`isogrip.home_bp.change_from_baseline`), and beside it the training done by the
end of that week: sessions, training weeks, and the mean time in band. Pure: the
caller passes the status, the readings and the time zone.
"""

from __future__ import annotations

import datetime as _dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from isogrip.home_bp import (
    BpChange,
    Guideline,
    PeriodSummary,
    Reading,
    change_from_baseline,
    summarise_period,
)
from isogrip.programme.review import ProgrammeStatus, ProgrammeWeek, WeekKind


@dataclass(frozen=True)
class WeekOutcome:
    """One measurement week's blood pressure beside the training done by then.

    Attributes:
        week: The measurement week.
        summary: Its home average by the guideline rule.
        change: Change from the baseline week (``None`` for the baseline itself, or
            when either week has too few readings).
        sessions_done: Sessions done to the end since the programme began, by the end
            of this week.
        training_weeks: Training weeks counted by the end of this week.
        time_in_band_pct: Mean time in band of those sessions, % (``None`` if none).
    """

    week: ProgrammeWeek
    summary: PeriodSummary
    change: BpChange | None
    sessions_done: int
    training_weeks: int
    time_in_band_pct: float | None

    @property
    def label(self) -> str:
        """``Baseline``, or ``Training week 4``: where the week falls in the programme."""
        if self.week.kind == WeekKind.BASELINE:
            return "Baseline"
        return f"Training week {self.training_weeks}"

    def change_text(self) -> str:
        """``-6/-3 (-9 to -3 / -5 to -1)``: the change and its 95 % interval, mmHg.

        ``baseline`` for the baseline week, ``-`` when either week has too few readings.
        """
        if self.change is None:
            return "baseline" if self.week.kind == WeekKind.BASELINE else "-"
        sbp, dbp = self.change.sbp, self.change.dbp
        text = f"{sbp.mean:+.0f}/{dbp.mean:+.0f}"
        if sbp.low is not None and sbp.high is not None and dbp.low is not None \
                and dbp.high is not None:
            text += f" ({sbp.low:+.0f} to {sbp.high:+.0f} / {dbp.low:+.0f} to {dbp.high:+.0f})"
        return text

    def to_json(self) -> dict[str, object]:
        """As JSON values."""
        return {"programme_week": self.week.number, "kind": self.week.kind.value,
                "start": self.week.start.isoformat(), "end": self.week.end.isoformat(),
                "bp": self.summary.to_json(),
                "change": None if self.change is None else self.change.to_json(),
                "sessions_done": self.sessions_done, "training_weeks": self.training_weeks,
                "time_in_band_pct": None if self.time_in_band_pct is None
                else round(self.time_in_band_pct, 1)}


def outcomes(status: ProgrammeStatus, readings: Iterable[Reading], tz: _dt.tzinfo,
             guideline: Guideline = Guideline.ESH_2023) -> list[WeekOutcome]:
    """Every measurement week that has begun, oldest first (the baseline first)."""
    readings = list(readings)
    weeks = [w for w in status.weeks if w.bp_week and w.start <= status.today]
    baseline: PeriodSummary | None = None
    result = []
    for week in weeks:
        summary = summarise_period(readings, tz, start=week.start, end=week.end,
                                   guideline=guideline)
        change = None
        if week.kind == WeekKind.BASELINE:
            baseline = baseline or summary
        elif baseline is not None:
            change = change_from_baseline(baseline, summary)
        done = [s for s in status.sessions if s.complete and s.day <= week.end]
        tib = [s.time_in_band_pct for s in done if s.time_in_band_pct is not None]
        counted = sum(1 for w in status.weeks if w.kind == WeekKind.TRAINING
                      and w.counted is not None and w.start <= week.start)
        result.append(WeekOutcome(week, summary, change, len(done), counted,
                                  statistics.fmean(tib) if tib else None))
    return result
