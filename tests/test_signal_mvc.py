"""Tests for isogrip.signal.mvc."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isogrip.signal.mvc import (
    MvcAssessment,
    MvcFlag,
    TrialScore,
    assess_mvc,
    moving_average,
    score_trial,
)
from isogrip.signal.units import KGF_N


def trace(fs: float, seconds: float) -> np.ndarray:
    return np.arange(round(fs * seconds) + 1) / fs


# ------------------------------------------------------------------ score_trial
def test_constant_effort() -> None:
    t = trace(100, 3.0)
    s = score_trial(t, np.full(t.size, 30 * KGF_N))
    assert s.score_n == pytest.approx(30 * KGF_N, rel=1e-12)
    assert s.raw_peak_n == 30 * KGF_N
    assert s.time_to_peak_s == 0.0
    assert s.t_peak_s == pytest.approx(0.5)  # first full window
    assert s.n_samples == 301
    assert s.plausible and s.message == ""
    assert s.rfd_n_per_s is None  # 100 Hz is too slow


def test_single_spike_is_averaged_out() -> None:
    t = trace(100, 3.0)
    f = np.full(t.size, 20 * KGF_N)
    f[150] = 60 * KGF_N  # one 60 kg sample at 1.5 s
    s = score_trial(t, f)
    # 50 samples per 0.5 s window: 20 kg + 40 kg / 50.
    assert s.score_n == pytest.approx(20.8 * KGF_N, rel=1e-12)
    assert s.raw_peak_n == 60 * KGF_N
    assert s.time_to_peak_s == pytest.approx(1.5)
    assert s.t_peak_s == pytest.approx(1.5)
    s = score_trial(t, f, t_start=-0.5)
    assert s.time_to_peak_s == pytest.approx(2.0)


def test_ramp_score() -> None:
    t = trace(100, 2.0)
    s = score_trial(t, 100.0 * t)
    # Window (1.5, 2.0] holds t = 1.51..2.00, mean 1.755 s -> 175.5 N.
    assert s.score_n == pytest.approx(175.5, rel=1e-12)
    assert s.t_peak_s == pytest.approx(2.0)
    assert s.raw_peak_n == pytest.approx(200.0)
    assert s.time_to_peak_s == pytest.approx(2.0)


def test_window_length_is_configurable() -> None:
    t = trace(100, 2.0)
    s = score_trial(t, 100.0 * t, window_s=1.0)
    # Window (1.0, 2.0]: t = 1.01..2.00, mean 1.505 s.
    assert s.score_n == pytest.approx(150.5, rel=1e-12)
    with pytest.raises(ValueError, match="window_s"):
        score_trial(t, t, window_s=0.0)


def test_trace_shorter_than_window_uses_overall_mean() -> None:
    t = trace(100, 0.3)
    s = score_trial(t, np.arange(31.0), floor_n=0.0)
    assert s.score_n == pytest.approx(15.0)
    assert s.t_peak_s == pytest.approx(0.3)
    assert s.raw_peak_n == 30.0


@pytest.mark.parametrize("t0", [0.0, 1000.0, 123456.789])
def test_trace_exactly_one_window_long(t0: float) -> None:
    # Window (t0, t0 + 0.5] excludes the first sample even with float rounding.
    t = t0 + np.arange(6) / 10
    s = score_trial(t, [100.0, 1.0, 2.0, 3.0, 4.0, 5.0], floor_n=0.0)
    assert s.score_n == pytest.approx(3.0, rel=1e-9)
    assert s.raw_peak_n == 100.0


def test_irregular_sampling() -> None:
    t = [0.0, 0.1, 0.15, 0.6, 0.7, 1.2]
    f = [10.0, 20.0, 30.0, 40.0, 50.0, 20.0]
    s = score_trial(t, f, floor_n=0.0)
    # Full windows end at 0.6 (30, 40 -> 35), 0.7 (40, 50 -> 45), 1.2 (20 -> 20).
    assert s.score_n == pytest.approx(45.0)
    assert s.t_peak_s == pytest.approx(0.7)
    assert s.raw_peak_n == 50.0
    assert s.time_to_peak_s == pytest.approx(0.7)
    np.testing.assert_allclose(
        moving_average(np.array(t), np.array(f), 0.5), [10, 15, 20, 35, 45, 20]
    )


def test_nan_samples_are_ignored() -> None:
    t = trace(100, 3.0)
    f = np.full(t.size, 20 * KGF_N)
    f[150] = 60 * KGF_N
    clean = score_trial(t, f)
    t2 = np.insert(t, [10, 200], [0.095, np.nan])
    f2 = np.insert(f, [10, 200], [np.nan, 999.0])
    dirty = score_trial(t2, f2)
    assert dirty.score_n == pytest.approx(clean.score_n, rel=1e-12)
    assert dirty.raw_peak_n == clean.raw_peak_n
    assert dirty.n_samples == clean.n_samples == 301


@pytest.mark.parametrize(
    ("t", "f"), [([], []), ([0.0, 0.1], [np.nan, np.nan]), ([np.nan], [5.0])]
)
def test_no_data_is_implausible_without_raising(t: list[float], f: list[float]) -> None:
    s = score_trial(t, f)
    assert not s.plausible
    assert s.n_samples == 0
    assert math.isnan(s.score_n) and math.isnan(s.raw_peak_n)
    assert s.message.startswith("No force was recorded")
    assert s.rfd_n_per_s is None


def test_weak_effort_message_in_kg() -> None:
    t = trace(80, 2.0)
    s = score_trial(t, np.full(t.size, 1.2 * KGF_N))
    assert not s.plausible
    assert s.message == (
        "That effort peaked at 1.2 kg, below the 2.0 kg a maximal squeeze reaches. "
        "Squeeze as hard as you can and try again."
    )
    # Exactly at the floor counts as plausible.
    assert score_trial(t, np.full(t.size, 2 * KGF_N)).plausible


def test_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="samples"):
        score_trial([0.0, 1.0], [1.0])


def test_rfd_at_fast_rates_only() -> None:
    t = trace(1000, 1.0)
    s = score_trial(t, 500.0 * t)
    assert s.rfd_n_per_s == pytest.approx(500.0, rel=1e-9)
    # Rising 2000 N/s between 0.1 s and 0.2 s, flat elsewhere.
    f = np.clip(2000.0 * (t - 0.1), 0.0, 200.0)
    assert score_trial(t, f).rfd_n_per_s == pytest.approx(2000.0, rel=1e-9)
    t500 = trace(500, 1.0)
    assert score_trial(t500, 500.0 * t500).rfd_n_per_s == pytest.approx(500.0, rel=1e-9)
    t250 = trace(250, 1.0)
    assert score_trial(t250, 500.0 * t250).rfd_n_per_s is None


@settings(max_examples=50, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.floats(0.001, 0.3), st.floats(-50.0, 500.0)), min_size=1, max_size=60
    ),
    window=st.floats(0.05, 1.0),
)
def test_moving_average_matches_naive(data: list[tuple[float, float]], window: float) -> None:
    t = np.cumsum([d for d, _ in data])
    f = np.array([v for _, v in data])
    ma = moving_average(t, f, window)
    for i in range(t.size):
        # Same edge rule as the implementation: a sample exactly one window back
        # (within 0.1 us) is outside.
        inside = (t > t[i] - window + 1e-7) & (t <= t[i])
        assert ma[i] == pytest.approx(f[inside].mean(), rel=1e-9, abs=1e-9)
    s = score_trial(t, f, window_s=window, floor_n=0.0)
    assert f.min() - 1e-9 <= s.score_n <= s.raw_peak_n + 1e-9


# ------------------------------------------------------------------ assess_mvc
def trial(kg: float, plausible: bool = True) -> TrialScore:
    return TrialScore(
        score_n=kg * KGF_N,
        raw_peak_n=kg * KGF_N * 1.05,
        time_to_peak_s=1.0,
        t_peak_s=1.0,
        n_samples=240,
        plausible=plausible,
        message="" if plausible else "weak",
    )


def test_no_trials() -> None:
    a = assess_mvc([])
    assert a == MvcAssessment(None, None, (), False, "")


def test_no_flags_before_planned_trials() -> None:
    a = assess_mvc([trial(30), trial(20)])  # would disagree, but only 2 of 3 done
    assert a.best_index == 0
    assert a.best_n == pytest.approx(30 * KGF_N)
    assert a.flags == ()
    assert not a.offer_another
    assert a.message == ""
    a = assess_mvc([trial(1, False)], planned=3)
    assert a.flags == () and a.best_n is None and not a.offer_another


def test_consistent_set_needs_nothing_more() -> None:
    a = assess_mvc([trial(30), trial(31), trial(29)])
    assert a.best_index == 1
    assert a.best_n == pytest.approx(31 * KGF_N)
    assert a.flags == ()
    assert not a.offer_another
    assert a.message == ""


def test_last_best() -> None:
    a = assess_mvc([trial(30), trial(25), trial(32)])
    assert a.best_index == 2
    assert a.flags == (MvcFlag.LAST_BEST,)  # 32 vs 30 is 6.7 %: no disagreement
    assert a.offer_another
    assert "last squeeze was your strongest, 7 % more than your best before it" in a.message
    assert "more than the 5 % that squeezes vary by" in a.message
    assert "One more try" in a.message


def test_last_best_by_a_trifle_asks_for_nothing() -> None:
    # A gain within the trial-to-trial error of grip strength is not a reason for
    # another maximal effort right before the holds (0.01 % and 3.3 % here).
    for last in (30.003, 31.0, 31.5):
        a = assess_mvc([trial(30), trial(25), trial(last)])
        assert a.best_index == 2
        assert a.flags == ()
        assert not a.offer_another
        assert a.message == ""
    # The margin is the protocol's to choose, and exactly the margin does not count.
    assert assess_mvc([trial(30), trial(25), trial(31)],
                      improvement_pct=2.0).flags == (MvcFlag.LAST_BEST,)
    assert assess_mvc([trial(100), trial(90), trial(105)]).flags == ()
    assert assess_mvc([trial(100), trial(90), trial(105.1)]).flags == (MvcFlag.LAST_BEST,)


def test_disagreement() -> None:
    a = assess_mvc([trial(30), trial(25), trial(24)])
    # (30 - 25) / 30 = 16.7 % > 10 %.
    assert a.flags == (MvcFlag.DISAGREE,)
    assert a.best_index == 0
    assert a.offer_another
    assert "30.0 kg and 25.0 kg" in a.message
    assert "17 %" in a.message


def test_disagreement_threshold_is_strict() -> None:
    a = assess_mvc([trial(100), trial(90), trial(80)])  # exactly 10 %
    assert MvcFlag.DISAGREE not in a.flags
    a = assess_mvc([trial(100), trial(89.9), trial(80)])
    assert MvcFlag.DISAGREE in a.flags
    assert "differ by 10.1 %, more than the 10 %" in a.message
    a = assess_mvc([trial(100), trial(89.9), trial(80)], disagreement_pct=15.0)
    assert a.flags == ()


def test_both_flags_and_no_more_trials_at_max() -> None:
    trials = [trial(20), trial(22), trial(21), trial(23), trial(30)]
    a = assess_mvc(trials, max_trials=5)
    assert a.flags == (MvcFlag.DISAGREE, MvcFlag.LAST_BEST)
    assert not a.offer_another
    assert a.best_index == 4
    assert "The best squeeze, 30.0 kg, is used." in a.message
    assert "One more try" not in a.message
    assert assess_mvc(trials, max_trials=6).offer_another


def test_none_plausible() -> None:
    a = assess_mvc([trial(1, False), trial(1.5, False), trial(0.5, False)])
    assert a.best_n is None and a.best_index is None
    assert a.flags == (MvcFlag.NONE_PLAUSIBLE,)
    assert a.offer_another
    assert "None of the squeezes" in a.message
    a = assess_mvc([trial(1, False)] * 5, max_trials=5)
    assert a.flags == (MvcFlag.NONE_PLAUSIBLE,) and not a.offer_another


def test_implausible_trials_do_not_count() -> None:
    # An implausible trial never becomes the best, whatever its score.
    a = assess_mvc([trial(30), trial(50, False), trial(29)])
    assert a.best_index == 0
    assert a.flags == ()
    # LAST_BEST needs two plausible trials.
    a = assess_mvc([trial(1, False), trial(1, False), trial(25)])
    assert a.best_index == 2
    assert a.flags == ()


def test_tie_prefers_earliest() -> None:
    a = assess_mvc([trial(30), trial(30), trial(30)])
    assert a.best_index == 0
    assert a.flags == ()


def test_flag_values() -> None:
    assert [f.value for f in MvcFlag] == ["disagree", "last_best", "none_plausible"]
