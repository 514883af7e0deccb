"""Device spec strings and the driver registry.

A device is chosen by a spec string ``name[:argument][?key=value&...]``::

    sim                       simulated device, "good" participant
    sim:fatigue?seed=3        simulated device, fatigue participant, seed 3
    sim:good?rate=1000        1 kHz
    ble:AA:BB:CC:DD:EE:FF     (real devices; see docs/devices.md)

Drivers are found by name: the built-in table below (imported lazily, so a missing
optional dependency only matters when that driver is used) and the entry-point group
``isogrip.devices``, where a third-party package registers
``mydevice = "mypackage.driver:MyDevice"``. A driver is a callable
``driver(spec: DeviceSpec, context: DeviceContext) -> ForceDevice``: a factory
function, or a driver class whose ``__init__`` takes the spec and the context.

A driver that also has ``recognises(advert) -> bool`` (every
:class:`~isogrip.ble_device.driver.DriverBase` subclass has it, from its
``advert_names``, ``advert_service_uuids`` and ``advert_company_ids``) takes part in
recognising scanned devices: ``isogrip scan`` and ``ble:<address>`` ask every such
driver, built-in and plugin (:func:`recognisers`), and name it by its ``display_name``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from isogrip.ble_device.base import Advert, ForceDevice
from isogrip.clock import Clock, ScaledClock
from isogrip.errors import DeviceSpecError

ENTRY_POINT_GROUP = "isogrip.devices"

#: Built-in drivers: name -> "module:driver" (imported on first use). Recognition asks
#: them in this order: specific devices before the generic weight scale.
BUILTIN_DRIVERS: dict[str, str] = {
    "sim": "isogrip.ble_device.sim:create",
    "progressor": "isogrip.ble_device.profiles:progressor_driver",
    "forceboard": "isogrip.ble_device.profiles:forceboard_driver",
    "cts500": "isogrip.ble_device.profiles:cts500_driver",
    "entralpi": "isogrip.ble_device.profiles:entralpi_driver",
    "whc06": "isogrip.ble_device.profiles:whc06_driver",
    "weightscale": "isogrip.ble_device.profiles:weightscale_driver",
    "ble": "isogrip.ble_device.auto:create",
    "replay": "isogrip.ble_device.replay:create",
}
#: Built-in drivers that know their devices by a generic service alone (any SIG weight
#: scale): asked after every other driver, plugins included.
FALLBACK_RECOGNISERS = ("weightscale",)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeviceSpec:
    """A parsed device spec string.

    Attributes:
        driver: Driver name (``"sim"``).
        argument: Text after the first colon (``"fatigue"``, a BLE address), or None.
        params: Query parameters (``{"seed": "3"}``).
        text: The original string.
    """

    driver: str
    argument: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> DeviceSpec:
        """Parse ``name[:argument][?key=value&...]``.

        Raises:
            DeviceSpecError: Empty text, an empty name or a malformed query.
        """
        raw = text.strip()
        head, _, query = raw.partition("?")
        name, colon, arg = head.partition(":")
        name = name.strip().lower()
        if not name:
            raise DeviceSpecError(f"empty device spec {text!r}; try 'sim' or 'progressor'")
        params: dict[str, str] = {}
        if query:
            try:
                pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
            except ValueError:
                raise DeviceSpecError(
                    f"device spec {text!r}: the part after '?' must look like "
                    "key=value&key=value"
                ) from None
            for k, v in pairs:
                if k in params:
                    raise DeviceSpecError(f"device spec {text!r}: {k!r} is given twice")
                params[k] = v
        return cls(name, arg if colon else None, params, raw)


@dataclass
class DeviceContext:
    """What a driver may need from the runtime.

    Attributes:
        clock: The session clock (host monotonic time in live sessions).
        feedback: Returns what the participant currently sees (the engine
            snapshot); used by the simulated device's virtual participant.
        ble_backend: bleak client backend class for BLE drivers (None: the OS's);
            tests pass a virtual one.
        ble_scanner_backend: bleak scanner backend class, likewise.
    """

    clock: Clock = field(default_factory=ScaledClock)
    feedback: Callable[[], object] | None = None
    ble_backend: type | None = None
    ble_scanner_backend: type | None = None


DriverFactory = Callable[[DeviceSpec, DeviceContext], ForceDevice]


def _entry_point_drivers() -> dict[str, str]:
    # Looked up through the module on each call, so tests can stand in a fake plugin.
    eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    return {ep.name: ep.value for ep in eps}


def available_drivers() -> list[str]:
    """Names of every driver: built-in and registered through entry points."""
    return sorted(set(BUILTIN_DRIVERS) | set(_entry_point_drivers()))


def load_driver(name: str) -> DriverFactory:
    """Import and return the factory of driver ``name``.

    Raises:
        DeviceSpecError: No driver has that name, or its module cannot be imported (a
            plugin that is broken or needs a package that is missing), or it names
            no callable factory; the message is one line naming the driver.
    """
    target = BUILTIN_DRIVERS.get(name) or _entry_point_drivers().get(name)
    if target is None:
        raise DeviceSpecError(
            f"unknown device {name!r}; known devices: {', '.join(available_drivers())}"
        )
    module_name, _, attr = target.partition(":")
    try:
        # A plugin's import may fail in any way (a missing dependency, a syntax error,
        # its own exception): whatever it is, the user gets one line, not a traceback.
        module = importlib.import_module(module_name)
        factory = getattr(module, attr) if attr else None
    except Exception as exc:  # any failure of third-party code
        first = (str(exc).strip().splitlines() or [""])[0]
        raise DeviceSpecError(f"the driver for device {name!r} ({target}) could not be "
                              f"loaded: {type(exc).__name__}: {first}") from exc
    if not callable(factory):
        raise DeviceSpecError(f"the driver for device {name!r} ({target}) names no "
                              "factory (expected 'module:callable')")
    driver: DriverFactory = factory
    return driver


def open_device(spec: str | DeviceSpec, context: DeviceContext | None = None) -> ForceDevice:
    """Create (not yet connect) the device a spec string names.

    Args:
        spec: A spec string or a parsed :class:`DeviceSpec`.
        context: Clock and feedback for the driver.

    Raises:
        DeviceSpecError: The spec is malformed or names an unknown device or option.
    """
    parsed = spec if isinstance(spec, DeviceSpec) else DeviceSpec.parse(spec)
    return load_driver(parsed.driver)(parsed, context or DeviceContext())


@dataclass(frozen=True)
class Recogniser:
    """A registered driver that can tell its devices from their advertisements.

    Attributes:
        driver: Its registered name (the spec's ``NAME``).
        label: Human name of its device family.
        recognises: Whether an advertisement is one of its devices.
    """

    driver: str
    label: str
    recognises: Callable[[Advert], bool]


def recognisers() -> list[Recogniser]:
    """Every registered driver that recognises advertisements, in the order to ask them.

    Built-in drivers first, then plugins by name, then :data:`FALLBACK_RECOGNISERS`.
    A plugin that cannot be loaded is left out (and logged): it must not stop a scan.
    """
    plugins = sorted(set(_entry_point_drivers()) - set(BUILTIN_DRIVERS))
    first = [n for n in BUILTIN_DRIVERS if n not in FALLBACK_RECOGNISERS]
    out: list[Recogniser] = []
    for name in (*first, *plugins, *FALLBACK_RECOGNISERS):
        try:
            driver = load_driver(name)
        except DeviceSpecError as exc:
            log.warning("%s", exc)
            continue
        test = getattr(driver, "recognises", None)
        if callable(test):
            label = getattr(driver, "display_name", "") or name
            out.append(Recogniser(name, str(label), test))
    return out


def recognise(advert: Advert, among: list[Recogniser] | None = None) -> Recogniser | None:
    """The first driver that recognises ``advert`` (of ``among``, or of every driver).

    A driver whose ``recognises`` raises is taken as saying no (logged once per driver).
    """
    for r in recognisers() if among is None else among:
        try:
            if r.recognises(advert):
                return r
        except Exception:  # third-party code must not break a scan
            if r.driver not in _FAILED:
                _FAILED.add(r.driver)
                log.exception("driver %r failed to recognise an advertisement", r.driver)
    return None


_FAILED: set[str] = set()
