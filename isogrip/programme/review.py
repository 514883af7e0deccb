"""Where a programme stands: its weeks, what was done, what is due, and why it changed.

Pure rules, like the session engine: no I/O and no clock reads; the caller passes the
plan, the start date, the recorded sessions, the days with blood-pressure readings and
today's date, so the same inputs always give the same status (and tests run a whole
programme in milliseconds).

Weeks are counted from the programme's first day (a programme started on a Thursday
has Thursday-to-Wednesday weeks). A training week that ended without any session is
*missed*: it does not count towards the training weeks, so training lasts one week
longer, and the person is told (docs/science.md, "Missed weeks"). A week with fewer
sessions than planned still counts; adherence shows the shortfall.
"""

from __future__ import annotations

import datetime as _dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from isogrip.programme.intensity import ProgrammeStep, SessionResult, StepKind, intensity_steps
from isogrip.programme.plan import ProgrammePlan
from isogrip.protocols import sentences

#: Readings a measurement day asks for: 2 in the morning and 2 in the evening.
BP_READINGS_PER_DAY = 4
#: Maintenance weeks shown ahead (in the status and the calendar).
MAINTENANCE_AHEAD_WEEKS = 12

_WEEK = _dt.timedelta(days=7)


class WeekKind(enum.StrEnum):
    """What a programme week is for."""

    BASELINE = "baseline"
    TRAINING = "training"
    MAINTENANCE = "maintenance"


@dataclass(frozen=True)
class ProgrammeWeek:
    """One week of the programme.

    Attributes:
        number: Week of the programme, from 1 (the first baseline week).
        start: Its first day (local date); it ends 6 days later.
        kind: Baseline, training or maintenance.
        counted: The training (or maintenance) week it counts as, from 1; ``None`` for
            a baseline week and for a missed week.
        bp_week: Whether blood pressure is measured this week.
        planned: Sessions planned.
        done: Sessions done to the end.
        missed: A past training week without any session.
    """

    number: int
    start: _dt.date
    kind: WeekKind
    counted: int | None
    bp_week: bool
    planned: int
    done: int
    missed: bool = False

    @property
    def end(self) -> _dt.date:
        """Its last day."""
        return self.start + _dt.timedelta(days=6)

    def holds(self, day: _dt.date) -> bool:
        """Whether ``day`` falls in this week."""
        return self.start <= day <= self.end


@dataclass(frozen=True)
class ProgrammeStatus:
    """Everything the app, ``programme status`` and the reports show of a programme.

    Attributes:
        plan: The programme's rules.
        started_on: Its first day.
        today: The day this status is for.
        weeks: Every week from the first to the end of training, and
            :data:`MAINTENANCE_AHEAD_WEEKS` maintenance weeks past today or the end.
        current: The week holding ``today`` (``None`` before the start).
        intensity_pct: The target for the next session, % MVC.
        steps: Every change, oldest first (intensity steps and missed weeks).
        training_ends: Last day of training as things stand (missed weeks move it).
        next_session: When the next session is due (``None`` if none is planned).
        next_bp: When the next blood-pressure measurement is due.
        sessions: The sessions the status was made from.
    """

    plan: ProgrammePlan
    started_on: _dt.date
    today: _dt.date
    weeks: tuple[ProgrammeWeek, ...]
    current: ProgrammeWeek | None
    intensity_pct: float
    steps: tuple[ProgrammeStep, ...]
    training_ends: _dt.date
    next_session: _dt.date | None
    next_bp: _dt.date | None
    sessions: tuple[SessionResult, ...]

    @property
    def phase(self) -> str:
        """``not started``, ``baseline``, ``training`` or ``maintenance``."""
        return "not started" if self.current is None else self.current.kind.value

    @property
    def missed_weeks(self) -> int:
        """Training weeks that passed without a session."""
        return sum(w.missed for w in self.weeks)

    def weeks_so_far(self) -> list[ProgrammeWeek]:
        """The weeks up to and including the current one."""
        return [w for w in self.weeks if w.start <= self.today]

    @property
    def done_overall(self) -> int:
        """Sessions done to the end since training began, up to today."""
        return sum(w.done for w in self.weeks_so_far() if w.kind != WeekKind.BASELINE)

    @property
    def planned_overall(self) -> int:
        """Sessions planned up to the end of the current week (missed weeks included)."""
        return sum(w.planned for w in self.weeks_so_far())

    @property
    def training_week(self) -> int | None:
        """Which training week this is (``None`` outside training)."""
        w = self.current
        return w.counted if w is not None and w.kind == WeekKind.TRAINING else None


def training_start(plan: ProgrammePlan, started_on: _dt.date) -> _dt.date:
    """First day of training: after the baseline weeks."""
    return started_on + plan.baseline_weeks * _WEEK


