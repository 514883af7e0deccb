"""A participant's programme as the app and the command line show it, read from the store.

This is the one place that turns stored rows into the inputs of the pure programme
rules (:func:`isogrip.programme.review.review`): each session's local date, whether it
ran to the end, its intensity (hold target / MVC) and whether its holds were held
(:func:`isogrip.protocols.starter.not_held_reason`), and how many blood-pressure
readings each day has. It also records the steps the rules derive, so the store keeps
what the person was told, and builds the protocol for the next session at the
programme's intensity.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from isogrip.home_bp import Guideline
from isogrip.programme.intensity import SessionResult
from isogrip.programme.outcome import WeekOutcome, outcomes
from isogrip.programme.plan import ProgrammeError, ProgrammePlan
from isogrip.programme.review import ProgrammeStatus, review
from isogrip.protocols import sentences
from isogrip.protocols.model import Protocol
from isogrip.protocols.starter import not_held_reason
from isogrip.storage.history import hold_outcomes
from isogrip.storage.programme_table import ProgrammeRow, StoredStep
from isogrip.storage.rows import BpReading, HoldRow, SessionRow
from isogrip.storage.store import Store
from isogrip.timefmt import SystemLocalTime, local_datetime


@dataclass(frozen=True)
class ProgrammeView:
    """A stored programme with its status today and its recorded steps.

    Attributes:
        row: The stored programme.
        status: Where it stands (pure rules).
        steps: What the person was told, as recorded, in order.
        bp_readings: The participant's blood-pressure readings, oldest first.
    """

    row: ProgrammeRow
    status: ProgrammeStatus
    steps: tuple[StoredStep, ...]
    bp_readings: tuple[BpReading, ...] = ()


def session_result(row: SessionRow, holds: Sequence[HoldRow]) -> SessionResult:
    """What the programme rules need of one stored session."""
    outcomes = hold_outcomes(holds)
    targets = [o.target_pct for o in outcomes if o.target_pct == o.target_pct]
    intensity = round(statistics.median(targets), 1) if targets else None
    done_reps = {h.rep for h in holds if h.completed}
    reason = ""
    if row.status != "complete":
        reason = sentences.PROGRAMME_SESSION_STOPPED
    elif any(h.rep not in done_reps for h in holds):
        reason = sentences.PROGRAMME_HOLD_STOPPED
    else:
        # Every hold the programme set is judged, the starter's 20 % too.
        reason = next((why for o, h in zip(outcomes, holds, strict=True) if h.completed
                       and (why := not_held_reason(o, min_target_pct=0.0))), "")
    tib = [h.time_in_band_pct for h in holds if h.completed and h.time_in_band_pct is not None]
    return SessionResult(session_id=row.id, day=local_datetime(row.started_at).date(),
                         complete=row.status == "complete", intensity_pct=intensity,
                         not_held=reason,
                         time_in_band_pct=statistics.fmean(tib) if tib else None)


def participant_sessions(store: Store, participant: str | None,
                         since: _dt.date) -> list[SessionResult]:
    """The participant's finished sessions from ``since`` on, as the rules read them."""
    rows = [r for r in store.list_sessions(participant) if r.participant == participant
            and r.status != "running" and local_datetime(r.started_at).date() >= since]
    return [session_result(r, store.load_holds(r.id)) for r in rows]


def participant_readings(store: Store, participant: str | None) -> list[BpReading]:
    """The participant's blood-pressure readings (``None``: those without an ID)."""
    return [r for r in store.list_bp_readings(participant) if r.participant == participant]


def bp_readings_by_day(readings: Sequence[BpReading]) -> Counter[_dt.date]:
    """How many blood-pressure readings each local day has."""
    return Counter(local_datetime(r.taken_at).date() for r in readings)


def load_view(store: Store, participant: str | None, today: _dt.date, *,
              record: bool = False, now: _dt.datetime | None = None) -> ProgrammeView | None:
    """The participant's active programme and where it stands, or ``None``.

    Args:
        store: The database.
        participant: Participant ID, or ``None`` for the home user.
        today: The local date to review for.
        record: Also write the steps the rules derived that are not yet recorded
            (commands that only read leave this off).
        now: When they are recorded (default: now).
    """
    row = store.programmes.active(participant)
    if row is None:
        return None
    readings = participant_readings(store, participant)
    status = review(row.plan, row.started_on,
                    participant_sessions(store, participant, row.started_on), today,
                    bp_readings_by_day(readings))
    if record:
        steps = store.programmes.record_new_steps(row.id, status.steps,
                                                  now or _dt.datetime.now(_dt.UTC))
    else:
        steps = store.programmes.steps(row.id)
    return ProgrammeView(row, status, tuple(steps), tuple(readings))


def view_outcome(view: ProgrammeView, guideline: Guideline) -> list[WeekOutcome]:
    """Home blood pressure per measurement week so far, on this computer's local days."""
    return outcomes(view.status, view.bp_readings, SystemLocalTime(), guideline)


def programme_protocol(protocol: Protocol, plan: ProgrammePlan,
                       intensity_pct: float) -> Protocol:
    """``protocol`` with the programme's target for the next session.

    Raises:
        ProgrammeError: ``protocol`` is a sham (its shown force is scaled): a
            programme trains at a real intensity.
    """
    if protocol.display_scale != 1.0 or protocol.hide_intensity:
        raise ProgrammeError(f"{protocol.name} is a sham protocol for blinded studies; a "
                             "programme trains at a real intensity")
    target = min(intensity_pct, plan.target_pct)
    if target == protocol.target_pct:
        return protocol
    old = f"{protocol.target_pct:g} %"
    title = protocol.title.replace(old, f"{target:g} %") if old in protocol.title \
        else f"{protocol.title} at {target:g} % MVC"
    title += " (your programme's step)"
    return dataclasses.replace(protocol, target_pct=target, title=title)
