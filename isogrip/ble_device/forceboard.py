"""PitchSix Force Board codec (pure: no BLE, no I/O).

The board advertises the name ``Force Board``. Force data and the mode command live in
different services: notifications arrive on :data:`DATA_UUID` (force service) while
start / stop / tare are written to :data:`MODE_UUID` (weight service).

A notification is ``[count u16 BE]`` followed by ``count`` samples of 3 bytes each.
A sample's value is ``b0 * 32768 + b1 * 256 + b2`` pounds. That multiplier (32768, not
65536) is the formula the public implementations use and is kept as documented: if the
board actually sends a plain 24-bit number, its first byte is 0 for every load below
65536 lb, so the two readings agree for all real forces. Values are unsigned. A reading
of :data:`FULL_SCALE_LB` is flagged ``saturated``; anything above it (the "compression
overflow" the sources warn about, e.g. a slightly negative reading after tare wrapping
round to a huge number) is no force the board measured: the notification is rejected
(``out_of_range``) rather than turned into a 454 kg sample. The board has no clock:
``device_t_s`` is None. ~80 Hz (older firmware ~40 Hz), several samples per
notification.

Example:
    >>> r = decode(bytes.fromhex("0002 000014 000042".replace(" ", "")))
    >>> [round(float(x), 3) for x in r.force_n], r.device_t_s, r.saturated
    ([88.964, 293.583], None, False)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from isogrip.ble_device.codec import DecodeError, SampleBatch
from isogrip.ble_device.limits import LIMITS
from isogrip.signal.units import LBF_N

#: Advertised local name.
LOCAL_NAME = "Force Board"

#: Force service: data, tare and threshold characteristics.
FORCE_SERVICE_UUID = "9a88d67f-8df2-4afe-9e0d-c2bbbe773dd0"
#: Force data (notify).
DATA_UUID = "9a88d682-8df2-4afe-9e0d-c2bbbe773dd0"
#: Tare characteristic: write :data:`TARE_VALUE`.
TARE_UUID = "9a88d683-8df2-4afe-9e0d-c2bbbe773dd0"
#: Quick-start threshold (3 bytes, pounds).
THRESHOLD_UUID = "9a88d686-8df2-4afe-9e0d-c2bbbe773dd0"

#: Weight service: holds the mode characteristic.
WEIGHT_SERVICE_UUID = "467a8516-6e39-11eb-9439-0242ac130002"
#: Device mode (write one of the ``MODE_*`` commands).
MODE_UUID = "467a8517-6e39-11eb-9439-0242ac130002"

#: Standard battery service and level characteristic (u8 percent).
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"

#: Mode commands, written to :data:`MODE_UUID`.
MODE_STREAM = bytes([0x04])
MODE_TARE = bytes([0x05])
#: Streams only while the force is above the threshold (not used for training).
MODE_QUICK_START = bytes([0x06])
MODE_IDLE = bytes([0x07])
#: Written to :data:`TARE_UUID` (an alternative to :data:`MODE_TARE`).
TARE_VALUE = bytes([0x01])

#: The board's range (:data:`~isogrip.ble_device.limits.LIMITS`): 0 .. 1000 lb.
RANGE = LIMITS["forceboard"]
#: Largest reading accepted as a force, lb (~454 kg, far above any hand's grip); it is
#: flagged as saturated, larger values are rejected.
FULL_SCALE_LB = round(RANGE.high_n / LBF_N)
#: :data:`FULL_SCALE_LB` in newtons.
FULL_SCALE_N = RANGE.full_scale_n

#: Sample rate of current firmware, Hz (older firmware: ~40 Hz).
NOMINAL_RATE_HZ = 80.0

_HEADER = 2
_SAMPLE = 3
# Weights of the three bytes in the documented formula (b0*32768 + b1*256 + b2).
_WEIGHTS = np.array([32768, 256, 1], dtype=np.int64)


def decode(data: bytes) -> SampleBatch:
    """Decode one force notification.

    Args:
        data: The notification's bytes.

    Returns:
        The samples in newtons (no device times); ``saturated`` when a value is
        :data:`FULL_SCALE_LB`.

    Raises:
        DecodeError: Shorter than the 2-byte count or than the samples it announces
            (kind ``truncated``), longer (kind ``malformed``), or a value above
            :data:`FULL_SCALE_LB` (kind ``out_of_range``).
    """
    if len(data) < _HEADER:
        raise DecodeError(f"notification too short ({len(data)} bytes)", "truncated")
    count = int.from_bytes(data[:_HEADER], "big")
    expected = _HEADER + count * _SAMPLE
    if len(data) < expected:
        raise DecodeError(f"count says {count} samples ({expected} bytes), "
                          f"{len(data)} bytes arrived", "truncated")
    if len(data) > expected:
        raise DecodeError(f"count says {count} samples ({expected} bytes), "
                          f"{len(data)} bytes arrived", "malformed")
    raw = np.frombuffer(data, dtype=np.uint8, offset=_HEADER).reshape(count, _SAMPLE)
    lb = raw.astype(np.int64) @ _WEIGHTS
    force_n = lb.astype(np.float64) * LBF_N
    RANGE.check(force_n)
    return SampleBatch(force_n=force_n, saturated=bool(np.any(lb >= FULL_SCALE_LB)))


def encode(force_n: ArrayLike) -> bytes:
    """Encode forces as one notification (as the board would send them).

    Forces are rounded to whole pounds and clipped to 0..:data:`FULL_SCALE_LB`.

    Raises:
        ValueError: ``force_n`` is not 1-D or has more than 65535 samples.
    """
    f = np.asarray(force_n, dtype=np.float64)
    if f.ndim != 1 or len(f) > 0xFFFF:
        raise ValueError("force must be a 1-D array of at most 65535 samples")
    lb = np.clip(np.round(np.nan_to_num(f / LBF_N)), 0, FULL_SCALE_LB).astype(np.int64)
    raw = np.stack([lb // 32768, (lb % 32768) // 256, lb % 256], axis=1).astype(np.uint8)
    return len(f).to_bytes(_HEADER, "big") + raw.tobytes()
