from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from engine_driver import drive, obedient, phases
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isogrip.protocols.band import OUT_OF_BAND_DEBOUNCE_S
from isogrip.protocols.engine import Engine
from isogrip.protocols.events import Command, EventKind, Phase, Stage, Zone
from isogrip.protocols.loader import load_protocol
from isogrip.protocols.model import MvcSpec, Protocol
from isogrip.protocols.records import (
    Cue,
    GapEnded,
    HoldFinished,
    MvcChosen,
    MvcTrialRedone,
    MvcTrialScored,
    PhaseChanged,
    SessionWarning,
)
from isogrip.signal.metrics import gap_threshold
from isogrip.types import Hand

DEFAULT = load_protocol("ihg-4x2-30-alternating")
# Efforts that fall slowly: the first trial is the best, no extra trial is needed.
FALLING = (300.0, 296.0, 292.0)


def started(protocol: Protocol = DEFAULT, **kw: object) -> Engine:
    e = Engine(protocol, sample_rate_hz=100, **kw)  # type: ignore[arg-type]
    e.command(Command.START, 0.0)
    return e


def test_default_protocol_exact_timeline() -> None:
    e = started()
    events = drive(e, 2000, obedient(FALLING))
    got = phases(events)
    expected: list[tuple[float, str, str | None]] = [(5.0, "countdown", "mvc")]
    t = 5.0
    for i in range(6):  # 3 trials x 2 hands, alternating
        expected.append((t + 3, "mvc_effort", "mvc"))
        t += 8
        if i < 5:
            expected += [(t, "mvc_rest", "mvc"), (t + 20, "countdown", "mvc")]
            t += 20
    assert t == 153
    expected.append((153.0, "rest", "hold"))
    t = 213.0
    for rep in range(4):
        expected += [(t, "countdown", "hold"), (t + 3, "hold", "hold")]
        t += 123
        expected.append((t, "rest" if rep < 3 else "complete", "hold" if rep < 3 else None))
        t += 60
    assert got == expected
    assert e.phase is Phase.COMPLETE
    assert got[-1][0] == DEFAULT.planned_duration_s() == 885.0


def test_mvc_alternates_hands_right_first_and_takes_best() -> None:
    e = started()
    events = drive(e, 2000, obedient(FALLING))
    trials = [ev for ev in events if ev.kind is EventKind.MVC_TRIAL]
    assert all(isinstance(d, MvcTrialScored) for d in trials)
    scored = [d for d in trials if isinstance(d, MvcTrialScored)]
    assert [(d.hand, d.trial) for d in scored] == [
        (Hand.RIGHT, 1), (Hand.LEFT, 1), (Hand.RIGHT, 2), (Hand.LEFT, 2), (Hand.RIGHT, 3),
        (Hand.LEFT, 3)
    ]
    # The trial's score is the 0.5 s moving-average maximum of a constant effort.
    assert scored[0].score_n == pytest.approx(300.0)
    assert e.mvc_n[Hand.RIGHT] == pytest.approx(300.0)
    assert e.mvc_n[Hand.LEFT] == pytest.approx(300.0)
    results = [ev for ev in events if isinstance(ev, MvcChosen)]
    assert [r.hand for r in results] == [Hand.RIGHT, Hand.LEFT]


def test_hold_targets_and_hands_follow_protocol() -> None:
    e = started()
    events = drive(e, 2000, obedient(FALLING))
    holds = [ev for ev in events if isinstance(ev, HoldFinished)]
    assert [h.hand for h in holds] == [Hand.RIGHT, Hand.LEFT, Hand.RIGHT, Hand.LEFT]
    assert [h.rep for h in holds] == [1, 2, 3, 4]
    right = holds[0]
    assert right.target_n == pytest.approx(90.0)
    assert right.band_low_n == pytest.approx(81.0)
    assert right.band_high_n == pytest.approx(99.0)
    m = right.metrics
    assert m.time_in_band_pct == pytest.approx(100.0)
    assert m.mean_pct_mvc == pytest.approx(30.0, abs=0.01)
    assert m.gap_s == pytest.approx(0.0, abs=0.02)
    assert all(h.completed for h in holds)


