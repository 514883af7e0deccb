"""The built-in Bluetooth drivers: one profile per device family, one driver per profile.

Each :class:`GattProfile` (or :class:`AdvertProfile`) ties a pure codec module to the
GATT (or advertisement) layer; the :class:`FamilyDriver` objects at the end are what the
registry names (``progressor``, ``whc06`` ...): each creates its family's device from a
spec and recognises the family's advertisements, as a plugin's driver class does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from bleak.backends.scanner import AdvertisementData

from isogrip.ble_device import cts500, entralpi, forceboard, progressor, weightscale, whc06
from isogrip.ble_device.advert import AdvertisementDevice, AdvertProfile
from isogrip.ble_device.base import Advert, Packet, SampleBatch
from isogrip.ble_device.codec import DecodeError
from isogrip.ble_device.gatt import GattDevice, GattProfile
from isogrip.ble_device.limits import LIMITS
from isogrip.ble_device.registry import DeviceContext, DeviceSpec
from isogrip.errors import DeviceSpecError

log = logging.getLogger(__name__)

# -- Tindeq Progressor (and Progressor-compatible clones) -------------------------------

#: Li-ion cell voltage read as empty and full, mV (for a percentage).
_CELL_EMPTY_MV = 3300.0
_CELL_FULL_MV = 4200.0


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
    decode=progressor.decode_packet,
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
    decode=forceboard.decode,
    start=forceboard.MODE_STREAM,
    stop=forceboard.MODE_IDLE,
    tare=forceboard.MODE_TARE,
    nominal_rate_hz=forceboard.NOMINAL_RATE_HZ,
    full_scale_n=LIMITS["forceboard"].full_scale_n,
    on_connect=_battery_info,
    battery=_read_battery_level,
)

# -- CTS500 / CTS-300 ------------------------------------------------------------------


def _cts500_decoder() -> Callable[[bytes], Packet]:
    assembler = cts500.FrameAssembler()

    def decode(data: bytes) -> Packet:
        # Command echoes and replies are acknowledgements nothing waits for.
        forces = [r for r in assembler.feed(data) if isinstance(r, SampleBatch)]
        if not forces:
            return None  # half a frame (kept for the next notification), or echoes only
        return SampleBatch(force_n=np.concatenate([f.force_n for f in forces]),
                           saturated=any(f.saturated for f in forces))

    return decode


CTS500 = GattProfile(
    kind="cts500",
    display_name="CTS500 dynamometer",
    name_prefixes=cts500.LOCAL_NAMES,
    service_uuids=(cts500.SERVICE_UUID,),
    data_uuid=cts500.NOTIFY_UUID,
    control_uuid=cts500.WRITE_UUID,
    decode=lambda data: None,  # unused: the stateful decoder below
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
    decode=entralpi.decode,
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
    # The measurement's timestamp has 1 s resolution: no use as a sample clock, so
    # has_clock stays False and the driver drops it.
    decode=weightscale.decode,
    nominal_rate_hz=10.0,
)

#: Every connected-device profile, for scanning and ``ble:<address>``. Order matters
#: for recognition: specific devices before the generic weight scale.
PROFILES: dict[str, GattProfile] = {
    p.kind: p for p in (PROGRESSOR, FORCE_BOARD, CTS500, ENTRALPI, WEIGHT_SCALE)
}

# -- Weiheng WH-C06 (advertisements only) ----------------------------------------------


def _whc06_decode(adv: AdvertisementData) -> SampleBatch:
    payload = adv.manufacturer_data.get(whc06.COMPANY_ID)
    if payload is None:
        raise DecodeError("no WH-C06 manufacturer data in this advertisement")
    return whc06.decode_manufacturer_data(payload)


WHC06 = AdvertProfile(
    kind="whc06",
    display_name="WH-C06 hanging scale",
    name_prefixes=(whc06.LOCAL_NAME,),
    company_ids=(whc06.COMPANY_ID,),
    decode=_whc06_decode,
    nominal_rate_hz=whc06.NOMINAL_RATE_HZ,
    full_scale_n=LIMITS["whc06"].full_scale_n,
    silence_timeout_s=whc06.SILENCE_TIMEOUT_S,
    warning=whc06.RATE_WARNING,
)


def scan_timeout(spec: DeviceSpec) -> float:
    """The ``timeout`` option of a Bluetooth device spec, s (10 by default).

    Raises:
        DeviceSpecError: Another option, or a timeout that is not 0-3600 s.
    """
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


@dataclass(frozen=True)
class FamilyDriver:
    """A built-in driver as the registry holds it: one device family's profile.

    Calling it creates the device a spec names (``NAME`` for the nearest one,
    ``NAME:ADDRESS`` for that one; option ``timeout``); :meth:`recognises` is how
    scanning and ``ble:<address>`` know the family's devices, as a plugin driver
    class's classmethod is.

    Attributes:
        profile: The family.
    """

    profile: GattProfile | AdvertProfile

    @property
    def display_name(self) -> str:
        """Human name of the family."""
        return self.profile.display_name

    def recognises(self, advert: Advert) -> bool:
        """Whether an advertisement is one of the family's devices."""
        return self.profile.recognises(advert)

    def __call__(self, spec: DeviceSpec,
                 context: DeviceContext) -> GattDevice | AdvertisementDevice:
        """Create (not yet connect) the device ``spec`` names."""
        timeout = scan_timeout(spec)
        if isinstance(self.profile, AdvertProfile):
            return AdvertisementDevice(self.profile, spec.argument or None, clock=context.clock,
                                       scanner_backend=context.ble_scanner_backend,
                                       scan_timeout_s=timeout)
        return GattDevice(self.profile, spec.argument or None, clock=context.clock,
                          backend=context.ble_backend,
                          scanner_backend=context.ble_scanner_backend, scan_timeout_s=timeout)


#: ``progressor`` or ``progressor:<address>``.
progressor_driver = FamilyDriver(PROGRESSOR)
#: ``forceboard`` or ``forceboard:<address>``.
forceboard_driver = FamilyDriver(FORCE_BOARD)
#: ``cts500`` or ``cts500:<address>``.
cts500_driver = FamilyDriver(CTS500)
#: ``entralpi`` or ``entralpi:<address>``.
entralpi_driver = FamilyDriver(ENTRALPI)
#: ``weightscale[:<address>]``: a DIY build speaking the SIG Weight Scale service.
weightscale_driver = FamilyDriver(WEIGHT_SCALE)
#: ``whc06`` or ``whc06:<address>``: a scale that streams in advertisements.
whc06_driver = FamilyDriver(WHC06)
