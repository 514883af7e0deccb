"""Live-filter figures: what the participant sees, measured through the engine's snapshot.

For each live filter and sample rate, synthetic force (a constant plus one sine) is fed
to the protocol engine in notification-sized batches; after every batch the snapshot's
force (the filtered force a display shows) is read, and a sine of the input frequency
is fitted to it by least squares. The fit gives the gain (shown amplitude / input
amplitude) and, for slow sines, the lag (phase delay, ms). Tremor (8, 10, 12 Hz) and
noise (25 Hz, and 60 Hz at 1 kHz) are reported as the fraction of their amplitude kept.

Other designs that were tried are measured the same way on the filter alone (fed
batch by batch, read after each batch, as the engine does), so every candidate's
figures come from one procedure. Finally the virtual participant (which reacts to the
snapshot it sees) runs the holds of the default protocol under the old and the new
filter, so the effect on tracking is measured rather than assumed.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy import signal as sps

from isogrip.ble_device.participant import make_participant
from isogrip.protocols.engine import Engine
from isogrip.protocols.events import Command
from isogrip.protocols.loader import DEFAULT_PROTOCOL, load_protocol
from isogrip.signal.filters import LiveFilter, LiveLowPass, LowLagFilter
from isogrip.types import Hand

F64 = NDArray[np.float64]
#: Frequencies for lag and gain (slow force changes), Hz.
SLOW_HZ = (0.5, 2.0)
#: Physiological tremor, Hz.
TREMOR_HZ = (8.0, 10.0, 12.0)
#: Sensor / mains noise, Hz (60 Hz only where the rate can carry it).
NOISE_HZ = (25.0, 60.0)
#: (sample rate Hz, samples per batch): 80 Hz (the Progressor) in 3-sample batches and
#: 1 kHz in 7-sample batches: the read-out rates (26.7 and 143 Hz) alias no test
#: frequency onto 0 Hz or their Nyquist frequency (the filter output does not depend on
#: the batching, only where it is read does).
RATES = ((80.0, 3), (1000.0, 7))
BASE_N = 150.0  # constant force under the test sine, N
AMPLITUDE_N = 5.0
SETTLE_S = 3.0  # ignored at the start (filter start-up)
MEASURE_S = 8.0

Display = Callable[[F64, F64], float]


class Filter(Protocol):
    """What the figures need of a filter."""

    def process(self, x: F64) -> F64:
        """Filter a batch."""
        ...

    def reset(self, value: float | None = None) -> None:
        """Restart at a constant input."""
        ...


@dataclass(frozen=True)
class FilterFigures:
    """Response of one live filter at one sample rate.

    Attributes:
        name: Filter name.
        fs_hz: Sample rate, Hz.
        lag_ms: Phase delay at each of :data:`SLOW_HZ`, ms.
        gain: Gain at each of :data:`SLOW_HZ`.
        kept: Fraction of amplitude kept at each tremor and noise frequency.
        step_overshoot: Overshoot of the response to an ideal step (fraction).
    """

    name: str
    fs_hz: float
    lag_ms: dict[float, float]
    gain: dict[float, float]
    kept: dict[float, float]
    step_overshoot: float

    def meets_goal(self) -> bool:
        """Lag <= 20 ms with gain 0.9-1.15, tremor <= 0.25, noise <= 0.5."""
        slow = all(self.lag_ms[f] <= 20.0 and 0.9 <= self.gain[f] <= 1.15 for f in SLOW_HZ)
        tremor = all(self.kept[f] <= 0.25 for f in TREMOR_HZ)
        noise = all(v <= 0.5 for f, v in self.kept.items() if f in NOISE_HZ)
        return slow and tremor and noise

    def line(self) -> str:
        """One printable line."""
        lag = ", ".join(f"{self.lag_ms[f]:.1f}" for f in SLOW_HZ)
        gain = ", ".join(f"{self.gain[f]:.3f}" for f in SLOW_HZ)
        kept = ", ".join(f"{f:g} Hz {v:.2f}" for f, v in self.kept.items())
        return (f"{self.name:<26} {self.fs_hz:>5g} Hz: lag {lag} ms, gain {gain} "
                f"(0.5, 2 Hz); kept {kept}; step overshoot {self.step_overshoot:.0%}"
                f"{'  [goal met]' if self.meets_goal() else ''}")

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly figures."""
        return {"lag_ms": {str(k): round(v, 1) for k, v in self.lag_ms.items()},
                "gain": {str(k): round(v, 3) for k, v in self.gain.items()},
                "kept": {str(k): round(v, 3) for k, v in self.kept.items()},
                "step_overshoot": round(self.step_overshoot, 3)}


