"""bleak's and the operating system's errors, as a :class:`DeviceError` that says what to do.

bleak (2.0 and later) says why Bluetooth cannot be used in a typed reason,
:class:`bleak.exc.BleakBluetoothNotAvailableError`'s ``reason``; that is read first.
Other errors (and bleak's ``UNKNOWN`` reason) are classified from their type and, last,
from their message text, which differs by platform and backend.
"""

from __future__ import annotations

from typing import Final

from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDeviceNotFoundError,
)

from isogrip.errors import DeviceError, DeviceErrorReason

__all__ = ["ADVICE", "device_error"]

_R = DeviceErrorReason
#: What the person is told, per reason (after the name of what failed).
ADVICE: Final[dict[DeviceErrorReason, str]] = {
    _R.NOT_FOUND: "not found. Switch the device on, bring it close to the computer, and "
                  "check it is not connected to a phone or another program.",
    _R.NO_ADAPTER: "this computer has no Bluetooth adapter (or its driver is missing). "
                   "Plug in a Bluetooth adapter or use --device sim.",
    _R.BLUETOOTH_OFF: "Bluetooth is switched off. Turn it on in the system settings and "
                      "try again.",
    _R.PERMISSION_DENIED: "permission to use Bluetooth was denied. Allow this program to "
                          "use Bluetooth (system privacy settings) and try again.",
    _R.NOT_RESPONDING: "connected but not answering. Switch the device off and on again, "
                       "then try again.",
    _R.BUSY: "the device or adapter is busy. Close other programs using it, wait a moment "
             "and try again.",
}
_NO_CENTRAL: Final = ("this computer's Bluetooth adapter cannot connect to Bluetooth LE "
                      "devices (it is too old or classic-only). Plug in a Bluetooth 4.0 "
                      "(or later) adapter or use --device sim.")

_B = BleakBluetoothNotAvailableReason
#: bleak's typed reasons; UNKNOWN is left to the type and text checks.
_BLEAK_REASONS: Final = {
    _B.NO_BLUETOOTH: _R.NO_ADAPTER,
    _B.NO_BLE_CENTRAL_ROLE: _R.NO_ADAPTER,
    _B.POWERED_OFF: _R.BLUETOOTH_OFF,
    _B.DENIED_BY_USER: _R.PERMISSION_DENIED,
    _B.DENIED_BY_SYSTEM: _R.PERMISSION_DENIED,
    _B.DENIED_BY_UNKNOWN: _R.PERMISSION_DENIED,
}
#: Words in the messages of the platforms' errors, per reason, checked in this order.
_WORDS: Final = (
    (_R.NOT_FOUND, ("not found",)),
    (_R.NO_ADAPTER, ("no bluetooth adapter", "no adapter")),
    (_R.BLUETOOTH_OFF, ("notready", "powered off", "turned off", "not powered")),
    (_R.PERMISSION_DENIED, ("permission", "not authorized", "notpermitted")),
    (_R.BUSY, ("inprogress", "in progress", "busy")),
)


def _reason(exc: BaseException) -> DeviceErrorReason:
    if isinstance(exc, BleakBluetoothNotAvailableError):
        typed = _BLEAK_REASONS.get(exc.reason)
        if typed is not None:
            return typed
    if isinstance(exc, BleakDeviceNotFoundError):
        return _R.NOT_FOUND
    if isinstance(exc, FileNotFoundError):
        return _R.NO_ADAPTER
    if isinstance(exc, PermissionError):
        return _R.PERMISSION_DENIED
    low = str(exc).lower()
    for reason, words in _WORDS:
        if any(w in low for w in words):
            return reason
    return _R.PROTOCOL


def device_error(exc: BaseException, what: str) -> DeviceError:
    """Translate a bleak or OS error into a DeviceError that says what to do.

    Args:
        exc: The error bleak or the operating system raised.
        what: What failed, for the start of the message ("Bluetooth scan", a device).
    """
    reason = _reason(exc)
    if (isinstance(exc, BleakBluetoothNotAvailableError)
            and exc.reason is _B.NO_BLE_CENTRAL_ROLE):
        return DeviceError(f"{what}: {_NO_CENTRAL}", reason)
    if reason is _R.PROTOCOL:
        return DeviceError(f"{what}: {str(exc) or type(exc).__name__}", reason)
    return DeviceError(f"{what}: {ADVICE[reason]}", reason)
