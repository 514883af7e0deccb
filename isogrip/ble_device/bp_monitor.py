"""Standard Bluetooth blood-pressure monitors (SIG Blood Pressure Service 0x1810).

The cuff indicates each reading on the Blood Pressure Measurement characteristic
(0x2A35); after connecting, most cuffs send their stored readings, then the new one.
Layout of a measurement (Bluetooth SIG, Blood Pressure Service 1.1):

====== ======================================================================
bytes  field
====== ======================================================================
1      flags: bit 0 units (0 mmHg, 1 kPa), bit 1 time stamp present,
       bit 2 pulse rate present, bit 3 user id present, bit 4 status present
2+2+2  systolic, diastolic, mean arterial pressure (SFLOAT each)
7      time stamp: year (u16 LE), month, day, hours, minutes, seconds
       (year 0 or month/day 0 = not known)
2      pulse rate, beats/min (SFLOAT)
1      user id (0xFF = unknown user)
2      measurement status bits (u16 LE)
====== ======================================================================

SFLOAT (IEEE 11073-20601) is 16 bits: a 4-bit signed exponent (top nibble) and a
12-bit signed mantissa; value = mantissa x 10^exponent. Reserved mantissas mean: 0x07FF
NaN, 0x0800 NRes (not at this resolution), 0x07FE +infinity, 0x0802 -infinity, 0x0801
reserved. A pressure that is not a finite number is no reading: such a packet is
refused (it cannot go into the log).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import math
import struct
from dataclasses import dataclass
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError

from isogrip.ble_device.bleak_errors import device_error
from isogrip.ble_device.codec import DecodeError
from isogrip.errors import DeviceError, DeviceErrorReason

BP_SERVICE_UUID = "00001810-0000-1000-8000-00805f9b34fb"
BP_MEASUREMENT_UUID = "00002a35-0000-1000-8000-00805f9b34fb"
BP_FEATURE_UUID = "00002a49-0000-1000-8000-00805f9b34fb"
#: mmHg per kPa.
MMHG_PER_KPA = 7.50062

_NAN, _NRES, _PINF, _RESERVED, _NINF = 0x07FF, 0x0800, 0x07FE, 0x0801, 0x0802
_SPECIAL = {_NAN: math.nan, _NRES: math.nan, _RESERVED: math.nan,
            _PINF: math.inf, _NINF: -math.inf}


def decode_sfloat(raw: int) -> float:
    """Decode a 16-bit IEEE-11073 SFLOAT.

    Examples:
        >>> decode_sfloat(0x0072), decode_sfloat(0xF4E2), decode_sfloat(0xFF8E)
        (114.0, 125.0, -11.4)
        >>> decode_sfloat(0x07FF), decode_sfloat(0x07FE), decode_sfloat(0x0802)
        (nan, inf, -inf)
    """
    raw &= 0xFFFF
    mantissa = raw & 0x0FFF
    if mantissa in _SPECIAL:
        return _SPECIAL[mantissa]
    exponent = raw >> 12
    if exponent >= 8:
        exponent -= 16
    if mantissa >= 0x0800:
        mantissa -= 0x1000
    # round(): 10**-1 is not exact in binary; readings have at most a few decimals.
    return round(mantissa * 10.0**exponent, 8)


def encode_sfloat(value: float, exponent: int = 0) -> int:
    """Encode a value as SFLOAT with the given exponent (for tests and simulators).

    NaN, +inf and -inf give the reserved codes.

    Raises:
        ValueError: The value does not fit a 12-bit mantissa at that exponent.
    """
    if math.isnan(value):
        return _NAN
    if math.isinf(value):
        return _PINF if value > 0 else _NINF
    if not -8 <= exponent <= 7:
        raise ValueError(f"SFLOAT exponent must be -8..7, got {exponent}")
    mantissa = round(value / 10.0**exponent)
    if not -2046 <= mantissa <= 2045:
        raise ValueError(f"{value} does not fit an SFLOAT with exponent {exponent}")
    return ((exponent & 0xF) << 12) | (mantissa & 0x0FFF)


@dataclass(frozen=True)
class BpMeasurement:
    """One blood-pressure reading as the cuff sent it.

    Attributes:
        systolic: Systolic pressure in ``unit``.
        diastolic: Diastolic pressure in ``unit``.
        mean_arterial: Mean arterial pressure in ``unit`` (NaN if not given).
        unit: ``"mmHg"`` or ``"kPa"``.
        timestamp: When the cuff took it (its own clock, local time), if given.
        pulse_bpm: Pulse rate, beats per minute, if given.
        user_id: The cuff's user number, if given (255 = unknown user).
        status: Measurement status bits (body movement, cuff fit, ...), if given.
    """

    systolic: float
    diastolic: float
    mean_arterial: float
    unit: str = "mmHg"
    timestamp: _dt.datetime | None = None
    pulse_bpm: float | None = None
    user_id: int | None = None
    status: int | None = None

    def to_mmhg(self) -> BpMeasurement:
        """The same reading in mmHg."""
        if self.unit == "mmHg":
            return self
        k = MMHG_PER_KPA
        return BpMeasurement(self.systolic * k, self.diastolic * k, self.mean_arterial * k,
                             "mmHg", self.timestamp, self.pulse_bpm, self.user_id,
                             self.status)

    @classmethod
    def from_bytes(cls, data: bytes) -> BpMeasurement:
        """Parse a Blood Pressure Measurement value.

        Raises:
            DecodeError: Truncated, trailing bytes, a bad time stamp, or a pressure
                that is not a number.
        """
        data = bytes(data)
        if len(data) < 7:
            raise DecodeError(f"blood-pressure measurement of {len(data)} bytes; at least "
                              "7 are needed", "truncated")
        flags = data[0]
        need = 7 + 7 * bool(flags & 0x02) + 2 * bool(flags & 0x04) + \
            bool(flags & 0x08) + 2 * bool(flags & 0x10)
        if len(data) < need:
            raise DecodeError(f"blood-pressure measurement of {len(data)} bytes; its "
                              f"flags 0x{flags:02x} announce {need}", "truncated")
        if len(data) > need:
            raise DecodeError(f"blood-pressure measurement of {len(data)} bytes; its "
                              f"flags 0x{flags:02x} announce {need}", "malformed")
        sys_, dia, mean = (decode_sfloat(v) for v in struct.unpack_from("<3H", data, 1))
        if not (math.isfinite(sys_) and math.isfinite(dia)):
            raise DecodeError("the cuff sent a blood pressure that is not a number "
                              f"({sys_}/{dia})", "nonfinite")
        pos = 7
        timestamp = None
        if flags & 0x02:
            year, month, day, hh, mm, ss = struct.unpack_from("<H5B", data, pos)
            pos += 7
            if year and month and day:
                try:
                    timestamp = _dt.datetime(year, month, day, hh, mm, ss)
                except ValueError as exc:
                    raise DecodeError(f"bad time stamp in a blood-pressure measurement "
                                      f"({exc})", "out_of_range") from exc
        pulse = None
        if flags & 0x04:
            p = decode_sfloat(struct.unpack_from("<H", data, pos)[0])
            pulse = p if math.isfinite(p) else None
            pos += 2
        user = None
        if flags & 0x08:
            user = data[pos]
            pos += 1
        status = None
        if flags & 0x10:
            status = struct.unpack_from("<H", data, pos)[0]
        return cls(sys_, dia, mean, "kPa" if flags & 0x01 else "mmHg", timestamp, pulse,
                   user, status)

    def __bytes__(self) -> bytes:
        """Encode (whole numbers in mmHg, one decimal in kPa) for simulators and tests."""
        exp = -1 if self.unit == "kPa" else 0
        flags = (0x01 if self.unit == "kPa" else 0) | (0x02 if self.timestamp else 0) | \
            (0x04 if self.pulse_bpm is not None else 0) | \
            (0x08 if self.user_id is not None else 0) | (0x10 if self.status is not None else 0)
        out = bytearray([flags])
        out += struct.pack("<3H", *(encode_sfloat(v, exp) for v in
                                    (self.systolic, self.diastolic, self.mean_arterial)))
        if self.timestamp:
            ts = self.timestamp
            out += struct.pack("<H5B", ts.year, ts.month, ts.day, ts.hour, ts.minute,
                               ts.second)
        if self.pulse_bpm is not None:
            out += struct.pack("<H", encode_sfloat(self.pulse_bpm))
        if self.user_id is not None:
            out.append(self.user_id)
        if self.status is not None:
            out += struct.pack("<H", self.status)
        return bytes(out)


class BpMonitor:
    """Reads the readings a blood-pressure cuff sends.

    Args:
        address: The cuff's address; ``None`` takes the first cuff advertising 0x1810.
            Once connected, :attr:`address` is the address of the cuff found.
        backend: bleak client backend (tests pass a virtual one).
        scanner_backend: bleak scanner backend, likewise.
        scan_timeout_s: How long to look for the cuff.
    """

    def __init__(self, address: str | None = None, *, backend: type | None = None,
                 scanner_backend: type | None = None, scan_timeout_s: float = 10.0) -> None:
        self.address = address
        self._backend = backend
        self._scanner_backend = scanner_backend
        self._scan_timeout_s = scan_timeout_s
        self._client: Any = None
        self.malformed = 0
        self.last_error = ""
        # Set when the cuff ends the link (most do once they have sent their memory).
        self._gone = asyncio.Event()

    async def connect(self) -> None:
        """Find and connect to the cuff.

        Raises:
            DeviceError: Not found, Bluetooth off, no adapter, permission denied.
        """
        what = "Blood-pressure monitor"
        try:
            # Only pass a backend when one was injected (tests); None means the OS's.
            kw: dict[str, Any] = {"backend": self._scanner_backend} \
                if self._scanner_backend else {}
            if self.address is None:
                found = await BleakScanner.find_device_by_filter(
                    lambda _d, adv: BP_SERVICE_UUID in [u.lower() for u in adv.service_uuids],
                    timeout=self._scan_timeout_s, **kw)
            else:
                found = await BleakScanner.find_device_by_address(
                    self.address, timeout=self._scan_timeout_s, **kw)
            if found is None:
                raise DeviceError(f"{what}: not found. Switch the cuff on (most send their "
                                  "readings just after a measurement) and bring it close.",
                                  DeviceErrorReason.NOT_FOUND)
            self.address = found.address
            self._gone.clear()
            self._client = BleakClient(found, lambda _c: self._gone.set(),
                                       backend=self._backend)
            await self._client.connect()
        except (BleakError, OSError) as exc:
            if isinstance(exc, DeviceError):
                raise
            raise device_error(exc, what) from exc

    async def readings(self, timeout_s: float = 10.0) -> list[BpMeasurement]:
        """Collect readings until none has come for ``timeout_s`` (oldest first).

        Also stops as soon as the cuff disconnects (most do once they have sent their
        memory). Malformed indications are counted in :attr:`malformed` and skipped.

        Raises:
            DeviceError: The cuff's readings could not be subscribed to.
        """
        got: list[BpMeasurement] = []
        arrived = asyncio.Event()

        def on_value(_char: object, data: bytearray) -> None:
            try:
                got.append(BpMeasurement.from_bytes(bytes(data)))
            except DecodeError as exc:
                self.malformed += 1
                self.last_error = str(exc)
            arrived.set()

        try:
            await self._client.start_notify(BP_MEASUREMENT_UUID, on_value)
        except (BleakError, OSError) as exc:
            raise device_error(exc, "Blood-pressure monitor") from exc
        gone = asyncio.ensure_future(self._gone.wait())
        try:
            while not gone.done():
                arrived.clear()
                came = asyncio.ensure_future(arrived.wait())
                done, _ = await asyncio.wait((came, gone), timeout=timeout_s,
                                             return_when=asyncio.FIRST_COMPLETED)
                came.cancel()
                if not done:
                    break
            return got
        finally:
            gone.cancel()
            if not self._gone.is_set():
                with contextlib.suppress(Exception):
                    await self._client.stop_notify(BP_MEASUREMENT_UUID)

    async def disconnect(self) -> None:
        """Disconnect (safe to call twice)."""
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.disconnect()
            self._client = None


async def read_monitor(address: str | None = None, timeout_s: float = 10.0,
                       **backends: Any) -> list[BpMeasurement]:
    """Connect, collect the readings, disconnect."""
    mon = BpMonitor(address, **backends)
    await mon.connect()
    try:
        return await mon.readings(timeout_s)
    finally:
        await mon.disconnect()


@dataclass(frozen=True)
class CuffRead:
    """What one read of a cuff brought.

    Attributes:
        address: The cuff's address (it tells cuffs apart in the log).
        readings: The readings, in the order the cuff sent them.
        malformed: Indications that could not be read (skipped).
    """

    address: str
    readings: list[BpMeasurement]
    malformed: int = 0


async def read_cuff(address: str | None = None, *, timeout_s: float = 10.0,
                    scan_timeout_s: float = 10.0, **backends: Any) -> CuffRead:
    """Find a cuff, collect its readings, disconnect (see :class:`BpMonitor`).

    Raises:
        DeviceError: Not found, Bluetooth off, no adapter, permission denied.
    """
    mon = BpMonitor(address, scan_timeout_s=scan_timeout_s, **backends)
    await mon.connect()
    try:
        got = await mon.readings(timeout_s)
    finally:
        await mon.disconnect()
    return CuffRead(str(mon.address), got, mon.malformed)