def review(plan: ProgrammePlan, started_on: _dt.date, sessions: Sequence[SessionResult],
           today: _dt.date,
           bp_readings_by_day: Mapping[_dt.date, int] | None = None) -> ProgrammeStatus:
    """The programme's status on ``today``.

    Args:
        plan: The programme's rules.
        started_on: Its first day (local date).
        sessions: Every recorded session of the participant (any order).
        today: The local date to review for.
        bp_readings_by_day: How many blood-pressure readings each local day has.
    """
    by_day = bp_readings_by_day or {}
    weeks, missed_steps = _weeks(plan, started_on, sessions, today)
    intensity, steps = intensity_steps(plan, sessions, training_start(plan, started_on))
    current = next((w for w in weeks if w.holds(today)), None)
    training = [w for w in weeks if w.kind == WeekKind.TRAINING]
    training_ends = training[-1].end if training else started_on
    return ProgrammeStatus(
        plan=plan, started_on=started_on, today=today, weeks=tuple(weeks),
        current=current, intensity_pct=intensity,
        steps=tuple(sorted([*steps, *missed_steps], key=lambda s: s.day)),
        training_ends=training_ends,
        next_session=_next_session(weeks, sessions, today),
        next_bp=_next_bp(weeks, by_day, today),
        sessions=tuple(sessions))


def _weeks(plan: ProgrammePlan, started_on: _dt.date, sessions: Sequence[SessionResult],
           today: _dt.date) -> tuple[list[ProgrammeWeek], list[ProgrammeStep]]:
    done_days = sorted(s.day for s in sessions if s.complete)
    weeks: list[ProgrammeWeek] = []
    steps: list[ProgrammeStep] = []
    for n in range(plan.baseline_weeks):
        start = started_on + n * _WEEK
        weeks.append(ProgrammeWeek(n + 1, start, WeekKind.BASELINE, None, True, 0,
                                   _count(done_days, start)))
    counted = missed = 0
    start = training_start(plan, started_on)
    while counted < plan.training_weeks:
        done = _count(done_days, start)
        if done == 0 and start + _WEEK <= today:
            missed += 1
            weeks.append(ProgrammeWeek(len(weeks) + 1, start, WeekKind.TRAINING, None,
                                       False, plan.sessions_per_week, 0, missed=True))
        else:
            counted += 1
            bp = counted % plan.bp_every_weeks == 0 or counted == plan.training_weeks
            weeks.append(ProgrammeWeek(len(weeks) + 1, start, WeekKind.TRAINING, counted,
                                       bp, plan.sessions_per_week, done))
        start += _WEEK
    if missed:
        ends = (start - _dt.timedelta(days=1)).isoformat()
        steps.append(ProgrammeStep(StepKind.EXTENDED, _last_missed_end(weeks), None, None,
                                   sentences.programme_week_missed(missed, ends)))
    horizon = max(today, start) + MAINTENANCE_AHEAD_WEEKS * _WEEK
    m = 0
    while start < horizon:
        m += 1
        weeks.append(ProgrammeWeek(len(weeks) + 1, start, WeekKind.MAINTENANCE, m,
                                   m % plan.bp_every_weeks == 0,
                                   plan.maintenance_sessions_per_week,
                                   _count(done_days, start)))
        start += _WEEK
    return weeks, steps


def _count(days: Sequence[_dt.date], start: _dt.date) -> int:
    return sum(start <= d < start + _WEEK for d in days)


def _last_missed_end(weeks: Sequence[ProgrammeWeek]) -> _dt.date:
    return max(w.end for w in weeks if w.missed) + _dt.timedelta(days=1)


def _next_session(weeks: Sequence[ProgrammeWeek], sessions: Sequence[SessionResult],
                  today: _dt.date) -> _dt.date | None:
    """When the next session is due (one a day at most).

    Today if this week still lacks sessions and none was done today (else tomorrow,
    if still in the week); otherwise the first day of the next week that plans any.
    """
    done_today = any(s.complete and s.day == today for s in sessions)
    for w in weeks:
        if w.end < today or w.planned == 0:
            continue
        if w.holds(today):
            if w.done < w.planned:
                day = today + _dt.timedelta(days=1) if done_today else today
                if w.holds(day):
                    return day
            continue
        return w.start
    return None


def _next_bp(weeks: Sequence[ProgrammeWeek], by_day: Mapping[_dt.date, int],
             today: _dt.date) -> _dt.date | None:
    """The first day from today, in a measurement week, that lacks its readings."""
    for w in weeks:
        if not w.bp_week or w.end < today:
            continue
        day = max(w.start, today)
        while day <= w.end:
            if by_day.get(day, 0) < BP_READINGS_PER_DAY:
                return day
            day += _dt.timedelta(days=1)
    return None
