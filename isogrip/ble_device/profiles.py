"""Bleak drivers for the connected devices: one :class:`GattProfile` per family.

Each profile ties a pure codec module to the GATT layer in :mod:`isogrip.ble_device.gatt`;
the factories here are what the registry names (``progressor``, ``ble:<address>``).
"""

from __future__ import annotations

from typing import Any

from isogrip.ble_device import progressor
from isogrip.ble_device.base import DeviceStatus
from isogrip.ble_device.gatt import Decoded, GattDevice, GattProfile
from isogrip.ble_device.registry import DeviceContext, DeviceSpec
from isogrip.errors import DeviceSpecError
from isogrip.signal.units import KGF_N

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
    firmware = (await dev.request(bytes([progressor.Opcode.FIRMWARE_VERSION])))
    mv = await _progressor_battery_mv(dev)
    info: dict[str, Any] = {
        "firmware": firmware.rstrip(b"\0").decode("ascii", errors="replace").strip(),
        "battery_mv": mv,
        "battery_pct": battery_percent(mv),
    }
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
    full_scale_n=200 * KGF_N,
    on_connect=_progressor_info,
    battery=_progressor_battery,
)

#: Every connected-device profile, for scanning and ``ble:<address>``.
PROFILES: dict[str, GattProfile] = {p.kind: p for p in (PROGRESSOR,)}


def _device(profile: GattProfile, spec: DeviceSpec, context: DeviceContext) -> GattDevice:
    timeout = spec.params.get("timeout")
    unknown = set(spec.params) - {"timeout"}
    if unknown:
        names = ", ".join(sorted(unknown))
        raise DeviceSpecError(f"device {spec.text!r}: unknown option(s) {names}; "
                              "the only option is timeout=<seconds>")
    try:
        scan_timeout = float(timeout) if timeout is not None else 10.0
    except ValueError:
        raise DeviceSpecError(
            f"device {spec.text!r}: timeout must be a number of seconds") from None
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
