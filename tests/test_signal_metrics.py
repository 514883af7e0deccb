"""Tests for isogrip.signal.metrics, with answers worked out by hand."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isogrip.signal.metrics import HoldMetrics, gap_threshold, hold_metrics

TARGET = 100.0
LOW, HIGH = 90.0, 110.0
MVC = 1000.0 / 3.0  # the target is 30 % MVC
T = np.arange(1201) / 10.0  # 10 Hz, 0..120 s
N_STEADY = 1171  # samples at t = 3.0 .. 120.0


def run(f: np.ndarray, t: np.ndarray = T, **kw: object) -> HoldMetrics:
    kw.setdefault("mvc_n", MVC)
    return hold_metrics(t, f, TARGET, LOW, HIGH, 3.0, **kw)  # type: ignore[arg-type]


def test_exactly_on_target() -> None:
    m = run(np.full(T.size, TARGET))
    assert m.duration_s == 120.0
    assert m.n_samples == 1201
    assert m.n_steady == N_STEADY
    assert m.steady_s == 117.0
    assert m.time_in_band_pct == pytest.approx(100.0)
    assert m.time_in_band_s == pytest.approx(117.0)
    assert m.time_below_s == 0.0 and m.time_above_s == 0.0
    assert m.mean_force_n == pytest.approx(100.0)
    assert m.mean_pct_mvc == pytest.approx(30.0)
    for name in ("constant_error_n", "absolute_error_n", "rmse_n", "sd_n", "cv_mean_pct",
                 "cv_target_pct", "drift_n_per_min", "drift_pct_mvc_per_min"):
        assert getattr(m, name) == pytest.approx(0.0, abs=1e-9), name
    assert m.impulse_ns == pytest.approx(TARGET * 120.0)
    assert m.peak_n == 100.0
    assert m.longest_excursion_s == 0.0
    assert m.gap_s == 0.0 and m.max_gap_s == 0.0
    assert m.gap_threshold_s == pytest.approx(0.5)  # max(0.25, 5 x 0.1 s)


def test_constant_offset_inside_band() -> None:
    m = run(np.full(T.size, 105.0))
    assert m.constant_error_n == pytest.approx(5.0)
    assert m.constant_error_pct_mvc == pytest.approx(1.5)
    assert m.absolute_error_n == pytest.approx(5.0)
    assert m.absolute_error_pct_mvc == pytest.approx(1.5)
    assert m.rmse_n == pytest.approx(5.0)
    assert m.rmse_pct_mvc == pytest.approx(1.5)
    assert m.mean_pct_mvc == pytest.approx(31.5)
    assert m.sd_n == pytest.approx(0.0, abs=1e-9)
    assert m.time_in_band_pct == pytest.approx(100.0)
    assert m.impulse_ns == pytest.approx(105.0 * 120.0)


def test_constant_offset_below_band() -> None:
    m = run(np.full(T.size, 85.0))
    assert m.constant_error_n == pytest.approx(-15.0)
    assert m.absolute_error_n == pytest.approx(15.0)
    assert m.time_in_band_pct == 0.0
    assert m.time_below_s == pytest.approx(117.0)
    assert m.longest_excursion_s == pytest.approx(117.0)


def test_linear_drift() -> None:
    f = 100.0 - 0.5 * T  # -0.5 N/s
    m = run(f)
    assert m.drift_n_per_min == pytest.approx(-30.0, rel=1e-9)
    assert m.drift_pct_mvc_per_min == pytest.approx(-9.0, rel=1e-9)  # -30 / 333.3
    # Steady samples t = 3.0 .. 120.0: mean t = 61.5 s.
    assert m.mean_force_n == pytest.approx(100.0 - 0.5 * 61.5)
    assert m.constant_error_n == pytest.approx(-30.75)
    assert m.absolute_error_n == pytest.approx(30.75)
    # SD of an arithmetic series of n terms with step h: h * sqrt(n (n + 1) / 12).
    sd = 0.5 * 0.1 * math.sqrt(N_STEADY * (N_STEADY + 1) / 12)
    assert m.sd_n == pytest.approx(sd, rel=1e-9)
    assert m.cv_mean_pct == pytest.approx(sd / 69.25 * 100, rel=1e-9)
    assert m.cv_target_pct == pytest.approx(sd, rel=1e-9)
    # RMSE of -0.5 t: 0.5 * sqrt(mean(t^2)), mean(t^2) = var + mean^2 (population var).
    var_t = 0.01 * (N_STEADY**2 - 1) / 12
    assert m.rmse_n == pytest.approx(0.5 * math.sqrt(var_t + 61.5**2), rel=1e-9)
    # In band while f >= 90, i.e. t <= 20 s; the sample at 20.0 s holds until 20.1 s.
    assert m.time_in_band_s == pytest.approx(17.1)
    assert m.time_below_s == pytest.approx(99.9)
    assert m.longest_excursion_s == pytest.approx(99.9)
    # Integral of 100 - 0.5 t over 0..120 s (trapezoids are exact for a line).
    assert m.impulse_ns == pytest.approx(12000.0 - 0.25 * 120.0**2)
    assert m.peak_n == 100.0


def test_one_spike() -> None:
    f = np.full(T.size, TARGET)
    f[600] = 200.0  # at 60.0 s
    m = run(f)
    assert m.peak_n == 200.0
    assert m.mean_force_n == pytest.approx(100.0 + 100.0 / N_STEADY)
    assert m.constant_error_n == pytest.approx(100.0 / N_STEADY)
    assert m.sd_n == pytest.approx(100.0 / math.sqrt(N_STEADY))
    assert m.rmse_n == pytest.approx(100.0 / math.sqrt(N_STEADY))
    assert m.time_above_s == pytest.approx(0.1)
    assert m.time_in_band_s == pytest.approx(116.9)
    assert m.time_in_band_pct == pytest.approx(116.9 / 117.0 * 100)
    assert m.longest_excursion_s == pytest.approx(0.1)
    # A triangle of base 0.2 s and height 100 N on top of 100 N x 120 s.
    assert m.impulse_ns == pytest.approx(12010.0)


def gapped() -> tuple[np.ndarray, np.ndarray]:
    keep = (T <= 60.0) | (T >= 62.0 - 1e-9)  # no samples between 60 s and 62 s
    return T[keep], np.full(int(keep.sum()), TARGET)


def test_two_second_gap() -> None:
    t, f = gapped()
    m = run(f, t)
    assert m.n_samples == 1201 - 19
    assert m.gap_threshold_s == pytest.approx(0.5)
    # The sample before the gap stands for 0.5 s; the other 1.5 s are lost.
    assert m.gap_s == pytest.approx(1.5)
    assert m.max_gap_s == pytest.approx(2.0)
    assert m.time_in_band_s == pytest.approx(115.5)
    assert m.time_in_band_pct == pytest.approx(100.0)
    assert m.impulse_ns == pytest.approx(TARGET * 120.0)
    assert m.duration_s == 120.0
    m = run(f, t, gap_threshold_s=0.25)
    assert m.gap_s == pytest.approx(1.75)
    assert m.gap_threshold_s == 0.25


def test_gap_at_start_and_end() -> None:
    t, f = gapped()
    m = run(f, t, start_s=-1.0, end_s=121.0)
    assert m.duration_s == 122.0
    assert m.steady_s == 119.0
    # 1 s before the first sample and 1 s after the last: 0.5 s of each is lost.
    assert m.gap_s == pytest.approx(1.5 + 0.5 + 0.5)
    assert m.max_gap_s == pytest.approx(2.0)
    # Steady part 2..121 s, less the 1.5 s gap and the 0.5 s after the last sample.
    assert m.time_in_band_s == pytest.approx(117.0)


def test_square_wave_excursions() -> None:
    f = np.full(T.size, TARGET)
    f[200:225] = 120.0  # above for 20.0-22.5 s
    f[500:505] = 120.0  # above for 50.0-50.5 s
    f[700:720] = 80.0  # below for 70.0-72.0 s
    m = run(f)
    assert m.longest_excursion_s == pytest.approx(2.5)
    assert m.time_above_s == pytest.approx(3.0)
    assert m.time_below_s == pytest.approx(2.0)
    assert m.time_in_band_s == pytest.approx(112.0)
    assert m.time_in_band_pct == pytest.approx(112.0 / 117.0 * 100)
    # Above straight into below is one continuous excursion: 1 s + 2 s.
    f[800:810] = 120.0
    f[810:830] = 80.0
    assert run(f).longest_excursion_s == pytest.approx(3.0)


def test_excursion_during_ramp_is_ignored() -> None:
    f = np.full(T.size, TARGET)
    f[:25] = np.linspace(0, 96, 25)  # ramp up, out of band until 2.4 s
    m = run(f)
    assert m.longest_excursion_s == 0.0
    assert m.time_in_band_pct == pytest.approx(100.0)


IRR_T = np.array([0.0, 1.0, 1.5, 4.0, 4.2, 5.0, 7.0, 8.0])
IRR_F = np.array([50.0, 95.0, 95.0, 120.0, 100.0, 80.0, 100.0, 100.0])


def test_irregular_sampling() -> None:
    m = run(IRR_F, IRR_T)
    # Intervals [1, .5, 2.5, .2, .8, 2, 1]: median 1 s, threshold 5 s (no gaps).
    assert m.gap_threshold_s == 5.0
    assert m.gap_s == 0.0 and m.max_gap_s == 0.0
    # From 3 s: 1.5 s-sample covers 3-4 (in), 4.0 covers 0.2 (above), 4.2 covers 0.8
    # (in), 5.0 covers 2 (below), 7.0 covers 1 (in), 8.0 covers nothing.
    assert m.time_in_band_s == pytest.approx(2.8)
    assert m.time_above_s == pytest.approx(0.2)
    assert m.time_below_s == pytest.approx(2.0)
    assert m.time_in_band_pct == pytest.approx(56.0)
    assert m.longest_excursion_s == pytest.approx(2.0)
    # Steady samples 120, 100, 80, 100, 100.
    assert m.n_steady == 5
    assert m.mean_force_n == pytest.approx(100.0)
    assert m.constant_error_n == pytest.approx(0.0, abs=1e-12)
    assert m.absolute_error_n == pytest.approx(8.0)
    assert m.rmse_n == pytest.approx(math.sqrt(160.0))
    assert m.sd_n == pytest.approx(math.sqrt(200.0))
    # Slope: sum(tc * fc) / sum(tc^2) = -20 / 12.592 N/s.
    assert m.drift_n_per_min == pytest.approx(-20.0 / 12.592 * 60, rel=1e-9)
    assert m.impulse_ns == pytest.approx(72.5 + 47.5 + 268.75 + 22 + 72 + 180 + 100)
    assert m.peak_n == 120.0


def test_irregular_sampling_with_small_gap_threshold() -> None:
    m = run(IRR_F, IRR_T, gap_threshold_s=0.6)
    # Excess over 0.6 s of the intervals 1, 2.5, 0.8, 2, 1.
    assert m.gap_s == pytest.approx(0.4 + 1.9 + 0.2 + 1.4 + 0.4)
    assert m.max_gap_s == pytest.approx(2.5)
    # The 80 N sample at 5 s now stands for 0.6 s only.
    assert m.longest_excursion_s == pytest.approx(0.6)
    assert m.time_below_s == pytest.approx(0.6)
    # In band: 4.2 s and 7.0 s samples, 0.6 s each; the 1.5 s sample now stops at
    # 2.1 s, before the steady part.
    assert m.time_in_band_s == pytest.approx(0.6 + 0.6)


@pytest.mark.parametrize(("t", "f"), [([], []), ([1.0, 2.0], [np.nan, np.nan])])
def test_no_data(t: list[float], f: list[float]) -> None:
    m = run(np.array(f), np.array(t))
    assert m.n_samples == 0
    assert math.isnan(m.mean_force_n) and math.isnan(m.time_in_band_pct)
    assert math.isnan(m.gap_s) and math.isnan(m.duration_s)
    m = run(np.array(f), np.array(t), start_s=0.0, end_s=120.0)
    assert m.duration_s == 120.0
    assert m.steady_s == 117.0
    assert m.gap_s == 120.0
    assert m.time_in_band_s == 0.0


def test_hold_shorter_than_ramp() -> None:
    t = np.arange(21) / 10.0  # 2 s
    m = run(np.full(21, TARGET), t)
    assert m.steady_s == 0.0
    assert m.n_steady == 0
    assert math.isnan(m.mean_force_n) and math.isnan(m.sd_n) and math.isnan(m.drift_n_per_min)
    assert math.isnan(m.time_in_band_pct)
    # No steady part, so no excursion from it either (not a reassuring 0 s).
    assert math.isnan(m.longest_excursion_s)
    assert m.time_below_s == 0.0 and m.time_above_s == 0.0
    assert m.impulse_ns == pytest.approx(200.0)
    assert m.peak_n == 100.0


def test_steady_part_all_gap_has_no_excursion() -> None:
    # Samples only during the ramp, then silence to the end: nothing steady to judge.
    t = np.arange(0, 2.0, 0.1)
    m = run(np.full(t.size, 50.0), t, start_s=0.0, end_s=120.0)
    assert m.steady_s == 117.0
    assert math.isnan(m.time_in_band_pct) and math.isnan(m.longest_excursion_s)
    assert m.gap_s == pytest.approx(120.0 - 1.9 - 0.5)


@pytest.mark.parametrize(("rate_hz", "expected_s"), [(10.0, 0.5), (80.0, 0.25),
                                                     (1000.0, 0.25)])
def test_gap_rule(rate_hz: float, expected_s: float) -> None:
    assert gap_threshold(1.0 / rate_hz) == pytest.approx(expected_s)
    # Rare notifications raise it (judged on arrival), unknown intervals do not count.
    assert gap_threshold(1.0 / rate_hz, 0.8) == pytest.approx(2.4)
    assert gap_threshold(math.nan) == 0.25 and gap_threshold(0.0, 0.0) == 0.25


@pytest.mark.parametrize("rate_hz", [80.0, 1000.0])
def test_dropout_of_0_45_s_is_a_gap_at_any_rate(rate_hz: float) -> None:
    # 120 s at rate_hz with no samples from 60.0 to 60.45 s.
    t = np.arange(int(120 * rate_hz) + 1) / rate_hz
    t = t[(t <= 60.0 + 1e-9) | (t >= 60.45 - 1e-9)]
    m = run(np.full(t.size, TARGET), t)
    assert m.gap_threshold_s == gap_threshold(1.0 / rate_hz) == pytest.approx(0.25)
    assert m.max_gap_s == pytest.approx(0.45)
    assert m.gap_s == pytest.approx(0.45 - 0.25)
    assert m.time_in_band_s == pytest.approx(117.0 - 0.2)


def test_without_mvc_percentages_are_nan() -> None:
    m = run(np.full(T.size, 105.0), mvc_n=None)
    for name in ("mean_pct_mvc", "constant_error_pct_mvc", "absolute_error_pct_mvc",
                 "rmse_pct_mvc", "sd_pct_mvc", "drift_pct_mvc_per_min"):
        assert math.isnan(getattr(m, name)), name
    assert m.constant_error_n == pytest.approx(5.0)
    assert m.cv_target_pct == pytest.approx(0.0, abs=1e-9)


def test_nan_samples_dropped() -> None:
    f = np.full(T.size, TARGET)
    f[[100, 500, 501]] = np.nan
    m = run(f)
    assert m.n_samples == 1198
    assert m.mean_force_n == pytest.approx(100.0)
    # Each NaN-free sample before a hole holds until the next one (0.2 s / 0.3 s).
    assert m.time_in_band_s == pytest.approx(117.0)
    assert m.gap_s == 0.0


def test_samples_outside_hold_ignored() -> None:
    t = np.concatenate(([-5.0, -1.0], T, [125.0]))
    f = np.concatenate(([500.0, 500.0], np.full(T.size, TARGET), [500.0]))
    m = run(f, t, start_s=0.0, end_s=120.0)
    assert m.n_samples == 1201
    assert m.peak_n == 100.0


def test_as_dict_is_json_ready() -> None:
    m = run(np.full(T.size, TARGET))
    d = m.as_dict()
    assert list(d) == [f.name for f in dataclasses.fields(HoldMetrics)]
    assert d["n_samples"] == 1201 and isinstance(d["n_samples"], int)
    assert d["time_in_band_pct"] == pytest.approx(100.0)
    json.dumps(d)


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="samples"):
        hold_metrics([0.0, 1.0], [1.0], TARGET, LOW, HIGH)
    with pytest.raises(ValueError, match="band"):
        hold_metrics([0.0, 1.0], [1.0, 1.0], TARGET, 110.0, 90.0)
    with pytest.raises(ValueError, match="ramp"):
        hold_metrics([0.0, 1.0], [1.0, 1.0], TARGET, LOW, HIGH, -1.0)
    with pytest.raises(ValueError, match="gap_threshold"):
        hold_metrics([0.0, 1.0], [1.0, 1.0], TARGET, LOW, HIGH, gap_threshold_s=0.0)


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.floats(0.001, 2.0), min_size=1, max_size=80),
    forces=st.lists(st.floats(60.0, 140.0), min_size=81, max_size=81),
    ramp=st.floats(0.0, 5.0),
)
def test_times_add_up_without_gaps(steps: list[float], forces: list[float], ramp: float) -> None:
    t = np.concatenate(([0.0], np.cumsum(steps)))
    f = np.array(forces[: t.size])
    m = hold_metrics(t, f, TARGET, LOW, HIGH, ramp, gap_threshold_s=1e9)
    covered = m.time_in_band_s + m.time_below_s + m.time_above_s
    assert covered == pytest.approx(max(0.0, t[-1] - ramp), abs=1e-9)
    if covered > 0:
        assert m.longest_excursion_s <= m.time_below_s + m.time_above_s + 1e-9
    else:  # nothing steady to judge (the hold is no longer than the ramp)
        assert math.isnan(m.longest_excursion_s)
    assert m.gap_s == 0.0
    if m.n_steady:
        assert m.absolute_error_n >= abs(m.constant_error_n) - 1e-9
        assert m.rmse_n >= m.absolute_error_n - 1e-9
