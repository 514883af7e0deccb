"""Weiheng WH-C06 hanging scale codec (also sold as MAT Muscle Meter; pure: no I/O).

The scale never accepts a connection: it broadcasts its reading in the manufacturer
data of its advertisements, local name :data:`LOCAL_NAME`, company id
:data:`COMPANY_ID`. bleak hands over ``manufacturer_data[0x0100]`` with the company id
stripped; there the weight is a big-endian u16 at offsets 10-11 in units of 0.01 kg.
Some platforms keep the 2 company-id bytes, moving the weight to offsets 12-13
(``includes_company_id=True``).

Sources disagree about the rest: byte 14 (company id stripped) carries a flag that
some read as "reading stable" and others as a unit nibble; isogrip ignores it because
the sources agree that the weight field itself is in 0.01 kg. Signedness is disputed
too; the weight is read as unsigned, as most sources do.

The scale is sold as a 300 kg scale: readings beyond its range (:data:`RANGE`, up to
450 kg) are rejected as ``out_of_range``, among them the all-ones value 0xFFFF (655.35
kg, or -0.01 kg if it were signed); readings at or above 300 kg are flagged as
saturated. The payload is :data:`PAYLOAD_LENGTH` bytes, as in the scale's
advertisement the sources show; a shorter or longer one is rejected too, since its
weight could sit anywhere.

The scale advertises at only ~8-10 Hz (see :data:`RATE_WARNING`), and a scale that
stops advertising looks like a disconnect after :data:`SILENCE_TIMEOUT_S`.

Example:
    >>> payload = bytes.fromhex("020311FFFFFFFFFFFF0104D201F4019990")
    >>> r = decode_manufacturer_data(payload)
    >>> round(float(r.force_n[0]) / 9.80665, 2), r.device_t_s
    (12.34, None)
"""

from __future__ import annotations

import numpy as np

from isogrip.ble_device.codec import DecodeError, SampleBatch
from isogrip.ble_device.limits import LIMITS
from isogrip.signal.units import KGF_N

#: Advertised local name.
LOCAL_NAME = "IF_B7"
#: Manufacturer (company) id the weight is broadcast under.
COMPANY_ID = 0x0100
#: Advertisement rate, Hz (observed 8-10).
NOMINAL_RATE_HZ = 10
#: No advertisement for this long means the scale is gone (switched off, out of range).
SILENCE_TIMEOUT_S = 10.0
#: Shown to the user when this scale is chosen.
RATE_WARNING = (
    "This scale sends about 10 readings per second. That is fine for the 2-minute "
    "holds, but too slow to time a maximal squeeze (MVC) precisely: peaks may be "
    "missed by up to 0.1 s and read a little low. For research-grade MVC timing use "
    "a device that streams at 40 Hz or more."
)

#: Offset of the u16 BE weight in the payload without / with the company id.
WEIGHT_OFFSET = 10
WEIGHT_OFFSET_WITH_COMPANY_ID = 12
#: Weight resolution, kg per count.
KG_PER_COUNT = 0.01
#: Offset (company id stripped) of the disputed stable-flag / unit byte; not decoded.
FLAG_OFFSET = 14
#: Template for :func:`encode_manufacturer_data` (the example payload from a real scale).
_TEMPLATE = bytes.fromhex("020311FFFFFFFFFFFF0104D201F4019990")
#: Length of the payload without the company id (that of the real scale's example).
PAYLOAD_LENGTH = len(_TEMPLATE)
#: The scale's range (:data:`~isogrip.ble_device.limits.LIMITS`): 300 kg capacity,
#: readings accepted up to 450 kg.
RANGE = LIMITS["whc06"]


def decode_manufacturer_data(payload: bytes, *, includes_company_id: bool = False) -> SampleBatch:
    """Decode the manufacturer data of one advertisement.

    Args:
        payload: ``manufacturer_data[COMPANY_ID]`` as bleak reports it.
        includes_company_id: The payload still starts with the 2 company-id bytes.

    Returns:
        One sample in newtons (no device time); ``saturated`` at or above the scale's
        300 kg capacity.

    Raises:
        DecodeError: The payload is shorter than :data:`PAYLOAD_LENGTH` (plus 2 with
            the company id; kind ``truncated``) or longer (``malformed``), or the
            weight is beyond the scale's range (``out_of_range``).
    """
    off = WEIGHT_OFFSET_WITH_COMPANY_ID if includes_company_id else WEIGHT_OFFSET
    need = PAYLOAD_LENGTH + (off - WEIGHT_OFFSET)
    if len(payload) != need:
        raise DecodeError(f"manufacturer data of {len(payload)} bytes, the scale sends "
                          f"{need}", "truncated" if len(payload) < need else "malformed")
    raw = int.from_bytes(payload[off:off + 2], "big")
    force_n = np.array([raw * KG_PER_COUNT * KGF_N])
    RANGE.check(force_n)
    return SampleBatch(force_n=force_n, saturated=bool(force_n[0] >= RANGE.full_scale_n))


def decode(payload: bytes) -> SampleBatch:
    """:func:`decode_manufacturer_data` with the company id stripped (bleak's default)."""
    return decode_manufacturer_data(payload)


def encode_manufacturer_data(force_n: float) -> bytes:
    """A payload (company id stripped) as the scale would broadcast ``force_n``.

    The force is rounded to 0.01 kg and clipped to 0..655.35 kg (the field; values
    beyond the scale's range are there to test its rejection); the other bytes are
    those of a real scale's advertisement.
    """
    raw = int(np.clip(round(float(np.nan_to_num(force_n)) / KGF_N / KG_PER_COUNT), 0, 0xFFFF))
    out = bytearray(_TEMPLATE)
    out[WEIGHT_OFFSET:WEIGHT_OFFSET + 2] = raw.to_bytes(2, "big")
    return bytes(out)
