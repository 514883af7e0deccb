"""A programme's status in plain sentences, the same in the app, CLI and reports.

Dates are said the way people say them ("today", "tomorrow", "Monday 16 November"),
counts with the right plural, and a week with more sessions than planned says so
rather than "5 of 3".
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

from isogrip.home_bp import MIN_READINGS, change_sentence
from isogrip.home_bp.sentences import baseline_too_few
from isogrip.programme.intensity import StepKind
from isogrip.programme.outcome import WeekOutcome
from isogrip.programme.review import ProgrammeStatus, WeekKind, training_start


def say_day(day: _dt.date, today: _dt.date) -> str:
    """``today``, ``tomorrow``, or e.g. ``Monday 16 November``."""
    if day == today:
        return "today"
    if day == today + _dt.timedelta(days=1):
        return "tomorrow"
    text = f"{day:%A} {day.day} {day:%B}"
    return text if day.year == today.year else f"{text} {day.year}"


def sessions_word(n: int) -> str:
    """``1 session``, ``3 sessions``."""
    return f"{n} session" if n == 1 else f"{n} sessions"


def done_of_planned(done: int, planned: int) -> str:
    """``2 of 3 sessions done``; more than planned: ``4 sessions done (3 planned)``."""
    if done > planned:
        return f"{sessions_word(done)} done ({planned} planned)"
    return f"{done} of {sessions_word(planned)} done"


def where_you_are(status: ProgrammeStatus) -> str:
    """Which week of which part of the programme today is in."""
    w = status.current
    if w is None:
        return f"Your programme starts {say_day(status.started_on, status.today)}."
    if w.kind == WeekKind.BASELINE:
        return ("This is your baseline week: measure your blood pressure morning and "
                "evening. Training starts "
                f"{say_day(training_start(status.plan, status.started_on), status.today)}.")
    if w.kind == WeekKind.TRAINING:
        return f"You are in training week {w.counted} of {status.plan.training_weeks}."
    return ("You have finished the training weeks. Well done! Keep it up with "
            f"{sessions_word(status.plan.maintenance_sessions_per_week)} a week.")


def _week_lines(status: ProgrammeStatus) -> list[str]:
    """Sessions done this week and so far (none in a baseline week)."""
    w = status.current
    if w is None or w.kind == WeekKind.BASELINE:
        return []
    return [f"This week: {done_of_planned(w.done, w.planned)}.",
            f"So far: {done_of_planned(status.done_overall, status.planned_overall)}."]


def _due_lines(status: ProgrammeStatus) -> list[str]:
    """When the next session and the next blood-pressure readings are due."""
    lines = []
    if status.next_session is not None:
        lines.append(f"Next session: {say_day(status.next_session, status.today)}, at "
                     f"{status.intensity_pct:g} % of your maximum.")
    if status.next_bp is not None:
        lines.append("Next blood-pressure readings: "
                     f"{say_day(status.next_bp, status.today)} (2 in the morning and 2 in "
                     "the evening).")
    return lines


def _extended_lines(status: ProgrammeStatus) -> list[str]:
    """The latest extension of the training weeks, with its reason."""
    extended = [s for s in status.steps if s.kind == StepKind.EXTENDED]
    return [extended[-1].reason] if extended else []


def status_lines(status: ProgrammeStatus) -> list[str]:
    """The status as a few short sentences, most important first."""
    return [where_you_are(status), *_week_lines(status), *_due_lines(status),
            *_extended_lines(status)]


def adherence_lines(status: ProgrammeStatus) -> list[str]:
    """Where the programme is and what has been done (History, reports): no dates due."""
    return [where_you_are(status), *_week_lines(status), *_extended_lines(status)]


def outcome_lines(rows: Sequence[WeekOutcome], today: _dt.date) -> list[str]:
    """The latest measurement week's change from baseline, beside the training done.

    Empty before the baseline week has begun. Context (what studies found) and the
    not-a-diagnosis note are left to the caller, which shows them once.
    """
    if not rows:
        return []
    latest = next((r for r in reversed(rows) if r.change is not None), None)
    baseline = rows[0].summary
    if latest is None or latest.change is None:
        if rows[0].week.kind == WeekKind.BASELINE and rows[-1] is not rows[0] \
                and not baseline.enough:
            return [baseline_too_few(baseline.n_readings, MIN_READINGS)]
        return ["The change in your blood pressure is shown here after your next "
                "measurement week."]
    tib = ("" if latest.time_in_band_pct is None
           else f", {latest.time_in_band_pct:.0f} % of the time in the band")
    weeks = latest.training_weeks
    return [f"{latest.label} (from {say_day(latest.week.start, today)}): "
            f"{change_sentence(latest.change)}",
            f"By then: {sessions_word(latest.sessions_done)} done in {weeks} training "
            f"week{'' if weeks == 1 else 's'}{tib}."]
