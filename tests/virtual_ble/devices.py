"""Virtual BLE force devices other than the Progressor.

Independent reference implementations of the byte protocols in /work/shared/DEVICES.md,
written with ``struct`` only (no isogrip code), in the style of
:mod:`virtual_ble.progressor`: a background task streams at ``rate_hz`` from a
``force_kg(t)`` function (``t`` in seconds since the stream started), every written value
is recorded in ``writes``, and streams stop on the stop command, on disconnect (unless the
real device keeps going) and at teardown.

- :class:`ForceBoardPeripheral`: PitchSix Force Board.
- :class:`Cts500Peripheral`: CTS500 / CTS-300 (6/7-byte frames, echoes, split frames).
- :class:`EntralpiPeripheral`: Entralpi (FFF1 in 0x181D, or FFF4 in FFF0).
- :class:`WeightScalePeripheral`: SIG Weight Scale service (DIY builds).
- :class:`Whc06Advertiser`: Weiheng WH-C06 hanging scale (advertisements only).
"""

from __future__ import annotations

import asyncio
import datetime
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from .peripheral import CharSpec, VirtualPeripheral, normalize_uuid

if TYPE_CHECKING:
    from bumble.device import Device

    from .world import VirtualBleWorld

__all__ = [
    "BATTERY_LEVEL_UUID",
    "BATTERY_SERVICE_UUID",
    "CTS500_NOTIFY_UUID",
    "CTS500_RATE_CODES",
    "CTS500_SERVICE_UUID",
    "CTS500_START",
    "CTS500_STOP",
    "CTS500_TARE",
    "CTS500_WRITE_UUID",
    "ENTRALPI_181D_NOTIFY_UUID",
    "ENTRALPI_FFF0_NOTIFY_UUID",
    "ENTRALPI_FFF0_SERVICE_UUID",
    "FORCEBOARD_DATA_UUID",
    "FORCEBOARD_MODE_UUID",
    "FORCEBOARD_SERVICE_UUID",
    "FORCEBOARD_TARE_UUID",
    "FORCEBOARD_THRESHOLD_UUID",
    "FORCEBOARD_WEIGHT_SERVICE_UUID",
    "WEIGHT_MEASUREMENT_UUID",
    "WEIGHT_SCALE_FEATURE_UUID",
    "WEIGHT_SCALE_SERVICE_UUID",
    "WHC06_COMPANY_ID",
    "Cts500Peripheral",
    "EntralpiPeripheral",
    "ForceBoardPeripheral",
    "WeightScalePeripheral",
    "Whc06Advertiser",
    "cts500_checksum",
    "cts500_command",
]

LB_KG = 0.45359237
"""One pound in kilograms (exact)."""

ForceFn = Callable[[float], float]


def _zero(_t: float) -> float:
    return 0.0


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


class _Streamer:
    """A drift-free periodic task: ``emit(k, t)`` for sample k at t = k / rate seconds.

    The rate is read before every sample (so it can change while streaming); deadlines
    are absolute, so the average rate is exact.

    Stopping cancels the task *and* clears a run token the loop checks after every await:
    on Python 3.11, ``asyncio.wait_for`` (used by bumble for every HCI command, e.g. the
    advertising-data updates of :class:`Whc06Advertiser`) swallows a cancellation that
    arrives just as the command completes, which otherwise left the loop running forever
    and teardown waiting on it.
    """

    def __init__(self, owner: VirtualPeripheral, rate: Callable[[], float]) -> None:
        self._owner = owner
        self._rate = rate
        self._task: asyncio.Task[None] | None = None
        self._token: object | None = None
        self.t0: float | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def now_s(self) -> float:
        """Seconds since the (last) start; 0 before the first start."""
        if self.t0 is None:
            return 0.0
        return asyncio.get_running_loop().time() - self.t0

    def start(self, emit: Callable[[int, float], object]) -> None:
        self.stop()
        self.t0 = asyncio.get_running_loop().time()
        self._token = token = object()
        self._task = self._owner.spawn(self._run(self.t0, emit, token))

    def stop(self) -> None:
        self._token = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()

    async def join(self) -> None:
        task = self._task
        self.stop()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self, t0: float, emit: Callable[[int, float], object], token: object) -> None:
        loop = asyncio.get_running_loop()
        k = 0
        # Sample k is at t = t_base + (k - k_base) / rate; rebased when the rate changes,
        # so that at a constant rate t is exactly k / rate (no float accumulation).
        k_base, t_base, rate = 0, 0.0, self._rate()
        while True:
            if self._rate() != rate:
                k_base, t_base, rate = k, t_base + (k - k_base) / rate, self._rate()
            t = t_base + (k - k_base) / rate
            delay = t0 + t - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if self._token is not token:
                return
            result = emit(k, t)
            if asyncio.iscoroutine(result):
                await result
            if self._token is not token:
                return
            k += 1


