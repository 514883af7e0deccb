"""Map device sample times onto the host's monotonic timeline.

A BLE dynamometer stamps samples with its own clock (the Progressor: a u32 microsecond
counter that wraps every 2**32 us = 4294.967296 s, about 71.6 min) and delivers them in
notifications that reach the host after a variable delay (connection interval,
radio retries, OS scheduling). The host only knows when each notification arrived.

Method (see docs/signal.md): the host time of a sample is ``device_time + offset``.
Transport latency can only *add* delay, so for every batch
``host_rx - device_time_of_last_sample = offset + latency >= offset``; the running
minimum of that quantity is therefore a tight upper bound on the offset, reached
whenever one batch gets through with little delay. Because the two clocks drift
apart (crystals differ by tens of ppm), the estimate may also rise, but only slowly:
by at most ``max_drift_ppm`` of the host time elapsed. Jumps of the device clock
re-anchor the mapping. Devices without a clock get evenly spaced times ending at the
arrival time.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["WRAP_U32_US_S", "Timebase"]

#: Wrap period of a u32 microsecond counter (s): 2**32 us, about 71.6 min.
WRAP_U32_US_S = 2**32 * 1e-6

_F64 = np.float64
#: Device steps back by less than this (s) are timestamp noise, not a clock jump;
#: mapped times stay monotonic regardless.
_BACKSTEP_TOLERANCE_S = 1e-3
#: A device clock that falls behind the host by more than the resync threshold is
#: re-anchored only if it stays behind for this much host time (s): after a BLE stall
#: the queued notifications arrive in a burst whose device times catch up within a
#: fraction of a second, and that must not count as a jump.
_LAG_CONFIRM_S = 1.0


class Timebase:
    """Maps device timestamps (or arrival times) of sample batches onto host time.

    Create one per device connection and call :meth:`map` for every batch, in order.

    Args:
        nominal_rate_hz: The device's sample rate (Hz); used only for devices without
            a clock, to spread a batch backwards from its arrival time. ``None``
            stamps every sample of a clock-less batch with its arrival time.
        wrap_period_s: Period after which the device counter wraps (s), or ``None``
            if it never wraps. Defaults to the u32 microsecond counter.
        max_drift_ppm: Largest clock drift followed upwards (parts per million).
        resync_threshold_s: Disagreement between device and host elapsed time (s)
            treated as a clock jump.

    Raises:
        ValueError: A parameter is out of range.
    """

    _wraps: int
    _resyncs: int
    _offset: float | None
    _offset_host: float
    _lag_since: float | None
    _last_raw: float | None
    _last_out: float

    def __init__(
        self,
        nominal_rate_hz: float | None = None,
        wrap_period_s: float | None = WRAP_U32_US_S,
        max_drift_ppm: float = 500.0,
        resync_threshold_s: float = 2.0,
    ) -> None:
        if nominal_rate_hz is not None and not (
            math.isfinite(nominal_rate_hz) and nominal_rate_hz > 0
        ):
            raise ValueError(f"nominal_rate_hz must be positive, got {nominal_rate_hz!r}")
        if wrap_period_s is not None and not (math.isfinite(wrap_period_s) and wrap_period_s > 0):
            raise ValueError(f"wrap_period_s must be positive, got {wrap_period_s!r}")
        if not (math.isfinite(max_drift_ppm) and max_drift_ppm >= 0):
            raise ValueError(f"max_drift_ppm must be >= 0, got {max_drift_ppm!r}")
        if not (math.isfinite(resync_threshold_s) and resync_threshold_s > 0):
            raise ValueError(f"resync_threshold_s must be positive, got {resync_threshold_s!r}")
        self._rate = None if nominal_rate_hz is None else float(nominal_rate_hz)
        self._wrap = None if wrap_period_s is None else float(wrap_period_s)
        self._drift = float(max_drift_ppm) * 1e-6
        self._threshold = float(resync_threshold_s)
        self.reset()

    @property
    def offset_s(self) -> float | None:
        """Current estimate of ``host_time - device_time`` (s).

        ``None`` before the first batch with device times.
        """
        return self._offset

    @property
    def wraps(self) -> int:
        """Number of device counter wraps seen."""
        return self._wraps

    @property
    def resyncs(self) -> int:
        """Number of device clock jumps that re-anchored the mapping."""
        return self._resyncs

    @property
    def nominal_rate_hz(self) -> float | None:
        """Nominal sample rate (Hz) used for clock-less devices."""
        return self._rate

    def map(
        self, host_rx_s: float, n: int, device_t_s: ArrayLike | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
        """Map one batch of samples onto the host timeline.

        Args:
            host_rx_s: Host monotonic time (s) at which the batch arrived.
            n: Number of samples in the batch.
            device_t_s: Device times of the samples (s, raw counter converted to
                seconds, oldest first), or ``None`` for a device without a clock.

        Returns:
            ``(t_host, t_device_unwrapped)``: host times (s), never later than
            ``host_rx_s`` and never earlier than the previous batch's, and the device
            times with counter wraps removed (``None`` without device times). A batch
            whose device times are not all finite is mapped as if the device had no
            clock, and its device times are returned unchanged.

        Raises:
            ValueError: ``n`` is negative or differs from the number of device times.
        """
        host = float(host_rx_s)
        n = int(n)
        if n < 0:
            raise ValueError(f"batch size must be >= 0, got {n}")
        if device_t_s is None:
            return self._map_no_clock(host, n), None
        d = np.asarray(device_t_s, dtype=_F64).reshape(-1)
        if d.shape[0] != n:
            raise ValueError(f"batch size is {n} but {d.shape[0]} device times were given")
        if n == 0:
            return np.empty(0, dtype=_F64), np.empty(0, dtype=_F64)
        # Raw steps, the first one from the previous batch: one pass serves the wrap,
        # jump and finiteness checks, and the usual batch (all steps forward, finite)
        # stops at the first test. A NaN or infinity anywhere makes a step NaN or
        # -inf, or sits in the last sample.
        steps = np.empty(n, dtype=_F64)
        steps[0] = 0.0 if self._last_raw is None else d[0] - self._last_raw
        if n > 1:
            np.subtract(d[1:], d[:-1], out=steps[1:])
        last_raw = float(d[-1])
        if float(steps.min()) >= -_BACKSTEP_TOLERANCE_S and math.isfinite(last_raw):
            self._last_raw = last_raw
            dev = d + self._wraps * self._wrap if self._wraps and self._wrap else d.copy()
            return self._map_segment(host, dev, jumped=False), dev
        if not np.isfinite(d).all():
            return self._map_no_clock(host, n), d.copy()
        self._last_raw = last_raw
        return self._map_with_steps_back(host, d, steps)

    def _map_with_steps_back(
        self, host: float, d: NDArray[np.float64], steps: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Rare path: the raw device time stepped back (a counter wrap or a jump)."""
        if self._wrap is not None:
            # A step back by more than half a period is the counter wrapping around.
            wrapped = steps < -0.5 * self._wrap
            k = np.cumsum(wrapped) + self._wraps
            dev: NDArray[np.float64] = d + k * self._wrap
            self._wraps = int(k[-1])
            steps = steps + wrapped * self._wrap
        else:
            dev = d.copy()
        back = steps < -_BACKSTEP_TOLERANCE_S
        if not back.any():
            return self._map_segment(host, dev, jumped=False), dev
        # The clock jumped back: map each run separately so the samples before the
        # jump keep the old anchor and the rest get a new one.
        bounds = [0, *np.flatnonzero(back).tolist(), d.shape[0]]
        parts = [
            self._map_segment(host, dev[a:b], jumped=a > 0 or bool(back[0]))
            for a, b in itertools.pairwise(bounds)
            if b > a
        ]
        return np.concatenate(parts), dev

    def _map_segment(
        self, host: float, dev: NDArray[np.float64], *, jumped: bool
    ) -> NDArray[np.float64]:
        """Map a run of device times that has no jump inside it."""
        last = float(dev[-1])
        candidate = host - last  # = true offset + this batch's latency
        if self._offset is None:
            self._offset = candidate
            self._offset_host = host
        elif jumped:
            self._reanchor(host, candidate)
        else:
            # The estimate may rise by at most the allowed drift since its last update.
            allowed = self._offset + self._drift * max(0.0, host - self._offset_host)
            lag = candidate - allowed  # apparent latency of this batch
            if lag < -self._threshold:
                # Device time ran ahead of host time by more than latency can explain.
                self._reanchor(host, candidate)
            elif lag > self._threshold:
                if self._lag_since is None:
                    self._lag_since = host
                if host - self._lag_since >= _LAG_CONFIRM_S:
                    self._reanchor(host, candidate)
                else:
                    self._offset = allowed
                    self._offset_host = host
            else:
                self._lag_since = None
                self._offset = min(allowed, candidate)
                self._offset_host = host
        t = dev + self._offset
        # A sample cannot be stamped after it arrived, nor before an earlier one.
        np.minimum(t, host, out=t)
        np.maximum(t, self._last_out, out=t)
        if t.shape[0] > 1:
            np.maximum.accumulate(t, out=t)
        self._last_out = float(t[-1])
        return t

    def _reanchor(self, host: float, candidate: float) -> None:
        self._offset = candidate
        self._offset_host = host
        self._lag_since = None
        self._resyncs += 1

    def _map_no_clock(self, host: float, n: int) -> NDArray[np.float64]:
        if n == 0:
            return np.empty(0, dtype=_F64)
        if self._rate is None:
            t = np.full(n, host, dtype=_F64)
        else:
            t = host - np.arange(n - 1, -1, -1, dtype=_F64) / self._rate
        last = self._last_out
        if t[0] <= last and (self._rate is not None or host <= last):
            # The spread would overlap the previous batch (arrival jitter): fit the
            # batch evenly between the previous batch's last time and this arrival.
            if host > last:
                t = last + (host - last) * np.arange(1, n + 1, dtype=_F64) / n
            else:
                t = np.full(n, last, dtype=_F64)
        self._last_out = float(t[-1])
        return t

    def reset(self) -> None:
        """Forget all state and counters, as if newly created (e.g. on reconnection)."""
        self._wraps = 0
        self._resyncs = 0
        self._offset = None
        self._offset_host = 0.0  # host time the offset estimate was last updated
        self._lag_since = None  # host time a large lag was first seen
        self._last_raw = None  # last raw device time (wrap detection)
        self._last_out = -math.inf  # last mapped host time (monotonic output)
