"""The programme's plan as an iCalendar file (RFC 5545) any calendar app imports.

One event per planned session (spread over the week: with 3 a week, on its 1st, 3rd
and 5th day) at the time the person chooses, and in each blood-pressure week one
morning and one evening event a day with the measuring steps. Each event has a
reminder 15 minutes before. Events carry stable UIDs (programme id, week, slot), so
importing a newer file updates the events instead of adding copies. The file is made
with the ``icalendar`` library; times are floating local times (no zone), so the
session stays at 10:00 wherever the person is.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import Final

from icalendar import Alarm, Calendar, Event

from isogrip.programme.review import ProgrammeStatus, ProgrammeWeek, WeekKind

#: Which days of a programme week (0 = its first day) get the sessions, by count.
_SESSION_DAYS: Final = {1: (0,), 2: (0, 3), 3: (0, 2, 4), 4: (0, 2, 4, 6),
                        5: (0, 1, 3, 4, 6), 6: (0, 1, 2, 3, 4, 5),
                        7: (0, 1, 2, 3, 4, 5, 6)}
#: Blood-pressure times: morning before breakfast and medication, evening before dinner.
MORNING: Final = _dt.time(7, 30)
EVENING: Final = _dt.time(18, 30)

_BP_STEPS: Final = ("Sit for 5 minutes, back supported, feet flat, cuff arm resting at "
                    "heart level. Take 2 readings 1 minute apart and save both in "
                    "isogrip.")


def session_days(week: ProgrammeWeek) -> list[_dt.date]:
    """The days a week's planned sessions are suggested on."""
    offsets = _SESSION_DAYS.get(week.planned, ())
    return [week.start + _dt.timedelta(days=d) for d in offsets]


def programme_calendar(status: ProgrammeStatus, *, programme_id: int,
                       session_time: _dt.time = _dt.time(10, 0),
                       stamp: _dt.datetime) -> bytes:
    """The plan from today on as iCalendar bytes.

    Args:
        status: The programme's status (its weeks from today on are written).
        programme_id: Makes the event UIDs unique per programme.
        session_time: When sessions are suggested (local time).
        stamp: When the file is made (``DTSTAMP``).
    """
    cal = Calendar()
    cal.add("prodid", "-//isogrip//training programme//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Handgrip training")
    for uid, start, minutes, summary, text in _events(status, session_time):
        event = Event()
        event.add("uid", f"isogrip-{programme_id}-{uid}")
        event.add("dtstamp", stamp.astimezone(_dt.UTC))
        event.add("dtstart", start)
        event.add("dtend", start + _dt.timedelta(minutes=minutes))
        event.add("summary", summary)
        event.add("description", text)
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", _dt.timedelta(minutes=-15))
        event.add_component(alarm)
        cal.add_component(event)
    return bytes(cal.to_ical())


def _events(status: ProgrammeStatus, at: _dt.time
            ) -> Iterator[tuple[str, _dt.datetime, int, str, str]]:
    pct = f"{status.intensity_pct:g}"
    for week in status.weeks:
        if week.end < status.today or week.missed:
            continue
        if week.kind != WeekKind.BASELINE:
            label = ("training week" if week.kind == WeekKind.TRAINING
                     else "maintenance week")
            for i, day in enumerate(session_days(week), start=1):
                if day >= status.today:
                    yield (f"w{week.number}-s{i}", _dt.datetime.combine(day, at), 20,
                           "Handgrip training session",
                           f"Programme {label} {week.counted}: session {i} of "
                           f"{week.planned}, at {pct} % of your maximum (check the app "
                           "for today's level). Breathe normally; stop if you feel "
                           "unwell.")
        if week.bp_week:
            yield from _bp_events(week, status.today)


def _bp_events(week: ProgrammeWeek, today: _dt.date
               ) -> Iterator[tuple[str, _dt.datetime, int, str, str]]:
    why = ("your starting blood pressure, before training" if week.kind == WeekKind.BASELINE
           else "how your blood pressure is changing")
    for offset in range(7):
        day = week.start + _dt.timedelta(days=offset)
        if day < today:
            continue
        for slot, at, when in (("am", MORNING, "morning, before breakfast and medicines"),
                               ("pm", EVENING, "evening, before dinner")):
            yield (f"w{week.number}-bp{offset}{slot}", _dt.datetime.combine(day, at), 10,
                   "Blood pressure: 2 readings",
                   f"Blood-pressure week ({why}), day {offset + 1} of 7, {when}. "
                   + _BP_STEPS)