def fit_sine(t: F64, y: F64, f_hz: float) -> tuple[float, float]:
    """Least-squares fit ``y ~ c + a sin(wt) + b cos(wt)``: (amplitude, phase rad)."""
    w = 2 * math.pi * f_hz
    basis = np.column_stack([np.ones_like(t), np.sin(w * t), np.cos(w * t)])
    (_, a, b), *_ = np.linalg.lstsq(basis, y, rcond=None)
    return float(math.hypot(a, b)), float(math.atan2(b, a))


def engine_display(name: str, fs_hz: float) -> Display:
    """The shown force after each batch, read from the engine's snapshot."""
    engine = Engine(load_protocol(DEFAULT_PROTOCOL), sample_rate_hz=fs_hz,
                    known_mvc={Hand.RIGHT: 400.0, Hand.LEFT: 380.0}, live_filter=name)
    engine.command(Command.START, 0.0)

    def show(t: F64, f: F64) -> float:
        engine.feed(t, f)
        shown = engine.snapshot().force_n
        assert shown is not None
        return shown
    return show


def filter_display(filt: Filter) -> Display:
    """The filter fed batch by batch and read after each batch, as the engine does."""
    return lambda _t, f: float(filt.process(f)[-1])


def response(display: Display, fs_hz: float, per: int, f_hz: float) -> tuple[float, float]:
    """(gain, lag s) of what ``display`` shows for a sine at ``f_hz``."""
    n = int((SETTLE_S + MEASURE_S) * fs_hz) // per * per
    t = np.arange(n) / fs_hz
    x = BASE_N + AMPLITUDE_N * np.sin(2 * math.pi * f_hz * t)
    ends = np.arange(per - 1, n, per)
    shown = np.array([display(t[i + 1 - per:i + 1], x[i + 1 - per:i + 1]) for i in ends])
    keep = t[ends] >= SETTLE_S
    amp, phase = fit_sine(t[ends][keep], shown[keep], f_hz)
    lag = (-phase % (2 * math.pi)) / (2 * math.pi * f_hz)
    if lag > 0.5 / f_hz:  # a small lead reads as a negative lag, not a long one
        lag -= 1.0 / f_hz
    return amp / AMPLITUDE_N, lag


def figures(name: str, make: Callable[[], Display], fs_hz: float, per: int,
            step: Filter) -> FilterFigures:
    """All figures of one filter at one rate; ``make`` gives a fresh display each time."""
    lag: dict[float, float] = {}
    gain: dict[float, float] = {}
    for f in SLOW_HZ:
        gain[f], lag_s = response(make(), fs_hz, per, f)
        lag[f] = lag_s * 1000
    kept = {f: response(make(), fs_hz, per, f)[0]
            for f in (*TREMOR_HZ, *NOISE_HZ) if f < 0.45 * fs_hz}
    step.reset(0.0)
    overshoot = float(step.process(np.ones(int(2 * fs_hz))).max()) - 1.0
    return FilterFigures(name, fs_hz, lag, gain, kept, overshoot)


# ----------------------------------------------------------------- candidates tried
class OneEuro:
    """One-Euro filter (Casiez et al. 2012, CHI): a low-pass whose cut-off rises with speed."""

    def __init__(self, fs_hz: float, min_cutoff_hz: float = 1.0, beta: float = 0.02,
                 d_cutoff_hz: float = 1.0) -> None:
        self.fs, self.fmin, self.beta, self.dc = fs_hz, min_cutoff_hz, beta, d_cutoff_hz
        self.x: float | None = None
        self.dx = 0.0

    def _alpha(self, fc: float) -> float:
        tau = 1.0 / (2 * math.pi * fc)
        return 1.0 / (1.0 + tau * self.fs)

    def process(self, f: F64) -> F64:
        out = np.empty(len(f))
        for i, v in enumerate(f):
            if self.x is None:
                self.x = float(v)
            a_d = self._alpha(self.dc)
            self.dx += a_d * ((v - self.x) * self.fs - self.dx)
            a = self._alpha(self.fmin + self.beta * abs(self.dx))
            self.x += a * (v - self.x)
            out[i] = self.x
        return out

    def reset(self, value: float | None = None) -> None:
        self.x, self.dx = value, 0.0


def _lead(fs_hz: float, lead_s: float, t2_s: float) -> F64:
    b, a = sps.bilinear([t2_s + lead_s, 1.0], [t2_s, 1.0], fs=fs_hz)
    return np.array([[*(b / a[0]), 0.0, *(a / a[0]), 0.0]])


