"""Bluetooth SIG Weight Scale codec (Weight Measurement 0x2A9D; pure: no BLE, no I/O).

For DIY builds that prefer the standard profile to the Progressor protocol. A Weight
Measurement is::

    flags u8 | weight u16 LE | [timestamp 7] | [user id u8] | [BMI u16 LE, height u16 LE]

Flag bit 0: imperial units (weight in 0.01 lb, height in 0.1 in) instead of SI
(0.005 kg, 0.001 m); bit 1: a timestamp follows (year u16 LE, month, day, hours,
minutes, seconds); bit 2: a user id follows; bit 3: BMI (0.1 kg/m²) and height follow.
Bits 4-7 are reserved and ignored. The weight 0xFFFF means "measurement unsuccessful".
The length must match the flags exactly.

A DIY build's capacity is not known, so its range (:data:`RANGE`) is the field's own:
0 .. 327.67 kg. Every other code decodes to a force inside it; the check is there so
that this codec obeys the same rule as the others.

Example:
    >>> r = decode(bytes.fromhex("00 6809".replace(" ", "")))  # 2408 x 0.005 kg
    >>> round(float(r.force_n[0]) / 9.80665, 3), r.device_t_s
    (12.04, None)
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import numpy as np

from isogrip.ble_device.codec import DecodeError, SampleBatch
from isogrip.ble_device.limits import LIMITS
from isogrip.signal.units import KGF_N, LBF_N

#: Weight Scale service.
SERVICE_UUID = "0000181d-0000-1000-8000-00805f9b34fb"
#: Weight Measurement characteristic (indicate).
WEIGHT_MEASUREMENT_UUID = "00002a9d-0000-1000-8000-00805f9b34fb"

FLAG_IMPERIAL = 0x01
FLAG_TIMESTAMP = 0x02
FLAG_USER_ID = 0x04
FLAG_BMI_HEIGHT = 0x08

#: Weight resolution: kg per count (SI), lb per count (imperial).
KG_PER_COUNT = 0.005
LB_PER_COUNT = 0.01
#: The weight value that means "measurement unsuccessful".
UNSUCCESSFUL = 0xFFFF
#: The range of a build (:data:`~isogrip.ble_device.limits.LIMITS`).
RANGE = LIMITS["weightscale"]


@dataclass(frozen=True)
class WeightMeasurement:
    """Every field of one Weight Measurement.

    Attributes:
        force_n: The weight as a force, N.
        imperial: The device reported in pounds (and inches).
        timestamp: The device's date and time, if sent and valid (no time zone: the
            characteristic carries none).
        user_id: The user index, if sent (255 means unknown user).
        bmi: Body mass index, kg/m², if sent.
        height_m: Height, m, if sent.
    """

    force_n: float
    imperial: bool = False
    timestamp: dt.datetime | None = None
    user_id: int | None = None
    bmi: float | None = None
    height_m: float | None = None


def expected_length(flags: int) -> int:
    """The length a measurement with these flags must have, bytes."""
    return (3 + (7 if flags & FLAG_TIMESTAMP else 0) + (1 if flags & FLAG_USER_ID else 0)
            + (4 if flags & FLAG_BMI_HEIGHT else 0))


def decode_measurement(data: bytes) -> WeightMeasurement:
    """Decode every field of one Weight Measurement.

    A timestamp with an unknown (zero) or impossible field is dropped rather than
    failing the measurement: the weight is what matters.

    Raises:
        DecodeError: Shorter than the flags need (kind ``truncated``), longer
            (``malformed``), or a weight of 0xFFFF, "measurement unsuccessful", or
            outside :data:`RANGE` (``out_of_range``).
    """
    if not data:
        raise DecodeError("empty measurement", "truncated")
    flags = data[0]
    need = expected_length(flags)
    if len(data) != need:
        raise DecodeError(f"flags 0x{flags:02x} need {need} bytes, {len(data)} arrived",
                          "truncated" if len(data) < need else "malformed")
    raw = int.from_bytes(data[1:3], "little")
    if raw == UNSUCCESSFUL:
        raise DecodeError("the scale reports an unsuccessful measurement", "out_of_range")
    imperial = bool(flags & FLAG_IMPERIAL)
    force_n = raw * LB_PER_COUNT * LBF_N if imperial else raw * KG_PER_COUNT * KGF_N
    RANGE.check(np.array([force_n]))
    pos = 3
    timestamp = None
    if flags & FLAG_TIMESTAMP:
        timestamp = _timestamp(data[pos:pos + 7])
        pos += 7
    user_id = None
    if flags & FLAG_USER_ID:
        user_id = data[pos]
        pos += 1
    bmi = height_m = None
    if flags & FLAG_BMI_HEIGHT:
        bmi = int.from_bytes(data[pos:pos + 2], "little") * 0.1
        h = int.from_bytes(data[pos + 2:pos + 4], "little")
        height_m = h * 0.1 * 0.0254 if imperial else h * 0.001
    return WeightMeasurement(force_n=force_n, imperial=imperial, timestamp=timestamp,
                             user_id=user_id, bmi=bmi, height_m=height_m)


def _timestamp(b: bytes) -> dt.datetime | None:
    year = int.from_bytes(b[:2], "little")
    try:
        # Year, month or day 0 means "not known" in the SIG Date Time format.
        if year == 0 or b[2] == 0 or b[3] == 0:
            return None
        return dt.datetime(year, b[2], b[3], b[4], b[5], b[6])
    except ValueError:
        return None


def decode(data: bytes) -> SampleBatch:
    """Decode one Weight Measurement into a single sample.

    Returns:
        One sample, N. ``device_t_s`` holds the measurement's timestamp as POSIX
        seconds (read as UTC, since no zone is sent) when one was sent, else None.

    Raises:
        DecodeError: As :func:`decode_measurement`.
    """
    m = decode_measurement(data)
    t = None
    if m.timestamp is not None:
        t = np.array([float(calendar.timegm(m.timestamp.timetuple()))])
    return SampleBatch(force_n=np.array([m.force_n]), device_t_s=t)


def encode(force_n: float, *, imperial: bool = False, timestamp: dt.datetime | None = None,
           user_id: int | None = None) -> bytes:
    """Encode one Weight Measurement (as a DIY scale would send it).

    The force is rounded to the unit's resolution and clipped to the largest valid
    value (0xFFFE; 0xFFFF would mean "unsuccessful").
    """
    per = LB_PER_COUNT * LBF_N if imperial else KG_PER_COUNT * KGF_N
    raw = int(np.clip(round(float(np.nan_to_num(force_n)) / per), 0, UNSUCCESSFUL - 1))
    flags = FLAG_IMPERIAL if imperial else 0
    tail = b""
    if timestamp is not None:
        flags |= FLAG_TIMESTAMP
        tail += timestamp.year.to_bytes(2, "little") + bytes(
            [timestamp.month, timestamp.day, timestamp.hour, timestamp.minute, timestamp.second])
    if user_id is not None:
        flags |= FLAG_USER_ID
        tail += bytes([user_id])
    return bytes([flags]) + raw.to_bytes(2, "little") + tail
