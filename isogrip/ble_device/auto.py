"""``ble:<address>``: the device at an address, driven by whichever driver recognises it.

The address is looked for with :func:`~isogrip.ble_device.scanner.scan`, which asks every
registered driver, built-in or plugin, whether the advertisement is one of its devices;
the driver that says yes then opens ``NAME:<address>`` as if the user had typed it.
"""

from __future__ import annotations

from typing import Any

from isogrip.ble_device.base import DeviceInfo, ForceDevice
from isogrip.ble_device.profiles import scan_timeout
from isogrip.ble_device.registry import DeviceContext, DeviceSpec, load_driver
from isogrip.errors import DeviceError, DeviceErrorReason, DeviceSpecError


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
        self._inner: ForceDevice | None = None
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

    @property
    def inner(self) -> ForceDevice | None:
        """The recognised device's own driver (None before the first connect)."""
        return self._inner

    def set_handlers(self, on_samples: Any, on_disconnect: Any = None,
                     on_status: Any = None) -> None:
        """Register the callbacks."""
        self._handlers = (on_samples, on_disconnect, on_status)
        if self._inner is not None:
            self._inner.set_handlers(*self._handlers)

    async def connect(self) -> None:
        """Find the address, recognise the device, and connect with its driver.

        Raises:
            DeviceError: Not found, or not a force device any registered driver knows.
        """
        if self._inner is None:
            self._inner = await self._recognise()
            if self._handlers:
                self._inner.set_handlers(*self._handlers)
        await self._inner.connect()

    async def _recognise(self) -> ForceDevice:
        from isogrip.ble_device.scanner import scan  # scanner imports the registry

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
            if match[0].kind is None:
                raise DeviceError(
                    f"the device at {self.address} ({match[0].name or 'no name'}) is not a "
                    "force device isogrip knows; see 'isogrip scan' for the ones it "
                    "recognises", DeviceErrorReason.PROTOCOL)
            spec = DeviceSpec.parse(f"{match[0].kind}:{self.address}")
            return load_driver(spec.driver)(spec, ctx)
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


def create(spec: DeviceSpec, context: DeviceContext) -> AutoDevice:
    """``ble:<address>``: any device a registered driver recognises, at that address."""
    if not spec.argument:
        raise DeviceSpecError("ble needs an address: ble:AA:BB:CC:DD:EE:FF (see 'isogrip scan')")
    return AutoDevice(spec.argument, context, scan_timeout(spec))
