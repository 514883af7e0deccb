"""The link-drop cases and their verdicts, shared by the fault matrices of the simulated
device (tests/test_fault_matrix.py) and of the virtual BLE path
(tests/test_ble_fault_matrix.py), so both paths are held to the same rules."""

from __future__ import annotations

import pytest

from isogrip.link_supervisor import NO_DATA_AT_START_S, NO_DATA_STOP_S, RECONNECT_PAUSE_S
from isogrip.protocols.events import EventKind
from isogrip.protocols.records import Event, LinkBack, LinkLost, LinkStatus, SessionWarning
from isogrip.runtime import SessionResult
from isogrip.storage.store import Store

#: (where, seconds): link drops of 1, 9 and 30 s in a hold, a maximal squeeze and a rest.
DROP_CASES = [(where, secs) for where in ("hold", "mvc", "rest") for secs in (1, 9, 30)]


def phase_times(store: Store, session_id: int, name: str) -> dict[str, float]:
    """When each phase began, s after the first sample, keyed ``name:phase:rep``."""
    info = store.get_session_info(session_id)
    t_first = float(store.load_samples(session_id)[0][0]) - info.t0_s
    out: dict[str, float] = {}
    for p in store.load_phases(session_id):
        out.setdefault(f"{name}:{p.phase}:{p.rep or p.trial or 0}",
                       (p.t_s or 0.0) - info.t0_s - t_first)
    return out


def drop_moment(timeline: dict[str, float], where: str) -> tuple[float, bool]:
    """When to drop the link for a case, and whether the MVC is measured (not reused).

    ``timeline`` holds :func:`phase_times` of a fault-free run with a reused MVC
    (``known``) and one that measures it (``full``).
    """
    if where == "hold":
        return timeline["known:hold:1"] + 30.0, False
    if where == "rest":
        return timeline["known:rest:2"] + 10.0, False
    return timeline["full:mvc_effort:1"] + 1.0, True


def check_drop(store: Store, session_id: int, events: list[Event], where: str, secs: int,
               reps: int, reconnect_s: float) -> None:
    """Assert what a link drop must leave behind.

    Args:
        store: Where the session was recorded.
        session_id: The session.
        events: Every event of the session.
        where: ``hold``, ``mvc`` or ``rest``.
        secs: How long the device was out of reach.
        reps: Holds in the protocol.
        reconnect_s: How much longer than ``secs`` the device may take to be back
            (the reconnect backoff and the connection itself).
    """
    kinds = [e.kind for e in events]
    assert EventKind.DEVICE_DISCONNECTED in kinds and EventKind.DEVICE_RECONNECTED in kinds
    back = next(e for e in events if isinstance(e, LinkBack))
    assert secs <= back.offline_s < secs + reconnect_s
    assert "back" in back.message.lower()
    paused = [e for e in events if isinstance(e, LinkLost) and e.paused]
    holds = store.load_holds(session_id)
    assert sum(h.completed for h in holds) == reps
    if where == "hold":
        first = [h for h in holds if h.rep == 1]
        if secs >= RECONNECT_PAUSE_S:  # away too long in an effort: paused, repeated
            assert paused and "session is paused" in paused[0].message
            assert [(h.attempt, h.completed) for h in first] == [(1, False), (2, True)]
        else:  # the hold goes on; the silence is one gap, not time in band
            assert not paused and len(first) == 1
            metrics = first[0].metrics
            assert secs <= metrics["max_gap_s"] < secs + reconnect_s
            # gap_s counts what exceeds the normal spacing threshold.
            assert first[0].gap_s == pytest.approx(
                metrics["max_gap_s"] - metrics["gap_threshold_s"], abs=0.1)
    elif where == "mvc":
        # The squeeze lasts 5 s and the rest after it 20 s: a 1 or 9 s drop is over
        # before the next squeeze, a 30 s one still runs when it starts, so that one is
        # paused and repeated. Either way each hand gets its MVC from its squeezes.
        if secs >= 30:
            assert paused
            assert any(e.kind is EventKind.PHASE and "squeeze will be repeated" in e.message
                       for e in events)
        else:
            assert not paused
        assert {m.hand for m in store.load_mvc(session_id)} == {"left", "right"}
        assert len(store.load_mvc_trials(session_id)) >= 6
    else:  # a rest just keeps counting down
        assert not paused
        assert all((h.gap_s or 0) < 0.5 for h in holds)


def check_silent_device(result: SessionResult, store: Store, events: list[Event],
                        received: int, *, mid_session: bool = False) -> None:
    """Assert what a device that is connected but sends nothing must lead to.

    The session asks it to stream again, pauses an effort it cannot measure, and stops
    with the reason once nothing has come for long enough (``NO_DATA_AT_START_S``
    when nothing ever came, else ``NO_DATA_STOP_S``); it never calls holds without
    data complete.
    """
    sid = result.session_id
    assert store.count_samples(sid) == received == result.samples
    assert result.status == "aborted"
    statuses = [e for e in events if isinstance(e, LinkStatus) and e.status == "no_data"]
    assert statuses and "sends no force readings" in statuses[0].message
    stop = next(e for e in events if isinstance(e, SessionWarning) and e.reason == "no_data")
    if mid_session:
        assert received > 0
        assert "for 2 minutes" in result.reason and "recorded up to then is kept" in result.reason
        t_last = float(store.load_samples(sid)[0][-1])
        assert stop.t - t_last == pytest.approx(NO_DATA_STOP_S, abs=0.3)
        paused = [e for e in events if isinstance(e, LinkLost) and e.paused]
        assert paused and "has sent no force readings" in paused[0].message
        assert paused[0].t - t_last == pytest.approx(RECONNECT_PAUSE_S, abs=0.3)
        holds = store.load_holds(sid)
        assert holds and not any(h.completed for h in holds)  # hold 1 cut short, no more
    else:
        assert received == 0
        assert "sent no force readings in 30 s" in result.reason
        assert "switched on" in result.reason
        t0 = store.get_session_info(sid).t0_s
        assert stop.t - t0 == pytest.approx(NO_DATA_AT_START_S, abs=1.0)
        assert not any(h.completed for h in store.load_holds(sid))