# ====================================================================== Force Board
FORCEBOARD_SERVICE_UUID = "9a88d67f-8df2-4afe-9e0d-c2bbbe773dd0"
FORCEBOARD_DATA_UUID = "9a88d682-8df2-4afe-9e0d-c2bbbe773dd0"
FORCEBOARD_TARE_UUID = "9a88d683-8df2-4afe-9e0d-c2bbbe773dd0"
FORCEBOARD_THRESHOLD_UUID = "9a88d686-8df2-4afe-9e0d-c2bbbe773dd0"
FORCEBOARD_WEIGHT_SERVICE_UUID = "467a8516-6e39-11eb-9439-0242ac130002"
FORCEBOARD_MODE_UUID = "467a8517-6e39-11eb-9439-0242ac130002"
BATTERY_SERVICE_UUID = normalize_uuid("180f")
BATTERY_LEVEL_UUID = normalize_uuid("2a19")

FB_MODE_STREAM = 0x04
FB_MODE_TARE = 0x05
FB_MODE_QUICK_START = 0x06
FB_MODE_IDLE = 0x07
FB_TARE_CMD = 0x01
_FB_MAX_POUNDS = 255 * 32768 + 127 * 256 + 255


class ForceBoardPeripheral(VirtualPeripheral):
    """Virtual PitchSix Force Board.

    GATT: force service (data notify, tare write, threshold read/write), weight service
    (mode char: 0x04 stream, 0x05 tare, 0x06 quick start, 0x07 idle/stop) and the SIG
    battery service (one byte, %). The name and the force service UUID are advertised.

    Data notification: ``[count u16 BE]`` then ``count`` 3-byte samples. A sample of
    ``p`` pounds (``p = round(kg / 0.45359237)``, unsigned, clamped to 0..8 388 607) is
    encoded ``b0 = p // 32768, b1 = (p % 32768) // 256, b2 = p % 256``, which the
    documented decode formula ``value = b0*32768 + b1*256 + b2`` (pounds) inverts exactly
    (``b1`` stays below 128). The resolution is therefore 1 lb (0.4536 kg).

    Choices where the spec is silent: quick start (0x06) starts the stream at once (the
    real device waits for the threshold); both tares (tare char 0x01, mode 0x05) set the
    offset to the current force and leave the stream state as it was; the stream stops
    when the link drops. The threshold char stores whatever is written (initially
    ``threshold``).

    Args:
        name: advertised name.
        rate_hz: samples per second.
        per_notification: samples per notification.
        force_kg: force in kg as a function of seconds since the stream started.
        battery_pct: value of the battery level characteristic.
        threshold: initial bytes of the threshold characteristic.

    Attributes (for assertions): ``writes``, ``mode_writes`` (every mode byte),
    ``tare_count``, ``tare_offset_kg``, ``threshold``, ``streaming``,
    ``notifications_sent``, ``samples_sent``.
    """

    def __init__(
        self,
        name: str = "Force Board",
        *,
        rate_hz: float = 80.0,
        per_notification: int = 3,
        force_kg: ForceFn | None = None,
        battery_pct: int = 87,
        threshold: bytes = b"\x00\x00",
        rssi: int | None = None,
    ) -> None:
        if per_notification < 1:
            raise ValueError("per_notification must be >= 1")
        super().__init__(
            name,
            {
                FORCEBOARD_SERVICE_UUID: [
                    CharSpec(FORCEBOARD_DATA_UUID, ["notify"]),
                    CharSpec(FORCEBOARD_TARE_UUID, ["write"], on_write=self._on_tare),
                    CharSpec(
                        FORCEBOARD_THRESHOLD_UUID,
                        ["read", "write"],
                        on_read=lambda: self.threshold,
                        on_write=self._on_threshold,
                    ),
                ],
                FORCEBOARD_WEIGHT_SERVICE_UUID: [
                    CharSpec(FORCEBOARD_MODE_UUID, ["write"], on_write=self._on_mode),
                ],
                BATTERY_SERVICE_UUID: [
                    CharSpec(
                        BATTERY_LEVEL_UUID,
                        ["read"],
                        on_read=lambda: bytes([_clamp(self.battery_pct, 0, 100)]),
                    ),
                ],
            },
            service_uuids_in_adv=[FORCEBOARD_SERVICE_UUID],
            rssi=rssi,
        )
        self.rate_hz = rate_hz
        self.per_notification = per_notification
        self.force_kg: ForceFn = force_kg or _zero
        self.battery_pct = battery_pct
        self.threshold = bytes(threshold)
        self.tare_offset_kg = 0.0
        self.tare_count = 0
        self.mode_writes: list[int] = []
        self.notifications_sent = 0
        self.samples_sent = 0
        self._streamer = _Streamer(self, lambda: self.rate_hz)
        self._pending: list[float] = []

    # ------------------------------------------------------------------ protocol
    @staticmethod
    def encode_pounds(pounds: int) -> bytes:
        """3-byte sample of ``pounds`` (clamped to the encodable range)."""
        p = _clamp(pounds, 0, _FB_MAX_POUNDS)
        return bytes([p // 32768, (p % 32768) // 256, p % 256])

    @classmethod
    def encode_packet(cls, kgs: list[float]) -> bytes:
        """Data notification for forces in kg."""
        return struct.pack(">H", len(kgs)) + b"".join(
            cls.encode_pounds(round(kg / LB_KG)) for kg in kgs
        )

    @property
    def streaming(self) -> bool:
        """Whether the data stream is running."""
        return self._streamer.running

    def _tare(self) -> None:
        self.tare_count += 1
        self.tare_offset_kg = float(self.force_kg(self._streamer.now_s()))

    def _on_tare(self, data: bytes) -> None:
        if data[:1] == bytes([FB_TARE_CMD]):
            self._tare()

    def _on_threshold(self, data: bytes) -> None:
        self.threshold = bytes(data)

    def _on_mode(self, data: bytes) -> None:
        if not data:
            return
        mode = data[0]
        self.mode_writes.append(mode)
        if mode in (FB_MODE_STREAM, FB_MODE_QUICK_START):
            self.start_stream()
        elif mode == FB_MODE_TARE:
            self._tare()
        elif mode == FB_MODE_IDLE:
            self.stop_stream()

    # ------------------------------------------------------------------ streaming
    def start_stream(self) -> None:
        """Start (or restart) the data stream."""
        self._pending = []
        self._streamer.start(self._emit)

    def stop_stream(self) -> None:
        """Stop the data stream."""
        self._streamer.stop()

    async def _emit(self, _k: int, t: float) -> None:
        self._pending.append(float(self.force_kg(t)) - self.tare_offset_kg)
        if len(self._pending) < self.per_notification:
            return
        kgs, self._pending = self._pending, []
        await self.notify(FORCEBOARD_DATA_UUID, self.encode_packet(kgs))
        self.notifications_sent += 1
        self.samples_sent += len(kgs)

    # ------------------------------------------------------------------ hooks
    def on_disconnect(self) -> None:
        """The stream stops when the link drops."""
        self.stop_stream()

    async def on_teardown(self) -> None:
        """Stop the stream before the world powers off."""
        await self._streamer.join()


# ====================================================================== CTS500
CTS500_SERVICE_UUID = normalize_uuid("ffe0")
CTS500_NOTIFY_UUID = normalize_uuid("ffe1")
CTS500_WRITE_UUID = normalize_uuid("ffe2")

CTS500_HEADER = 0x05
CTS500_OP_START = 0xAA
CTS500_OP_STOP = 0xAB
CTS500_OP_TARE = 0xA6
CTS500_OP_RATE = 0xC1
CTS500_WEIGHT_TYPE = 0x01
CTS500_RATE_CODES: dict[int, float] = {0: 10, 1: 20, 2: 40, 3: 80, 4: 160, 5: 320}
"""Rate command code (P2) -> samples per second."""

# Split points (bytes of the first notification) for two 7-byte frames sent as 14 bytes:
# inside the header, the payload and the checksum, and on the frame boundary.
_CTS500_SPLITS = (10, 4, 7, 1, 13, 6, 9, 2, 12, 5, 11, 3, 8)


def cts500_checksum(data: bytes) -> int:
    """Sum of ``data`` & 0xFF."""
    return sum(data) & 0xFF


def cts500_command(op: int, p0: int = 0, p1: int = 0, p2: int = 0) -> bytes:
    """6-byte command frame ``05 OP P0 P1 P2 CS``."""
    head = bytes([CTS500_HEADER, op, p0, p1, p2])
    return head + bytes([cts500_checksum(head)])


CTS500_START = cts500_command(CTS500_OP_START)
CTS500_STOP = cts500_command(CTS500_OP_STOP)
CTS500_TARE = cts500_command(CTS500_OP_TARE)


class Cts500Peripheral(VirtualPeripheral):
    """Virtual CTS500 / CTS-300.

    GATT: service FFE0 with notify FFE1 and write FFE2 (write and write-without-response).
    Commands are 6-byte frames ``05 OP P0 P1 P2 CS`` (``CS = sum(bytes 0..4) & 0xFF``):
    START ``05 AA 00 00 00 AF``, STOP ``05 AB 00 00 00 B0``, TARE ``05 A6 00 00 00 AB``,
    rate ``05 C1 00 00 code CS`` (codes 0..5 = 10/20/40/80/160/320 Hz). Every valid frame
    is echoed unchanged on FFE1 (also unknown opcodes); frames with a bad header or
    checksum are ignored and not echoed. A write may hold several frames.

    Weight frames are 7 bytes ``05 01 b2 b3 b4 b5 CS``: ``b2..b5`` = u32 BE of
    ``round(kg * 100)`` and ``CS = sum(bytes 0..5) & 0xFF``. The second byte is not
    documented by the sources (``XX``); this model always sends 0x01, so a driver must not
    depend on it. Negative forces (after tare) are clamped to 0 since the field is
    unsigned.

    With ``split=True`` frames go out in pairs: the 14 bytes of two frames are sent as
    two notifications split at a varying point (10+4, 4+10, 7+7, 1+13, ...) so that a
    driver must reassemble them; with ``split=False`` each frame is one notification.
    ``inject_garbage`` sends raw bytes in between.

    Like the real device, the stream keeps running when the link drops (the next
    connection gets it as soon as it subscribes) until STOP or teardown.

    Args:
        name: advertised name.
        rate_hz: initial samples per second (changed by the rate command).
        force_kg: force in kg as a function of seconds since the stream started.
        split: split frames across notifications.
        uuid_in_adv: advertise the FFE0 service UUID.

    Attributes (for assertions): ``writes``, ``commands`` (every valid frame received),
    ``starts_received``, ``stops_received``, ``tare_count``, ``rate_codes`` (codes
    received), ``rate_hz``, ``streaming``, ``frames_sent``, ``notifications_sent``,
    ``chunks`` (every notification payload sent, echoes included).
    """

    def __init__(
        self,
        name: str = "CTS500",
        *,
        rate_hz: float = 80.0,
        force_kg: ForceFn | None = None,
        split: bool = True,
        uuid_in_adv: bool = True,
        rssi: int | None = None,
    ) -> None:
        super().__init__(
            name,
            {
                CTS500_SERVICE_UUID: [
                    CharSpec(CTS500_NOTIFY_UUID, ["notify"]),
                    CharSpec(
                        CTS500_WRITE_UUID,
                        ["write", "write_without_response"],
                        on_write=self._on_write,
                    ),
                ]
            },
            service_uuids_in_adv=[CTS500_SERVICE_UUID] if uuid_in_adv else [],
            rssi=rssi,
        )
        self.rate_hz = rate_hz
        self.force_kg: ForceFn = force_kg or _zero
        self.split = split
        self.tare_offset_kg = 0.0
        self.tare_count = 0
        self.commands: list[bytes] = []
        self.starts_received = 0
        self.stops_received = 0
        self.rate_codes: list[int] = []
        self.frames_sent = 0
        self.notifications_sent = 0
        self.chunks: list[bytes] = []
        self._streamer = _Streamer(self, lambda: self.rate_hz)
        self._held: bytes = b""  # first frame of a pair (split mode)
        self._split_index = 0
        self._send_lock = asyncio.Lock()

    # ------------------------------------------------------------------ protocol
    @staticmethod
    def encode_weight(kg: float) -> bytes:
        """7-byte weight frame for ``kg``."""
        centi = _clamp(round(kg * 100), 0, 0xFFFFFFFF)
        head = bytes([CTS500_HEADER, CTS500_WEIGHT_TYPE]) + struct.pack(">I", centi)
        return head + bytes([cts500_checksum(head)])

    @property
    def streaming(self) -> bool:
        """Whether the weight stream is running."""
        return self._streamer.running

    def _on_write(self, data: bytes) -> None:
        for i in range(0, len(data) - 5, 6):
            frame = data[i : i + 6]
            if frame[0] != CTS500_HEADER or cts500_checksum(frame[:5]) != frame[5]:
                continue  # not a valid command: ignored, not echoed
            self.commands.append(frame)
            self._handle(frame)
            # Echo from a task so the write response goes out first.
            self.spawn(self._send(frame))

    def _handle(self, frame: bytes) -> None:
        op = frame[1]
        if op == CTS500_OP_START:
            self.starts_received += 1
            if not self.streaming:
                self.start_stream()
        elif op == CTS500_OP_STOP:
            self.stops_received += 1
            self.stop_stream()
        elif op == CTS500_OP_TARE:
            self.tare_count += 1
            self.tare_offset_kg = float(self.force_kg(self._streamer.now_s()))
        elif op == CTS500_OP_RATE:
            code = frame[4]
            self.rate_codes.append(code)
            if code in CTS500_RATE_CODES:
                self.rate_hz = CTS500_RATE_CODES[code]

    async def _send(self, data: bytes) -> None:
        async with self._send_lock:  # keeps chunk order across tasks
            if not self.connected:
                return
            self.chunks.append(bytes(data))
            await self.notify(CTS500_NOTIFY_UUID, data)
            self.notifications_sent += 1

    def inject_garbage(self, data: bytes) -> asyncio.Task[None]:
        """Send raw ``data`` on FFE1 (await the task if needed)."""
        return self.spawn(self._send(bytes(data)))

    # ------------------------------------------------------------------ streaming
    def start_stream(self) -> None:
        """Start the weight stream (restarts the force clock)."""
        self._held = b""
        self._streamer.start(self._emit)

    def stop_stream(self) -> None:
        """Stop the weight stream (a half-sent pair is dropped)."""
        self._streamer.stop()
        self._held = b""

    async def _emit(self, _k: int, t: float) -> None:
        frame = self.encode_weight(float(self.force_kg(t)) - self.tare_offset_kg)
        self.frames_sent += 1
        if not self.split:
            await self._send(frame)
            return
        if not self._held:
            self._held = frame
            return
        both, self._held = self._held + frame, b""
        cut = _CTS500_SPLITS[self._split_index % len(_CTS500_SPLITS)]
        self._split_index += 1
        await self._send(both[:cut])
        await self._send(both[cut:])

    # ------------------------------------------------------------------ hooks
    async def on_teardown(self) -> None:
        """Stop the stream before the world powers off."""
        await self._streamer.join()


# ====================================================================== Entralpi
WEIGHT_SCALE_SERVICE_UUID = normalize_uuid("181d")
ENTRALPI_181D_NOTIFY_UUID = normalize_uuid("fff1")
ENTRALPI_FFF0_SERVICE_UUID = normalize_uuid("fff0")
ENTRALPI_FFF0_NOTIFY_UUID = normalize_uuid("fff4")


class _SubscribedStreamer(VirtualPeripheral):
    """Streams one value per sample to ``_data_uuid`` whenever a client is subscribed.

    The stream (and its clock, ``t = 0``) starts when a central connects and stops when
    it disconnects; samples are only sent while the central is subscribed.
    """

    _data_uuid: str
    rate_hz: float
    force_kg: ForceFn

    def _init_stream(self) -> None:
        self.notifications_sent = 0
        self._streamer = _Streamer(self, lambda: self.rate_hz)

    @property
    def streaming(self) -> bool:
        """Whether the stream task runs (it sends only while subscribed)."""
        return self._streamer.running

    def encode(self, kg: float) -> bytes:
        raise NotImplementedError

    async def _send_value(self, data: bytes) -> None:
        await self.notify(self._data_uuid, data)

    async def _emit(self, _k: int, t: float) -> None:
        if self.subscribed(self._data_uuid):
            await self._send_value(self.encode(float(self.force_kg(t))))
            self.notifications_sent += 1

    def on_connect(self) -> None:
        self._streamer.start(self._emit)

    def on_disconnect(self) -> None:
        self._streamer.stop()

    async def on_teardown(self) -> None:
        await self._streamer.join()


class EntralpiPeripheral(_SubscribedStreamer):
    """Virtual Entralpi force plate.

    ``variant="181d"``: notify char FFF1 inside service 0x181D; ``variant="fff0"``: notify
    FFF4 inside service FFF0 (other firmwares). Each notification holds one value, i16 BE
    of ``round(kg * 100)`` (clamped to the i16 range). There is no command: the device
    streams whenever a client is subscribed (``t`` counts from the connection).

    Args:
        name: advertised name.
        variant: ``"181d"`` or ``"fff0"``.
        rate_hz: notifications per second.
        force_kg: force in kg as a function of seconds since the connection.
        uuid_in_adv: advertise the service UUID (0x181D or 0xFFF0) as well as the name.
        trailer: bytes sent after the force in every notification (a firmware whose
            longer notifications carry fields no public source explains).

    Attributes (for assertions): ``data_uuid``, ``service_uuid``, ``writes``,
    ``streaming``, ``notifications_sent``.
    """

    def __init__(
        self,
        name: str = "ENTRALPI",
        *,
        variant: str = "181d",
        rate_hz: float = 10.0,
        force_kg: ForceFn | None = None,
        uuid_in_adv: bool = True,
        rssi: int | None = None,
        trailer: bytes = b"",
    ) -> None:
        if variant == "181d":
            service, data = WEIGHT_SCALE_SERVICE_UUID, ENTRALPI_181D_NOTIFY_UUID
        elif variant == "fff0":
            service, data = ENTRALPI_FFF0_SERVICE_UUID, ENTRALPI_FFF0_NOTIFY_UUID
        else:
            raise ValueError(f"unknown Entralpi variant {variant!r} (use '181d' or 'fff0')")
        super().__init__(
            name,
            {service: [CharSpec(data, ["notify"])]},
            service_uuids_in_adv=[service] if uuid_in_adv else [],
            rssi=rssi,
        )
        self.variant = variant
        self.service_uuid = service
        self.data_uuid = data
        self._data_uuid = data
        self.rate_hz = rate_hz
        self.force_kg: ForceFn = force_kg or _zero
        self.trailer = bytes(trailer)
        self._init_stream()

    def encode(self, kg: float) -> bytes:
        """One notification: i16 BE centi-kg, then the trailer (if any)."""
        return struct.pack(">h", _clamp(round(kg * 100), -32768, 32767)) + self.trailer


# ====================================================================== SIG Weight Scale
WEIGHT_MEASUREMENT_UUID = normalize_uuid("2a9d")
WEIGHT_SCALE_FEATURE_UUID = normalize_uuid("2a9e")

WS_FLAG_IMPERIAL = 0x01
WS_FLAG_TIMESTAMP = 0x02
WS_FAILED = 0xFFFF
_WS_RESOLUTION_0005KG = 7  # Weight Scale Feature bits 3-6: 0.005 kg / 0.01 lb


class WeightScalePeripheral(_SubscribedStreamer):
    """Virtual SIG Weight Scale (the DIY-build option).

    Service 0x181D with Weight Measurement 0x2A9D (indicate, and notify unless
    ``allow_notify=False``) and Weight Scale Feature 0x2A9E (read, u32 LE: bit 0 time
    stamp supported, bits 3-6 = 7 for 0.005 kg / 0.01 lb resolution). Measurement:
    flags u8 (bit 0 imperial, bit 1 time stamp present), weight u16 LE in 0.005 kg (SI)
    or 0.01 lb (imperial), then if flagged a 7-byte time stamp (u16 LE year, month, day,
    hours, minutes, seconds; local time of the sample). Weights are clamped to
    0..0xFFFE; 0xFFFF means "measurement unsuccessful" (see :meth:`send_failed`).

    Streams whenever a client is subscribed; each value goes out as a notification or an
    indication, depending on what the client enabled in the CCCD (notification wins when
    both are).

    Args:
        name: advertised name.
        imperial: send pounds (flag bit 0) instead of kilograms.
        rate_hz: measurements per second.
        force_kg: force in kg as a function of seconds since the connection.
        with_timestamp: append the time stamp (flag bit 1).
        allow_notify: give 0x2A9D the notify property besides indicate.

    Attributes (for assertions): ``writes``, ``streaming``, ``notifications_sent``,
    ``indications_sent``, ``failed_sent``.
    """

    def __init__(
        self,
        name: str = "DIY-Grip",
        *,
        imperial: bool = False,
        rate_hz: float = 10.0,
        force_kg: ForceFn | None = None,
        with_timestamp: bool = False,
        allow_notify: bool = True,
        rssi: int | None = None,
    ) -> None:
        super().__init__(
            name,
            {
                WEIGHT_SCALE_SERVICE_UUID: [
                    CharSpec(
                        WEIGHT_MEASUREMENT_UUID,
                        ["indicate", "notify"] if allow_notify else ["indicate"],
                    ),
                    CharSpec(
                        WEIGHT_SCALE_FEATURE_UUID,
                        ["read"],
                        on_read=lambda: struct.pack("<I", self.features),
                    ),
                ]
            },
            service_uuids_in_adv=[WEIGHT_SCALE_SERVICE_UUID],
            rssi=rssi,
        )
        self._data_uuid = WEIGHT_MEASUREMENT_UUID
        self.imperial = imperial
        self.rate_hz = rate_hz
        self.force_kg: ForceFn = force_kg or _zero
        self.with_timestamp = with_timestamp
        self.indications_sent = 0
        self.failed_sent = 0
        self._init_stream()

    @property
    def features(self) -> int:
        """Weight Scale Feature value."""
        return (1 if self.with_timestamp else 0) | (_WS_RESOLUTION_0005KG << 3)

    def encode_raw(self, raw: int) -> bytes:
        """Measurement with the raw u16 weight field ``raw``."""
        flags = (WS_FLAG_IMPERIAL if self.imperial else 0) | (
            WS_FLAG_TIMESTAMP if self.with_timestamp else 0
        )
        data = struct.pack("<BH", flags, raw)
        if self.with_timestamp:
            now = datetime.datetime.now()
            data += struct.pack(
                "<HBBBBB", now.year, now.month, now.day, now.hour, now.minute, now.second
            )
        return data

    def encode(self, kg: float) -> bytes:
        """Measurement for ``kg`` in the configured unit."""
        raw = round(kg / LB_KG * 100) if self.imperial else round(kg / 0.005)
        return self.encode_raw(_clamp(raw, 0, WS_FAILED - 1))

    async def _send_value(self, data: bytes) -> None:
        device = self.device
        if device is None or not self.connected:
            return
        char = self._chars[WEIGHT_MEASUREMENT_UUID]
        modes = 0
        for cccds in device.gatt_server.subscribers.values():
            value = cccds.get(char.handle)
            if value:
                modes |= value[0]
        if modes & 0x01 and self.subscribed(WEIGHT_MEASUREMENT_UUID):
            await device.notify_subscribers(char, data)
        elif modes & 0x02:
            await device.indicate_subscribers(char, data)
            self.indications_sent += 1

    def send_failed(self) -> asyncio.Task[None]:
        """Send one 0xFFFF (unsuccessful) measurement; await the task if needed."""

        async def send() -> None:
            await self._send_value(self.encode_raw(WS_FAILED))
            self.failed_sent += 1

        return self.spawn(send())


# ====================================================================== WH-C06
WHC06_COMPANY_ID = 0x0100
_WHC06_HEAD = bytes.fromhex("020311FFFFFFFFFFFF01")
_WHC06_TAIL = bytes.fromhex("01F4019990")


class Whc06Advertiser(VirtualPeripheral):
    """Virtual Weiheng WH-C06 hanging scale: advertisements only, no GATT.

    Non-connectable; advertises the name and manufacturer data of company 0x0100. The
    payload (company id stripped, as bleak reports it) is
    ``02 03 11 FF FF FF FF FF FF 01`` + weight u16 BE in 0.01 kg (offsets 10-11) +
    ``01 F4 01 99 90`` (constant tail copied from the documented example; byte 14 = 0x01
    is the disputed flag / unit nibble). Weights are clamped to 0..65535 (treated as
    unsigned). The payload is updated at ``rate_hz`` from ``force_kg(t)``, ``t`` counting
    from when the peripheral was added to the world; the controller re-sends the current
    payload every 20 ms meanwhile.

    Args:
        name: advertised name.
        rate_hz: payload updates per second.
        force_kg: force in kg as a function of seconds since the peripheral started.

    Attributes (for assertions): ``updates_sent``, ``silent``, ``last_payload``.
    """

    def __init__(
        self,
        name: str = "IF_B7",
        *,
        rate_hz: float = 10.0,
        force_kg: ForceFn | None = None,
        rssi: int | None = None,
    ) -> None:
        self.force_kg: ForceFn = force_kg or _zero
        super().__init__(
            name,
            connectable=False,
            manufacturer_data={WHC06_COMPANY_ID: self.encode(float(self.force_kg(0.0)))},
            rssi=rssi,
        )
        self.rate_hz = rate_hz
        self.updates_sent = 0
        self.silent = False
        self._streamer = _Streamer(self, lambda: self.rate_hz)
        self._elapsed_s = 0.0  # stream time kept across go_silent/resume

    @staticmethod
    def encode(kg: float) -> bytes:
        """Manufacturer-data payload (without the company id) for ``kg``."""
        return _WHC06_HEAD + struct.pack(">H", _clamp(round(kg * 100), 0, 0xFFFF)) + _WHC06_TAIL

    @property
    def last_payload(self) -> bytes:
        """The payload currently advertised."""
        return self.manufacturer_data[WHC06_COMPANY_ID]

    async def _attach(self, world: VirtualBleWorld, device: Device, address: str) -> None:
        """Start advertising, then the payload updates."""
        await super()._attach(world, device, address)
        self._start_updates()

    def _start_updates(self) -> None:
        offset = self._elapsed_s

        async def emit(_k: int, t: float) -> None:
            self._elapsed_s = offset + t
            await self.set_manufacturer_data(
                WHC06_COMPANY_ID, self.encode(float(self.force_kg(offset + t)))
            )
            self.updates_sent += 1

        self._streamer.start(emit)

    async def go_silent(self) -> None:
        """Stop updating and stop advertising entirely (the scale switched off)."""
        self.silent = True
        await self._streamer.join()
        await self._stop_advertising()

    async def resume(self) -> None:
        """Advertise again and resume the updates."""
        self.silent = False
        self._advertising = True
        await self._start_advertising()
        self._start_updates()

    async def on_teardown(self) -> None:
        """Stop the updates before the world powers off."""
        await self._streamer.join()
