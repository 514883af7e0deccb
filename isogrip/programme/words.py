"""A programme's status in plain sentences, the same in the app, CLI and reports.

Dates are said the way people say them ("today", "tomorrow", "Monday 16 November"),
counts with the right plural, and a week with more sessions than planned says so
rather than "5 of 3".
"""

from __future__ import annotations

import datetime as _dt

from isogrip.programme.intensity import StepKind
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


def status_lines(status: ProgrammeStatus) -> list[str]:
    """The status as a few short sentences, most important first."""
    lines = [where_you_are(status)]
    w = status.current
    if w is not None and w.kind != WeekKind.BASELINE:
        lines.append(f"This week: {done_of_planned(w.done, w.planned)}.")
        lines.append(f"So far: {done_of_planned(status.done_overall, status.planned_overall)}.")
    if status.next_session is not None:
        lines.append(f"Next session: {say_day(status.next_session, status.today)}, at "
                     f"{status.intensity_pct:g} % of your maximum.")
    if status.next_bp is not None:
        lines.append("Next blood-pressure readings: "
                     f"{say_day(status.next_bp, status.today)} (2 in the morning and 2 in "
                     "the evening).")
    extended = [s for s in status.steps if s.kind == StepKind.EXTENDED]
    if extended:
        lines.append(extended[-1].reason)
    return lines
