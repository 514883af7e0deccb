"""CTS500 / CTS-300 climbing training scale codec (pure: no BLE, no I/O).

The scale is a UART load-cell amplifier behind a transparent BLE bridge: notifications
on :data:`NOTIFY_UUID` carry a byte stream, commands go to :data:`WRITE_UUID`. Every
frame starts with ``0x05`` and ends with a checksum, the low byte of the sum of all the
bytes before it:

- command (and its echo), 6 bytes: ``05 OP P0 P1 P2 CS``, CS = sum(bytes 0..4) & 0xFF;
- weight, 7 bytes: ``05 XX b2 b3 b4 b5 CS``: bytes 2..5 big-endian / 100 = kg. The
  wording "CS" for weight frames is read the same way as for commands, i.e. over every
  byte before it (bytes 0..5), which is what the public implementation checks;
- typed reply, 7 bytes: ``05 80 OP b3 b4 b5 CS`` (battery, temperature ...).

6- and 7-byte frames share the header, so the length is decided by byte 1: a known
command opcode (:data:`KNOWN_OPCODES`) means a 6-byte echo, anything else a 7-byte
frame (``0x80`` a reply, otherwise weight); the checksum then confirms it.
Notifications split frames anywhere, so live data goes through :class:`FrameAssembler`,
which buffers, resynchronises on ``0x05`` and counts what it throws away.

The weight is documented as u32; isogrip reads the same 4 bytes as a signed i32. Both
agree on every value below 21 million kg, and a scale that sends a slightly negative
value after tare in two's complement then reads -0.05 kg instead of 42 949 672 kg.
Values outside the scale's range (:data:`RANGE`: -10 % .. 150 % of the 500 kg model's
capacity, -50 .. 750 kg) are rejected. The scale has no clock.

The scale keeps streaming across power cycles unless stopped: always send
:data:`STOP` when done.

Example:
    >>> START.hex(" "), rate_command(80).hex(" ")
    ('05 aa 00 00 00 af', '05 c1 00 00 03 c9')
    >>> r = decode(bytes.fromhex("05 00 00 00 04 d2 db"))
    >>> round(float(r.force_n[0]) / 9.80665, 2)
    12.34
    >>> asm = FrameAssembler()
    >>> asm.feed(bytes.fromhex("05 00 00 00")), len(asm.feed(bytes.fromhex("04 d2 db")))
    ([], 1)
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from isogrip.ble_device.codec import CodecStats, DecodeError, SampleBatch
from isogrip.ble_device.limits import LIMITS
from isogrip.signal.units import KGF_N

#: The bridge's UART service, notify (scale -> host) and write (host -> scale).
SERVICE_UUID = "0000ffe0-0000-1000-8000-00805f9b34fb"
NOTIFY_UUID = "0000ffe1-0000-1000-8000-00805f9b34fb"
WRITE_UUID = "0000ffe2-0000-1000-8000-00805f9b34fb"
#: Advertised names.
LOCAL_NAMES = ("CTS500", "CTS-300")

#: First byte of every frame.
HEADER = 0x05
#: Byte 1 of a typed 7-byte reply.
REPLY_FLAG = 0x80
COMMAND_LENGTH = 6
DATA_LENGTH = 7


class Op(enum.IntEnum):
    """Command opcodes (byte 1 of a command frame)."""

    SET_RANGE = 0x81
    SET_DIVISION = 0x82
    SET_CALIBRATION_WEIGHT_1 = 0x83
    SET_CALIBRATION_WEIGHT_2 = 0x84
    POWER_ON_RESET = 0x85
    ZERO = 0x86
    CALIBRATE_1 = 0xA1
    CALIBRATE_2 = 0xA2
    FIRMWARE_VERSION = 0xA4
    TARE = 0xA6
    NO_LOAD_CALIBRATION = 0xA7
    GET_WEIGHT = 0xA9
    START = 0xAA
    STOP = 0xAB
    SET_BAUD_RATE = 0xC0
    SET_RATE = 0xC1
    SET_SHUTDOWN_TIME = 0xC3
    BATTERY = 0xC4
    TEMPERATURE = 0xC5
    SET_UPPER_TEMPERATURE = 0xC6
    SET_LOWER_TEMPERATURE = 0xC7
    PEAK_MODE = 0xCA
    SET_MAX_WEIGHT = 0xD1
    SET_MIN_WEIGHT = 0xD2
    SET_ALARM_MODE = 0xD3
    SET_ALARM_OUTPUT = 0xD4


#: Byte-1 values that mark a 6-byte command echo.
KNOWN_OPCODES = frozenset(int(op) for op in Op)

#: Sample rates the scale's A/D converter supports, Hz; the index is the rate code.
RATES_HZ = (10, 20, 40, 80, 160, 320)
#: The scale's range (:data:`~isogrip.ble_device.limits.LIMITS`).
RANGE = LIMITS["cts500"]
#: Rated capacity of the largest model, kg; readings at or beyond are flagged saturated.
FULL_SCALE_KG = RANGE.full_scale_n / KGF_N
#: Readings above this are rejected as impossible, kg (below ``RANGE.low_n`` too).
MAX_PLAUSIBLE_KG = RANGE.high_n / KGF_N
#: How many bytes :class:`FrameAssembler` keeps between notifications at most.
MAX_BUFFER = 64


def checksum(data: bytes | bytearray) -> int:
    """Low byte of the sum of ``data`` (the bytes before a frame's checksum)."""
    return sum(data) & 0xFF


def build_command(op: int, params: bytes = b"\0\0\0") -> bytes:
    """A 6-byte command frame ``05 OP P0 P1 P2 CS``.

    Raises:
        ValueError: ``op`` is not a byte or ``params`` is not 3 bytes.
    """
    if not 0 <= op <= 0xFF or len(params) != 3:
        raise ValueError("a command is one opcode byte and 3 parameter bytes")
    body = bytes([HEADER, op]) + bytes(params)
    return body + bytes([checksum(body)])


START = build_command(Op.START)
STOP = build_command(Op.STOP)
TARE = build_command(Op.TARE)


def rate_command(hz: int) -> bytes:
    """The command that sets the A/D sample rate to ``hz``.

    Raises:
        ValueError: ``hz`` is not one of :data:`RATES_HZ`.
    """
    if hz not in RATES_HZ:
        raise ValueError(f"CTS500 sample rate must be one of {RATES_HZ} Hz, not {hz}")
    return build_command(Op.SET_RATE, bytes([0, 0, RATES_HZ.index(hz)]))


@dataclass(frozen=True)
class CommandEcho:
    """The scale echoing a command (its acknowledgement)."""

    opcode: int
    params: bytes


@dataclass(frozen=True)
class CommandReply:
    """A typed reply ``05 80 OP b3 b4 b5 CS``; ``payload`` is bytes 3..5."""

    opcode: int
    payload: bytes


Record = SampleBatch | CommandEcho | CommandReply


def battery_volts(reply: CommandReply) -> float:
    """Battery voltage from the reply to :attr:`Op.BATTERY` (bytes 4..5 BE / 100), V."""
    return int.from_bytes(reply.payload[1:3], "big") / 100


def decode(frame: bytes) -> Record:
    """Decode one complete frame (6 or 7 bytes, header included).

    Returns:
        A weight sample in newtons (:class:`~isogrip.ble_device.codec.SampleBatch`,
        no device time), a :class:`CommandEcho` or a :class:`CommandReply`.

    Raises:
        DecodeError: Too short (``truncated``), too long or no header
            (``malformed``), a checksum that fails (``bad_checksum``), an unknown
            opcode in a 6-byte frame or a known one in a 7-byte frame
            (``unknown_type``), or an impossible weight (``out_of_range``).
    """
    n = len(frame)
    if n < COMMAND_LENGTH:
        raise DecodeError(f"frame too short ({n} bytes)", "truncated")
    if n > DATA_LENGTH:
        raise DecodeError(f"frame too long ({n} bytes)", "malformed")
    if frame[0] != HEADER:
        raise DecodeError(f"frame starts with 0x{frame[0]:02x}, not 0x05", "malformed")
    if checksum(frame[:-1]) != frame[-1]:
        raise DecodeError(f"checksum 0x{frame[-1]:02x} should be "
                          f"0x{checksum(frame[:-1]):02x}", "bad_checksum")
    op = frame[1]
    if n == COMMAND_LENGTH:
        if op not in KNOWN_OPCODES:
            raise DecodeError(f"unknown command opcode 0x{op:02x}", "unknown_type")
        return CommandEcho(opcode=op, params=bytes(frame[2:5]))
    if op == REPLY_FLAG:
        return CommandReply(opcode=frame[2], payload=bytes(frame[3:6]))
    if op in KNOWN_OPCODES:
        raise DecodeError(f"7-byte frame with command opcode 0x{op:02x}", "unknown_type")
    kg = int.from_bytes(frame[2:6], "big", signed=True) / 100
    force_n = np.array([kg * KGF_N])
    RANGE.check(force_n)
    return SampleBatch(force_n=force_n, saturated=bool(force_n[0] >= RANGE.full_scale_n))


def encode_weight(force_n: float, tag: int = 0x00) -> bytes:
    """A 7-byte weight frame (as the scale would send it), rounded to 0.01 kg.

    Args:
        force_n: The force, N.
        tag: Byte 1 (undocumented; must not be a command opcode or 0x80).
    """
    raw = round(float(np.nan_to_num(force_n)) / KGF_N * 100)
    raw = max(-(1 << 31), min((1 << 31) - 1, raw))
    body = bytes([HEADER, tag]) + raw.to_bytes(4, "big", signed=True)
    return body + bytes([checksum(body)])


class FrameAssembler:
    """Turns the notification byte stream into records; never raises.

    Frames may be split across notifications and several may share one. Bytes before a
    ``0x05`` are skipped, and a candidate frame whose checksum fails costs one byte (the
    search starts again after its ``0x05``), so the assembler resynchronises after
    garbage or a lost notification. Consecutive weight frames are merged into one
    :class:`~isogrip.ble_device.codec.SampleBatch`.

    Attributes:
        stats: Counters: frames ``decoded``, ``bad_checksum`` candidates,
            ``skipped_bytes``, ``saturated`` weights and the kinds of rejected frames.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.stats = CodecStats()

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a frame."""
        return len(self._buf)

    def reset(self) -> None:
        """Forget any partial frame (e.g. after a reconnect)."""
        self._buf.clear()

    def feed(self, data: bytes) -> list[Record]:
        """Add one notification's bytes; return the records completed by them."""
        try:
            return self._feed(data)
        except Exception:  # a bug here must never escape into the BLE callback
            self.stats.record("internal_error")
            self._buf.clear()
            return []

    def _feed(self, data: bytes) -> list[Record]:
        buf = self._buf
        buf += data
        out: list[Record] = []
        weights: list[float] = []
        saturated = False
        i, n = 0, len(buf)
        while i < n:
            j = buf.find(HEADER, i)
            if j < 0:
                self.stats.record("skipped_bytes", n - i)
                i = n
                break
            if j > i:
                self.stats.record("skipped_bytes", j - i)
                i = j
            if n - i < COMMAND_LENGTH:
                break
            length = self._candidate_length(buf, i, n)
            if length == 0:
                break  # a 7-byte frame still missing its last byte
            if length < 0:
                self.stats.record("bad_checksum")
                i += 1
                continue
            frame = bytes(buf[i:i + length])
            i += length
            try:
                rec = decode(frame)
            except DecodeError as exc:
                self.stats.record(exc.kind)
                continue
            self.stats.record("decoded")
            if isinstance(rec, SampleBatch):
                weights.append(float(rec.force_n[0]))
                if rec.saturated:
                    self.stats.record("saturated")
                    saturated = True
                continue
            if weights:
                out.append(_merge(weights, saturated))
                weights, saturated = [], False
            out.append(rec)
        if weights:
            out.append(_merge(weights, saturated))
        del buf[:i]
        if len(buf) > MAX_BUFFER:  # cannot happen by construction; a guard all the same
            self.stats.record("skipped_bytes", len(buf))
            buf.clear()
        return out

    @staticmethod
    def _candidate_length(buf: bytearray, i: int, n: int) -> int:
        """Length of the valid frame at ``buf[i]``: 6 or 7, 0 = wait for more, -1 = bad."""
        if buf[i + 1] in KNOWN_OPCODES:
            ok = checksum(buf[i:i + 5]) == buf[i + 5]
            return COMMAND_LENGTH if ok else -1
        if n - i < DATA_LENGTH:
            return 0
        return DATA_LENGTH if checksum(buf[i:i + 6]) == buf[i + 6] else -1


def _merge(weights: Sequence[float], saturated: bool) -> SampleBatch:
    return SampleBatch(force_n=np.array(weights, dtype=np.float64), saturated=saturated)
