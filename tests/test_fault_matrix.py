"""Device faults through the whole stack (simulated device, runtime, engine, store).

Every case must end in a defined state, tell the user what happened (events), and store
every sample the runtime received. Link drops of 1 s, 9 s and 30 s are placed in a
hold, in a maximal squeeze and in a rest. Headless sessions resume by themselves once the
device is back, so each case runs to its end on the virtual clock.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fault_cases import DROP_CASES, check_drop, check_silent_device, drop_moment, phase_times

from isogrip.protocols.records import Event, LinkStatus
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
        out.update(phase_times(store, result.session_id, name))
        store.close()
    return out


@pytest.mark.parametrize(("where", "secs"), DROP_CASES)
def test_link_drops(tmp_path: Path, timeline: dict[str, float], where: str,
                    secs: int) -> None:
    at, measure_mvc = drop_moment(timeline, where)
    result, store, events, received = run(
        tmp_path, f"sim:good?seed={SEED}&disconnect_at={at}&disconnect_s={secs}",
        None if measure_mvc else KNOWN)
    assert result.status == "complete", result.reason
    assert store.count_samples(result.session_id) == received == result.samples
    # Back within one reconnect step (the backoff grows to 2 s).
    check_drop(store, result.session_id, events, where, secs, reps=4, reconnect_s=2.1)
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
        assert any(isinstance(e, LinkStatus) and e.status == "malformed" for e in events)
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


@pytest.mark.parametrize("known", [None, KNOWN], ids=["measure MVC", "reuse MVC"])
def test_a_device_that_streams_nothing(tmp_path: Path,
                                       known: dict[Hand, float] | None) -> None:
    result, store, events, received = run(tmp_path, "sim:good?silent=1", known)
    check_silent_device(result, store, events, received)
    store.close()


def test_a_device_that_falls_silent_mid_session(tmp_path: Path,
                                                timeline: dict[str, float]) -> None:
    # Connected, then nothing from 30 s into the first hold on (a stalled firmware).
    at = timeline["known:hold:1"] + 30.0
    result, store, events, received = run(
        tmp_path, f"sim:good?seed={SEED}&silent_from={at}", KNOWN)
    check_silent_device(result, store, events, received, mid_session=True)
    store.close()


