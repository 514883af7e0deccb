"""Session records in the database: one statement per kind, and read back as records.

The recorder numbers what a session produces (:class:`StoredRecord`) and hands it to
whichever connection writes the batch; :func:`write_record` stores it as one row of
the ``events`` table and, for phases, MVC trials, MVC results and holds, one row of
their own table. :func:`load_records` gives a stored session's records back, so
reports and exports read attributes, not JSON keys.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, TypeVar

from isogrip.protocols.record_detail import record_from_detail
from isogrip.protocols.records import (
    Event,
    HoldFinished,
    MvcChosen,
    MvcTrialRedone,
    MvcTrialScored,
    PhaseChanged,
    Record,
)
from isogrip.storage.store import Store
from isogrip.types import Hand

log = logging.getLogger(__name__)

R = TypeVar("R", bound=Record)


def event_detail(record: Event) -> dict[str, Any]:
    """The JSON detail of ``record``'s events row: its message first, then its fields.

    A field stored under the key ``message`` (an MVC trial's scoring note) takes the
    message's place, as it always has in ``events.csv``.
    """
    detail = record.detail()
    return {"message": record.message, **detail} if record.message else detail


@dataclass(frozen=True)
class StoredRecord:
    """A session record with the sequence numbers the recorder gave it.

    Attributes:
        event_seq: Its row number among the session's events.
        record: The record.
        phase_seq: Its row number among the phases (phase changes only).
        attempt: Which attempt at its hold this is (hold results only: a hold stopped
            by a pause and repeated is kept as attempt 1, the repeat as 2).
    """

    event_seq: int
    record: Event
    phase_seq: int | None = None
    attempt: int | None = None

    def write(self, store: Store, session_id: int) -> None:
        """Write it (inside the caller's transaction)."""
        write_record(store, session_id, self)


@dataclass(frozen=True)
class ReusedMvc:
    """An MVC carried over from an earlier session, recorded as this session's.

    Flagged ``reused`` so history and the "reuse within 7 days" rule do not count it
    as a new measurement.
    """

    hand: Hand
    mvc_n: float

    def write(self, store: Store, session_id: int) -> None:
        """Write it (inside the caller's transaction)."""
        store.write_mvc(session_id, self.hand.value, self.mvc_n, None, ["reused"])


#: What a batch carries besides samples.
Op = StoredRecord | ReusedMvc


def write_record(store: Store, session_id: int, op: StoredRecord) -> None:
    """Store one record: its events row, and its own table's row where it has one."""
    r, sid = op.record, session_id
    store.write_event(sid, op.event_seq, r.t, r.kind.value, event_detail(r))
    match r:
        case PhaseChanged():
            assert op.phase_seq is not None
            store.write_phase(sid, op.phase_seq, r.t, r.phase.value, _value(r.hand), r.rep,
                              r.trial, r.target_n, r.band_low_n, r.band_high_n, r.mvc_n)
        case MvcTrialScored():
            store.write_mvc_trial(sid, r.hand.value, r.trial, r.t_start_s, r.t_end_s,
                                  r.score_n, r.raw_peak_n, r.time_to_peak_s, r.plausible,
                                  r.score_message)
        case MvcTrialRedone():
            store.write_mvc_trial_used(sid, r.hand.value, r.trial, False)
        case MvcChosen():
            store.write_mvc(sid, r.hand.value, r.mvc_n, r.best_trial, r.flags)
        case HoldFinished():
            assert op.attempt is not None
            store.write_hold(sid, r.rep, op.attempt, r.hand.value, r.t_go_s, r.t_end_s,
                             r.target_n, r.band_low_n, r.band_high_n, r.mvc_n, r.completed,
                             r.metrics.as_dict())
        case _:
            pass  # the events row is all it has


def _value(hand: Hand | None) -> str | None:
    return None if hand is None else hand.value


def load_records(store: Store, session_id: int, kind: type[R]) -> list[R]:
    """The stored records of one kind of a session, in order.

    A row that does not read as its record (an imported file's event written by
    other software, say) is left out and logged; it stays in ``events.csv``.
    """
    out: list[R] = []
    for row in store.load_events(session_id):
        try:
            rec = record_from_detail(row.kind, row.t_s or 0.0, row.detail)
        except (ValueError, TypeError) as exc:
            log.info("session %d: event %s not read as a record: %s", session_id,
                     row.kind, exc)
            continue
        if isinstance(rec, kind):
            out.append(rec)
    return out
