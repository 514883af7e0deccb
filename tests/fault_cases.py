"""The link-drop cases and their verdicts, shared by the fault matrices of the simulated
device (tests/test_fault_matrix.py) and of the virtual BLE path
(tests/test_ble_fault_matrix.py), so both paths are held to the same rules."""

from __future__ import annotations

import pytest

from isogrip.protocols.events import Event, EventKind
from isogrip.runtime import RECONNECT_PAUSE_S
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
    back = next(e for e in events if e.kind is EventKind.DEVICE_RECONNECTED)
    assert secs <= back.data["offline_s"] < secs + reconnect_s
    assert "back" in back.message.lower()
    paused = [e for e in events if e.kind is EventKind.DEVICE_DISCONNECTED
              and e.data.get("paused")]
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
        # The squeeze lasts 5 s: even a 30 s drop is over by the rest, so there is
        # nothing to pause; each hand still gets its MVC from its squeezes.
        assert not paused
        assert {m.hand for m in store.load_mvc(session_id)} == {"left", "right"}
        assert len(store.load_mvc_trials(session_id)) >= 6
    else:  # a rest just keeps counting down
        assert not paused
        assert all((h.gap_s or 0) < 0.5 for h in holds)
