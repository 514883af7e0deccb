"""An in-process BLE world: bumble virtual controllers on a LocalLink, driven through bleak.

Usage (inside a pytest-asyncio test)::

    async with VirtualBleWorld() as world:
        address = await world.add(ProgressorPeripheral())
        async with BleakClient(address, backend=world.client_backend) as client:
            ...
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from types import TracebackType

from bumble import hci
from bumble.controller import Controller
from bumble.device import Advertisement, Connection, Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from .backend import VirtualBleakClient, VirtualBleakScanner
from .peripheral import VirtualPeripheral

__all__ = ["VirtualBleWorld"]

logger = logging.getLogger(__name__)

CENTRAL_ADDRESS = "C0:00:00:00:00:01"


def _make_device(name: str, address: str, link: LocalLink) -> tuple[Controller, Device]:
    controller = Controller(name, link=link)
    host = Host(controller, AsyncPipeSink(controller))
    device = Device(name=name, address=hci.Address(address), host=host)
    return controller, device


class VirtualBleWorld:
    """A LocalLink with one central (used by bleak) and any number of peripherals.

    Args:
        mtu: ATT MTU the bleak client backend requests after connecting (a real
            Progressor/ESP32 negotiates 247 with most phones; use 23 to test small MTUs).
    """

    def __init__(self, *, mtu: int = 247) -> None:
        self.mtu = mtu
        self.link: LocalLink | None = None
        self.central: Device | None = None
        self.central_controller: Controller | None = None
        self.peripherals: dict[str, VirtualPeripheral] = {}
        self._devices: list[Device] = []
        self._open = False
        self._next_index = 1
        # bumble gap: two concurrent Device.connect() calls corrupt the Device's state
        # (le_connecting, listeners); the client backend serialises connects on this.
        self.connect_lock = asyncio.Lock()
        self._scan_listeners: dict[int, Callable[[Advertisement], None]] = {}
        self._scan_lock = asyncio.Lock()
        self.client_backend: type[VirtualBleakClient] = type(
            "VirtualBleakClient", (VirtualBleakClient,), {"world": self}
        )
        """Pass as ``BleakClient(..., backend=world.client_backend)``."""
        self.scanner_backend: type[VirtualBleakScanner] = type(
            "VirtualBleakScanner", (VirtualBleakScanner,), {"world": self}
        )
        """Pass as ``BleakScanner(..., backend=world.scanner_backend)``."""

    # ------------------------------------------------------------------ context manager
    @property
    def is_open(self) -> bool:
        """True between ``__aenter__`` and the start of teardown."""
        return self._open

    async def __aenter__(self) -> VirtualBleWorld:
        # Everything must be built inside the running loop (bumble grabs it eagerly).
        self.link = LocalLink()  # type: ignore[no-untyped-call]
        self.central_controller, self.central = _make_device("central", CENTRAL_ADDRESS, self.link)
        await self.central.power_on()
        self.central.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        self._devices.append(self.central)
        self._open = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop advertising and scanning, drop every link, power everything off."""
        if not self._open and not self._devices:
            return
        # Order matters: switch auto-restart off first so a disconnect below does not
        # restart advertising, then stop peripherals' background tasks and advertising
        # before powering off, or bumble leaves timer callbacks/tasks pending.
        self._open = False
        for peripheral in self.peripherals.values():
            await peripheral._detach()
        central = self.central
        if central is not None and central.powered_on:
            self._scan_listeners.clear()
            if central.is_scanning:
                with contextlib.suppress(Exception):
                    await central.stop_scanning()
            for connection in list(central.connections.values()):
                await self._drop(connection)
        for device in self._devices:
            for connection in list(device.connections.values()):
                await self._drop(connection)
        for peripheral in self.peripherals.values():
            await peripheral._detach()  # disconnect hooks may have started tasks
        for device in self._devices:
            with contextlib.suppress(Exception):
                await device.power_off()
        self._devices.clear()
        # Let the last HCI packets in flight (call_soon in the pipes) drain.
        for _ in range(3):
            await asyncio.sleep(0)

    @staticmethod
    async def _drop(connection: Connection) -> None:
        try:
            async with asyncio.timeout(1.0):
                await connection.disconnect()
        except Exception:  # already gone / racing a peer disconnect
            logger.debug("disconnect at teardown failed", exc_info=True)

    # ------------------------------------------------------------------ peripherals
    async def add(self, peripheral: VirtualPeripheral) -> str:
        """Power ``peripheral`` on, register its GATT services, start advertising.

        Returns:
            Its random static address, ``F0:00:00:00:00:01``, ``...:02``, ...
        """
        if not self._open or self.link is None:
            raise RuntimeError("VirtualBleWorld is not open (use 'async with')")
        index = self._next_index
        self._next_index += 1
        address = f"F0:00:00:00:{index >> 8:02X}:{index & 0xFF:02X}"
        _controller, device = _make_device(peripheral.name or address, address, self.link)
        await device.power_on()
        self._devices.append(device)
        if peripheral.rssi is None:
            peripheral.rssi = -50 - index
        self.peripherals[address] = peripheral
        await peripheral._attach(self, device, address)
        return address

    def peripheral(self, address: str) -> VirtualPeripheral | None:
        """The peripheral at ``address`` (any case), if any."""
        return self.peripherals.get(address.upper())

    # ------------------------------------------------------------------ scanning (backend)
    async def add_scan_listener(self, key: int, listener: Callable[[Advertisement], None]) -> None:
        """Start delivering advertisements to ``listener`` (starts the central's scan)."""
        assert self.central is not None
        async with self._scan_lock:
            self._scan_listeners[key] = listener
            if not self.central.is_scanning:
                # Passive scanning: the virtual controller reports every advertisement
                # twice (as ADV and as a fake SCAN_RSP carrying the same data), and an
                # active scan makes bumble merge the two into one report with every AD
                # structure duplicated. Passive mode reports the ADV on its own (the
                # merged scan-response report is dropped in _on_advertisement).
                await self.central.start_scanning(active=False, filter_duplicates=False)

    async def remove_scan_listener(self, key: int) -> None:
        """Stop delivering to ``key``; stops scanning when nobody listens any more."""
        async with self._scan_lock:
            self._scan_listeners.pop(key, None)
            central = self.central
            if (
                not self._scan_listeners
                and central is not None
                and central.powered_on
                and central.is_scanning
            ):
                await central.stop_scanning()

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        if advertisement.is_scan_response:
            return  # see add_scan_listener: a duplicate of the ADV just reported
        for listener in list(self._scan_listeners.values()):
            listener(advertisement)

    # ------------------------------------------------------------------ connecting (backend)
    def abandon_pending_connection(self) -> None:
        """Clear the central controller's pending LE connection after a timed-out connect.

        bumble gap: HCI_LE_Create_Connection_Cancel is acknowledged but does nothing, so
        the controller keeps the pending connection and refuses the next connect with
        COMMAND_DISALLOWED (and would silently connect to the old target once it shows
        up). A real controller drops it on cancel.
        """
        if self.central_controller is not None:
            self.central_controller.pending_le_connection = None

    def __repr__(self) -> str:
        return f"<VirtualBleWorld open={self._open} peripherals={list(self.peripherals)}>"
