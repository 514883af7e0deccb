"""A virtual Tindeq Progressor (and Progressor-compatible clones).

This is an independent reference implementation of the protocol in
/work/shared/DEVICES.md, written with ``struct`` only (it must not share code with
isogrip's codec, so that the driver is tested against a second reading of the spec).
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable

from .peripheral import CharSpec, VirtualPeripheral

__all__ = [
    "CONTROL_UUID",
    "DATA_UUID",
    "SERVICE_UUID",
    "ProgressorPeripheral",
    "decode_notification",
]

SERVICE_UUID = "7e4e1701-1ea6-40c9-9dcc-13d34ffead57"
DATA_UUID = "7e4e1702-1ea6-40c9-9dcc-13d34ffead57"
CONTROL_UUID = "7e4e1703-1ea6-40c9-9dcc-13d34ffead57"

OP_TARE = 0x64
OP_START = 0x65
OP_STOP = 0x66
OP_FIRMWARE = 0x6B
OP_POWER_OFF = 0x6E
OP_BATTERY = 0x6F
OP_DEVICE_ID = 0x70

RES_CMD = 0x00
RES_WEIGHT = 0x01
RES_LOW_BATTERY = 0x04

_U32 = 2**32


def decode_notification(data: bytes) -> tuple[int, list[tuple[float, int]] | bytes]:
    """Decode one data notification: (type, samples) for type 1, else (type, payload).

    A small reference decoder for tests that use plain bleak.
    """
    kind, length = data[0], data[1]
    payload = bytes(data[2 : 2 + length])
    if kind == RES_WEIGHT:
        whole = payload[: len(payload) // 8 * 8]  # a truncated packet keeps whole samples
        return kind, [(kg, us) for kg, us in struct.iter_unpack("<fI", whole)]
    return kind, payload


class ProgressorPeripheral(VirtualPeripheral):
    """Virtual Progressor.

    Args:
        name: advertised name (clones use ``Progressor_<id>`` too).
        uuid_in_adv: put the service UUID in the advertising data. bumble never
            delivers scan responses, so this stands in for the real device's scan
            response; ``False`` gives a name-only advertisement like the clones'.
        rate_hz: sample rate of the weight stream (samples per second, not packets).
        per_notification: samples per type-1 notification (clones send 1).
        battery_mv: reply to 0x6F.
        firmware_version: ASCII reply to 0x6B.
        device_id: 4-byte reply to 0x70.
        force_kg: force in kg as a function of seconds since the stream started;
            replace at any time via ``p.force_kg = ...``.
        clock_start_us: value of the µs clock at stream start (to test the u32 wrap).

    Attributes (for assertions): ``writes``, ``power_off_requests``, ``tare_count``,
    ``streaming``, ``notifications_sent``, ``tare_offset_kg``.
    """

    def __init__(
        self,
        name: str = "Progressor_1234",
        *,
        uuid_in_adv: bool = True,
        rate_hz: float = 80.0,
        per_notification: int = 2,
        battery_mv: int = 3950,
        firmware_version: str = "1.2.3",
        device_id: bytes = b"\x12\x34\x56\x78",
        force_kg: Callable[[float], float] | None = None,
        clock_start_us: int = 0,
        rssi: int | None = None,
    ) -> None:
        if per_notification < 1:
            raise ValueError("per_notification must be >= 1")
        super().__init__(
            name,
            {
                SERVICE_UUID: [
                    CharSpec(DATA_UUID, ["notify"]),
                    CharSpec(
                        CONTROL_UUID,
                        ["write", "write_without_response"],
                        on_write=self._on_control,
                    ),
                ]
            },
            service_uuids_in_adv=[SERVICE_UUID] if uuid_in_adv else [],
            rssi=rssi,
        )
        self.rate_hz = rate_hz
        self.per_notification = per_notification
        self.battery_mv = battery_mv
        self.firmware_version = firmware_version
        self.device_id = bytes(device_id)
        self.force_kg: Callable[[float], float] = force_kg or (lambda _t: 0.0)
        self.clock_start_us = clock_start_us
        self.tare_offset_kg = 0.0
        self.tare_count = 0
        self.power_off_requests: list[bytes] = []
        """Every 0x6E (sleep/power off) command received: tests assert it stays empty."""
        self.notifications_sent = 0
        self._stream_task: asyncio.Task[None] | None = None
        self._stream_t0: float | None = None

    # ------------------------------------------------------------------ protocol
    @property
    def streaming(self) -> bool:
        """Whether the weight stream is running."""
        return self._stream_task is not None and not self._stream_task.done()

    def _now_s(self) -> float:
        """Seconds since the (last) stream start; 0 before the first start."""
        if self._stream_t0 is None:
            return 0.0
        return asyncio.get_running_loop().time() - self._stream_t0

    def _on_control(self, data: bytes) -> None:
        if not data:
            return
        opcode = data[0]  # also accepts [op, len, payload]: the payload is ignored
        if opcode == OP_TARE:
            self.tare_count += 1
            self.tare_offset_kg = float(self.force_kg(self._now_s()))
        elif opcode == OP_START:
            self.start_stream()
        elif opcode == OP_STOP:
            self.stop_stream()
        elif opcode == OP_FIRMWARE:
            self._respond(RES_CMD, self.firmware_version.encode("ascii"))
        elif opcode == OP_BATTERY:
            self._respond(RES_CMD, struct.pack("<I", self.battery_mv))
        elif opcode == OP_DEVICE_ID:
            self._respond(RES_CMD, self.device_id[:4])
        elif opcode == OP_POWER_OFF:
            # Recorded only: a real device would switch off and need its button
            # pressed, which is exactly what drivers must never cause.
            self.power_off_requests.append(bytes(data))
        # Unknown opcodes are ignored, like the firmware does.

    def _respond(self, kind: int, payload: bytes) -> None:
        # Sent from a task so the write response goes out first, as on a real device
        # where the reply is a separate, later notification.
        self.spawn(self.notify(DATA_UUID, bytes([kind, len(payload)]) + payload))

    def send_low_battery(self) -> asyncio.Task[None]:
        """Send the type-4 low-battery warning (empty payload); await the task if needed."""
        return self.spawn(self.notify(DATA_UUID, bytes([RES_LOW_BATTERY, 0])))

    # ------------------------------------------------------------------ streaming
    def start_stream(self) -> None:
        """Start the type-1 weight stream (restarts the µs clock)."""
        self.stop_stream()
        self._stream_t0 = asyncio.get_running_loop().time()
        self._stream_task = self.spawn(self._stream(self._stream_t0))

    def stop_stream(self) -> None:
        """Stop the weight stream."""
        task, self._stream_task = self._stream_task, None
        if task is not None:
            task.cancel()

    def encode_samples(self, samples: list[tuple[float, int]]) -> bytes:
        """Type-1 packet of (kg, µs) samples."""
        payload = b"".join(struct.pack("<fI", kg, us % _U32) for kg, us in samples)
        return bytes([RES_WEIGHT, len(payload)]) + payload

    async def _stream(self, t0: float) -> None:
        loop = asyncio.get_running_loop()
        k = 0  # index of the next sample
        while True:
            n = self.per_notification
            # Sample k is taken at t0 + k / rate; a packet leaves once its last sample
            # is taken. Absolute deadlines keep the average rate exact without drift.
            deadline = t0 + (k + n - 1) / self.rate_hz
            delay = deadline - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            samples = []
            for i in range(k, k + n):
                t = i / self.rate_hz
                kg = float(self.force_kg(t)) - self.tare_offset_kg
                samples.append((kg, self.clock_start_us + round(t * 1e6)))
            k += n
            await self.notify(DATA_UUID, self.encode_samples(samples))
            self.notifications_sent += 1

    # ------------------------------------------------------------------ hooks
    def on_disconnect(self) -> None:
        """A real Progressor stops streaming when the link drops."""
        self.stop_stream()

    async def on_teardown(self) -> None:
        """Stop the stream before the world powers off."""
        task = self._stream_task
        self.stop_stream()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
