"""Virtual SIG blood-pressure cuff (service 0x1810)."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Sequence

from .peripheral import CharSpec, VirtualPeripheral

BP_SERVICE_UUID = "00001810-0000-1000-8000-00805f9b34fb"
BP_MEASUREMENT_UUID = "00002a35-0000-1000-8000-00805f9b34fb"
BP_FEATURE_UUID = "00002a49-0000-1000-8000-00805f9b34fb"


class BpCuffPeripheral(VirtualPeripheral):
    """A cuff that indicates its stored readings once a central subscribes.

    GATT: Blood Pressure Measurement 0x2A35 (indicate only, as the spec requires) and
    Blood Pressure Feature 0x2A49 (read, u16 LE). The 0x1810 UUID and the name are
    advertised. Each raw value in ``readings`` goes out as one indication, in order,
    ``gap_s`` apart, starting when the central enables indications (like a cuff
    sending its memory after a measurement). Like a real cuff it sends its whole memory
    again at every connection; ``repeats`` sends it that many times in one connection
    (a cuff that starts over), and ``hang_up`` ends the link once all is sent (as many
    cuffs do). ``readings`` is the memory: append to it to take a new measurement.

    Attributes (for assertions): ``sent``.
    """

    def __init__(self, readings: Sequence[bytes], name: str = "BP7000", *,
                 gap_s: float = 0.02, features: int = 0x0001, repeats: int = 1,
                 hang_up: bool = False) -> None:
        super().__init__(
            name,
            {BP_SERVICE_UUID: [
                CharSpec(BP_MEASUREMENT_UUID, ["indicate"]),
                CharSpec(BP_FEATURE_UUID, ["read"],
                         on_read=lambda: struct.pack("<H", self.features)),
            ]},
            service_uuids_in_adv=[BP_SERVICE_UUID],
        )
        self.readings = list(readings)
        self.gap_s = gap_s
        self.features = features
        self.repeats = repeats
        self.hang_up = hang_up
        self.sent = 0
        self._task: asyncio.Task[None] | None = None

    def on_connect(self) -> None:
        self._task = self.spawn(self._send_when_subscribed())

    async def _send_when_subscribed(self) -> None:
        while not self.subscribed(BP_MEASUREMENT_UUID):
            if not self.connected:
                return
            await asyncio.sleep(0.01)
        for value in list(self.readings) * self.repeats:
            await self.notify(BP_MEASUREMENT_UUID, value)  # indicate: the only property
            self.sent += 1
            await asyncio.sleep(self.gap_s)
        if self.hang_up:
            await self.disconnect()
