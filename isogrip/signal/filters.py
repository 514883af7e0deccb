"""Live-feedback filters (causal) and a zero-phase low-pass for analysis.

Live feedback must be smooth (physiological tremor at 8-12 Hz makes a raw trace jitter
around the band edges) yet fast: SCIENCE.md asks for sample-to-screen latency under
100 ms, ideally under 50 ms, and the filter's delay is the largest part of it that the
software controls. Two live filters are available by name (:data:`LIVE_FILTERS`):

* ``"low-lag"`` (the default, :class:`LowLagFilter`): two notches in the tremor band, a
  gentle roll-off above it and a little phase lead. It delays slow force changes by
  about 18 ms and keeps at most 0.22 of 8-12 Hz tremor and 0.45 of noise at 25 Hz and
  above (80 Hz and 1 kHz).
* ``"butterworth"`` (:class:`LiveLowPass`): the earlier 2nd-order Butterworth at 5 Hz,
  about 45 ms of delay and 0.35 of 8 Hz tremor kept; kept for comparison.

Both run as second-order sections whose state is carried from batch to batch, so the
output does not depend on how the stream is split. Offline analysis uses a zero-phase
filter, which has no delay at all. Figures and the design's reasoning: docs/signal.md.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from types import ModuleType

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DEFAULT_ANALYSIS_CUTOFF_HZ",
    "DEFAULT_FEEDBACK_CUTOFF_HZ",
    "DEFAULT_LIVE_FILTER",
    "LIVE_FILTERS",
    "LOW_LAG_MIN_RATE_HZ",
    "MAX_CUTOFF_FRACTION",
    "LiveFilter",
    "LiveLowPass",
    "LowLagFilter",
    "clamp_cutoff",
    "low_lag_sos",
    "make_live_filter",
    "zero_phase",
]

#: Cut-off of the Butterworth live filter (Hz). 2nd order: ~45 ms delay at low
#: frequencies, -12 to -13 dB at 10 Hz (see docs/signal.md).
DEFAULT_FEEDBACK_CUTOFF_HZ = 5.0
#: Cut-off of the offline zero-phase filter (Hz).
DEFAULT_ANALYSIS_CUTOFF_HZ = 10.0
#: Cut-offs are clamped to this fraction of the sample rate (just below Nyquist), so
#: slow devices such as 10 Hz scales still get a valid, near-transparent filter.
MAX_CUTOFF_FRACTION = 0.45

_F64 = np.float64


def _sps() -> ModuleType:
    """``scipy.signal``, imported when a filter is first designed or run.

    Importing it takes most of a second, and the desktop app needs no filter before a
    session starts; so the app's window shows without waiting for it.
    """
    return importlib.import_module("scipy.signal")


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
    sos = _sps().butter(int(order), cutoff_hz, btype="lowpass", fs=fs_hz, output="sos")
    return np.ascontiguousarray(sos, dtype=_F64)


def _dc_group_delay_samples(sos: NDArray[np.float64]) -> float:
    # Evaluated at DC: a force changing slowly (as a hold does) lags by this much. The
    # delays of cascaded sections add up, and at DC each is exactly
    # sum(k b_k) / sum(b_k) - sum(k a_k) / sum(a_k); this stays accurate where
    # scipy.signal.group_delay of the whole transfer function loses precision (poles
    # close to z = 1 at high sample rates).
    k = np.arange(3.0)
    b, a = sos[:, :3], sos[:, 3:]
    return float(np.sum(b @ k / b.sum(axis=1) - a @ k / a.sum(axis=1)))


class LiveFilter:
    """A causal IIR filter for live display, fed batch by batch.

    Runs a cascade of second-order sections whose state is carried from one batch to
    the next, so the output is the same however the stream is split into batches. The
    filter must have unity gain at DC: a constant force is shown as it is.

    Args:
        sos: Second-order sections (``scipy.signal`` layout, shape ``(n, 6)``).
        fs_hz: Sample rate the sections were designed for, Hz.
        name: Name of the design (one of :data:`LIVE_FILTERS` for built-in ones).

    Raises:
        ValueError: ``sos`` has the wrong shape, or ``fs_hz`` is not positive.
    """

    __slots__ = ("_a", "_b", "_delay_s", "_fs", "_last", "_lfilter", "_name", "_sos", "_zi",
                 "_zi_unit")

    def __init__(self, sos: ArrayLike, fs_hz: float, name: str = "custom") -> None:
        sections = np.ascontiguousarray(sos, dtype=_F64)
        if sections.ndim != 2 or sections.shape[1] != 6 or sections.shape[0] < 1:
            raise ValueError(f"sos must have shape (n, 6), got {sections.shape}")
        fs = float(fs_hz)
        if not (math.isfinite(fs) and fs > 0):
            raise ValueError(f"sample rate must be a positive number of Hz, got {fs_hz!r}")
        self._fs = fs
        self._name = name
        self._sos = sections
        # Per-section coefficients for lfilter: sosfilt gives identical results but
        # costs ~25 us per call in validation, lfilter ~5 us per section.
        self._b = [np.ascontiguousarray(sec[:3]) for sec in sections]
        self._a = [np.ascontiguousarray(sec[3:]) for sec in sections]
        sps = _sps()
        self._lfilter = sps.lfilter
        # State that yields a constant output for a constant input of 1.0.
        self._zi_unit: NDArray[np.float64] = sps.sosfilt_zi(sections).astype(_F64)
        self._zi: NDArray[np.float64] | None = None
        self._last: float | None = None  # last finite input, bridges NaN samples
        self._delay_s = _dc_group_delay_samples(sections) / fs

    @property
    def name(self) -> str:
        """Name of the design."""
        return self._name

    @property
    def fs_hz(self) -> float:
        """Sample rate the filter was designed for (Hz)."""
        return self._fs

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
            y, zi[k] = self._lfilter(self._b[k], self._a[k], y, zi=zi[k])
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


class LiveLowPass(LiveFilter):
    """Causal Butterworth low-pass (the ``"butterworth"`` live filter).

    Designed with ``scipy.signal.butter(output="sos")``. With the default 5 Hz cut-off
    and order 2 the delay at low frequencies is 44.4 ms at 80 Hz and 45.0 ms at 1 kHz
    (:attr:`delay_s`) and 10 Hz tremor is attenuated by 12-13 dB; 8 Hz tremor keeps
    about 0.35 of its amplitude. :class:`LowLagFilter` halves the delay.

    Args:
        fs_hz: Sample rate in Hz.
        cutoff_hz: Cut-off (-3 dB) in Hz; clamped to ``0.45 * fs_hz``.
        order: Butterworth order.

    Raises:
        ValueError: ``fs_hz`` or ``cutoff_hz`` is not positive, or ``order`` < 1.
    """

    __slots__ = ("_cutoff",)

    def __init__(
        self, fs_hz: float, cutoff_hz: float = DEFAULT_FEEDBACK_CUTOFF_HZ, order: int = 2
    ) -> None:
        cutoff = clamp_cutoff(fs_hz, cutoff_hz)
        super().__init__(_butter_sos(order, cutoff, float(fs_hz)), fs_hz, "butterworth")
        self._cutoff = cutoff

    @property
    def cutoff_hz(self) -> float:
        """Cut-off actually used (Hz), after clamping to 0.45 x the sample rate."""
        return self._cutoff


# The low-lag design as an analogue prototype (frequencies in Hz), chosen by measuring
# candidates (docs/signal.md, "Live feedback"): two notches that span the tremor band,
# two lightly damped pole pairs just below it (they keep the gain near 1 up to ~6 Hz
# and give the steep edge), a real pole that rolls off noise above the band, and a
# real zero that adds phase lead. By the gain-phase relation of minimum-phase filters
# the delay at low frequencies is set by how much, and how early, the gain drops; a
# notch attenuates only where the tremor is, so it costs far less delay than a
# low-pass that has to reach the same attenuation at 8 Hz.
_LL_NOTCH_HZ = (8.41, 11.05)
_LL_POLE_PAIRS = ((7.41, 0.21), (9.54, 0.215))  # (natural frequency Hz, damping ratio)
_LL_REAL_POLE_HZ = 18.7
_LL_LEAD_ZERO_HZ = 24.6
#: Below this sample rate the tremor band is too close to (or above) the Nyquist
#: frequency for the low-lag design; the Butterworth filter is used instead.
LOW_LAG_MIN_RATE_HZ = 40.0


def _prewarp(root: complex, fs_hz: float) -> complex:
    """Scale a complex root so the bilinear transform keeps its frequency."""
    w = abs(root)
    f_hz = w / (2 * math.pi)
    return root * (2 * fs_hz * math.tan(math.pi * f_hz / fs_hz)) / w


def low_lag_sos(fs_hz: float) -> NDArray[np.float64]:
    """Second-order sections of the low-lag live filter at ``fs_hz``.

    The analogue prototype is discretised with the bilinear transform
    (``scipy.signal.bilinear_zpk``); its notches and resonant poles are pre-warped so
    they sit at the same frequencies at every sample rate. The gain at DC is exactly 1.

    Args:
        fs_hz: Sample rate in Hz (at least :data:`LOW_LAG_MIN_RATE_HZ`).

    Raises:
        ValueError: The rate is not a number, or below :data:`LOW_LAG_MIN_RATE_HZ`.
    """
    fs = float(fs_hz)
    if not (math.isfinite(fs) and fs >= LOW_LAG_MIN_RATE_HZ):
        raise ValueError(
            f"the low-lag filter needs a sample rate of at least {LOW_LAG_MIN_RATE_HZ:g} Hz, "
            f"got {fs_hz!r}"
        )
    two_pi = 2 * math.pi
    zeros: list[complex] = [-two_pi * _LL_LEAD_ZERO_HZ + 0j]
    for f in _LL_NOTCH_HZ:
        zeros += [1j * two_pi * f, -1j * two_pi * f]
    poles: list[complex] = [-two_pi * _LL_REAL_POLE_HZ + 0j]
    for f, zeta in _LL_POLE_PAIRS:
        w = two_pi * f
        im = w * math.sqrt(1 - zeta * zeta)
        poles += [complex(-zeta * w, im), complex(-zeta * w, -im)]
    za = np.array([_prewarp(z, fs) if z.imag else z for z in zeros])
    pa = np.array([_prewarp(p, fs) if p.imag else p for p in poles])
    k = float(np.real(np.prod(-pa) / np.prod(-za)))  # unity gain at DC
    sps = _sps()
    zd, pd, kd = sps.bilinear_zpk(za, pa, k, fs)
    return np.ascontiguousarray(sps.zpk2sos(zd, pd, kd), dtype=_F64)


class LowLagFilter(LiveFilter):
    """The ``"low-lag"`` live filter: tremor notches, light roll-off, phase lead.

    At 80 Hz and 1 kHz it delays a 0.5-2 Hz force change by about 18 ms with a gain of
    1.00-1.02, keeps at most 0.22 of 8-12 Hz tremor and at most 0.45 of anything at
    25 Hz or above (figures in docs/signal.md). Below :data:`LOW_LAG_MIN_RATE_HZ` it is
    the 5 Hz Butterworth low-pass clamped below Nyquist, as :class:`LiveLowPass`.

    Args:
        fs_hz: Sample rate in Hz.

    Raises:
        ValueError: ``fs_hz`` is not a positive number.
    """

    __slots__ = ()

    def __init__(self, fs_hz: float) -> None:
        fs = float(fs_hz)
        if math.isfinite(fs) and fs >= LOW_LAG_MIN_RATE_HZ:
            sos = low_lag_sos(fs)
        else:
            # clamp_cutoff rejects rates that are not positive numbers.
            sos = _butter_sos(2, clamp_cutoff(fs_hz, DEFAULT_FEEDBACK_CUTOFF_HZ), fs)
        super().__init__(sos, fs, "low-lag")


#: Live filters by name; the engine uses :data:`DEFAULT_LIVE_FILTER`.
LIVE_FILTERS: dict[str, Callable[[float], LiveFilter]] = {
    "low-lag": LowLagFilter,
    "butterworth": LiveLowPass,
}
#: The live filter used unless another is named.
DEFAULT_LIVE_FILTER = "low-lag"


def make_live_filter(name: str, fs_hz: float) -> LiveFilter:
    """Create a live filter by name for a sample rate.

    Args:
        name: One of :data:`LIVE_FILTERS`.
        fs_hz: Sample rate in Hz.

    Raises:
        ValueError: Unknown name, or the rate is not a positive number.
    """
    cls = LIVE_FILTERS.get(name)
    if cls is None:
        raise ValueError(f"unknown live filter {name!r}; choose one of {', '.join(LIVE_FILTERS)}")
    return cls(fs_hz)


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
    y: NDArray[np.float64] = np.asarray(_sps().sosfiltfilt(sos, xa, padlen=padlen), dtype=_F64)
    if n_finite < n:
        y[~finite] = np.nan
    return y
