"""Tests for isogrip.signal.timebase."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isogrip.signal.timebase import WRAP_U32_US_S, Timebase

FS = 80.0
HOST0 = 5000.0  # host monotonic time at the first sample


@dataclass
class Run:
    t_host: np.ndarray  # mapped times
    t_dev: np.ndarray  # unwrapped device times returned
    true: np.ndarray  # true host time of each sample
    rx: np.ndarray  # arrival time of each sample's batch
    tb: Timebase


def simulate(
    seconds: float,
    *,
    seed: int = 0,
    dev0: float = 100.0,
    drift_ppm: float = 0.0,
    max_latency: float = 0.060,
    wrap: bool = True,
    tb: Timebase | None = None,
    jump_at: float | None = None,
    jump_by: float = 0.0,
) -> Run:
    """An 80 Hz device clock, batches of 1-5 samples, random positive latency."""
    rng = np.random.default_rng(seed)
    tb = tb or Timebase(FS)
    n = int(seconds * FS)
    true = HOST0 + np.arange(n) / FS
    dev = dev0 + (true - HOST0) * (1 + drift_ppm * 1e-6)
    if jump_at is not None:
        dev[true >= HOST0 + jump_at] += jump_by
    raw = np.mod(dev, WRAP_U32_US_S) if wrap else dev
    out, back, rx = [], [], []
    i = 0
    last_rx = -math.inf
    while i < n:
        j = min(n, i + int(rng.integers(1, 6)))
        # BLE delivers notifications in order, so arrival times never go back.
        arrival = max(true[j - 1] + rng.uniform(0.0, max_latency), last_rx)
        last_rx = arrival
        t, d = tb.map(arrival, j - i, raw[i:j])
        assert d is not None
        out.append(t)
        back.append(d)
        rx.append(np.full(j - i, arrival))
        i = j
    return Run(np.concatenate(out), np.concatenate(back), true, np.concatenate(rx), tb)


def check_invariants(run: Run) -> None:
    assert np.all(np.diff(run.t_host) >= 0), "mapped times went backwards"
    assert np.all(run.t_host <= run.rx + 1e-12), "a sample was stamped after it arrived"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_jittered_batches_map_close_to_true_times(seed: int) -> None:
    run = simulate(120.0, seed=seed)
    check_invariants(run)
    err = run.t_host - run.true
    settled = err[int(5 * FS):]
    # Latency 0-60 ms; the minimum filter gets within a few ms after a few seconds.
    assert np.abs(settled).max() < 0.006
    # Never before the true time by more than float noise (latency only adds).
    assert settled.min() > -1e-9
    # Even the first batches are no worse than the worst latency.
    assert np.abs(err).max() <= 0.060 + 1e-9
    assert run.tb.resyncs == 0 and run.tb.wraps == 0
    np.testing.assert_allclose(run.t_dev, 100.0 + np.arange(run.true.size) / FS, atol=1e-9)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), drift=st.floats(-200.0, 200.0))
def test_property_monotonic_and_never_after_arrival(seed: int, drift: float) -> None:
    run = simulate(20.0, seed=seed, drift_ppm=drift)
    check_invariants(run)
    assert np.abs(run.t_host - run.true)[int(5 * FS):].max() < 0.008


def test_u32_wrap_is_crossed_smoothly() -> None:
    run = simulate(60.0, dev0=WRAP_U32_US_S - 30.0)  # wraps 30 s in
    check_invariants(run)
    assert run.tb.wraps == 1
    assert run.tb.resyncs == 0
    expected_dev = WRAP_U32_US_S - 30.0 + np.arange(run.true.size) / FS
    np.testing.assert_allclose(run.t_dev, expected_dev, atol=1e-6)
    assert np.all(np.diff(run.t_dev) > 0)
    settled = (run.t_host - run.true)[int(5 * FS):]
    assert np.abs(settled).max() < 0.006
    # Around the wrap itself the mapped steps stay one sample apart.
    k = int(30 * FS)
    np.testing.assert_allclose(np.diff(run.t_host[k - 20 : k + 20]), 1 / FS, atol=0.006)


def test_wrap_inside_one_batch_hand_computed() -> None:
    tb = Timebase(None)
    p = WRAP_U32_US_S
    t, d = tb.map(10.0, 2, [p - 0.02, p - 0.01])
    assert d is not None
    assert t.tolist() == pytest.approx([9.99, 10.0])
    t, d = tb.map(10.02, 3, [p - 0.005, 0.0, 0.005])  # wraps between the 1st and 2nd
    assert d is not None
    np.testing.assert_allclose(d, [p - 0.005, p, p + 0.005], atol=1e-9)
    assert tb.wraps == 1
    assert tb.resyncs == 0
    # offset = min(10.01 - p + 500 ppm * 0.02 s, 10.02 - 0.005 - p) = 10.01001 - p
    np.testing.assert_allclose(t, [10.00501, 10.01001, 10.01501], atol=1e-9)


def test_offset_estimate_hand_computed() -> None:
    tb = Timebase(80.0, max_drift_ppm=500.0)
    # Batch 1: latency unknown; offset = 10.05 - 0.0125 = 10.0375.
    t, _ = tb.map(10.05, 2, [0.0, 0.0125])
    assert t.tolist() == pytest.approx([10.0375, 10.05])
    assert tb.offset_s == pytest.approx(10.0375)
    # Batch 2 had less latency: offset drops to 10.06 - 0.0375 = 10.0225. The first
    # sample would map to 10.0475, before the previous batch's 10.05, so it is held.
    t, _ = tb.map(10.06, 2, [0.025, 0.0375])
    assert tb.offset_s == pytest.approx(10.0225)
    assert t.tolist() == pytest.approx([10.05, 10.06])
    # Batch 3 arrives late; the offset may only relax by 500 ppm of 0.14 s = 70 us.
    t, _ = tb.map(10.2, 1, [0.05])
    assert tb.offset_s == pytest.approx(10.0225 + 70e-6)
    assert t.tolist() == pytest.approx([0.05 + 10.0225 + 70e-6])


@pytest.mark.parametrize("drift_ppm", [100.0, -100.0])
def test_clock_drift_is_followed(drift_ppm: float) -> None:
    # Over 10 min, 100 ppm is 60 ms: far more than the allowed error.
    run = simulate(600.0, drift_ppm=drift_ppm, seed=5)
    check_invariants(run)
    settled = (run.t_host - run.true)[int(5 * FS):]
    assert np.abs(settled).max() < 0.008
    assert run.tb.resyncs == 0


def test_slow_device_clock_needs_upward_relaxation() -> None:
    # Without upward relaxation the minimum would stick, and a device clock running
    # 100 ppm slow would fall 60 ms behind after 10 minutes: this is what it prevents.
    run = simulate(600.0, drift_ppm=-100.0, seed=5, tb=Timebase(FS, max_drift_ppm=0.0))
    assert (run.t_host - run.true)[-1] < -0.05


def test_backwards_jump_resyncs() -> None:
    run = simulate(60.0, seed=7, jump_at=30.0, jump_by=-100.0)
    check_invariants(run)
    assert run.tb.resyncs == 1
    assert run.tb.wraps == 0
    err = run.t_host - run.true
    before = err[int(5 * FS) : int(30 * FS)]
    after = err[int(35 * FS):]
    assert np.abs(before).max() < 0.006
    assert np.abs(after).max() < 0.006


def test_forward_jump_resyncs() -> None:
    run = simulate(60.0, seed=8, jump_at=30.0, jump_by=+10.0)
    check_invariants(run)
    assert run.tb.resyncs == 1
    after = (run.t_host - run.true)[int(35 * FS):]
    assert np.abs(after).max() < 0.006


def test_device_reboot_to_zero_is_a_jump_not_a_wrap() -> None:
    tb = Timebase(FS)
    t1, _ = tb.map(100.0, 2, [3000.0, 3000.0125])
    t2, d2 = tb.map(100.0125, 1, [0.0])  # device restarted its counter
    assert tb.resyncs == 1
    assert d2 is not None
    assert t2[0] >= t1[-1]
    assert t2[0] <= 100.0125
    # The next sample continues from the new anchor.
    t3, _ = tb.map(100.025, 1, [0.0125])
    assert t3[0] == pytest.approx(100.025)


def test_transient_delivery_stall_does_not_resync() -> None:
    # The link stalls from 8 s to 11 s; the queued notifications then arrive in a
    # burst, the oldest 3 s late. That is latency, not a clock jump.
    tb = Timebase(FS)
    dev = np.arange(int(20 * FS)) / FS
    true = 1000.0 + dev
    mapped = []
    burst = 0
    for i in range(0, dev.size, 4):
        rx = true[i + 3] + 0.005
        if 8.0 <= dev[i + 3] < 11.0:
            rx = 1011.0 + 0.0005 * burst
            burst += 1
        t, _ = tb.map(rx, 4, dev[i : i + 4])
        assert t[-1] <= rx
        mapped.append(t)
    t = np.concatenate(mapped)
    assert burst == 60
    assert tb.resyncs == 0
    err = t - (true + 0.005)
    in_burst = (dev >= 8.0 - 3 / FS) & (dev < 11.0)
    # Outside the burst the mapping is exact; inside, the estimate has relaxed upward
    # by at most 500 ppm of the ~3 s without a timely batch (~1.5 ms).
    np.testing.assert_allclose(err[~in_burst], 0.0, atol=1e-6)
    assert err[in_burst].min() >= 0.0
    assert err[in_burst].max() <= 500e-6 * 3.1


def test_persistent_lag_resyncs_after_confirmation() -> None:
    # The device clock freezes for 3 s, then runs on at its normal pace: from then on
    # device time lags host time by 3 s. No backward step is ever visible.
    tb = Timebase(FS, wrap_period_s=None)
    for k in range(160):  # one sample per 0.1 s of host time
        dev = k * 0.1 if k < 100 else (9.9 if k < 130 else 9.9 + (k - 129) * 0.1)
        t, _ = tb.map(1000.0 + k * 0.1, 1, [dev])
        assert t[0] <= 1000.0 + k * 0.1
    assert tb.resyncs == 1
    assert tb.offset_s == pytest.approx(1003.0, abs=1e-3)


def test_no_clock_spreads_backwards_at_nominal_rate() -> None:
    tb = Timebase(80.0)
    t, d = tb.map(10.0, 5)
    assert d is None
    np.testing.assert_allclose(t, 10.0 - np.array([4, 3, 2, 1, 0]) / 80)
    t, _ = tb.map(10.0625, 5)  # exactly one batch later: continues seamlessly
    np.testing.assert_allclose(t, 10.0 + np.arange(1, 6) / 80)
    # Early arrival (jitter): the spread would overlap, so it is fitted in evenly.
    t, _ = tb.map(10.0825, 4)
    np.testing.assert_allclose(t, [10.0675, 10.0725, 10.0775, 10.0825])
    assert tb.offset_s is None


def test_no_clock_without_rate_stamps_arrival_time() -> None:
    tb = Timebase(None)
    t, d = tb.map(3.5, 3)
    assert d is None
    assert t.tolist() == [3.5, 3.5, 3.5]
    t, _ = tb.map(3.25, 1)  # host time cannot go back; output stays monotonic
    assert t.tolist() == [3.5]


def test_empty_and_bad_batches() -> None:
    tb = Timebase(80.0)
    t, d = tb.map(1.0, 0, [])
    assert t.shape == (0,) and d is not None and d.shape == (0,)
    t, d = tb.map(1.0, 0)
    assert t.shape == (0,) and d is None
    with pytest.raises(ValueError, match="device times"):
        tb.map(1.0, 3, [0.0, 1.0])
    with pytest.raises(ValueError, match=">= 0"):
        tb.map(1.0, -1)


def test_non_finite_device_times_fall_back_to_arrival_spread() -> None:
    tb = Timebase(80.0)
    tb.map(10.0, 1, [0.0])
    t, d = tb.map(10.05, 2, [np.nan, 0.0375])
    assert d is not None and math.isnan(d[0])
    np.testing.assert_allclose(t, [10.0375, 10.05])
    # The device clock is used again afterwards.
    t, _ = tb.map(10.06, 1, [0.05])  # offset 10.0 relaxed by 500 ppm of 0.06 s
    assert t[0] == pytest.approx(10.05003, abs=1e-9)


@pytest.mark.parametrize(
    "kwargs",
    [{"nominal_rate_hz": 0.0}, {"wrap_period_s": -1.0}, {"max_drift_ppm": -1.0},
     {"resync_threshold_s": 0.0}],
)
def test_invalid_parameters(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Timebase(**kwargs)


def test_reset_forgets_state() -> None:
    tb = Timebase(80.0)
    tb.map(10.0, 1, [WRAP_U32_US_S - 0.01])
    tb.map(10.02, 1, [0.01])
    assert tb.wraps == 1
    tb.reset()
    assert tb.wraps == 0 and tb.resyncs == 0 and tb.offset_s is None
    t, _ = tb.map(1.0, 1, [0.5])
    assert t.tolist() == [1.0]