def candidates(fs_hz: float) -> dict[str, Callable[[], Filter]]:
    """Designs tried for the live filter, each a factory of a fresh filter."""
    def sos(make_sos: Callable[[], F64], name: str) -> Callable[[], LiveFilter]:
        return lambda: LiveFilter(make_sos(), fs_hz, name)
    return {
        "butterworth 5 Hz (old)": lambda: LiveLowPass(fs_hz),
        "butterworth 10 Hz": lambda: LiveLowPass(fs_hz, 10.0),
        "chebyshev II n3, 8 Hz": sos(lambda: sps.cheby2(3, 14, 8.0, fs=fs_hz, output="sos"),
                                     "cheby2"),
        "band-stop 7-14 + lp 20 Hz": sos(lambda: np.vstack([
            sps.butter(2, [7.0, 14.0], btype="bandstop", fs=fs_hz, output="sos"),
            sps.butter(2, 20.0, fs=fs_hz, output="sos")]), "bandstop"),
        "chebyshev II + lead 15 ms": sos(lambda: np.vstack([
            sps.cheby2(3, 18, 8.0, fs=fs_hz, output="sos"), _lead(fs_hz, 0.015, 0.003)]),
            "cheby2-lead"),
        "one-euro 1 Hz, beta 0.02": lambda: OneEuro(fs_hz),
        "low-lag (new)": lambda: LowLagFilter(fs_hz),
    }


# ------------------------------------------------------------- closed-loop tracking
@dataclass(frozen=True)
class Tracking:
    """Hold figures of the virtual participant (means over holds and seeds)."""

    filter_name: str
    preset: str
    time_in_band_pct: float
    cv_pct: float
    holds: int


def tracking(filter_name: str, preset: str, seeds: range, rate: float = 80.0,
             per: int = 4) -> Tracking:
    """The virtual participant's holds (default protocol, known MVC, short rests).

    The loop is the simulated device's: before each notification the participant
    observes the latest snapshot (seen one reaction time later), produces the packet's
    forces, and the engine is fed them.
    """
    protocol = replace(load_protocol(DEFAULT_PROTOCOL), rest_s=15.0, prepare_s=5.0)
    tib: list[float] = []
    cv: list[float] = []
    steps = np.arange(per, dtype=np.float64)
    for seed in seeds:
        person = make_participant(preset, seed)
        mvc = {h: 0.97 * person.profile.mvc(h) for h in (Hand.RIGHT, Hand.LEFT)}
        engine = Engine(protocol, sample_rate_hz=rate, known_mvc=mvc, live_filter=filter_name)
        engine.command(Command.START, 0.0)
        k = 0
        while not engine.finished:
            t = (k + steps) / rate
            k += per
            person.observe(float(t[-1]), engine.snapshot())
            engine.feed(t, person.forces(t))
        for hold in engine.hold_results:
            tib.append(hold.metrics.time_in_band_pct)
            cv.append(hold.metrics.cv_mean_pct)
    return Tracking(filter_name, preset, statistics.fmean(tib), statistics.fmean(cv), len(tib))


def bench_live_filter(results: dict[str, Any]) -> None:
    """Print the live-filter figures and record them in ``results``."""
    out: dict[str, Any] = {"engine": {}, "candidates": {}, "tracking": {}}
    print("live filter through the engine's snapshot (goal: lag <= 20 ms with gain "
          "0.9-1.15 at 0.5 and 2 Hz; tremor 8-12 Hz kept <= 0.25; noise kept <= 0.5):")
    for fs, per in RATES:
        for name, cls in (("butterworth", LiveLowPass), ("low-lag", LowLagFilter)):
            fig = figures(name, lambda n=name, r=fs: engine_display(n, r), fs, per, cls(fs))
            print("  " + fig.line())
            out["engine"][f"{name}@{fs:g}"] = fig.as_dict()
    print("designs tried (the filter alone, fed and read batch by batch):")
    for fs, per in RATES:
        for name, make in candidates(fs).items():
            fig = figures(name, lambda m=make: filter_display(m()), fs, per, make())
            print("  " + fig.line())
            out["candidates"][f"{name}@{fs:g}"] = fig.as_dict()
    print("virtual participant, default protocol holds at 80 Hz (means over 4 holds x "
          "5 seeds, the same seeds for both filters):")
    for preset in ("good", "sloppy", "fatigue"):
        for name in ("butterworth", "low-lag"):
            tr = tracking(name, preset, range(5))
            print(f"  {preset:<7} {name:<12} time in band {tr.time_in_band_pct:5.1f} %, "
                  f"CV {tr.cv_pct:.2f} % ({tr.holds} holds)")
            out["tracking"][f"{preset}/{name}"] = {
                "time_in_band_pct": round(tr.time_in_band_pct, 1), "cv_pct": round(tr.cv_pct, 2)}
    results["live_filter"] = out
