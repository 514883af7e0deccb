"""Device faults through the whole stack (simulated device, runtime, engine, store).

Every case must end in a defined state, tell the user what happened (events), and store
every sample the runtime received. Link drops of 1 s, 9 s and 30 s are placed in a
hold, in a maximal squeeze and in a rest. Headless sessions resume by themselves once the
device is back, so each case runs to its end on the virtual clock.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from isogrip.protocols.events import Event, EventKind
from isogrip.runtime import SessionConfig, SessionResult, SessionRuntime
from isogrip.signal.units import KGF_N
from isogrip.storage.store import Store
from isogrip.types import Hand

KNOWN = {Hand.LEFT: 30 * KGF_N, Hand.RIGHT: 32 * KGF_N}
SEED = 4


def run(tmp: Path, device: str, known: dict[Hand, float] | None = KNOWN
        ) -> tuple[SessionResult, Store, list[Event], int]:
    store = Store.open(tmp)
    rt = SessionRuntime(SessionConfig(device=device, speed=None, known_mvc=known,
                                      resume_after_reconnect=True), store)
    result = rt.run()
    return result, store, rt.drain_events(), rt.samples


@pytest.fixture(scope="module")
def timeline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, float]:
    """When things happen, from fault-free runs (seconds after the stream starts)."""
    out: dict[str, float] = {}
    for name, known in (("known", KNOWN), ("full", None)):
        result, store, _, _ = run(tmp_path_factory.mktemp(name), f"sim:good?seed={SEED}",
                                  known)
        info = store.get_session_info(result.session_id)
        t_first = float(store.load_samples(result.session_id)[0][0]) - info.t0_s
        for p in store.load_phases(result.session_id):
            key = f"{name}:{p.phase}:{p.rep or p.trial or 0}"
            out.setdefault(key, (p.t_s or 0.0) - info.t0_s - t_first)
        store.close()
    return out


CASES = [(where, secs) for where in ("hold", "mvc", "rest") for secs in (1, 9, 30)]


@pytest.mark.parametrize(("where", "secs"), CASES)
def test_link_drops(tmp_path: Path, timeline: dict[str, float], where: str,
                    secs: int) -> None:
    if where == "hold":
        at, known = timeline["known:hold:1"] + 30.0, KNOWN
    elif where == "rest":
        at, known = timeline["known:rest:2"] + 10.0, KNOWN
    else:
        at, known = timeline["full:mvc_effort:1"] + 1.0, None
    result, store, events, received = run(
        tmp_path, f"sim:good?seed={SEED}&disconnect_at={at}&disconnect_s={secs}", known)
    sid = result.session_id
    kinds = [e.kind for e in events]
    assert result.status == "complete", result.reason
    assert EventKind.DEVICE_DISCONNECTED in kinds and EventKind.DEVICE_RECONNECTED in kinds
    assert store.count_samples(sid) == received == result.samples  # every sample kept
    paused = any(e.kind is EventKind.DEVICE_DISCONNECTED and e.data.get("paused")
                 for e in events)
    holds = store.load_holds(sid)
    assert sum(h.completed for h in holds) == 4
    if where == "hold":
        first = [h for h in holds if h.rep == 1]
        if secs >= 10:  # away too long in an effort: paused, the hold is repeated
            assert paused
            assert [(h.attempt, h.completed) for h in first] == [(1, False), (2, True)]
        else:  # the hold goes on; the silence is a gap, not time in band
            assert not paused and len(first) == 1
            assert first[0].gap_s == pytest.approx(secs, abs=1.0)
    elif where == "mvc":
        # A 30 s drop outlasts the 5 s squeeze: the trial ends as a gap, no pause needed.
        trials = store.load_mvc_trials(sid)
        assert {m.hand for m in store.load_mvc(sid)} == {"left", "right"}
        assert len(trials) >= 6
    else:  # a rest just keeps counting down
        assert not paused
        assert all((h.gap_s or 0) < 0.5 for h in holds)
    store.close()


@pytest.mark.parametrize(("option", "check"), [
    ("malformed=0.05", "malformed"),
    ("drop=0.05", "dropped"),
    ("spikes=0.02", "spikes"),
    ("clock_jump_at=300&clock_jump_s=7", "clock"),
    ("clock_start_s=4290", "wrap"),
    ("saturate_kg=25", "saturated"),
])
def test_damaged_streams(tmp_path: Path, option: str, check: str) -> None:
    known = None if check == "saturated" else KNOWN
    result, store, events, received = run(tmp_path, f"sim:good?seed={SEED}&{option}", known)
    sid = result.session_id
    assert store.count_samples(sid) == received
    messages = " ".join(e.message for e in events).lower()
    if check == "malformed":
        assert result.status == "complete"
        assert any(e.kind is EventKind.DEVICE_STATUS and e.data.get("status") == "malformed"
                   for e in events)
    elif check == "dropped":
        assert result.status == "complete"
        holds = [h for h in store.load_holds(sid) if h.completed]
        assert len(holds) == 4 and all(h.time_in_band_pct is not None for h in holds)
    elif check == "spikes":
        assert result.status == "complete"
    elif check in ("clock", "wrap"):
        assert result.status == "complete"
        t, t_dev, _ = store.load_samples(sid)
        assert (t[1:] >= t[:-1]).all()  # the session timeline never runs backwards
        if check == "wrap":
            assert t_dev[-1] > 4294.967296  # device time unwrapped past the u32 wrap
    else:
        assert result.status == "complete"
        assert "limit" in messages  # the user is told their maximum may be higher


def test_a_device_that_streams_nothing(tmp_path: Path) -> None:
    result, store, events, received = run(tmp_path, "sim:good?silent=1", None)
    assert received == 0 and store.count_samples(result.session_id) == 0
    assert result.status == "aborted"
    assert "no maximal effort was measured" in result.reason.lower()
    assert any(e.kind is EventKind.GAP for e in events)  # the silence was reported
    store.close()


