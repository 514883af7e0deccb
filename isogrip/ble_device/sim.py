"""The simulated device: a registered driver like any other.

It streams Progressor-format weight notifications (so the same codec path as a real
device is exercised) produced by a :class:`~isogrip.ble_device.participant.VirtualParticipant`
that watches the session's feedback. It runs on the session clock, so a session can
run in real time, faster, or flat out on a virtual clock.

Spec: ``sim[:preset][?key=value&...]`` with presets ``good`` (default), ``sloppy``,
``fatigue``, ``weak`` and these options:

==================  =======================================================  =========
option              meaning                                                  default
==================  =======================================================  =========
seed                random seed (same seed, same session)                    0
rate                sample rate, Hz (10-1000)                                80
per_packet          samples per notification (1-31)                          4
jitter_ms           random extra delivery latency, ms                        10
mvc_right_kg        true right-hand MVC, kg (preset's otherwise)
mvc_left_kg         true left-hand MVC, kg
endurance_s         hold endurance: the most force a hold keeps after t s is
                    MVC / (1 + t / endurance_s); under ~50 s, 2 min at 30 %
                    cannot be held (a person for the starter intensity)       no limit
offset_kg           sensor zero offset before tare, kg                       0
disconnect_at       link drops this many s after the stream first starts
disconnect_s        ... and the device stays unreachable this long, s        9
drop                probability a notification is lost (0-1)                 0
malformed           probability a notification is corrupted (0-1)            0
spikes              probability a notification carries a spike (0-1)        0
spike_kg            spike height, kg                                         60
saturate_kg         full scale: forces above are clipped, kg                 200
clock_start_s       device clock at stream start, s (4294 tests the wrap)    0
clock_jump_at       the device clock jumps this many s after stream start
clock_jump_s        ... by this much, s                                      5
silent              1 = connect and accept start but never send data         0
silent_from         stays connected but sends nothing from this many s after
                    the stream first starts (a stalled firmware)...
silent_s            ... for this long, s (for ever when not given)
==================  =======================================================  =========
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from isogrip.ble_device import progressor
from isogrip.ble_device.base import DeviceInfo, Packet
from isogrip.ble_device.driver import DriverBase
from isogrip.ble_device.limits import ForceLimits
from isogrip.ble_device.participant import PRESETS, Feedback, make_participant
from isogrip.ble_device.registry import DeviceContext, DeviceSpec
from isogrip.clock import Clock
from isogrip.errors import DeviceError, DeviceErrorReason, DeviceSpecError
from isogrip.signal.units import KGF_N


@dataclass(frozen=True)
class SimOptions:
    """Options of the simulated device (see the module docstring)."""

    preset: str = "good"
    seed: int = 0
    rate: float = 80.0
    per_packet: int = 4
    jitter_ms: float = 10.0
    mvc_right_kg: float | None = None
    mvc_left_kg: float | None = None
    endurance_s: float | None = None
    offset_kg: float = 0.0
    disconnect_at: float | None = None
    disconnect_s: float = 9.0
    drop: float = 0.0
    malformed: float = 0.0
    spikes: float = 0.0
    spike_kg: float = 60.0
    saturate_kg: float = 200.0
    clock_start_s: float = 0.0
    clock_jump_at: float | None = None
    clock_jump_s: float = 5.0
    silent: int = 0
    silent_from: float | None = None
    silent_s: float | None = None


# option -> (type, low, high) for validation
_LIMITS: dict[str, tuple[type, float, float]] = {
    "seed": (int, 0, 2**63 - 1),
    "rate": (float, 10, 1000),
    "per_packet": (int, 1, 31),
    "jitter_ms": (float, 0, 500),
    "mvc_right_kg": (float, 1, 150),
    "mvc_left_kg": (float, 1, 150),
    "endurance_s": (float, 1, 1e6),
    "offset_kg": (float, -50, 50),
    "disconnect_at": (float, 0, 1e6),
    "disconnect_s": (float, 0, 1e6),
    "drop": (float, 0, 1),
    "malformed": (float, 0, 1),
    "spikes": (float, 0, 1),
    "spike_kg": (float, -500, 500),
    "saturate_kg": (float, 1, 1000),
    "clock_start_s": (float, 0, 2**32 * 1e-6),
    "clock_jump_at": (float, 0, 1e6),
    "clock_jump_s": (float, -1e6, 1e6),
    "silent": (int, 0, 1),
    "silent_from": (float, 0, 1e6),
    "silent_s": (float, 0, 1e6),
}


def parse_options(spec: DeviceSpec) -> SimOptions:
    """Read and validate the options of a ``sim`` spec.

    Raises:
        DeviceSpecError: Unknown preset or option, or a value of the wrong type or range.
    """
    preset = (spec.argument or "good").strip().lower()
    if preset not in PRESETS:
        raise DeviceSpecError(
            f"device {spec.text!r}: unknown participant {preset!r}; "
            f"choose one of: {', '.join(PRESETS)}"
        )
    values: dict[str, Any] = {"preset": preset}
    for key, text in spec.params.items():
        if key not in _LIMITS:
            raise DeviceSpecError(
                f"device {spec.text!r}: unknown option {key!r}; "
                f"options: {', '.join(_LIMITS)}"
            )
        kind, lo, hi = _LIMITS[key]
        try:
            value = kind(text) if kind is float else int(text, 10)
        except ValueError:
            raise DeviceSpecError(
                f"device {spec.text!r}: {key} must be {'a whole' if kind is int else 'a'} "
                f"number, got {text!r}"
            ) from None
        if not (math.isfinite(value) and lo <= value <= hi):
            raise DeviceSpecError(
                f"device {spec.text!r}: {key} must be between {lo:g} and {hi:g}, got {text}"
            )
        values[key] = value
    return SimOptions(**values)


class SimDevice(DriverBase[bytes]):
    """A simulated handgrip dynamometer with a virtual participant.

    Args:
        options: Behaviour and faults.
        clock: Session clock to run on.
        feedback: Returns what the participant sees (the engine snapshot), or None.
    """

    def __init__(
        self,
        options: SimOptions,
        clock: Clock,
        feedback: Callable[[], Feedback | None] | None = None,
    ) -> None:
        super().__init__()
        self.options = o = options
        self._clock = clock
        self._feedback = feedback
        overrides: dict[str, float] = {}
        if o.mvc_right_kg is not None:
            overrides["mvc_right_n"] = o.mvc_right_kg * KGF_N
        if o.mvc_left_kg is not None:
            overrides["mvc_left_n"] = o.mvc_left_kg * KGF_N
        if o.endurance_s is not None:
            overrides["endurance_s"] = o.endurance_s
        self.participant = make_participant(o.preset, o.seed, **overrides)
        self._rng = np.random.default_rng(o.seed + 1)
        self._info = DeviceInfo(
            kind="sim",
            name=f"Simulated dynamometer ({o.preset})",
            address=f"sim:{o.preset}:{o.seed}",
            firmware="sim-1",
            nominal_rate_hz=o.rate,
            has_clock=True,
            full_scale_n=o.saturate_kg * KGF_N,
            extra={"participant": o.preset, "seed": o.seed,
                   "reaction_s": round(self.participant.reaction_s, 4)},
        )
        # The codec checks readings against this device's own full scale (-10 % ..
        # 150 % of saturate_kg, the rule for real devices), not a Progressor's 200 kg:
        # saturate_kg may be set up to 1000 kg.
        self.limits = ForceLimits.from_capacity(self._info.name, o.saturate_kg * KGF_N)
        self._offset_n = o.offset_kg * KGF_N
        self._tare_n = 0.0
        self._k = 0  # samples produced since the stream first started
        self._stream_t0: float | None = None  # session time of sample 0
        self._outage_until: float | None = None
        self._dropped_link = False
        self.dropped_count = 0
        self.packets_sent = 0

    # -- ForceDevice (the rest is the base's) -----------------------------------------
    async def connect(self) -> None:
        """Connect; fails while a simulated outage lasts."""
        now = self._clock.now()
        if self._outage_until is not None and now < self._outage_until:
            raise DeviceError(
                "the simulated device is out of reach (simulated link loss)",
                DeviceErrorReason.NOT_FOUND,
            )
        self._connected = True
        await asyncio.sleep(0)

    async def start(self) -> None:
        """Start streaming."""
        if not self._connected:
            raise DeviceError("not connected", DeviceErrorReason.DISCONNECTED)
        await super().start()

    async def _tare_command(self) -> bool:
        """The simulated firmware's tare: its current unloaded reading becomes zero."""
        self._tare_n = self._offset_n
        return True

    async def battery(self) -> float | None:
        """Battery level, percent."""
        return 87.0

    # -- streaming ------------------------------------------------------------------
    async def _stream(self) -> None:
        o = self.options
        period = 1.0 / o.rate
        if self._stream_t0 is None:
            self._stream_t0 = self._clock.now()
        t0 = self._stream_t0
        # Resume after an outage at the current time: the samples in between are lost.
        self._k = max(self._k, math.ceil((self._clock.now() - t0) / period))
        last_delivery = -math.inf
        steps = np.arange(o.per_packet, dtype=np.float64)
        jitter_s = o.jitter_ms / 1000
        while True:
            t = t0 + (self._k + steps) * period  # true sample times (session clock)
            ideal = float(t[-1])
            extra = self._rng.random() * jitter_s if jitter_s else 0.0
            deliver = max(ideal + extra, last_delivery)
            await self._clock.sleep_until(deliver)
            last_delivery = deliver
            self._k += o.per_packet
            elapsed = ideal - t0
            link_lost = o.disconnect_at is not None and elapsed >= o.disconnect_at
            if link_lost and not self._dropped_link:
                self._dropped_link = True
                self._outage_until = self._clock.now() + o.disconnect_s
                self._connected = False
                self._task = None
                if self._on_disconnect is not None:
                    self._on_disconnect("simulated link loss")
                return
            feedback = self._feedback() if self._feedback is not None else None
            self.participant.observe(deliver, feedback)
            force = self.participant.forces(t) + (self._offset_n - self._tare_n)
            if o.silent or (o.silent_from is not None and elapsed >= o.silent_from and (
                    o.silent_s is None or elapsed < o.silent_from + o.silent_s)):
                continue
            self._deliver(t - t0, force, deliver)

    def _deliver(self, rel_t: np.ndarray, force: np.ndarray, host_rx: float) -> None:
        o = self.options
        rng = self._rng
        if o.spikes and rng.random() < o.spikes:
            force = force.copy()
            force[int(rng.integers(len(force)))] += o.spike_kg * KGF_N
        force = np.clip(force, -o.saturate_kg * KGF_N, o.saturate_kg * KGF_N)
        dev_t = o.clock_start_s + rel_t
        if o.clock_jump_at is not None:
            dev_t = np.where(rel_t >= o.clock_jump_at, dev_t + o.clock_jump_s, dev_t)
        data = progressor.encode_weight(force, np.maximum(dev_t, 0.0))
        if o.drop and rng.random() < o.drop:
            self.dropped_count += 1
            return
        if o.malformed and rng.random() < o.malformed:
            data = _corrupt(data, rng)
        self.packets_sent += 1
        self._receive(data, host_rx)  # the same decode-and-hand-over as a BLE driver's

    def _decode(self, data: bytes) -> Packet:
        return progressor.decode_packet(data, self.limits)


def _corrupt(data: bytes, rng: np.random.Generator) -> bytes:
    """Damage a notification the ways radio links and buggy firmware do."""
    how = int(rng.integers(4))
    if how == 0:
        return data[: int(rng.integers(0, len(data)))]  # truncated
    if how == 1:
        return bytes([0x09]) + data[1:]  # unknown record type
    if how == 2:
        nan = np.array([np.nan], dtype="<f4").tobytes()
        return data[:2] + nan + data[6:]  # NaN weight
    return bytes([data[0], (data[1] + 3) & 0xFF]) + data[2:]  # wrong length


def create(spec: DeviceSpec, context: DeviceContext) -> SimDevice:
    """Driver factory for ``sim`` specs (see :mod:`isogrip.ble_device.registry`)."""
    feedback = cast(Callable[[], Feedback | None] | None, context.feedback)
    return SimDevice(parse_options(spec), context.clock, feedback)