def test_cues_in_a_hold() -> None:
    e = started()
    events = drive(e, 2000, obedient(FALLING))
    go = 216.0  # first hold
    in_hold = [ev for ev in events if go - 3 <= ev.t <= go + 120]
    kinds = [(round(ev.t, 3), ev.kind.value) for ev in in_hold
             if ev.kind in (EventKind.COUNTDOWN, EventKind.GO, EventKind.HALFWAY,
                            EventKind.TEN_SECONDS_LEFT, EventKind.BREATHE, EventKind.STOP)]
    assert kinds == [
        (213.0, "countdown"), (214.0, "countdown"), (215.0, "countdown"),
        (216.0, "go"), (246.0, "breathe"), (276.0, "halfway"), (276.0, "breathe"),
        (306.0, "breathe"), (326.0, "ten_s_left"), (336.0, "stop"),
    ]
    counts = [ev.count for ev in in_hold
              if isinstance(ev, Cue) and ev.cue is EventKind.COUNTDOWN]
    assert counts == [3, 2, 1]


def test_snapshot_during_hold() -> None:
    e = started()
    drive(e, 250.0, obedient(FALLING))
    s = e.snapshot()
    assert s.phase is Phase.HOLD and s.stage is Stage.HOLD
    assert s.hand is Hand.RIGHT and s.rep == 1 and s.reps == 4
    assert s.target_n == pytest.approx(90.0)
    assert (s.band_low_n, s.band_high_n) == (pytest.approx(81.0), pytest.approx(99.0))
    assert (s.near_low_n, s.near_high_n) == (pytest.approx(75.0), pytest.approx(105.0))
    assert s.time_left_s == pytest.approx(86.0, abs=0.05)
    assert s.pct_mvc == pytest.approx(30.0, abs=0.1)
    assert s.zone is Zone.IN_BAND and s.cue == "Good"


def test_zones_by_force() -> None:
    e = started()
    drive(e, 230.0, obedient(FALLING))
    for force, zone in [(70.0, Zone.LOW), (78.0, Zone.NEAR_LOW), (90.0, Zone.IN_BAND),
                        (102.0, Zone.NEAR_HIGH), (110.0, Zone.HIGH)]:
        t0 = e.snapshot().t
        e.feed(t0 + np.arange(1, 201) / 100, np.full(200, force))
        assert e.snapshot().zone is zone, force


def test_out_of_band_debounced_low_and_back() -> None:
    e = started()
    drive(e, 230.0, obedient(FALLING))

    def low_then_good(s, t):  # type: ignore[no-untyped-def]
        return np.where(t < 240.0, 60.0, 90.0)

    events = drive(e, 250.0, low_then_good)
    oob = [ev for ev in events if isinstance(ev, Cue) and ev.cue is EventKind.OUT_OF_BAND]
    back = [ev for ev in events if ev.kind is EventKind.BACK_IN_BAND]
    assert len(oob) == 1 and oob[0].side == "low"
    # Filtered force crosses the band edge ~tens of ms after the step at 230.
    assert 230.0 + OUT_OF_BAND_DEBOUNCE_S <= oob[0].t < 230.2 + OUT_OF_BAND_DEBOUNCE_S
    assert len(back) == 1 and 240.5 <= back[0].t < 240.8


def test_brief_excursion_is_not_reported() -> None:
    e = started()
    drive(e, 230.0, obedient(FALLING))

    def blip(s, t):  # type: ignore[no-untyped-def]
        return np.where((t > 235.0) & (t < 235.5), 120.0, 90.0)

    events = drive(e, 245.0, blip)
    assert not [ev for ev in events if ev.kind is EventKind.OUT_OF_BAND]


