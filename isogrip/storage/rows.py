"""The records the session store reads back: one frozen dataclass per table row.

They are plain values (no database handle), so the UI, the exports and the import's
checks can use them without the store. ``docs/data-formats.md`` documents each column.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final

#: Session states. ``running`` is replaced by one of the others when a session ends,
#: or by ``interrupted`` at the next start if the program died meanwhile.
STATUSES: Final = ("running", "complete", "aborted", "interrupted")
#: Final states accepted by :meth:`~isogrip.storage.store.Store.finish_session`.
FINAL_STATUSES: Final = ("complete", "aborted", "interrupted")


@dataclasses.dataclass(frozen=True, slots=True)
class SessionRow:
    """One line of the session list.

    Attributes:
        id: Session id (small integer, unique in this database).
        uuid: Globally unique session id (for merging databases).
        started_at: Start time, ISO 8601 with UTC offset.
        ended_at: End time (ISO 8601), or ``None`` while running.
        status: ``running``, ``complete``, ``aborted`` or ``interrupted``.
        protocol_name: Name of the protocol that ran.
        device: Device spec string (e.g. ``"sim"``, ``"progressor"``).
        participant: Participant ID, or ``None``.
        n_holds_done: Number of holds completed.
        mvc_left_n: Left-hand MVC in newtons, or ``None`` if not measured.
        mvc_right_n: Right-hand MVC in newtons, or ``None`` if not measured.
        note: Why the session stopped (for aborted or interrupted sessions), or ``None``.
    """

    id: int
    uuid: str
    started_at: str
    ended_at: str | None
    status: str
    protocol_name: str
    device: str
    participant: str | None
    n_holds_done: int
    mvc_left_n: float | None
    mvc_right_n: float | None
    note: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class SessionInfo:
    """Every stored field of one session (the ``sessions`` row, JSON decoded).

    Attributes:
        id: Session id.
        uuid: Globally unique session id.
        started_at: Start time, ISO 8601 with UTC offset.
        ended_at: End time, or ``None`` while running.
        status: Session state (see :data:`STATUSES`).
        protocol_name: Protocol name.
        protocol: The full protocol definition as it ran.
        device: Device spec string.
        device_info: What the device reported about itself, or ``None``.
        participant: Participant ID, or ``None``.
        app_version: isogrip version that recorded the session.
        t0_s: Session clock value at the start; every ``t_s`` in the database is on
            this clock, so ``t_s - t0_s`` is the time since the start.
        note: Why the session stopped, or ``None``.
    """

    id: int
    uuid: str
    started_at: str
    ended_at: str | None
    status: str
    protocol_name: str
    protocol: dict[str, Any]
    device: str
    device_info: dict[str, Any] | None
    participant: str | None
    app_version: str
    t0_s: float
    note: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class PhaseRow:
    """A phase change (the phase lasts until the next row's ``t_s``).

    Attributes:
        seq: Order of recording within the session (0, 1, 2...).
        t_s: Session clock time of the change, in seconds (``None`` if it was NaN).
        phase: Phase name as the protocol engine reports it (e.g. ``"hold"``).
        hand: ``"left"``/``"right"``, or ``None`` if the phase has no hand.
        rep: Hold number (1-based), or ``None``.
        trial: MVC trial number (1-based), or ``None``.
        target_n: Target force in newtons, or ``None``.
        band_low_n: Lower edge of the target band (N), or ``None``.
        band_high_n: Upper edge of the target band (N), or ``None``.
        mvc_n: MVC the target derives from (N), or ``None``.
    """

    seq: int
    t_s: float | None
    phase: str
    hand: str | None = None
    rep: int | None = None
    trial: int | None = None
    target_n: float | None = None
    band_low_n: float | None = None
    band_high_n: float | None = None
    mvc_n: float | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class EventRow:
    """A recorded event.

    Attributes:
        seq: Order of recording within the session.
        t_s: Session clock time in seconds (``None`` if it was NaN).
        kind: Event kind (e.g. ``"phase"``, ``"warning"``).
        detail: Event data (decoded JSON object).
    """

    seq: int
    t_s: float | None
    kind: str
    detail: dict[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class MvcTrialRow:
    """One maximal effort.

    Attributes:
        hand: ``"left"`` or ``"right"``.
        trial: Trial number for that hand (1-based).
        t_start_s: Session clock time the effort window opened (s).
        t_end_s: Session clock time the effort window closed (s).
        score_n: The trial's score (N).
        raw_peak_n: Highest raw sample (N).
        time_to_peak_s: Seconds from the start of the effort to the peak.
        plausible: Whether the effort looked like a real maximal squeeze.
        message: Explanation when not plausible (or any note), else ``None``.
        used: ``False`` when the trial was redone or discarded.
    """

    hand: str
    trial: int
    t_start_s: float | None
    t_end_s: float | None
    score_n: float | None
    raw_peak_n: float | None
    time_to_peak_s: float | None
    plausible: bool
    message: str | None
    used: bool


@dataclasses.dataclass(frozen=True, slots=True)
class MvcRow:
    """The MVC chosen for one hand.

    Attributes:
        hand: ``"left"`` or ``"right"``.
        mvc_n: Maximal voluntary contraction in newtons.
        best_trial: Number of the trial it came from.
        flags: Quality flags (e.g. ``"disagreement"``).
    """

    hand: str
    mvc_n: float | None
    best_trial: int | None
    flags: list[str]


@dataclasses.dataclass(frozen=True, slots=True)
class HoldRow:
    """One submaximal hold (one attempt at one repetition).

    Attributes:
        rep: Repetition number (1-based).
        attempt: 1 for the first attempt; a hold interrupted by a pause is recorded
            as incomplete and its repeat gets attempt 2, 3...
        hand: ``"left"`` or ``"right"``.
        t_go_s: Session clock time of the "go" cue (s).
        t_end_s: Session clock time the hold ended (s).
        target_n: Target force (N).
        band_low_n: Lower edge of the target band (N).
        band_high_n: Upper edge of the target band (N).
        mvc_n: MVC the target derives from (N).
        completed: Whether the hold ran its full duration.
        time_in_band_pct: Percentage of the hold spent in the band.
        mean_pct_mvc: Mean force as % MVC.
        cv_mean_pct: Coefficient of variation of the force (%).
        drift_pct_mvc_per_min: Slope of the force in % MVC per minute.
        gap_s: Seconds without samples during the hold.
        metrics: Every metric computed for the hold (includes the five above).
    """

    rep: int
    attempt: int
    hand: str | None
    t_go_s: float | None
    t_end_s: float | None
    target_n: float | None
    band_low_n: float | None
    band_high_n: float | None
    mvc_n: float | None
    completed: bool
    time_in_band_pct: float | None
    mean_pct_mvc: float | None
    cv_mean_pct: float | None
    drift_pct_mvc_per_min: float | None
    gap_s: float | None
    metrics: dict[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class BpReading:
    """One blood-pressure reading.

    Attributes:
        id: Row id.
        participant: Participant ID, or ``None``.
        taken_at: When it was taken (ISO 8601, UTC).
        sbp: Systolic pressure, mmHg.
        dbp: Diastolic pressure, mmHg.
        pulse: Pulse, beats per minute, if given.
        context: ``pre`` / ``post`` (a session) or ``rest``; ``None`` if unknown.
        session_id: The session it belongs to, if any.
        source: ``manual``, ``csv`` or a device kind.
        note: Free text.
        device: The cuff it came from (its Bluetooth address), or ``None`` if typed.
        cuff_user: The cuff's user number, or ``None``.
        time_source: ``entered`` (typed or imported), ``cuff`` (the cuff's clock) or
            ``received`` (the cuff sent no time: when isogrip received it).
    """

    id: int
    participant: str | None
    taken_at: str
    sbp: int
    dbp: int
    pulse: int | None
    context: str | None
    session_id: int | None
    source: str
    note: str | None
    device: str | None = None
    cuff_user: int | None = None
    time_source: str = "entered"


@dataclasses.dataclass(frozen=True, slots=True)
class MvcHistoryRow:
    """An MVC of one hand in one session, with the session's start and participant."""

    session_id: int
    started_at: str
    participant: str | None
    status: str
    hand: str
    mvc_n: float
    reused: bool
