"""Bleak drivers for the connected devices: one :class:`GattProfile` per family.

Each profile ties a pure codec module to the GATT layer in :mod:`isogrip.ble_device.gatt`;
the factories here are what the registry names (``progressor``, ``ble:<address>``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from bleak.backends.scanner import AdvertisementData

from isogrip.ble_device import cts500, entralpi, forceboard, progressor, weightscale, whc06
from isogrip.ble_device.advert import AdvertisementDevice, AdvertProfile
from isogrip.ble_device.base import DeviceInfo, DeviceStatus
from isogrip.ble_device.codec import DecodeError, ForceSamples
from isogrip.ble_device.gatt import Decoded, GattDevice, GattProfile
from isogrip.ble_device.limits import LIMITS
from isogrip.ble_device.registry import DeviceContext, DeviceSpec
from isogrip.errors import DeviceError, DeviceErrorReason, DeviceSpecError

log = logging.getLogger(__name__)

# -- Tindeq Progressor (and Progressor-compatible clones) -------------------------------

#: Li-ion cell voltage read as empty and full, mV (for a percentage).
_CELL_EMPTY_MV = 3300.0
_CELL_FULL_MV = 4200.0


def _progressor_decode(data: bytes) -> Decoded:
    rec = progressor.decode(data)
    if isinstance(rec, progressor.WeightRecord):
        return Decoded(force_n=rec.force_n, device_t_s=rec.device_t_s)
    if isinstance(rec, progressor.CommandResponse):
        return Decoded(response=rec.payload)
    return Decoded(status=DeviceStatus(
        "low_battery", "The dynamometer's battery is low: charge it after this session.", {}))


def battery_percent(mv: float) -> float:
    """Rough state of charge of a single Li-ion cell from its voltage, %."""
    pct = (mv - _CELL_EMPTY_MV) / (_CELL_FULL_MV - _CELL_EMPTY_MV) * 100
    return round(min(100.0, max(0.0, pct)), 0)


async def _progressor_battery_mv(dev: GattDevice) -> int:
    resp = await dev.request(bytes([progressor.Opcode.BATTERY]))
    if len(resp) < 4:
        raise ValueError(f"battery response too short ({len(resp)} bytes)")
    return int.from_bytes(resp[:4], "little")


async def _progressor_battery(dev: GattDevice) -> float | None:
    return battery_percent(await _progressor_battery_mv(dev))


async def _progressor_info(dev: GattDevice) -> dict[str, Any]:
    info: dict[str, Any] = {}
    try:  # each read on its own: one slow answer must not lose the other
        firmware = await dev.request(bytes([progressor.Opcode.FIRMWARE_VERSION]))
        info["firmware"] = firmware.rstrip(b"\0").decode("ascii", errors="replace").strip()
    except (TimeoutError, ValueError) as exc:
        log.warning("no firmware version from the Progressor: %s", exc)
    try:
        mv = await _progressor_battery_mv(dev)
        info.update(battery_mv=mv, battery_pct=battery_percent(mv))
    except (TimeoutError, ValueError) as exc:
        log.warning("no battery reading from the Progressor: %s", exc)
    return info


PROGRESSOR = GattProfile(
    kind="progressor",
    display_name="Tindeq Progressor",
    name_prefixes=("Progressor",),
    service_uuids=(progressor.SERVICE_UUID,),
    data_uuid=progressor.DATA_UUID,
    control_uuid=progressor.CONTROL_UUID,
    decode=_progressor_decode,
    start=bytes([progressor.Opcode.START_WEIGHT]),
    stop=bytes([progressor.Opcode.STOP]),
    tare=bytes([progressor.Opcode.TARE]),
    # Some firmwares stop streaming on tare: start again (harmless where they don't).
    restart_after_tare=True,
    nominal_rate_hz=80.0,
    has_clock=True,
    # Full scales come from the one table of device ranges the codecs check against.
    full_scale_n=LIMITS["progressor"].full_scale_n,
    on_connect=_progressor_info,
    battery=_progressor_battery,
)

# -- PitchSix Force Board --------------------------------------------------------------


def _samples(fs: ForceSamples) -> Decoded:
    """Device-clock-less samples (a device clock is dropped when it is too coarse)."""
    return Decoded(force_n=fs.force_n, saturated=fs.saturated, unknown_bytes=fs.unknown_bytes)


async def _read_battery_level(dev: GattDevice) -> float | None:
    data = await dev.read(forceboard.BATTERY_LEVEL_UUID)
    return float(data[0]) if data else None


async def _battery_info(dev: GattDevice) -> dict[str, Any]:
    pct = await _read_battery_level(dev)
    return {"battery_pct": pct}


FORCE_BOARD = GattProfile(
    kind="forceboard",
    display_name="PitchSix Force Board",
    name_prefixes=(forceboard.LOCAL_NAME,),
    service_uuids=(forceboard.FORCE_SERVICE_UUID,),
    data_uuid=forceboard.DATA_UUID,
    # Data and the mode command live in different services.
    control_uuid=forceboard.MODE_UUID,
    decode=lambda data: _samples(forceboard.decode(data)),
    start=forceboard.MODE_STREAM,
    stop=forceboard.MODE_IDLE,
    tare=forceboard.MODE_TARE,
    nominal_rate_hz=forceboard.NOMINAL_RATE_HZ,
    full_scale_n=LIMITS["forceboard"].full_scale_n,
    on_connect=_battery_info,
    battery=_read_battery_level,
)

# -- CTS500 / CTS-300 ------------------------------------------------------------------


def _cts500_decoder() -> Callable[[bytes], Decoded]:
    assembler = cts500.FrameAssembler()

    def decode(data: bytes) -> Decoded:
        forces = [r for r in assembler.feed(data) if isinstance(r, ForceSamples)]
        if not forces:
            return Decoded()
        return Decoded(force_n=np.concatenate([f.force_n for f in forces]),
                       saturated=any(f.saturated for f in forces))

    return decode


CTS500 = GattProfile(
    kind="cts500",
    display_name="CTS500 dynamometer",
    name_prefixes=cts500.LOCAL_NAMES,
    service_uuids=(cts500.SERVICE_UUID,),
    data_uuid=cts500.NOTIFY_UUID,
    control_uuid=cts500.WRITE_UUID,
    decode=lambda data: Decoded(),  # unused: the stateful decoder below
    make_decoder=_cts500_decoder,
    start_sequence=((None, cts500.rate_command(80)),),
    start=cts500.START,
    stop=cts500.STOP,
    tare=cts500.TARE,
    # It keeps streaming across power cycles unless told to stop.
    stop_on_exit=True,
    nominal_rate_hz=80.0,
    full_scale_n=LIMITS["cts500"].full_scale_n,
)

# -- Entralpi -------------------------------------------------------------------------

ENTRALPI = GattProfile(
    kind="entralpi",
    display_name="Entralpi",
    name_prefixes=(entralpi.LOCAL_NAME,),
    service_uuids=(),  # 0x181D is the generic Weight Scale service: match by name
    data_uuid=entralpi.DATA_UUID,
    alt_data_uuids=(entralpi.ALT_DATA_UUID,),
    control_uuid=None,
    decode=lambda data: _samples(entralpi.decode(data)),
    nominal_rate_hz=10.0,
)

# -- SIG Weight Scale (DIY builds) ------------------------------------------------------

WEIGHT_SCALE = GattProfile(
    kind="weightscale",
    display_name="Bluetooth weight scale (SIG 0x181D)",
    name_prefixes=(),
    service_uuids=(weightscale.SERVICE_UUID,),
    data_uuid=weightscale.WEIGHT_MEASUREMENT_UUID,
    control_uuid=None,
    # The measurement's timestamp has 1 s resolution: no use as a sample clock.
    decode=lambda data: _samples(weightscale.decode(data)),
    nominal_rate_hz=10.0,
)

#: Every connected-device profile, for scanning and ``ble:<address>``. Order matters
#: for recognition: specific devices before the generic weight scale.
PROFILES: dict[str, GattProfile] = {
    p.kind: p for p in (PROGRESSOR, FORCE_BOARD, CTS500, ENTRALPI, WEIGHT_SCALE)
}

# -- Weiheng WH-C06 (advertisements only) ----------------------------------------------


def _whc06_matches(name: str, adv: AdvertisementData) -> bool:
    return name == whc06.LOCAL_NAME or whc06.COMPANY_ID in adv.manufacturer_data


def _whc06_decode(adv: AdvertisementData) -> np.ndarray:
    payload = adv.manufacturer_data.get(whc06.COMPANY_ID)
    if payload is None:
        raise DecodeError("no WH-C06 manufacturer data in this advertisement")
    return whc06.decode_manufacturer_data(payload).force_n


WHC06 = AdvertProfile(
    kind="whc06",
    display_name="WH-C06 hanging scale",
    matches=_whc06_matches,
    decode=_whc06_decode,
    nominal_rate_hz=whc06.NOMINAL_RATE_HZ,
    full_scale_n=LIMITS["whc06"].full_scale_n,
    silence_timeout_s=whc06.SILENCE_TIMEOUT_S,
    warning=whc06.RATE_WARNING,
)


def _scan_timeout(spec: DeviceSpec) -> float:
    timeout = spec.params.get("timeout")
    unknown = set(spec.params) - {"timeout"}
    if unknown:
        names = ", ".join(sorted(unknown))
        raise DeviceSpecError(f"device {spec.text!r}: unknown option(s) {names}; "
                              "the only option is timeout=<seconds>")
    try:
        value = float(timeout) if timeout is not None else 10.0
    except ValueError:
        value = float("nan")
    if not 0 < value < 3600:
        raise DeviceSpecError(
            f"device {spec.text!r}: timeout must be a number of seconds (0-3600)")
    return value


def _device(profile: GattProfile, spec: DeviceSpec, context: DeviceContext) -> GattDevice:
    scan_timeout = _scan_timeout(spec)
    return GattDevice(
        profile,
        spec.argument or None,
        clock=context.clock,
        backend=context.ble_backend,
        scanner_backend=context.ble_scanner_backend,
        scan_timeout_s=scan_timeout,
    )


def create_progressor(spec: DeviceSpec, context: DeviceContext) -> GattDevice:
    """``progressor`` (the nearest) or ``progressor:<address>``."""
    return _device(PROGRESSOR, spec, context)


def create_forceboard(spec: DeviceSpec, context: DeviceContext) -> GattDevice:
    """``forceboard`` or ``forceboard:<address>``."""
    return _device(FORCE_BOARD, spec, context)


def create_cts500(spec: DeviceSpec, context: DeviceContext) -> GattDevice:
    """``cts500`` or ``cts500:<address>``."""
    return _device(CTS500, spec, context)


def create_entralpi(spec: DeviceSpec, context: DeviceContext) -> GattDevice:
    """``entralpi`` or ``entralpi:<address>``."""
    return _device(ENTRALPI, spec, context)


def create_weightscale(spec: DeviceSpec, context: DeviceContext) -> GattDevice:
    """``weightscale:<address>`` (a DIY build speaking the SIG Weight Scale service)."""
    return _device(WEIGHT_SCALE, spec, context)


def create_whc06(spec: DeviceSpec, context: DeviceContext) -> AdvertisementDevice:
    """``whc06`` or ``whc06:<address>``: a scale that streams in advertisements."""
    return AdvertisementDevice(WHC06, spec.argument or None, clock=context.clock,
                               scanner_backend=context.ble_scanner_backend,
                               scan_timeout_s=_scan_timeout(spec))


class AutoDevice:
    """``ble:<address>``: recognises the device from its advertisement, then drives it.

    Args:
        address: BLE address.
        context: Clock and bleak backends.
        scan_timeout_s: How long to look for the device.
    """

    def __init__(self, address: str, context: DeviceContext, scan_timeout_s: float) -> None:
        self.address = address
        self._context = context
        self._scan_timeout = scan_timeout_s
        self._inner: GattDevice | AdvertisementDevice | None = None
        self._handlers: tuple[Any, ...] = ()
        self._info = DeviceInfo(kind="ble", name=f"Bluetooth device {address}", address=address)

    @property
    def info(self) -> DeviceInfo:
        """Device description (the recognised device's after connect)."""
        return self._inner.info if self._inner is not None else self._info

    @property
    def is_connected(self) -> bool:
        """Whether the link is up."""
        return self._inner is not None and self._inner.is_connected

    def set_handlers(self, on_samples: Any, on_disconnect: Any = None,
                     on_status: Any = None) -> None:
        """Register the callbacks."""
        self._handlers = (on_samples, on_disconnect, on_status)
        if self._inner is not None:
            self._inner.set_handlers(*self._handlers)

    async def connect(self) -> None:
        """Find the address, recognise the device, and connect with its driver.

        Raises:
            DeviceError: Not found, or not a force device isogrip knows.
        """
        if self._inner is None:
            self._inner = await self._recognise()
            if self._handlers:
                self._inner.set_handlers(*self._handlers)
        await self._inner.connect()

    async def _recognise(self) -> GattDevice | AdvertisementDevice:
        from isogrip.ble_device.scanner import scan  # scanner imports this module

        ctx = self._context
        deadline = self._scan_timeout
        step = min(2.0, deadline)
        waited = 0.0
        while waited < deadline:
            found = await scan(step, include_unknown=True, backend=ctx.ble_scanner_backend)
            waited += step
            match = [d for d in found if d.address.lower() == self.address.lower()]
            if not match:
                continue
            kind = match[0].kind
            if kind == WHC06.kind:
                return AdvertisementDevice(WHC06, self.address, clock=ctx.clock,
                                           scanner_backend=ctx.ble_scanner_backend)
            if kind in PROFILES:
                return GattDevice(PROFILES[kind], self.address, clock=ctx.clock,
                                  backend=ctx.ble_backend,
                                  scanner_backend=ctx.ble_scanner_backend)
            raise DeviceError(
                f"the device at {self.address} ({match[0].name or 'no name'}) is not a force "
                "device isogrip knows; see 'isogrip scan' for the ones it recognises",
                DeviceErrorReason.PROTOCOL)
        raise DeviceError(
            f"no Bluetooth device at {self.address} was found within {deadline:g} s. Switch it "
            "on, bring it close, and check the address with 'isogrip scan'.",
            DeviceErrorReason.NOT_FOUND)

    async def start(self) -> None:
        """Start streaming."""
        assert self._inner is not None
        await self._inner.start()

    async def stop(self) -> None:
        """Stop streaming."""
        if self._inner is not None:
            await self._inner.stop()

    async def tare(self) -> None:
        """Zero the device."""
        if self._inner is not None:
            await self._inner.tare()

    async def battery(self) -> float | None:
        """Battery level, %."""
        return None if self._inner is None else await self._inner.battery()

    async def disconnect(self) -> None:
        """Close the link."""
        if self._inner is not None:
            await self._inner.disconnect()


def create_ble(spec: DeviceSpec, context: DeviceContext) -> AutoDevice:
    """``ble:<address>``: any supported device at that address."""
    if not spec.argument:
        raise DeviceSpecError("ble needs an address: ble:AA:BB:CC:DD:EE:FF (see 'isogrip scan')")
    return AutoDevice(spec.argument, context, _scan_timeout(spec))