def test_warning_above_35_percent() -> None:
    e = started()
    drive(e, 230.0, obedient(FALLING))
    events = drive(e, 240.0, lambda s, t: np.full(t.shape, 0.40 * 300))
    warnings = [ev for ev in events if isinstance(ev, SessionWarning)]
    assert len(warnings) == 1
    assert warnings[0].reason == "above_warn_level"


def test_intensity_warning_at_start_for_50_percent_protocol() -> None:
    e = Engine(load_protocol("ihg-4x45-50-alternating"), sample_rate_hz=100)
    events = e.command(Command.START, 0.0)
    assert events[0].kind is EventKind.WARNING
    assert "50 %" in events[0].message


def test_gap_in_hold_keeps_clock_and_is_recorded() -> None:
    e = started()
    drive(e, 226.0, obedient(FALLING))
    events = drive(e, 900.0, obedient(FALLING), silent=lambda t: 240.0 <= t < 245.0)
    gaps = [ev for ev in events if ev.kind is EventKind.GAP]
    ends = [ev for ev in events if isinstance(ev, GapEnded)]
    assert len(gaps) == 1 and len(ends) == 1
    assert ends[0].duration_s == pytest.approx(5.0, abs=0.05)
    hold1 = next(ev for ev in events if isinstance(ev, HoldFinished))
    assert hold1.t_end_s == pytest.approx(336.0)  # the hold kept its clock
    # Time not covered by data: the silence less the threshold one sample stands for.
    assert hold1.metrics.max_gap_s == pytest.approx(5.0, abs=0.02)
    thr = hold1.metrics.gap_threshold_s
    assert thr == pytest.approx(gap_threshold(1 / 100)) == pytest.approx(0.25)
    assert hold1.metrics.gap_s == pytest.approx(5.0 - thr, abs=0.02)
    assert e.phase is Phase.COMPLETE


def test_samples_stop_until_end_of_hold() -> None:
    e = started()
    drive(e, 300.0, obedient(FALLING))
    events = drive(e, 340.0, obedient(FALLING), silent=lambda t: t >= 300.0)
    hold1 = next(ev for ev in events if isinstance(ev, HoldFinished))
    assert hold1.metrics.max_gap_s == pytest.approx(36.0, abs=0.02)


def test_skip_rest() -> None:
    e = started()
    events = e.command(Command.SKIP_REST, 1.0)
    assert phases(events) == [(1.0, "countdown", "mvc")]
    rejected = e.command(Command.SKIP_REST, 1.5)
    assert rejected[-1].kind is EventKind.COMMAND_REJECTED


def test_redo_trial_adds_a_numbered_repeat() -> None:
    e = started()
    drive(e, 14.0, obedient(FALLING))  # first effort 8-13, now in mvc_rest
    assert e.phase is Phase.MVC_REST
    events = e.command(Command.REDO_TRIAL, 14.0)
    redo = [ev for ev in events if ev.kind is EventKind.MVC_TRIAL]
    assert isinstance(redo[0], MvcTrialRedone)
    assert redo[0].redo and redo[0].repeat_as == 2
    events = drive(e, 2000, obedient(FALLING))
    right = [ev.trial for ev in events
             if isinstance(ev, MvcTrialScored | MvcTrialRedone) and ev.hand is Hand.RIGHT]
    assert right == [2, 3, 4]
    assert e.phase is Phase.COMPLETE
    assert sum(tr.used for tr in e.trials if tr.hand is Hand.RIGHT) == 3


def test_redo_rejected_during_effort() -> None:
    e = started()
    drive(e, 9.0, obedient(FALLING))
    assert e.phase is Phase.MVC_EFFORT
    assert e.command(Command.REDO_TRIAL, 9.0)[-1].kind is EventKind.COMMAND_REJECTED


