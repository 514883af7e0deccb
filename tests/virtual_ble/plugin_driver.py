"""A third-party driver as a plugin package would ship it, for the registry tests.

The "Griplet" is a made-up grip that speaks the Progressor protocol but advertises
only its own name (``Griplet-<id>``), so no built-in driver recognises it. Its driver
class declares that name and is registered by the tests through a stand-in
``isogrip.devices`` entry point: ``griplet = "virtual_ble.plugin_driver:GripletDevice"``.
"""

from __future__ import annotations

from dataclasses import replace

from isogrip.ble_device.gatt import GattDevice
from isogrip.ble_device.profiles import PROGRESSOR
from isogrip.ble_device.registry import DeviceContext, DeviceSpec

#: The entry point the tests register.
ENTRY_POINT = ("griplet", "virtual_ble.plugin_driver:GripletDevice")

#: The Griplet's GATT table and bytes are a Progressor's; its name is its own.
GRIPLET = replace(PROGRESSOR, kind="griplet", display_name="Griplet",
                  name_prefixes=("Griplet",), service_uuids=())


class GripletDevice(GattDevice):
    """``griplet`` or ``griplet:<address>``: the plugin's driver class, registered itself."""

    display_name = "Griplet"
    advert_names = ("Griplet",)

    def __init__(self, spec: DeviceSpec, context: DeviceContext) -> None:
        super().__init__(GRIPLET, spec.argument or None, clock=context.clock,
                         backend=context.ble_backend,
                         scanner_backend=context.ble_scanner_backend, scan_timeout_s=3.0)
