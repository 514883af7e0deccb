"""Device faults over the virtual BLE path: bleak's Progressor driver, a real ATT/GATT
stack (bumble), the runtime, the engine and the store, on fake loop time.

The same matrix as tests/test_fault_matrix.py (which runs it on the simulated device),
here with the faults made by a virtual Progressor on the far side of the radio link:
link drops of 1 s, 9 s and 30 s (the device out of reach, then advertising again) in a
hold, in a maximal squeeze and in a rest; bursts of damaged notifications; notifications
lost on air; a jump of the device clock; the u32 microsecond wrap; a load cell at full
scale; a device that accepts "start" and sends nothing. Every case must end in a defined
state, tell the user what happened, and store every sample the device put on air. And
with two devices in range, only the one the user chose is ever connected, drop or not.

The event loop's time is fake (looptime): it jumps ahead whenever every task waits, so
bumble's and bleak's timers, the driver's stamps and the session clock share one
timeline and a 5-minute session runs in about two seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from fault_cases import DROP_CASES, check_drop, check_silent_device, drop_moment, phase_times
from virtual_ble import ProgressorPeripheral, VirtualBleWorld
from virtual_ble.fake_time import FAKE_TIME, new_fake_time_loop
from virtual_ble.faulty_progressor import FaultyProgressor, ProgressorFaults

from isogrip.ble_device.participant import make_participant
from isogrip.protocols.loader import load_protocol
from isogrip.protocols.model import Protocol
from isogrip.protocols.records import Event, LinkLost, LinkStatus, SessionWarning
from isogrip.runtime import SessionConfig, SessionResult, SessionRuntime
from isogrip.signal.units import KGF_N
from isogrip.storage.store import Store
from isogrip.types import Hand

pytestmark = FAKE_TIME

KNOWN = {Hand.LEFT: 30 * KGF_N, Hand.RIGHT: 32 * KGF_N}
SEED = 4
#: The standard session with two holds (one per hand) instead of four: every phase
#: the faults are placed in is there, in half the time.
PROTOCOL: Protocol = replace(load_protocol("ihg-4x2-30-alternating"), reps=2)


@dataclass
class Run:
    result: SessionResult
    store: Store
    events: list[Event]
    received: int
    device: FaultyProgressor
    decode_errors: int


async def run(tmp: Path, faults: ProgressorFaults, known: dict[Hand, float] | None = KNOWN,
              **participant: float) -> Run:
    async with VirtualBleWorld() as world:
        p = FaultyProgressor(make_participant("good", SEED, **participant), faults,
                             seed=SEED, per_notification=4)
        await world.add(p)
        store = Store.open(tmp)
        rt = SessionRuntime(
            SessionConfig(device="progressor", protocol=PROTOCOL, data_dir=tmp,
                          known_mvc=known, resume_after_reconnect=True),
            store=store, ble_backend=world.client_backend,
            ble_scanner_backend=world.scanner_backend)
        p.feedback = rt.snapshot
        result = await rt.run_here()
    stats = rt.device.stats  # type: ignore[attr-defined]
    return Run(result, store, rt.drain_events(), rt.samples, p, stats.errors)


def check_every_sample_kept(r: Run) -> None:
    sid = r.result.session_id
    assert r.device.samples_sent > 0
    # Every sample put on air in an intact notification arrived, and all are stored.
    assert r.store.count_samples(sid) == r.received == r.result.samples == r.device.samples_sent


@pytest.fixture(scope="module")
def timeline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, float]:
    loop = new_fake_time_loop()
    out: dict[str, float] = {}
    try:
        for name, known in (("known", KNOWN), ("full", None)):
            r = loop.run_until_complete(run(tmp_path_factory.mktemp(name),
                                            ProgressorFaults(), known))
            assert r.result.status == "complete", r.result.reason
            check_every_sample_kept(r)
            assert r.decode_errors == 0
            out.update(phase_times(r.store, r.result.session_id, name))
            r.store.close()
    finally:
        loop.close()
    return out


@pytest.mark.parametrize(("where", "secs"), DROP_CASES)
async def test_link_drops(tmp_path: Path, timeline: dict[str, float], where: str,
                          secs: int) -> None:
    at, measure_mvc = drop_moment(timeline, where)
    r = await run(tmp_path, ProgressorFaults(outage_at=at, outage_s=secs),
                  None if measure_mvc else KNOWN)
    assert r.result.status == "complete", r.result.reason
    assert len(r.device.outages) == 1 and r.device.outages[0][1] is not None
    down, up = r.device.outages[0]
    assert up - down == pytest.approx(secs)  # out of reach that long, then advertising
    # Started again once, by the reconnect (the silence watchdog leaves a fresh link be).
    assert len([t for t in r.device.start_times if t >= up]) == 1
    check_every_sample_kept(r)
    # Back within a reconnect step (backoff <= 2 s) of the device advertising again.
    check_drop(r.store, r.result.session_id, r.events, where, secs, PROTOCOL.reps,
               reconnect_s=2.5)
    if where == "mvc":  # the cut-short squeeze does not pull the MVC down (best of)
        mvc = {m.hand: m.mvc_n for m in r.store.load_mvc(r.result.session_id)}
        assert mvc["right"] > 0.85 * 40 * KGF_N and mvc["left"] > 0.85 * 37 * KGF_N
    r.store.close()


async def test_bursts_of_damaged_notifications(tmp_path: Path) -> None:
    r = await run(tmp_path, ProgressorFaults(burst_every_s=20.0, burst=5))
    assert r.result.status == "complete", r.result.reason
    check_every_sample_kept(r)
    assert r.device.damaged_sent >= 5 * 10
    assert r.decode_errors == r.device.damaged_sent  # each one seen, counted, skipped
    notices = [e for e in r.events if isinstance(e, LinkStatus) and e.status == "malformed"]
    assert notices and "damaged packet" in notices[0].message
    assert len(notices) < 20  # rate-limited, not one per packet
    r.store.close()


async def test_notifications_lost_on_air(tmp_path: Path) -> None:
    r = await run(tmp_path, ProgressorFaults(drop=0.05))
    assert r.result.status == "complete", r.result.reason
    check_every_sample_kept(r)
    assert r.device.lost > 100
    holds = [h for h in r.store.load_holds(r.result.session_id) if h.completed]
    assert len(holds) == PROTOCOL.reps and all(h.time_in_band_pct is not None for h in holds)
    r.store.close()


@pytest.mark.parametrize("case", ["jump", "wrap"])
async def test_device_clock_jump_and_u32_wrap(tmp_path: Path, case: str) -> None:
    faults = (ProgressorFaults(clock_jump_at=150.0, clock_jump_s=7.0) if case == "jump"
              # The microsecond counter wraps 100 s into the stream.
              else ProgressorFaults(clock_start_us=2**32 - 100_000_000))
    r = await run(tmp_path, faults)
    assert r.result.status == "complete", r.result.reason
    check_every_sample_kept(r)
    t, t_dev, _ = r.store.load_samples(r.result.session_id)
    assert (np.diff(t) >= 0).all()  # the session timeline never runs backwards
    # ... and never jumps: the device clock's leap is not taken for a leap in time.
    assert np.diff(t).max() < 0.2
    if case == "wrap":
        assert t_dev[-1] > 2**32 * 1e-6  # device time unwrapped past the wrap
    else:
        assert np.diff(t_dev).max() == pytest.approx(7.0, abs=0.05)
    r.store.close()


async def test_a_load_cell_at_full_scale(tmp_path: Path) -> None:
    # A hand stronger than the 200 kg Progressor: the squeezes read flat at full scale.
    r = await run(tmp_path, ProgressorFaults(saturate_kg=200.0), None,
                  mvc_right_n=230 * KGF_N, mvc_left_n=220 * KGF_N)
    assert r.result.status == "complete", r.result.reason
    check_every_sample_kept(r)
    warnings = [e for e in r.events if isinstance(e, SessionWarning)
                and e.reason == "saturated"]
    assert warnings and "limit (200 kg)" in warnings[0].message
    assert "higher than measured" in warnings[0].message
    r.store.close()


@pytest.mark.parametrize("known", [None, KNOWN], ids=["measure MVC", "reuse MVC"])
async def test_a_device_that_streams_nothing(tmp_path: Path,
                                             known: dict[Hand, float] | None) -> None:
    r = await run(tmp_path, ProgressorFaults(silent=True), known)
    check_silent_device(r.result, r.store, r.events, r.received)
    assert start_commands(r.device) >= 2  # it was asked to stream again
    r.store.close()


async def test_a_device_that_falls_silent_mid_session(tmp_path: Path,
                                                      timeline: dict[str, float]) -> None:
    at = timeline["known:hold:1"] + 30.0
    r = await run(tmp_path, ProgressorFaults(silent_from=at))
    check_silent_device(r.result, r.store, r.events, r.received, mid_session=True)
    assert r.received == r.device.samples_sent
    assert start_commands(r.device) >= 2
    r.store.close()


@pytest.mark.parametrize("case", ["missed start", "stall in a hold", "long stall in a hold"])
async def test_a_stalled_stream_is_started_again(tmp_path: Path, timeline: dict[str, float],
                                                 case: str) -> None:
    # The link stays up but no data comes: the first start command was lost, or the
    # firmware stalls 30 s into hold 1. Asking it to start again brings the data back.
    # The long stall also swallows the first retry (at 3 s of silence): the second (at
    # 13 s) works, after the hold was paused at 10 s; unattended, the session resumes
    # when the data is back and the hold is repeated.
    stall = timeline["known:hold:1"] + 30.0
    faults = {"missed start": ProgressorFaults(ignore_starts=1),
              "stall in a hold": ProgressorFaults(stall_at=stall),
              "long stall in a hold": ProgressorFaults(stall_at=stall, stall_ignores=1)}[case]
    r = await run(tmp_path, faults)
    assert r.result.status == "complete", r.result.reason
    check_every_sample_kept(r)
    statuses = [e.status for e in r.events if isinstance(e, LinkStatus)]
    assert statuses.count("no_data") == 1 and statuses.count("data_resumed") == 1
    paused = [e for e in r.events if isinstance(e, LinkLost)]
    holds = r.store.load_holds(r.result.session_id)
    done = [(h.rep, h.attempt, h.completed) for h in holds]
    if case == "long stall in a hold":
        assert len(paused) == 1
        assert paused[0] == LinkLost(t=paused[0].t, message=paused[0].message, paused=True,
                                     connected=True)
        assert "has sent no force readings for 10 s" in paused[0].message
        assert done == [(1, 1, False), (1, 2, True), (2, 1, True)]
        began = r.device.stalled_at
        assert began is not None
        asked = [t - began for t in r.device.start_times if t > began]
        assert asked == [pytest.approx(3.0, abs=0.2), pytest.approx(13.0, abs=0.2)]
    else:
        assert not paused
        assert done == [(1, 1, True), (2, 1, True)]
    if case == "stall in a hold":  # a gap of the 3 s watchdog plus the restart
        assert 3.0 <= holds[0].metrics["max_gap_s"] < 3.5
    elif case == "missed start":
        assert r.device.starts_ignored == 1
        assert all(h.metrics["max_gap_s"] < 0.1 for h in holds)
    r.store.close()


def start_commands(p: FaultyProgressor) -> int:
    """How often the device was told to start streaming (opcode 0x65)."""
    return sum(1 for _uuid, data in p.writes if data[:1] == b"\x65")


@pytest.mark.parametrize("how", ["by address", "nearest"])
async def test_only_the_selected_device_is_connected_even_after_a_drop(
        tmp_path: Path, how: str) -> None:
    # Two Progressors in range. The user picked one (by its address, here the farther
    # one; or "progressor", the nearest). It drops out for 9 s mid-hold: isogrip waits
    # for that one and never takes the other instead.
    chosen_rssi, other_rssi = (-80, -40) if how == "by address" else (-40, -80)
    async with VirtualBleWorld() as world:
        other = ProgressorPeripheral(name="Progressor_OTHER", rssi=other_rssi)
        await world.add(other)
        chosen = FaultyProgressor(make_participant("good", SEED),
                                  ProgressorFaults(outage_at=60.0, outage_s=9.0),
                                  name="Progressor_CHOSEN", rssi=chosen_rssi,
                                  per_notification=4)
        address = await world.add(chosen)
        store = Store.open(tmp_path)
        spec = f"progressor:{address}" if how == "by address" else "progressor"
        rt = SessionRuntime(
            SessionConfig(device=spec, protocol=PROTOCOL, data_dir=tmp_path,
                          known_mvc=KNOWN),
            store=store, ble_backend=world.client_backend,
            ble_scanner_backend=world.scanner_backend)
        chosen.feedback = rt.snapshot
        result = await rt.run_here()
    assert result.status == "complete", result.reason
    assert chosen.connection_count == 2 and len(chosen.outages) == 1
    assert other.connection_count == 0 and other.writes == []
    info = store.get_session_info(result.session_id).device_info
    assert info is not None and info["address"] == address
    assert store.count_samples(result.session_id) == chosen.samples_sent
    store.close()
