"""Late samples and the gap rule in the protocol engine.

A sample stamped inside a hold or MVC trial but delivered after the tick that ended it
must still count; the phase itself ends on time. One gap rule holds everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
from engine_driver import drive, phases

from isogrip.protocols.engine import Engine
from isogrip.protocols.events import Command, EventKind, Phase, Snapshot
from isogrip.protocols.loader import load_protocol
from isogrip.protocols.records import Event, HoldFinished
from isogrip.signal.metrics import gap_threshold, hold_metrics
from isogrip.types import Hand

DEFAULT = load_protocol("ihg-4x2-30-alternating")
MVC = {Hand.RIGHT: 300.0, Hand.LEFT: 300.0}  # reused: hold 1 runs 8-128 s
TARGET = 90.0


def on_target(t: np.ndarray) -> np.ndarray:
    return np.full(t.shape, TARGET)


def deliver(e: Engine, k0: int, k1: int, force: Callable[[np.ndarray], np.ndarray], *,
            fs: float = 100.0, per: int = 4, tick: bool = True) -> list[Event]:
    """Samples k / fs for k in [k0, k1), ``per`` to a notification, each on arrival."""
    out: list[Event] = []
    for k in range(k0, k1, per):
        ts = np.arange(k, min(k + per, k1)) / fs
        out += e.feed(ts, force(ts))
        if tick:
            out += e.tick(float(ts[-1]))
    return out


def kinds(events: list[Event]) -> list[EventKind]:
    return [ev.kind for ev in events]


def test_samples_delivered_after_the_hold_ended_still_count() -> None:
    on_time = Engine(DEFAULT, sample_rate_hz=100, known_mvc=MVC)
    late = Engine(DEFAULT, sample_rate_hz=100, known_mvc=MVC)
    for e in (on_time, late):
        e.command(Command.START, 0.0)
        deliver(e, 1, 12796, on_target)  # up to 127.95 s, on time
    expected = deliver(on_time, 12796, 12900, on_target)
    # The clock passes the end of the hold before the samples of 127.96-128.04 arrive.
    at_end = late.tick(128.05)
    assert kinds(at_end)[:1] == [EventKind.STOP] and at_end[0].t == 128.0
    assert EventKind.HOLD_RESULT not in kinds(at_end)
    assert late.phase is Phase.REST and late.results_pending  # the rest is on time
    got = deliver(late, 12796, 12900, on_target)
    hold = next(ev for ev in got if isinstance(ev, HoldFinished))
    want = next(ev for ev in expected if isinstance(ev, HoldFinished))
    assert hold.t == want.t == 128.0
    assert hold == want
    assert hold.metrics.n_samples == 12000  # 8.00 ... 127.99 s at 100 Hz
    assert not late.results_pending
    assert late.snapshot().time_left_s == pytest.approx(60.0 - (129.0 - 0.01 - 128.0))


def test_a_silent_device_gives_the_result_after_the_bounded_wait() -> None:
    e = Engine(DEFAULT, sample_rate_hz=100, known_mvc=MVC)
    e.command(Command.START, 0.0)
    deliver(e, 1, 12751, on_target)  # nothing after 127.50 s
    assert e.late_sample_wait_s == 1.0  # 4 notifications of 40 ms are less
    assert EventKind.HOLD_RESULT not in kinds(e.tick(128.0 + 0.99))
    events = e.tick(129.1)
    hold = next(ev for ev in events if isinstance(ev, HoldFinished))
    assert hold.t == 128.0 and hold.metrics.n_samples == 12751 - 800
    assert hold.metrics.max_gap_s == pytest.approx(0.5)
    assert hold.metrics.gap_s == pytest.approx(0.5 - 0.25)
    # Rare notifications wait longer: 4 x their interval.
    rare = Engine(DEFAULT, sample_rate_hz=10, known_mvc=MVC)
    rare.command(Command.START, 0.0)
    deliver(rare, 1, 400, on_target, fs=10, per=8)
    assert rare.late_sample_wait_s == pytest.approx(3.2, abs=0.1)


def test_finished_session_waits_for_the_last_hold() -> None:
    e = Engine(DEFAULT, sample_rate_hz=100, known_mvc=MVC)
    e.command(Command.START, 0.0)
    deliver(e, 1, 67696, on_target)  # hold 4 runs 557-677 s
    events = e.tick(677.02)
    assert e.finished and e.phase is Phase.COMPLETE and e.results_pending
    assert len(e.hold_results) == 3 and EventKind.HOLD_RESULT not in kinds(events)
    events = deliver(e, 67696, 67704, on_target)
    assert kinds(events) == [EventKind.HOLD_RESULT]
    assert [h.rep for h in e.hold_results] == [1, 2, 3, 4]
    assert not e.results_pending
    # A session cut short gives what it has at once.
    cut = Engine(DEFAULT, sample_rate_hz=100, known_mvc=MVC)
    cut.command(Command.START, 0.0)
    deliver(cut, 1, 5000, on_target)
    cut.command(Command.ABORT, 50.005)
    assert cut.results_pending
    assert [ev.kind for ev in cut.settle()] == [EventKind.HOLD_RESULT]
    assert cut.hold_results[0].completed is False


def mvc_force(levels: dict[Hand, tuple[float, ...]]) -> Callable[[Snapshot, np.ndarray],
                                                                   np.ndarray]:
    def fn(s: Snapshot, t: np.ndarray) -> np.ndarray:
        if s.phase is Phase.MVC_EFFORT and s.hand is not None:
            return np.full(t.shape, levels[s.hand][s.trial - 1])
        return np.zeros(t.shape)
    return fn


@pytest.mark.parametrize(("left", "extra"), [((300.0, 296.0), False),
                                             ((300.0, 240.0), True)])
def test_last_mvc_trial_with_late_samples_decides_as_on_time(
        left: tuple[float, ...], extra: bool) -> None:
    # Two trials a hand, alternating: left trial 2 (92-97 s) is the last one planned,
    # and its score decides between another trial and the holds.
    p = replace(DEFAULT, mvc=replace(DEFAULT.mvc, trials_per_hand=2))
    levels = {Hand.RIGHT: (300.0, 300.0, 300.0), Hand.LEFT: (*left, 300.0)}
    fn = mvc_force(levels)
    on_time, late = Engine(p, sample_rate_hz=100), Engine(p, sample_rate_hz=100)
    a, b = on_time.command(Command.START, 0.0), late.command(Command.START, 0.0)
    a += drive(on_time, 96.95, fn, start=0.0)
    b += drive(late, 96.95, fn, start=0.0)
    a += drive(on_time, 200.0, fn)
    b += late.tick(97.03)  # the effort ends on the clock: a rest at once
    assert late.phase is Phase.MVC_REST and late.results_pending
    tail = np.arange(9696, 9704) / 100  # 96.96-97.03 s, delivered late
    b += late.feed(tail, np.where(tail < 97.0, left[1], 0.0))
    b += drive(late, 200.0, fn)
    assert [tr.score.score_n for tr in late.trials] == \
        [tr.score.score_n for tr in on_time.trials]
    assert late.mvc_n == on_time.mvc_n
    got, want = phases(b), phases(a)
    if not extra:  # the provisional rest, then the holds' rest back-dated to 97 s
        assert got.index((97.0, "mvc_rest", "mvc")) + 1 == got.index((97.0, "rest", "hold"))
        got.remove((97.0, "mvc_rest", "mvc"))
    assert got == want
    assert ((97.0, "mvc_rest", "mvc") in want) is extra


@pytest.mark.parametrize("rate_hz", [80.0, 1000.0])
def test_a_0_45_s_dropout_is_a_gap_live_and_in_the_metrics(rate_hz: float) -> None:
    e = Engine(DEFAULT, sample_rate_hz=rate_hz, known_mvc=MVC)
    e.command(Command.START, 0.0)
    per = 4 if rate_hz < 100 else 20  # notifications every 50 or 20 ms
    fs = rate_hz
    kept_t: list[np.ndarray] = []

    def force(t: np.ndarray) -> np.ndarray:
        kept_t.append(t)
        return on_target(t)

    silent = (int(60.0 * fs), int(60.45 * fs))  # no samples in [60.0, 60.45) s
    events = deliver(e, 1, silent[0], force, fs=fs, per=per)
    events += e.tick(60.3) + e.tick(60.44)
    events += deliver(e, silent[1], int(129 * fs), force, fs=fs, per=per)
    thr = gap_threshold(1.0 / rate_hz)
    assert thr == e.gap_threshold_s == pytest.approx(0.25)
    gaps = [ev for ev in events if ev.kind is EventKind.GAP]
    assert len(gaps) == 1 and gaps[0].t == pytest.approx(60.3)
    hold = next(ev for ev in events if isinstance(ev, HoldFinished))
    m = hold.metrics
    assert m.gap_threshold_s == thr
    assert m.max_gap_s == pytest.approx(0.45 + 1 / fs)
    assert m.gap_s == pytest.approx(0.45 + 1 / fs - thr)
    # The same rule applied to the same samples outside the engine gives the same.
    t = np.concatenate(kept_t)
    inside = (t >= 8.0) & (t < 128.0)
    again = hold_metrics(t[inside], on_target(t[inside]), hold.target_n,
                         hold.band_low_n, hold.band_high_n, DEFAULT.ramp_s,
                         mvc_n=300.0, start_s=8.0, end_s=128.0)
    assert again == m
