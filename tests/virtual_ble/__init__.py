"""Virtual BLE world for tests: bleak's public API over bumble's in-process controllers."""

from .backend import VirtualBleakClient, VirtualBleakScanner, parse_advertising_data
from .peripheral import CharSpec, VirtualPeripheral, normalize_uuid
from .progressor import (
    CONTROL_UUID,
    DATA_UUID,
    SERVICE_UUID,
    ProgressorPeripheral,
    decode_notification,
)
from .world import VirtualBleWorld

__all__ = [
    "CONTROL_UUID",
    "DATA_UUID",
    "SERVICE_UUID",
    "CharSpec",
    "ProgressorPeripheral",
    "VirtualBleWorld",
    "VirtualBleakClient",
    "VirtualBleakScanner",
    "VirtualPeripheral",
    "decode_notification",
    "normalize_uuid",
    "parse_advertising_data",
]
