"""Low-pass filters: a causal one for live feedback and a zero-phase one for analysis.

Live feedback must be smooth (physiological tremor at 8-12 Hz makes a raw trace jitter
around the band edges) yet fast: SCIENCE.md asks for sample-to-screen latency under
100 ms, ideally under 50 ms. A 2nd-order Butterworth low-pass at 5 Hz delays slow
force changes by about 45 ms (``sqrt(2) / (2 * pi * 5 Hz)`` = 45.0 ms for the analogue
prototype; 44.4 ms for the digital filter at 80 Hz, 45.0 ms at 1 kHz) and attenuates
10 Hz tremor by 12-13 dB (to about a quarter of its amplitude). Offline analysis uses
a zero-phase filter instead, which has no delay at all.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import signal as sps

__all__ = [
    "DEFAULT_ANALYSIS_CUTOFF_HZ",
    "DEFAULT_FEEDBACK_CUTOFF_HZ",
    "MAX_CUTOFF_FRACTION",
    "LiveLowPass",
    "clamp_cutoff",
    "zero_phase",
]

#: Cut-off of the live feedback filter (Hz). 2nd order: ~45 ms delay at low
#: frequencies, -12 to -13 dB at 10 Hz (see the module docstring and docs/signal.md).
DEFAULT_FEEDBACK_CUTOFF_HZ = 5.0
#: Cut-off of the offline zero-phase filter (Hz).
DEFAULT_ANALYSIS_CUTOFF_HZ = 10.0
#: Cut-offs are clamped to this fraction of the sample rate (just below Nyquist), so
#: slow devices such as 10 Hz scales still get a valid, near-transparent filter.
MAX_CUTOFF_FRACTION = 0.45

_F64 = np.float64


def clamp_cutoff(fs_hz: float, cutoff_hz: float) -> float:
    """Validate a sample rate and cut-off and clamp the cut-off below Nyquist.

    Args:
        fs_hz: Sample rate in Hz (> 0).
        cutoff_hz: Requested cut-off in Hz (> 0).

    Returns:
        ``min(cutoff_hz, 0.45 * fs_hz)``.

    Raises:
        ValueError: A rate or cut-off is not a positive finite number.
    """
    fs = float(fs_hz)
    fc = float(cutoff_hz)
    if not (math.isfinite(fs) and fs > 0):
        raise ValueError(f"sample rate must be a positive number of Hz, got {fs_hz!r}")
    if not (math.isfinite(fc) and fc > 0):
        raise ValueError(f"cut-off must be a positive number of Hz, got {cutoff_hz!r}")
    return min(fc, MAX_CUTOFF_FRACTION * fs)


def _butter_sos(order: int, cutoff_hz: float, fs_hz: float) -> NDArray[np.float64]:
    if int(order) != order or order < 1:
        raise ValueError(f"filter order must be a positive integer, got {order!r}")
    sos = sps.butter(int(order), cutoff_hz, btype="lowpass", fs=fs_hz, output="sos")
    return np.ascontiguousarray(sos, dtype=_F64)


def _dc_group_delay_samples(sos: NDArray[np.float64]) -> float:
    b, a = sps.sos2tf(sos)
    # Evaluated at DC: a force changing slowly (as a hold does) lags by this much.
    _, gd = sps.group_delay((b, a), w=np.array([0.0]))
    return float(gd[0])


class LiveLowPass:
    """Causal Butterworth low-pass for live display, fed batch by batch.

    The filter is designed with ``scipy.signal.butter(output="sos")`` and run as a
    cascade of second-order sections whose state is carried from one batch to the
    next, so the output is the same however the stream is split into batches.

    With the default 5 Hz cut-off and order 2 the delay at low frequencies is 44.4 ms
    at 80 Hz and 45.0 ms at 1 kHz (:attr:`delay_s`), under the 50 ms latency goal,
    while 10 Hz tremor is attenuated by 12-13 dB.

    Args:
        fs_hz: Sample rate in Hz.
        cutoff_hz: Cut-off (-3 dB) in Hz; clamped to ``0.45 * fs_hz``.
        order: Butterworth order.

    Raises:
        ValueError: ``fs_hz`` or ``cutoff_hz`` is not positive, or ``order`` < 1.
    """

    __slots__ = ("_a", "_b", "_cutoff", "_delay_s", "_fs", "_last", "_sos", "_zi", "_zi_unit")

    def __init__(
        self, fs_hz: float, cutoff_hz: float = DEFAULT_FEEDBACK_CUTOFF_HZ, order: int = 2
    ) -> None:
        self._fs = float(fs_hz)
        self._cutoff = clamp_cutoff(fs_hz, cutoff_hz)
        self._sos = _butter_sos(order, self._cutoff, self._fs)
        # Per-section coefficients for lfilter: sosfilt gives identical results but
        # costs ~25 us per call in validation, lfilter ~5 us per section.
        self._b = [np.ascontiguousarray(s[:3]) for s in self._sos]
        self._a = [np.ascontiguousarray(s[3:]) for s in self._sos]
        # State that yields a constant output for a constant input of 1.0.
        self._zi_unit: NDArray[np.float64] = sps.sosfilt_zi(self._sos).astype(_F64)
        self._zi: NDArray[np.float64] | None = None
        self._last: float | None = None  # last finite input, bridges NaN samples
        self._delay_s = _dc_group_delay_samples(self._sos) / self._fs

    @property
    def fs_hz(self) -> float:
        """Sample rate the filter was designed for (Hz)."""
        return self._fs

    @property
    def cutoff_hz(self) -> float:
        """Cut-off actually used (Hz), after clamping to 0.45 x the sample rate."""
        return self._cutoff

    @property
    def sos(self) -> NDArray[np.float64]:
        """The second-order sections (a copy)."""
        return self._sos.copy()

    @property
    def delay_s(self) -> float:
        """Group delay at DC in seconds (how far a slowly changing force lags)."""
        return self._delay_s

    def reset(self, value: float | None = None) -> None:
        """Forget the filter state.

        Args:
            value: If given, settle the state at this constant input now; otherwise the
                next :meth:`process` call settles it at its first sample.
        """
        if value is None or not math.isfinite(value):
            self._zi = None
            self._last = None
        else:
            self._zi = self._zi_unit * float(value)
            self._last = float(value)

    def process(self, x: ArrayLike) -> NDArray[np.float64]:
        """Filter a batch, carrying the state over from the previous batch.

        On the first call (or after :meth:`reset` without a value) the state starts
        settled at the first finite sample, so there is no start-up transient from 0.
        Non-finite samples are replaced by the previous finite input before filtering
        (one bad sample must not poison the recursive state for good); samples before
        the first finite one come out as NaN.

        Args:
            x: Samples, oldest first (a scalar counts as one sample).

        Returns:
            Filtered samples, same length as ``x``.
        """
        xa = np.asarray(x, dtype=_F64).reshape(-1)
        n = xa.shape[0]
        if n == 0:
            return np.empty(0, dtype=_F64)
        # One sum is the cheapest finiteness check for small batches.
        if not math.isfinite(float(xa.sum())):
            return self._process_nonfinite(xa)
        if self._zi is None:
            self._zi = self._zi_unit * xa[0]
        y = xa
        zi = self._zi
        for k in range(len(self._b)):
            y, zi[k] = sps.lfilter(self._b[k], self._a[k], y, zi=zi[k])
        self._last = float(xa[-1])
        return np.asarray(y, dtype=_F64)

    def _process_nonfinite(self, xa: NDArray[np.float64]) -> NDArray[np.float64]:
        n = xa.shape[0]
        finite = np.isfinite(xa)
        # Index of the latest finite sample at or before each position (-1: none yet).
        idx = np.where(finite, np.arange(n), -1)
        np.maximum.accumulate(idx, out=idx)
        filled = xa[np.maximum(idx, 0)]
        missing = idx < 0
        if self._last is not None:
            filled[missing] = self._last
            missing[:] = False
        out = np.full(n, np.nan, dtype=_F64)
        if missing.all():
            return out
        first = int(np.argmin(missing))  # first position with a usable value
        out[first:] = self.process(filled[first:])
        return out


def zero_phase(
    x: ArrayLike,
    fs_hz: float,
    cutoff_hz: float = DEFAULT_ANALYSIS_CUTOFF_HZ,
    order: int = 4,
) -> NDArray[np.float64]:
    """Zero-phase (forward-backward) Butterworth low-pass for offline analysis.

    Runs ``scipy.signal.sosfiltfilt``, so the effective order is ``2 * order`` and
    there is no delay. Short inputs are handled: the edge padding is reduced to fit,
    and inputs with fewer than 3 samples are returned unchanged (as a copy).
    Non-finite samples are bridged by linear interpolation for filtering and come
    back as NaN at the same positions.

    Args:
        x: 1-D samples.
        fs_hz: Sample rate in Hz.
        cutoff_hz: Cut-off in Hz; clamped to ``0.45 * fs_hz``.
        order: Butterworth order of each pass.

    Returns:
        The filtered samples, same length as ``x``.

    Raises:
        ValueError: ``x`` is not 1-D, or the rate, cut-off or order are invalid.
    """
    xa = np.array(x, dtype=_F64, copy=True)
    if xa.ndim != 1:
        raise ValueError(f"zero_phase expects 1-D input, got shape {xa.shape}")
    fc = clamp_cutoff(fs_hz, cutoff_hz)
    sos = _butter_sos(order, fc, float(fs_hz))
    n = xa.shape[0]
    finite = np.isfinite(xa)
    n_finite = int(finite.sum())
    if n_finite < 3:
        return xa
    if n_finite < n:
        pos = np.arange(n)
        xa[~finite] = np.interp(pos[~finite], pos[finite], xa[finite])
    # scipy's default padlen for sosfiltfilt; it must be shorter than the input.
    n_zero = min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    padlen = min(3 * (2 * len(sos) + 1 - n_zero), n - 1)
    y: NDArray[np.float64] = np.asarray(sps.sosfiltfilt(sos, xa, padlen=padlen), dtype=_F64)
    if n_finite < n:
        y[~finite] = np.nan
    return y
