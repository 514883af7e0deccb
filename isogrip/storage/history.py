"""Progress over sessions: adherence per week, MVC trend, MVCs to reuse, blood pressure.

Pure functions over the store's rows. Dates are those of the user's local calendar
(a session at 23:30 on Sunday counts for that week, not the next).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from isogrip.errors import BpValueError
from isogrip.protocols.starter import HoldOutcome, starter_advice
from isogrip.storage.rows import HoldRow, SessionRow
from isogrip.storage.store import Store
from isogrip.timefmt import local_datetime
from isogrip.types import Hand

_BP_RE = re.compile(r"^\s*(\d{2,3})\s*/\s*(\d{2,3})\s*$")


@dataclass(frozen=True)
class WeekCount:
    """Completed sessions in one calendar week.

    Attributes:
        week_start: The Monday of the week.
        sessions: Completed sessions that week.
        goal: Sessions per week aimed for.
    """

    week_start: _dt.date
    sessions: int
    goal: int

    @property
    def met(self) -> bool:
        """Whether the goal was reached."""
        return self.sessions >= self.goal


def local_date(iso: str) -> _dt.date:
    """The local calendar date of an ISO 8601 timestamp."""
    return local_datetime(iso).date()


def weekly_adherence(sessions: Sequence[SessionRow], *, weeks: int = 8, goal: int = 3,
                     today: _dt.date | None = None) -> list[WeekCount]:
    """Completed sessions in each of the last ``weeks`` weeks, oldest first.

    Weeks without sessions are included (with 0), so a gap shows as a gap.

    Example:
        >>> weekly_adherence([], weeks=2, today=_dt.date(2026, 11, 25))[-1]
        WeekCount(week_start=datetime.date(2026, 11, 23), sessions=0, goal=3)
    """
    today = today or _dt.date.today()
    this_monday = today - _dt.timedelta(days=today.weekday())
    starts = [this_monday - _dt.timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]
    counts = dict.fromkeys(starts, 0)
    for row in sessions:
        if row.status != "complete":
            continue
        try:
            day = local_date(row.started_at)
        except ValueError:
            continue  # an unreadable date cannot be placed in a week
        monday = day - _dt.timedelta(days=day.weekday())
        if monday in counts:
            counts[monday] += 1
    return [WeekCount(s, counts[s], goal) for s in starts]


def _when(iso: str) -> _dt.datetime:
    return local_datetime(iso)


def mvc_trend(
    store: Store, participant: str | None = None
) -> dict[Hand, list[tuple[_dt.datetime, float]]]:
    """MVC measured in each session, per hand, oldest first.

    MVCs carried over from an earlier session (flag ``reused``) are not measurements
    and are left out.
    """
    out: dict[Hand, list[tuple[_dt.datetime, float]]] = {}
    for row in store.list_mvc(participant):
        if row.reused:
            continue
        out.setdefault(Hand(row.hand), []).append((_when(row.started_at), row.mvc_n))
    return out


def last_measured_mvc(store: Store, participant: str | None = None, *,
                      within_days: float = 7.0,
                      now: _dt.datetime | None = None) -> dict[Hand, tuple[float, _dt.datetime]]:
    """The latest MVC measured per hand within ``within_days``, with when it was taken.

    Any session whose MVC was measured counts, even if its holds were stopped early:
    the maximal squeezes were completed. Reused MVCs do not renew the date, so an
    MVC is re-measured at least every ``within_days``.
    """
    now = now or _dt.datetime.now(_dt.UTC)
    oldest = now - _dt.timedelta(days=within_days)
    out: dict[Hand, tuple[float, _dt.datetime]] = {}
    for row in store.list_mvc(participant):
        when = _when(row.started_at)
        if row.reused or not oldest <= when <= now:
            continue
        out[Hand(row.hand)] = (row.mvc_n, when)  # rows are oldest first: newest wins
    return out


def previous_mvc(store: Store, session_id: int) -> dict[Hand, float]:
    """Per hand, the MVC of the latest earlier session of the same participant.

    Used for "this session vs last session"; reused MVCs count (they are what that
    session trained against).
    """
    info = store.get_session_info(session_id)
    out: dict[Hand, float] = {}
    for row in store.list_mvc(info.participant):
        if row.participant != info.participant:
            continue
        if (row.started_at, row.session_id) >= (info.started_at, info.id):
            continue
        out[Hand(row.hand)] = row.mvc_n
    return out


def parse_bp(text: str) -> tuple[int, int]:
    """Read a reading typed as ``128/82``.

    Raises:
        BpValueError: The text is not two whole numbers separated by ``/``.

    Example:
        >>> parse_bp(" 128 / 82 ")
        (128, 82)
    """
    m = _BP_RE.match(text)
    if m is None:
        raise BpValueError(f"write the reading as upper/lower, e.g. 128/82; got {text!r}")
    return int(m.group(1)), int(m.group(2))


def _pct(part: float | None, whole: float | None) -> float:
    if part is None or whole is None or not whole > 0:
        return math.nan
    return part / whole * 100.0


def _num(x: float | None) -> float:
    return math.nan if x is None else float(x)


def hold_outcomes(holds: Sequence[HoldRow]) -> list[HoldOutcome]:
    """The stored hold attempts as the starter rule reads them (true % MVC)."""
    return [HoldOutcome(rep=h.rep, target_pct=_pct(h.target_n, h.mvc_n),
                        band_low_pct=_pct(h.band_low_n, h.mvc_n),
                        time_in_band_pct=_num(h.time_in_band_pct),
                        mean_pct_mvc=_num(h.mean_pct_mvc),
                        drift_pct_mvc_per_min=_num(h.drift_pct_mvc_per_min))
            for h in holds]


def session_starter_advice(store: Store, session_id: int) -> str:
    """The starter-protocol suggestion for a stored session, or ``""``."""
    return starter_advice(hold_outcomes(store.load_holds(session_id)))
