"""Tests for isogrip.signal.filters."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal as sps

from isogrip.protocols.engine import Engine
from isogrip.protocols.events import Command
from isogrip.protocols.loader import DEFAULT_PROTOCOL, load_protocol
from isogrip.signal.filters import (
    DEFAULT_ANALYSIS_CUTOFF_HZ,
    DEFAULT_FEEDBACK_CUTOFF_HZ,
    DEFAULT_LIVE_FILTER,
    LIVE_FILTERS,
    LOW_LAG_MIN_RATE_HZ,
    LiveFilter,
    LiveLowPass,
    LowLagFilter,
    clamp_cutoff,
    low_lag_sos,
    make_live_filter,
    zero_phase,
)
from isogrip.types import Hand


def test_defaults() -> None:
    assert DEFAULT_FEEDBACK_CUTOFF_HZ == 5.0
    assert DEFAULT_ANALYSIS_CUTOFF_HZ == 10.0
    lp = LiveLowPass(80.0)
    assert lp.cutoff_hz == 5.0
    assert lp.fs_hz == 80.0
    assert lp.sos.shape == (1, 6)  # order 2 = one second-order section


@pytest.mark.parametrize(
    ("fs", "cutoff", "expected"),
    [(10.0, 5.0, 4.5), (10.0, 4.5, 4.5), (10.0, 4.4, 4.4), (80.0, 50.0, 36.0), (80.0, 5.0, 5.0)],
)
def test_cutoff_clamped_below_nyquist(fs: float, cutoff: float, expected: float) -> None:
    assert clamp_cutoff(fs, cutoff) == pytest.approx(expected)
    assert LiveLowPass(fs, cutoff).cutoff_hz == pytest.approx(expected)


@pytest.mark.parametrize(
    ("fs", "cutoff", "order"),
    [(0.0, 5.0, 2), (-10.0, 5.0, 2), (80.0, 0.0, 2), (80.0, -1.0, 2), (80.0, 5.0, 0),
     (math.nan, 5.0, 2), (80.0, math.inf, 2)],
)
def test_invalid_parameters(fs: float, cutoff: float, order: int) -> None:
    with pytest.raises(ValueError):
        LiveLowPass(fs, cutoff, order)
    with pytest.raises(ValueError):
        zero_phase(np.ones(50), fs, cutoff, order if order else 0)


def test_analogue_delay_formula() -> None:
    # 2nd-order Butterworth: DC group delay sqrt(2) / (2 pi fc) = 45.0 ms at 5 Hz;
    # the digital filter approaches it as the sample rate grows.
    analogue = math.sqrt(2) / (2 * math.pi * 5.0)
    assert analogue == pytest.approx(0.04502, abs=1e-5)
    assert LiveLowPass(1000.0).delay_s == pytest.approx(analogue, rel=2e-3)
    assert LiveLowPass(80.0).delay_s == pytest.approx(0.04444, abs=1e-4)


@pytest.mark.parametrize("fs", [50.0, 80.0, 100.0, 250.0, 1000.0])
def test_delay_under_latency_goal(fs: float) -> None:
    # SCIENCE.md: sample-to-screen latency ideally under 50 ms.
    assert 0.04 < LiveLowPass(fs).delay_s < 0.050


@pytest.mark.parametrize("fs", [80.0, 1000.0])
def test_delay_matches_ramp_lag(fs: float) -> None:
    # A unity-gain low-pass follows a ramp a*t with a lag of exactly its DC group delay.
    lp = LiveLowPass(fs)
    t = np.arange(int(5 * fs)) / fs
    y = lp.process(3.0 * t)
    lag_s = (3.0 * t[-1] - y[-1]) / 3.0
    assert lag_s == pytest.approx(lp.delay_s, rel=1e-6)


def test_tremor_attenuated_and_dc_kept() -> None:
    fs = 100.0
    t = np.arange(int(20 * fs)) / fs
    tremor = 5.0 * np.sin(2 * np.pi * 10.0 * t)
    y = LiveLowPass(fs).process(100.0 + tremor)
    settled = y[int(2 * fs):]
    # |H(10 Hz)| = 1 / sqrt(1 + (10/5)^4) = 0.243 for the analogue prototype.
    amplitude = (settled.max() - settled.min()) / 2
    assert amplitude < 0.26 * 5.0
    assert amplitude > 0.2 * 5.0
    assert settled.mean() == pytest.approx(100.0, abs=0.01)


def test_constant_input_has_no_start_transient() -> None:
    lp = LiveLowPass(80.0)
    y = lp.process(np.full(50, 123.0))
    np.testing.assert_allclose(y, 123.0, rtol=0, atol=1e-9)


def test_empty_and_scalar_input() -> None:
    lp = LiveLowPass(80.0)
    out = lp.process([])
    assert out.shape == (0,) and out.dtype == np.float64
    assert lp.process(7.0).tolist() == pytest.approx([7.0])


def _reference(x: np.ndarray, fs: float, cutoff: float, order: int) -> np.ndarray:
    sos = sps.butter(order, min(cutoff, 0.45 * fs), fs=fs, output="sos")
    y, _ = sps.sosfilt(sos, x, zi=sps.sosfilt_zi(sos) * x[0])
    return np.asarray(y)


@settings(max_examples=40, deadline=None)
@given(
    cuts=st.lists(st.integers(0, 60), min_size=1, max_size=12),
    order=st.sampled_from([1, 2, 4]),
    seed=st.integers(0, 2**16),
)
def test_batches_equal_one_sosfilt_pass(cuts: list[int], order: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = 50.0 + rng.normal(0.0, 5.0, 200)
    lp = LiveLowPass(80.0, 5.0, order)
    bounds = sorted({0, 200, *cuts})
    y = np.concatenate([lp.process(x[a:b]) for a, b in itertools.pairwise(bounds)])
    np.testing.assert_allclose(y, _reference(x, 80.0, 5.0, order), rtol=0, atol=1e-9)


def test_reset() -> None:
    lp = LiveLowPass(80.0)
    lp.process(np.full(20, 10.0))
    lp.reset()
    # After reset the state settles at the next first sample again.
    np.testing.assert_allclose(lp.process(np.full(5, 40.0)), 40.0, atol=1e-9)
    lp.reset(25.0)
    np.testing.assert_allclose(lp.process(np.full(5, 25.0)), 25.0, atol=1e-9)
    # reset(value) settles the state at `value`, so a step to 30 starts from 25.
    lp.reset(25.0)
    y = lp.process(np.full(3, 30.0))
    assert 25.0 < y[0] < 30.0


def test_nan_sample_is_bridged_with_previous_value() -> None:
    x = np.array([10.0, 10.0, 12.0, np.nan, 14.0, np.nan, np.nan, 9.0])
    bridged = np.array([10.0, 10.0, 12.0, 12.0, 14.0, 14.0, 14.0, 9.0])
    lp = LiveLowPass(80.0)
    y = np.concatenate([lp.process(x[:4]), lp.process(x[4:])])
    np.testing.assert_allclose(y, _reference(bridged, 80.0, 5.0, 2), atol=1e-12)
    # And the state is not poisoned: later samples are finite.
    assert np.isfinite(lp.process([9.0, 9.0])).all()


def test_leading_nan_before_any_value() -> None:
    lp = LiveLowPass(80.0)
    y = lp.process([np.nan, np.nan])
    assert np.isnan(y).all()
    y = lp.process([np.nan, 5.0, 5.0])
    assert math.isnan(y[0])
    np.testing.assert_allclose(y[1:], 5.0, atol=1e-12)


# --------------------------------------------------------------------- zero phase
def test_zero_phase_constant_and_no_delay() -> None:
    fs = 100.0
    np.testing.assert_allclose(zero_phase(np.full(300, 7.0), fs), 7.0, atol=1e-9)
    # A slow sine passes unchanged in amplitude and phase.
    t = np.arange(1000) / fs
    x = np.sin(2 * np.pi * 0.5 * t)
    np.testing.assert_allclose(zero_phase(x, fs)[100:-100], x[100:-100], atol=2e-3)
    # A squeeze-like bump peaking at 5.00 s still peaks at 5.00 s (a causal filter
    # would move it ~45 ms later).
    bump = np.exp(-(((t - 5.0) / 0.3) ** 2))
    assert int(np.argmax(zero_phase(bump, fs))) == 500
    assert int(np.argmax(LiveLowPass(fs).process(bump))) > 500


def test_zero_phase_matches_sosfiltfilt_for_long_input() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=500)
    sos = sps.butter(4, 10.0, fs=100.0, output="sos")
    np.testing.assert_allclose(zero_phase(x, 100.0), sps.sosfiltfilt(sos, x), atol=1e-12)


@pytest.mark.parametrize("n", [0, 1, 2])
def test_zero_phase_tiny_input_returned_as_copy(n: int) -> None:
    x = np.arange(n, dtype=float)
    y = zero_phase(x, 80.0)
    assert y.tolist() == x.tolist()
    assert y is not x


@pytest.mark.parametrize("n", [3, 4, 7, 15, 16, 40])
def test_zero_phase_short_input_does_not_raise(n: int) -> None:
    y = zero_phase(np.full(n, 3.0), 80.0)
    assert y.shape == (n,)
    np.testing.assert_allclose(y, 3.0, atol=1e-9)


def test_zero_phase_slow_device_clamps_cutoff() -> None:
    # 10 Hz scale: a 10 Hz cut-off is clamped to 4.5 Hz and still works.
    y = zero_phase(np.full(40, 2.0), 10.0)
    np.testing.assert_allclose(y, 2.0, atol=1e-9)


def test_zero_phase_bridges_nan() -> None:
    x = np.full(100, 5.0)
    x[[10, 50, 51]] = np.nan
    y = zero_phase(x, 80.0)
    assert np.isnan(y[[10, 50, 51]]).all()
    mask = np.ones(100, dtype=bool)
    mask[[10, 50, 51]] = False
    np.testing.assert_allclose(y[mask], 5.0, atol=1e-9)


def test_zero_phase_rejects_2d() -> None:
    with pytest.raises(ValueError, match="1-D"):
        zero_phase(np.ones((3, 30)), 80.0)


# ----------------------------------------------------------------- low-lag live filter
def _fit(t: np.ndarray, y: np.ndarray, f_hz: float) -> tuple[float, float]:
    """Amplitude and lag (s) of the sine at ``f_hz`` in ``y`` relative to sin(wt)."""
    w = 2 * np.pi * f_hz
    basis = np.column_stack([np.ones_like(t), np.sin(w * t), np.cos(w * t)])
    (_, a, b), *_ = np.linalg.lstsq(basis, y, rcond=None)
    lag = (-math.atan2(b, a)) % (2 * np.pi) / w
    if lag > 0.5 / f_hz:
        lag -= 1.0 / f_hz
    return float(math.hypot(a, b)), float(lag)


def _shown(fs: float, f_hz: float, per: int, display: Any) -> tuple[float, float]:
    """Gain and lag of what ``display(t_batch, f_batch)`` shows after each batch."""
    n = int(11 * fs) // per * per
    t = np.arange(n) / fs
    x = 150.0 + 5.0 * np.sin(2 * np.pi * f_hz * t)
    ends = np.arange(per - 1, n, per)
    y = np.array([display(t[i + 1 - per:i + 1], x[i + 1 - per:i + 1]) for i in ends])
    keep = t[ends] >= 3.0
    amp, lag = _fit(t[ends][keep], y[keep], f_hz)
    return amp / 5.0, lag


def _filter_display(filt: LiveFilter) -> Any:
    return lambda _t, f: float(filt.process(f)[-1])


def _engine_display(fs: float) -> Any:
    # The engine as the runtime builds it: no filter named, so the default.
    engine = Engine(load_protocol(DEFAULT_PROTOCOL), sample_rate_hz=fs,
                    known_mvc={Hand.RIGHT: 400.0, Hand.LEFT: 380.0})
    engine.command(Command.START, 0.0)

    def show(t: np.ndarray, f: np.ndarray) -> float:
        engine.feed(t, f)
        shown = engine.snapshot().force_n
        assert shown is not None
        return shown
    return show


# 80 Hz read in 3-sample batches and 1 kHz in 7-sample ones: the read-out rates alias no
# test frequency onto 0 Hz or their Nyquist frequency.
GOAL_RATES = [(80.0, 3), (1000.0, 7)]


@pytest.mark.parametrize(("fs", "per"), GOAL_RATES)
@pytest.mark.parametrize("f_hz", [0.5, 2.0])
def test_engine_shows_slow_force_with_under_20_ms_lag(fs: float, per: int, f_hz: float) -> None:
    # Through the engine's snapshot: what a display and the virtual participant see.
    gain, lag = _shown(fs, f_hz, per, _engine_display(fs))
    assert 0.9 <= gain <= 1.15
    assert 0.010 <= lag <= 0.020  # the old 5 Hz Butterworth: 44.6-47.2 ms


@pytest.mark.parametrize(("fs", "per"), GOAL_RATES)
@pytest.mark.parametrize("f_hz", [8.0, 10.0, 12.0])
def test_engine_keeps_at_most_a_quarter_of_tremor(fs: float, per: int, f_hz: float) -> None:
    gain, _ = _shown(fs, f_hz, per, _engine_display(fs))
    assert gain <= 0.25  # the old filter kept 0.35-0.36 at 8 Hz


@pytest.mark.parametrize(("fs", "f_hz"), [(80.0, 25.0), (80.0, 35.0), (1000.0, 25.0),
                                          (1000.0, 60.0), (1000.0, 200.0)])
def test_low_lag_keeps_at_most_half_of_noise(fs: float, f_hz: float) -> None:
    per = 3 if fs == 80.0 else 7
    gain, _ = _shown(fs, f_hz, per, _filter_display(LowLagFilter(fs)))
    assert gain <= 0.5


@pytest.mark.parametrize("fs", [80.0, 1000.0])
def test_low_lag_figures_without_batching(fs: float) -> None:
    # Every sample read (batches of one): the same figures as read after batches.
    filt = LowLagFilter(fs)
    gain, lag = _shown(fs, 2.0, 1, _filter_display(filt))
    assert 0.9 <= gain <= 1.15 and 0.010 <= lag <= 0.020
    assert 0.010 < filt.delay_s < 0.020


@pytest.mark.parametrize("fs", [50.0, 80.0, 100.0, 250.0, 1000.0])
def test_low_lag_unity_gain_and_ramp_lag(fs: float) -> None:
    filt = LowLagFilter(fs)
    np.testing.assert_allclose(filt.process(np.full(int(fs), 123.0)), 123.0, atol=1e-9)
    # A slow ramp lags by the DC group delay, which is under 20 ms at every rate.
    filt.reset()
    t = np.arange(int(5 * fs)) / fs
    y = filt.process(3.0 * t)
    assert (3.0 * t[-1] - y[-1]) / 3.0 == pytest.approx(filt.delay_s, rel=1e-4)
    assert 0.010 < filt.delay_s < 0.020


@settings(max_examples=40, deadline=None)
@given(
    cuts=st.lists(st.integers(0, 400), min_size=1, max_size=15),
    fs=st.sampled_from([80.0, 1000.0]),
    seed=st.integers(0, 2**16),
)
def test_low_lag_batches_equal_one_pass(cuts: list[int], fs: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = 80.0 + rng.normal(0.0, 5.0, 400)
    x[rng.integers(0, 400, 3)] = np.nan  # bridged the same way whatever the batching
    whole = LowLagFilter(fs).process(x)
    filt = LowLagFilter(fs)
    bounds = sorted({0, 400, *cuts})
    y = np.concatenate([filt.process(x[a:b]) for a, b in itertools.pairwise(bounds)])
    np.testing.assert_allclose(y, whole, rtol=0, atol=1e-9)
    # And one pass equals scipy's sosfilt of the same design, started settled.
    sos = low_lag_sos(fs)
    bridged = x.copy()
    for i in range(len(bridged)):
        if not math.isfinite(bridged[i]):
            bridged[i] = bridged[i - 1] if i else np.nan
    start = int(np.argmax(np.isfinite(bridged)))
    ref, _ = sps.sosfilt(sos, bridged[start:], zi=sps.sosfilt_zi(sos) * bridged[start])
    np.testing.assert_allclose(whole[start:], ref, rtol=0, atol=1e-9)


def test_low_lag_falls_back_below_its_minimum_rate() -> None:
    # A 10 Hz scale cannot carry 8-12 Hz tremor: the clamped Butterworth is used.
    x = np.linspace(0.0, 50.0, 40)
    np.testing.assert_allclose(LowLagFilter(10.0).process(x), LiveLowPass(10.0).process(x))
    assert LowLagFilter(LOW_LAG_MIN_RATE_HZ).sos.shape == (3, 6)
    with pytest.raises(ValueError, match="at least 40 Hz"):
        low_lag_sos(20.0)
    with pytest.raises(ValueError):
        LowLagFilter(0.0)


def test_live_filters_by_name() -> None:
    assert DEFAULT_LIVE_FILTER == "low-lag"
    assert set(LIVE_FILTERS) == {"low-lag", "butterworth"}
    assert isinstance(make_live_filter("low-lag", 80.0), LowLagFilter)
    old = make_live_filter("butterworth", 80.0)
    assert isinstance(old, LiveLowPass) and old.cutoff_hz == 5.0 and old.name == "butterworth"
    with pytest.raises(ValueError, match="unknown live filter 'kalman'; choose one of low-lag"):
        make_live_filter("kalman", 80.0)
    with pytest.raises(ValueError, match="shape"):
        LiveFilter(np.ones((2, 5)), 80.0)