def test_extra_trial_when_last_is_best() -> None:
    e = started()
    events = drive(e, 3000, obedient((250.0, 280.0, 300.0, 320.0, 345.0, 370.0)))
    trials = [(ev.hand, ev.trial) for ev in events
              if isinstance(ev, MvcTrialScored | MvcTrialRedone)]
    # Each effort beats the one before by more than 5 %: strength is still rising, so
    # extra trials run up to 5.
    assert trials.count((Hand.RIGHT, 4)) == 1 and trials.count((Hand.RIGHT, 5)) == 1
    assert (Hand.RIGHT, 6) not in trials
    assert e.phase is Phase.COMPLETE


def test_no_extra_trial_when_last_is_best_by_a_trifle() -> None:
    e = started()
    events = drive(e, 3000, obedient((300.0, 290.0, 300.03)))
    trials = [ev for ev in events if ev.kind is EventKind.MVC_TRIAL]
    assert all(isinstance(ev, MvcTrialScored) for ev in trials)
    scored = [ev for ev in trials if isinstance(ev, MvcTrialScored)]
    # 0.01 % better than trial 1 is measurement noise: three trials per hand, no more.
    assert [(ev.hand, ev.trial) for ev in scored] == [
        (Hand.RIGHT, 1), (Hand.LEFT, 1), (Hand.RIGHT, 2), (Hand.LEFT, 2), (Hand.RIGHT, 3),
        (Hand.LEFT, 3)]
    assert all(ev.extra_trial is False and ev.flags == () for ev in scored)
    # A clear gain still asks for one more, and the advice says why.
    e = started()
    events = drive(e, 3000, obedient((300.0, 290.0, 320.0, 310.0)))
    third = [ev for ev in events if ev.kind is EventKind.MVC_TRIAL][4]
    assert isinstance(third, MvcTrialScored)
    assert third.extra_trial is True
    assert "7 % more than your best before it" in third.advice


def test_implausible_efforts_abort_with_message() -> None:
    e = started()
    events = drive(e, 3000, obedient((5.0,)))
    assert e.phase is Phase.ABORTED
    aborted = [ev for ev in events if isinstance(ev, PhaseChanged)][-1]
    assert aborted.reason is not None and "No maximal effort" in aborted.reason
    assert len([ev for ev in events if ev.kind is EventKind.MVC_TRIAL]) == 10


def test_pause_in_rest_freezes_timer() -> None:
    e = started()
    drive(e, 14.0, obedient(FALLING))
    left = e.snapshot().time_left_s
    e.command(Command.PAUSE, 14.0)
    e.tick(100.0)
    s = e.snapshot()
    assert s.paused and s.phase is Phase.MVC_REST
    assert s.time_left_s == pytest.approx(left)
    e.command(Command.RESUME, 100.0)
    assert e.snapshot().time_left_s == pytest.approx(left)
    events = e.tick(100.0 + left + 0.01)
    assert phases(events) == [(round(100.0 + left, 3), "countdown", "mvc")]


def test_pause_in_hold_repeats_it_and_records_incomplete() -> None:
    e = started()
    drive(e, 250.0, obedient(FALLING))
    events = e.command(Command.PAUSE, 250.0)
    assert e.snapshot().paused
    # The result waits for samples stamped before the pause that are still on their
    # way; the first one stamped after it settles the hold.
    assert not [ev for ev in events if ev.kind is EventKind.HOLD_RESULT]
    assert e.results_pending
    events += e.feed([250.005, 250.015], [90.0, 0.0])
    incomplete = [ev for ev in events if isinstance(ev, HoldFinished)]
    assert len(incomplete) == 1 and incomplete[0].completed is False
    assert incomplete[0].t_end_s == 250.0 and not e.results_pending
    assert incomplete[0].metrics.n_samples == 100 * (250 - 216)  # 34 s at 100 Hz
    events = e.command(Command.RESUME, 300.0)
    assert phases(events) == [(300.0, "countdown", "hold")]
    assert e.snapshot().rep == 1
    events = drive(e, 3000, obedient(FALLING))
    done = [ev for ev in events if isinstance(ev, HoldFinished)]
    assert [h.rep for h in done] == [1, 2, 3, 4]
    assert e.phase is Phase.COMPLETE


