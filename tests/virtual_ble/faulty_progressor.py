"""A virtual Progressor held by a virtual participant, with the faults of a real link.

:class:`FaultyProgressor` streams what isogrip's virtual participant squeezes (it watches
the session's feedback, like a person watching the screen) and can misbehave the ways
real devices and radio links do: the link drops and the device stays out of reach for a
while, bursts of damaged notifications, notifications lost on air, a jump of the device
clock, its u32 microsecond counter wrapping, a load cell at full scale, or a device that
accepts "start" and then sends nothing.

It keeps account of every sample it put on air in an intact notification, so a test can
check that each one reached the database. Time is the event loop's: on a fake-time loop a
whole session runs in seconds.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from isogrip.ble_device.participant import VirtualParticipant
from isogrip.signal.units import KGF_N

from .progressor import DATA_UUID, ProgressorPeripheral

__all__ = ["FaultyProgressor", "ProgressorFaults"]

_U32 = 2**32


@dataclass(frozen=True)
class ProgressorFaults:
    """What goes wrong, in seconds since the stream first started.

    Attributes:
        outage_at: The device drops the link and stays out of reach (no advertising)...
        outage_s: ... for this long, then advertises again.
        burst_every_s: A burst of damaged notifications this often...
        burst: ... this many of them in a row (they replace intact ones).
        drop: Probability that a notification is lost on air.
        clock_jump_at: The device clock jumps forward at this moment...
        clock_jump_s: ... by this much.
        clock_start_us: The microsecond counter's value at stream start.
        saturate_kg: The load cell's full scale: larger forces read as this.
        silent: Accept "start" but never send a sample.
        silent_from: Stay connected but send nothing from this moment on (a stalled
            firmware: "stop" and "start" do not revive it).
        stall_at: The stream stops at this moment (the link stays up) until the next
            "start" command revives it.
        ignore_starts: Ignore this many "start" commands first (a missed command).
        stall_ignores: After the stall, ignore this many "start" commands before one
            revives the stream.
    """

    outage_at: float | None = None
    outage_s: float = 0.0
    burst_every_s: float | None = None
    burst: int = 5
    drop: float = 0.0
    clock_jump_at: float | None = None
    clock_jump_s: float = 0.0
    clock_start_us: int = 0
    saturate_kg: float | None = None
    silent: bool = False
    silent_from: float | None = None
    stall_at: float | None = None
    ignore_starts: int = 0
    stall_ignores: int = 0


def damage(packet: bytes, how: int) -> bytes:
    """One of four kinds of damaged type-1 notification (each invalid as a whole)."""
    if how == 0:
        return packet[: max(2, len(packet) - 3)]  # cut short
    if how == 1:
        return bytes([0x09]) + packet[1:]  # unknown record type
    if how == 2:
        return packet[:2] + struct.pack("<f", float("nan")) + packet[6:]  # NaN weight
    return bytes([packet[0], (packet[1] + 3) & 0xFF]) + packet[2:]  # wrong length


class FaultyProgressor(ProgressorPeripheral):
    """A Progressor squeezed by ``participant``, misbehaving as ``faults`` says.

    Args:
        participant: Who squeezes (isogrip's virtual participant).
        faults: What goes wrong.
        seed: Seed for lost and damaged notifications.
        kwargs: Passed to :class:`ProgressorPeripheral` (rate, samples per notification).

    Set :attr:`feedback` to the session's snapshot getter once the runtime exists.

    Attributes (for assertions): ``samples_sent`` (samples in intact notifications put
    on air), ``damaged_sent``, ``lost``, ``outages`` (loop times the link went down and
    came back), ``start_times`` (loop times of every "start" command received).
    """

    def __init__(
        self,
        participant: VirtualParticipant,
        faults: ProgressorFaults = ProgressorFaults(),
        *,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(clock_start_us=faults.clock_start_us, **kwargs)
        self.participant = participant
        self.faults = faults
        self.feedback: Callable[[], Any] | None = None
        self._rng = np.random.default_rng(seed)
        self._first_start: float | None = None
        self._outage_task: asyncio.Task[None] | None = None
        self._next_burst: float | None = faults.burst_every_s
        self._burst_left = 0
        self._stalled = False
        self.stalled_at: float | None = None
        self.starts_ignored = 0
        self.stall_starts_ignored = 0
        self.start_times: list[float] = []
        self.samples_sent = 0
        self.damaged_sent = 0
        self.lost = 0
        self.outages: list[tuple[float, float | None]] = []

    def _on_control(self, data: bytes) -> None:
        if data[:1] == b"\x65":
            self.start_times.append(asyncio.get_running_loop().time())
            if self.starts_ignored < self.faults.ignore_starts:
                self.starts_ignored += 1
                return
            if self._stalled and self.stall_starts_ignored < self.faults.stall_ignores:
                self.stall_starts_ignored += 1
                return
        super()._on_control(data)

    def _elapsed(self) -> float:
        """Seconds since the stream first started."""
        assert self._first_start is not None
        return asyncio.get_running_loop().time() - self._first_start

    async def _stream(self, t0: float) -> None:
        loop = asyncio.get_running_loop()
        f = self.faults
        if self._first_start is None:
            self._first_start = t0
        n = self.per_notification
        steps = np.arange(n, dtype=np.float64)
        k = 0
        while True:
            rel = (k + steps) / self.rate_hz  # sample times since this stream start
            deadline = t0 + float(rel[-1])
            delay = deadline - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            k += n
            if self._outage_due():
                self._outage_task = self.spawn(self._outage())
                return
            if f.stall_at is not None and not self._stalled and self._elapsed() >= f.stall_at:
                self._stalled = True
                self.stalled_at = loop.time()
                return  # stuck until told to start again
            feedback = self.feedback() if self.feedback is not None else None
            self.participant.observe(loop.time(), feedback)
            kg = self.participant.forces(t0 + rel) / KGF_N - self.tare_offset_kg
            if f.silent or (f.silent_from is not None and self._elapsed() >= f.silent_from):
                continue
            if f.saturate_kg is not None:
                kg = np.minimum(kg, f.saturate_kg)
            us = self.clock_start_us + np.round(rel * 1e6).astype(np.int64)
            if f.clock_jump_at is not None and self._elapsed() >= f.clock_jump_at:
                us = us + round(f.clock_jump_s * 1e6)
            packet = self.encode_samples(list(zip(kg.tolist(), (us % _U32).tolist(),
                                                  strict=True)))
            await self._send(packet, n)

    async def _send(self, packet: bytes, n: int) -> None:
        f = self.faults
        if not self.connected:
            return
        if self._next_burst is not None and self._elapsed() >= self._next_burst:
            self._burst_left = f.burst
            assert f.burst_every_s is not None
            self._next_burst += f.burst_every_s
        if self._burst_left > 0:
            self._burst_left -= 1
            self.damaged_sent += 1
            await self.notify(DATA_UUID, damage(packet, int(self._rng.integers(4))))
            return
        if f.drop and self._rng.random() < f.drop:
            self.lost += 1
            return
        await self.notify(DATA_UUID, packet)
        self.samples_sent += n
        self.notifications_sent += 1

    def _outage_due(self) -> bool:
        f = self.faults
        return (f.outage_at is not None and not self.outages
                and self._elapsed() >= f.outage_at)

    async def _outage(self) -> None:
        """Drop the link, stay out of reach for ``outage_s``, then advertise again."""
        loop = asyncio.get_running_loop()
        self.outages.append((loop.time(), None))
        await self._stop_advertising()
        await self.disconnect()
        await asyncio.sleep(self.faults.outage_s)
        self.outages[-1] = (self.outages[-1][0], loop.time())
        self._advertising = True
        await self._start_advertising()
