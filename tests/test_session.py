"""Full simulated sessions through the runtime, the store and the exports."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from isogrip.ble_device.participant import PRESETS
from isogrip.ble_device.sim import SimDevice
from isogrip.protocols.events import EventKind
from isogrip.runtime import SessionCancelled, SessionConfig, SessionResult, SessionRuntime
from isogrip.storage.export import export_session
from isogrip.storage.store import Store
from isogrip.types import Hand


def run_full(
    tmp_path: Path, device: str, known_mvc: dict[Hand, float] | None = None
) -> tuple[SessionResult, Store, SessionRuntime]:
    store = Store.open(tmp_path)
    config = SessionConfig(device=device, speed=None, data_dir=tmp_path, known_mvc=known_mvc)
    rt = SessionRuntime(config, store=store)
    return rt.run(), store, rt


def run(
    tmp_path: Path, device: str, known_mvc: dict[Hand, float] | None = None
) -> tuple[SessionResult, Store]:
    result, store, _ = run_full(tmp_path, device, known_mvc)
    return result, store


KNOWN = {Hand.RIGHT: 392.0, Hand.LEFT: 363.0}  # skip calibration: hold 1 runs 8-128 s


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[SessionResult, Store]]:
    out = {}
    for preset in PRESETS:
        d = tmp_path_factory.mktemp(preset)
        out[preset] = run(d, f"sim:{preset}?seed=7")
    return out


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_completes_and_is_stored(
    sessions: dict[str, tuple[SessionResult, Store]], preset: str
) -> None:
    result, store = sessions[preset]
    assert result.status == "complete"
    row = store.get_session(result.session_id)
    assert row.status == "complete" and row.n_holds_done == 4
    t, t_dev, _f = store.load_samples(result.session_id)
    # 80 Hz for the whole session (885 s nominal, more with extra MVC trials).
    assert len(t) == result.samples
    assert len(t) >= 0.97 * 885 * 80
    assert np.all(np.diff(t) >= 0)
    assert np.isfinite(t_dev).all()
    holds = store.load_holds(result.session_id)
    assert len(holds) == 4


def test_good_participant_reaches_true_mvc_and_stays_in_band(
    sessions: dict[str, tuple[SessionResult, Store]],
) -> None:
    result, _ = sessions["good"]
    true = PRESETS["good"]
    assert result.mvc_n[Hand.RIGHT] == pytest.approx(true.mvc_right_n, rel=0.05)
    assert result.mvc_n[Hand.LEFT] == pytest.approx(true.mvc_left_n, rel=0.05)
    for hold in result.holds:
        m = hold.metrics
        assert m.time_in_band_pct > 75, hold
        assert abs(m.mean_pct_mvc - 30) < 2
        assert m.gap_s < 0.2


def test_fatigue_participant_drifts_down(
    sessions: dict[str, tuple[SessionResult, Store]],
) -> None:
    result, _ = sessions["fatigue"]
    slopes = [h.metrics.drift_pct_mvc_per_min for h in result.holds]
    assert np.mean(slopes) < -0.3, slopes
    assert all(s < 0 for s in slopes), slopes
    good = [h.metrics.drift_pct_mvc_per_min for h in sessions["good"][0].holds]
    assert np.mean(slopes) < np.mean(good)


def test_sloppy_participant_spends_less_time_in_band(
    sessions: dict[str, tuple[SessionResult, Store]],
) -> None:
    def tib(r: SessionResult) -> float:
        return float(np.mean([h.metrics.time_in_band_pct for h in r.holds]))

    assert tib(sessions["sloppy"][0]) < tib(sessions["good"][0]) - 15


def test_weak_participant_mvc(sessions: dict[str, tuple[SessionResult, Store]]) -> None:
    result, _ = sessions["weak"]
    assert result.mvc_n[Hand.RIGHT] == pytest.approx(PRESETS["weak"].mvc_right_n, rel=0.1)


def test_same_seed_same_session(tmp_path: Path) -> None:
    a, _ = run(tmp_path / "a", "sim:sloppy?seed=11")
    b, _ = run(tmp_path / "b", "sim:sloppy?seed=11")
    c, _ = run(tmp_path / "c", "sim:sloppy?seed=12")
    assert a.mvc_n == b.mvc_n
    assert [h.metrics for h in a.holds] == [h.metrics for h in b.holds]
    assert a.mvc_n != c.mvc_n


def test_exports_of_a_full_session(
    sessions: dict[str, tuple[SessionResult, Store]], tmp_path: Path
) -> None:
    result, store = sessions["good"]
    export_session(store, result.session_id, tmp_path)
    with open(tmp_path / "samples.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == result.samples
    in_hold = [r for r in rows if r["phase"] == "hold"]
    assert {r["hand"] for r in in_hold} == {"left", "right"}
    assert {r["rep"] for r in in_hold} == {"1", "2", "3", "4"}
    share = np.mean([r["in_band"] == "1" for r in in_hold])
    assert share > 0.7
    pct = np.array([float(r["pct_mvc"]) for r in in_hold])
    assert 28 < np.median(pct) < 32
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["completed"] is True
    assert summary["protocol"]["name"] == "ihg-4x2-30-alternating"
    assert len(summary["holds"]) == 4
    assert summary["mvc"]["right"]["mvc_n"] == pytest.approx(result.mvc_n[Hand.RIGHT])
    with open(tmp_path / "events.csv", newline="") as fh:
        kinds = [r["kind"] for r in csv.DictReader(fh)]
    assert kinds.count("hold_result") == 4 and kinds.count("go") >= 10


def test_disconnect_during_hold_keeps_hold_running(tmp_path: Path) -> None:
    # Drop the link for 5 s in the middle of the first hold.
    result, store = run(tmp_path, "sim:good?seed=3&disconnect_at=50&disconnect_s=5", KNOWN)
    assert result.status == "complete"
    events = store.load_events(result.session_id)
    kinds = [e.kind for e in events]
    assert "device_disconnected" in kinds and "device_reconnected" in kinds
    hold1 = result.holds[0].metrics
    assert 4.5 < hold1.gap_s < 8.0
    assert result.holds[0].completed
    assert result.holds[0].t_end_s - result.holds[0].t_go_s == pytest.approx(120.0)


def test_malformed_and_dropped_packets_are_survived(tmp_path: Path) -> None:
    result, store, rt = run_full(tmp_path, "sim:good?seed=5&malformed=0.02&drop=0.02&spikes=0.01")
    assert result.status == "complete"
    assert isinstance(rt.device, SimDevice)
    assert rt.device.malformed_count > 100
    assert rt.device.dropped_count > 100
    statuses = [e for e in rt.drain_events() if e.kind is EventKind.DEVICE_STATUS]
    assert statuses and "damaged" in statuses[0].message
    _, _, f = store.load_samples(result.session_id)
    assert len(f) == result.samples


def test_clock_wrap_during_session(tmp_path: Path) -> None:
    # The device's u32 microsecond clock wraps 100 s into the session.
    result, store = run(tmp_path, "sim:good?seed=2&clock_start_s=4194.967296")
    assert result.status == "complete"
    t, t_dev, _ = store.load_samples(result.session_id)
    assert np.all(np.diff(t) >= 0)
    assert t_dev.max() > 4294.97  # unwrapped device time keeps increasing
    assert all(h.metrics.gap_s < 0.2 for h in result.holds)


def test_1khz_session(tmp_path: Path) -> None:
    result, _store = run(tmp_path, "sim:good?seed=1&rate=1000&per_packet=20")
    assert result.status == "complete"
    assert result.samples >= 0.97 * 885 * 1000
    assert result.mvc_n[Hand.RIGHT] == pytest.approx(PRESETS["good"].mvc_right_n, rel=0.05)


def test_stop_right_after_start_ends_the_thread(tmp_path: Path) -> None:
    rt = SessionRuntime(SessionConfig(device="sim", speed=None, data_dir=tmp_path))
    rt.start()
    rt.stop()
    assert rt.done
    try:
        result = rt.wait(0)
    except SessionCancelled:
        return
    assert result.status == "aborted"


def test_processing_error_does_not_end_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from isogrip.protocols.engine import Engine

    real_feed = Engine.feed
    calls = {"n": 0}

    def flaky(self: Engine, t: object, f: object) -> list[object]:
        calls["n"] += 1
        if calls["n"] == 3000:
            raise RuntimeError("boom")
        return real_feed(self, t, f)  # type: ignore[arg-type,return-value]

    monkeypatch.setattr(Engine, "feed", flaky)
    result, store, _ = run_full(tmp_path, "sim:good?seed=4", KNOWN)
    assert result.status == "complete"
    assert all(h.metrics.gap_s < 0.2 for h in result.holds)
    statuses = [e for e in store.load_events(result.session_id) if e.kind == "device_status"]
    assert statuses and "boom" in statuses[0].detail["message"]
    _, _, f = store.load_samples(result.session_id)
    assert len(f) == result.samples


def test_long_drop_in_hold_pauses_then_repeats_the_hold(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    config = SessionConfig(device="sim:good?seed=3&disconnect_at=50&disconnect_s=30",
                           speed=None, data_dir=tmp_path, known_mvc=KNOWN,
                           resume_after_reconnect=True)
    rt = SessionRuntime(config, store=store)
    result = rt.run()
    assert result.status == "complete"
    kinds = [e.kind for e in store.load_events(result.session_id)]
    assert kinds.count("paused") == 1 and kinds.count("resumed") == 1
    holds = store.load_holds(result.session_id)
    first = [h for h in holds if h.rep == 1]
    assert [h.completed for h in first] == [False, True]  # abandoned, then repeated
    assert len([h for h in holds if h.completed]) == 4


def test_single_hand_session_runs_no_needless_extra_squeezes(tmp_path: Path) -> None:
    # Seed 5 used to run 5 maximal efforts on the one trained hand, 23 s apart, because
    # each "last was best" by 0.01 % asked for another. Now the planned three suffice.
    store = Store.open(tmp_path)
    config = SessionConfig(device="sim:good?seed=5", protocol="ihg-4x2-30-single-hand",
                           speed=None, data_dir=tmp_path)
    result = SessionRuntime(config, store=store).run()
    assert result.status == "complete"
    trials = store.load_mvc_trials(result.session_id)
    assert [(tr.hand, tr.trial) for tr in trials] == [("left", 1), ("left", 2), ("left", 3)]