def test_commands_when_not_applicable() -> None:
    e = Engine(DEFAULT, sample_rate_hz=100)
    assert e.command(Command.PAUSE, 0.0)[-1].kind is EventKind.COMMAND_REJECTED
    e.command(Command.START, 0.0)
    assert e.command(Command.START, 1.0)[-1].kind is EventKind.COMMAND_REJECTED
    assert e.command(Command.RESUME, 1.0)[-1].kind is EventKind.COMMAND_REJECTED


@pytest.mark.parametrize("stop_at", [0.0, 2.0, 6.0, 10.0, 20.0, 200.0, 214.0, 250.0, 340.0])
def test_abort_in_every_phase(stop_at: float) -> None:
    e = started() if stop_at > 0 else Engine(DEFAULT, sample_rate_hz=100)
    if stop_at > 0:
        drive(e, stop_at, obedient(FALLING))
        phase_before = e.phase
        events = e.command(Command.ABORT, stop_at)
        assert e.phase is Phase.ABORTED
        last = events[-1]
        assert isinstance(last, PhaseChanged) and last.reason == "stopped by the user"
        # A hold's result waits (at most late_sample_wait_s) for samples in flight.
        events += e.tick(stop_at + e.late_sample_wait_s)
        assert not e.results_pending
        if phase_before is Phase.HOLD:
            assert any(isinstance(ev, HoldFinished) and not ev.completed
                       for ev in events)
        # Nothing happens after an abort.
        assert e.tick(5000.0) == []
    else:
        assert e.command(Command.ABORT, 0.0)[-1].kind is EventKind.COMMAND_REJECTED


def test_abort_while_paused() -> None:
    e = started()
    drive(e, 250.0, obedient(FALLING))
    first = e.command(Command.PAUSE, 250.0) + e.tick(252.0)
    assert len([ev for ev in first if ev.kind is EventKind.HOLD_RESULT]) == 1
    events = e.command(Command.ABORT, 260.0) + e.tick(262.0)
    assert e.phase is Phase.ABORTED
    assert not [ev for ev in events if ev.kind is EventKind.HOLD_RESULT]
    assert len(e.hold_results) == 1


def test_known_mvc_skips_calibration() -> None:
    e = started(known_mvc={Hand.RIGHT: 400.0, Hand.LEFT: 380.0})
    events = drive(e, 2000, obedient())
    assert not [ev for ev in events if ev.kind is EventKind.MVC_TRIAL]
    holds = [ev for ev in events if isinstance(ev, HoldFinished)]
    assert holds[0].target_n == pytest.approx(120.0)
    assert holds[1].target_n == pytest.approx(114.0)


def test_single_hand_protocol_measures_only_that_hand() -> None:
    p = load_protocol("ihg-4x2-30-single-hand")
    e = started(p, dominant=Hand.RIGHT)
    events = drive(e, 3000, obedient(FALLING))
    hands = {ev.hand for ev in events if isinstance(ev, MvcTrialScored | MvcTrialRedone)}
    assert hands == {Hand.LEFT}
    assert e.phase is Phase.COMPLETE


def test_sham_snapshot_carries_display_scale() -> None:
    p = load_protocol("ihg-4x2-5-sham")
    e = started(p)
    drive(e, 1000, obedient(FALLING))
    s = e.snapshot()
    assert s.display_scale == pytest.approx(6.0) and s.hide_intensity


