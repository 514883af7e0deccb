"""Entralpi force plate codec (pure: no BLE, no I/O).

The plate advertises the name :data:`LOCAL_NAME`. Most firmwares notify on
:data:`DATA_UUID` (``FFF1``) in service 0x181D; some use :data:`ALT_DATA_UUID`
(``FFF4``) in service ``FFF0``: subscribe to whichever exists. Each value is a signed
16-bit big-endian number in 0.01 kg (negative after tare is normal). A notification
usually holds one value, but any multiple of 2 bytes is accepted. The extreme codes
(-32768 and 32767) are flagged as saturated. No device clock.

Example:
    >>> r = decode(bytes.fromhex("04d2 fff6".replace(" ", "")))
    >>> [round(float(x) / 9.80665, 2) for x in r.force_n], r.device_t_s
    ([12.34, -0.1], None)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from isogrip.ble_device.codec import DecodeError, ForceSamples
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

_VALUE = np.dtype(">i2")


def decode(data: bytes) -> ForceSamples:
    """Decode one notification of one or more i16 BE values.

    Raises:
        DecodeError: Empty (kind ``truncated``) or an odd length (kind ``malformed``).
    """
    if not data:
        raise DecodeError("empty notification", "truncated")
    if len(data) % _VALUE.itemsize:
        raise DecodeError(f"length {len(data)} is not a multiple of 2", "malformed")
    raw = np.frombuffer(data, dtype=_VALUE)
    saturated = bool(np.any((raw == np.iinfo(np.int16).max) | (raw == np.iinfo(np.int16).min)))
    return ForceSamples(force_n=raw.astype(np.float64) * (KG_PER_COUNT * KGF_N),
                        saturated=saturated)


def encode(force_n: ArrayLike) -> bytes:
    """Encode forces as one notification (rounded to 0.01 kg, clipped to the i16 range).

    Raises:
        ValueError: ``force_n`` is not 1-D.
    """
    f = np.asarray(force_n, dtype=np.float64)
    if f.ndim != 1:
        raise ValueError("force must be a 1-D array")
    lim = np.iinfo(np.int16)
    raw = np.clip(np.round(np.nan_to_num(f / KGF_N / KG_PER_COUNT)), lim.min, lim.max)
    return raw.astype(_VALUE).tobytes()
