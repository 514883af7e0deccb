"""Entralpi force plate codec (pure: no BLE, no I/O).

The plate advertises the name :data:`LOCAL_NAME`. Most firmwares notify on
:data:`DATA_UUID` (``FFF1``) in service 0x181D; some use :data:`ALT_DATA_UUID`
(``FFF4``) in service ``FFF0``: subscribe to whichever exists.

What is known: the first two bytes of a notification are the force, a 16-bit
big-endian number in 0.01 kg. Every public client reads those two bytes and nothing
else (docs/devices.md lists them). Nothing public says what longer notifications
carry, so any bytes after the force are not decoded: they are counted
(``unknown_bytes``), never read as more forces. The value is read as signed (negative
after a tare is normal; the sources disagree, see docs/devices.md); the top code 32767
is flagged as saturated. No capacity is published, so the range (:data:`RANGE`) is the
field's own top, 327.67 kg, and 10 % of that below zero: a reading under -32.77 kg
(the bottom code -32768 among them) is rejected as ``out_of_range``. No device clock.

Example:
    >>> r = decode(bytes.fromhex("04d2"))
    >>> [round(float(x) / 9.80665, 2) for x in r.force_n], r.device_t_s, r.unknown_bytes
    ([12.34], None, 0)
    >>> decode(bytes.fromhex("fff6 0102 03".replace(" ", ""))).unknown_bytes
    3
"""

from __future__ import annotations

import numpy as np

from isogrip.ble_device.codec import DecodeError, SampleBatch
from isogrip.ble_device.limits import LIMITS
from isogrip.signal.units import KGF_N

#: Advertised local name.
LOCAL_NAME = "ENTRALPI"
#: Service holding the data characteristic on most firmwares (the SIG weight scale id).
SERVICE_UUID = "0000181d-0000-1000-8000-00805f9b34fb"
#: Force data (notify) on most firmwares.
DATA_UUID = "0000fff1-0000-1000-8000-00805f9b34fb"
#: Service and data characteristic of other firmwares.
ALT_SERVICE_UUID = "0000fff0-0000-1000-8000-00805f9b34fb"
ALT_DATA_UUID = "0000fff4-0000-1000-8000-00805f9b34fb"
#: Data characteristics to try, in order.
DATA_UUIDS = (DATA_UUID, ALT_DATA_UUID)

#: Weight resolution, kg per count.
KG_PER_COUNT = 0.01
#: Bytes of a notification known to be force (the leading i16 BE).
FORCE_BYTES = 2

_I16_MIN, _I16_MAX = -(1 << 15), (1 << 15) - 1
#: The plate's range (:data:`~isogrip.ble_device.limits.LIMITS`): -32.77 .. 327.67 kg.
RANGE = LIMITS["entralpi"]


def decode(data: bytes) -> SampleBatch:
    """Decode one notification: its leading i16 BE force; later bytes stay unknown.

    Args:
        data: The notification's bytes.

    Returns:
        One sample, N; ``unknown_bytes`` says how many bytes followed the force.

    Raises:
        DecodeError: Fewer than 2 bytes (kind ``truncated``), or a force below the
            plate's range (kind ``out_of_range``).
    """
    if len(data) < FORCE_BYTES:
        raise DecodeError(f"notification of {len(data)} byte(s) holds no force (needs 2)",
                          "truncated")
    raw = int.from_bytes(data[:FORCE_BYTES], "big", signed=True)
    force_n = np.array([raw * (KG_PER_COUNT * KGF_N)])
    RANGE.check(force_n)
    return SampleBatch(force_n=force_n, saturated=raw == _I16_MAX,
                        unknown_bytes=len(data) - FORCE_BYTES)


def encode(force_n: float) -> bytes:
    """Encode one force as a notification (rounded to 0.01 kg, clipped to the i16 range).

    Example:
        >>> encode(12.34 * 9.80665).hex()
        '04d2'

    Raises:
        ValueError: ``force_n`` is not a finite number.
    """
    f = float(force_n)
    if not np.isfinite(f):
        raise ValueError(f"force must be finite, got {f}")
    raw = int(np.clip(round(f / KGF_N / KG_PER_COUNT), _I16_MIN, _I16_MAX))
    return raw.to_bytes(FORCE_BYTES, "big", signed=True)