def test_short_protocol_without_ten_second_cue() -> None:
    p = replace(DEFAULT, hold_s=15.0, reps=1, mvc=MvcSpec(trials_per_hand=1))
    e = started(p)
    events = drive(e, 500, obedient())
    assert not [ev for ev in events if ev.kind is EventKind.TEN_SECONDS_LEFT]
    assert e.phase is Phase.COMPLETE


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=5.0, allow_nan=False),
            st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64),
                     min_size=0, max_size=8),
        ),
        min_size=1,
        max_size=40,
    ),
    st.lists(st.sampled_from(list(Command)), max_size=6),
)
def test_engine_never_crashes_on_arbitrary_streams(
    batches: list[tuple[float, list[float]]], commands: list[Command]
) -> None:
    p = replace(DEFAULT, hold_s=5.0, rest_s=1.0, prepare_s=1.0, rest_after_mvc_s=1.0,
                mvc=MvcSpec(trials_per_hand=1, effort_s=2.0, rest_s=1.0))
    e = started(p)
    t = 0.0
    for i, (step, forces) in enumerate(batches):
        t += step
        ts = t + np.arange(len(forces)) * 0.01
        e.feed(ts, np.array(forces, dtype=float))
        e.tick(t)
        if i < len(commands):
            e.command(commands[i], t)
        s = e.snapshot()
        assert s.time_left_s is None or s.time_left_s >= 0
        assert s.force_n is None or math.isfinite(s.force_n)


def test_second_redo_does_not_discard_an_earlier_trial() -> None:
    e = started()
    drive(e, 42.0, obedient(FALLING))  # right 1 and left 1 done, in mvc_rest
    first = e.command(Command.REDO_TRIAL, 42.0)
    assert isinstance(first[0], MvcTrialRedone) and first[0].hand is Hand.LEFT
    second = e.command(Command.REDO_TRIAL, 42.5)
    assert second[-1].kind is EventKind.COMMAND_REJECTED
    assert [tr.used for tr in e.trials] == [True, False]


def test_snapshot_names_the_next_trial_during_mvc_rest() -> None:
    e = started()
    drive(e, 42.0, obedient(FALLING))  # after right 1 and left 1
    s = e.snapshot()
    assert s.phase is Phase.MVC_REST
    assert (s.hand, s.trial) == (Hand.RIGHT, 2)


def test_phase_keeps_its_length_across_pause() -> None:
    e = started()
    e.command(Command.PAUSE, 2.0)
    s = e.snapshot()
    assert s.phase_duration_s == pytest.approx(5.0) and s.time_left_s == pytest.approx(3.0)
    e.command(Command.RESUME, 50.0)
    s = e.snapshot()
    assert s.phase_duration_s == pytest.approx(5.0) and s.time_left_s == pytest.approx(3.0)


def test_gap_spanning_two_holds_reports_its_full_length() -> None:
    e = started(known_mvc={Hand.RIGHT: 300.0, Hand.LEFT: 300.0})
    drive(e, 60.0, obedient())  # hold 1 runs 8-128
    events = drive(e, 400.0, obedient(), silent=lambda t: 60.0 <= t < 200.0)
    end = next(ev for ev in events if isinstance(ev, GapEnded))
    assert end.duration_s == pytest.approx(140.0, abs=0.1)


def test_rare_batches_are_not_gaps() -> None:
    # A 10 Hz device that sends 8 samples per notification: batches 0.8 s apart.
    e = started(known_mvc={Hand.RIGHT: 300.0, Hand.LEFT: 300.0})
    events = drive(e, 120.0, obedient(), fs=10, per_batch=8)
    assert not [ev for ev in events if ev.kind is EventKind.GAP]
    assert e.gap_threshold_s == pytest.approx(2.4, abs=0.05)


def test_saturated_mvc_trial_is_flagged() -> None:
    e = Engine(DEFAULT, sample_rate_hz=100, full_scale_n=196.133)
    e.command(Command.START, 0.0)
    events = drive(e, 14.0, lambda s, t: np.full(t.shape, 196.133 if s.phase is Phase.MVC_EFFORT
                                                 else 0.0))
    trial = next(ev for ev in events if ev.kind is EventKind.MVC_TRIAL)
    assert isinstance(trial, MvcTrialScored) and trial.saturated is True
    warning = next(ev for ev in events if isinstance(ev, SessionWarning))
    assert warning.reason == "saturated" and "20 kg" in warning.message
