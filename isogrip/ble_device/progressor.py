"""Tindeq Progressor protocol codec (pure: no BLE, no I/O).

Notifications on the data characteristic are TLV records ``[type u8][len u8][value]``,
little-endian. Type 1 carries ``len / 8`` weight samples, each ``(f32 kg, u32 µs since
the stream started)``; the microsecond counter wraps after 2**32 µs (~71.6 min).
The simulated device speaks this format too, so every session exercises the codec.

A notification holds exactly one record: bytes beyond its length are rejected, not
ignored (Tindeq's own client reads a battery reply as exactly 2 + 4 bytes), and so is a
weight outside the device's physical range (:data:`~isogrip.ble_device.limits.LIMITS`,
``"progressor"``: -20 .. 300 kg), since an f32 holds up to 3.4e38 kg and one such
sample would otherwise become a force.

Example:
    >>> r = decode(bytes.fromhex("0110000020 41e8030000 00004841 bc340000".replace(" ", "")))
    >>> [round(float(x), 3) for x in r.force_n], [float(x) for x in r.device_t_s]
    ([98.066, 122.583], [0.001, 0.0135])
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from isogrip.ble_device import codec as _codec
from isogrip.ble_device.base import DeviceStatus, Packet
from isogrip.ble_device.codec import SampleBatch
from isogrip.ble_device.limits import LIMITS, ForceLimits
from isogrip.signal.units import KGF_N

SERVICE_UUID = "7e4e1701-1ea6-40c9-9dcc-13d34ffead57"
DATA_UUID = "7e4e1702-1ea6-40c9-9dcc-13d34ffead57"
CONTROL_UUID = "7e4e1703-1ea6-40c9-9dcc-13d34ffead57"

_SAMPLE = np.dtype([("kg", "<f4"), ("us", "<u4")])


class Opcode(enum.IntEnum):
    """Commands written to the control point (single opcode byte)."""

    TARE = 0x64
    START_WEIGHT = 0x65
    STOP = 0x66
    START_PEAK_RFD = 0x67
    FIRMWARE_VERSION = 0x6B
    BATTERY = 0x6F
    DEVICE_ID = 0x70
    # 0x6E (sleep / power off) is deliberately absent: isogrip never sends it.


class ResponseType(enum.IntEnum):
    """Record types sent on the data characteristic."""

    COMMAND_RESPONSE = 0
    WEIGHT = 1
    LOW_BATTERY = 4


# One error class for every codec (``except codec.DecodeError`` catches them all);
# the name stays here because callers and tests use ``progressor.DecodeError``.
DecodeError = _codec.DecodeError


# The reply to the last command (battery, firmware version, device id): the reply type
# every codec shares, under the name callers and tests use here.
CommandResponse = _codec.CommandResponse


@dataclass(frozen=True)
class LowBatteryWarning:
    """The device reports a low battery."""


#: What one notification holds: weight samples (:class:`~isogrip.ble_device.codec.SampleBatch`
#: with device times), a command reply or a low-battery warning.
Record = SampleBatch | CommandResponse | LowBatteryWarning

#: The physical range of a Progressor (and of the clones and the DIY firmware).
DEFAULT_LIMITS = LIMITS["progressor"]


def decode(data: bytes, limits: ForceLimits = DEFAULT_LIMITS) -> Record:
    """Decode one notification.

    Args:
        data: The notification's bytes.
        limits: The range a weight must lie in (the simulated device passes its own
            full scale's).

    Returns:
        The decoded record; forces in newtons, device times in seconds.

    Raises:
        DecodeError: Truncated or empty data (``truncated``), bytes beyond the record
            or a weight length that is not a multiple of 8 (``malformed``), an unknown
            record type (``unknown_type``), a NaN or infinite weight (``nonfinite``)
            or one outside ``limits`` (``out_of_range``).
    """
    if len(data) < 2:
        raise DecodeError(f"notification too short ({len(data)} bytes)", "truncated")
    kind, length = data[0], data[1]
    value = bytes(data[2 : 2 + length])
    if len(value) != length:
        raise DecodeError(f"record says {length} bytes, only {len(value)} arrived",
                          "truncated")
    if len(data) > 2 + length:
        raise DecodeError(f"record says {length} bytes, {len(data) - 2} arrived",
                          "malformed")
    if kind == ResponseType.WEIGHT:
        if length == 0 or length % _SAMPLE.itemsize:
            raise DecodeError(f"weight record length {length} is not a multiple of 8",
                              "malformed")
        raw = np.frombuffer(value, dtype=_SAMPLE)
        kg = raw["kg"].astype(np.float64)
        if not np.all(np.isfinite(kg)):
            raise DecodeError("weight record holds a NaN or infinite value", "nonfinite")
        force_n = kg * KGF_N
        limits.check(force_n)
        return SampleBatch(force_n=force_n, device_t_s=raw["us"].astype(np.float64) * 1e-6)
    if kind == ResponseType.COMMAND_RESPONSE:
        return CommandResponse(payload=value)
    if kind == ResponseType.LOW_BATTERY:
        return LowBatteryWarning()
    raise DecodeError(f"unknown record type {kind}", "unknown_type")


#: What the user is told when the device warns that its battery is low.
LOW_BATTERY = DeviceStatus(
    "low_battery", "The dynamometer's battery is low: charge it after this session.", {})


def decode_packet(data: bytes, limits: ForceLimits = DEFAULT_LIMITS) -> Packet:
    """:func:`decode` for a driver: a low-battery warning becomes :data:`LOW_BATTERY`.

    Raises:
        DecodeError: As :func:`decode`.
    """
    record = decode(data, limits)
    return LOW_BATTERY if isinstance(record, LowBatteryWarning) else record


def encode_weight(force_n: ArrayLike, device_t_s: ArrayLike) -> bytes:
    """Encode weight samples as one type-1 record (as a device would send them).

    Args:
        force_n: Forces, N (sent as f32 kg).
        device_t_s: Device times, s (sent as u32 µs, wrapping).

    Raises:
        ValueError: More than 31 samples (the length byte holds at most 255).
    """
    f = np.asarray(force_n, dtype=np.float64)
    t = np.asarray(device_t_s, dtype=np.float64)
    if f.shape != t.shape or f.ndim != 1:
        raise ValueError("force and time must be 1-D arrays of the same length")
    if len(f) > 31:
        raise ValueError("at most 31 samples fit in one record")
    rec = np.empty(len(f), dtype=_SAMPLE)
    rec["kg"] = f / KGF_N
    rec["us"] = (np.round(t * 1e6).astype(np.int64) % (1 << 32)).astype(np.uint32)
    return bytes([ResponseType.WEIGHT, rec.nbytes]) + rec.tobytes()


def command(op: Opcode) -> bytes:
    """The bytes that send ``op`` to the control point (the single-byte form).

    Every firmware accepts the bare opcode; the ``[op, len, payload]`` form is only
    needed for commands with arguments, which isogrip does not send.

    Example:
        >>> command(Opcode.START_WEIGHT).hex()
        '65'
    """
    return bytes([Opcode(op)])


def parse_battery_mv(resp: CommandResponse) -> int:
    """The battery voltage from the reply to :attr:`Opcode.BATTERY`, mV (u32 LE).

    Example:
        >>> parse_battery_mv(CommandResponse(bytes.fromhex("d00f0000")))
        4048

    Raises:
        DecodeError: The payload is shorter than 4 bytes (kind ``truncated``) or the
            voltage is implausible, above 10 V (kind ``out_of_range``).
    """
    if len(resp.payload) < 4:
        raise DecodeError(f"battery reply has {len(resp.payload)} bytes, needs 4", "truncated")
    mv = int.from_bytes(resp.payload[:4], "little")
    # A single Li-ion cell never exceeds ~4.3 V: a larger number is some other reply.
    if mv > 10_000:
        raise DecodeError(f"battery reply {mv} mV is not a battery voltage", "out_of_range")
    return mv


def parse_firmware(resp: CommandResponse) -> str:
    r"""The firmware version from the reply to :attr:`Opcode.FIRMWARE_VERSION`.

    The reply is ASCII, sometimes padded with NULs; bytes that are not ASCII become
    U+FFFD rather than failing, since the version is only shown and recorded.

    Example:
        >>> parse_firmware(CommandResponse(b"1.2.3\x00\x00"))
        '1.2.3'
    """
    return resp.payload.replace(b"\0", b"").decode("ascii", errors="replace").strip()


def parse_device_id(resp: CommandResponse) -> str:
    """The device id from the reply to :attr:`Opcode.DEVICE_ID`, as lower-case hex.

    The bytes are shown in the order they arrive (firmwares differ in length and do
    not document an integer byte order, so no number is made of them).

    Example:
        >>> parse_device_id(CommandResponse(bytes.fromhex("0A1B2C3D")))
        '0a1b2c3d'

    Raises:
        DecodeError: The payload is empty (kind ``truncated``).
    """
    if not resp.payload:
        raise DecodeError("device id reply is empty", "truncated")
    return resp.payload.hex()
