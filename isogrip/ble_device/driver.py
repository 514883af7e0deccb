"""What every driver shares, implemented once: :class:`DriverBase` and the software tare.

A driver supplies only what differs (its decode, its device commands, how its
advertisements look); the base turns each packet into a stamped, tared
:class:`~isogrip.ble_device.codec.SampleBatch` handed to the consumer, and zeroes
devices that have no tare command from a short rest window.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

from isogrip.ble_device.base import (
    Advert,
    DeviceInfo,
    DeviceStatus,
    DisconnectHandler,
    Packet,
    SampleHandler,
    StatusHandler,
)
from isogrip.ble_device.codec import (
    CodecStats,
    CommandResponse,
    SampleBatch,
    report_due,
    safe_decode,
)
from isogrip.signal.units import KGF_N

#: How much of the latest readings a software tare averages, s (~1 s unloaded).
TARE_WINDOW_S = 1.0


class SoftwareTare:
    """Zero for devices without a tare command: the mean of a short rest window.

    The driver notes every raw (untared) batch; :meth:`zero` makes the mean of the
    readings of the last :data:`TARE_WINDOW_S` the new zero. A second tare replaces the
    offset, it does not add to it.

    Example:
        >>> tare = SoftwareTare()
        >>> tare.note(0.0, np.array([9.0])); tare.note(2.0, np.array([2.0, 4.0]))
        >>> tare.zero(); tare.offset_n
        3.0
    """

    def __init__(self, window_s: float = TARE_WINDOW_S) -> None:
        self.window_s = window_s
        self.offset_n = 0.0
        # A bound all the same: a clock that stands still would never age readings out.
        self._recent: deque[tuple[float, NDArray[np.float64]]] = deque(maxlen=4096)

    def note(self, host_rx_s: float, force_n: NDArray[np.float64]) -> None:
        """Remember one batch of raw readings; forget those older than the window."""
        recent = self._recent
        recent.append((host_rx_s, force_n))
        while recent and recent[0][0] < host_rx_s - self.window_s:
            recent.popleft()

    def zero(self) -> None:
        """Make the mean of the window's readings zero (no readings: nothing changes)."""
        if self._recent:
            self.offset_n = float(np.mean(np.concatenate([f for _, f in self._recent])))


RawT = TypeVar("RawT")


class DriverBase(Generic[RawT]):
    """What every driver shares: callbacks, info, the notification path, the tare.

    A driver supplies only what differs:

    - :meth:`_decode`: one packet (``RawT``: notification bytes, or an advertisement)
      to a :data:`Packet`; raise :class:`~isogrip.ble_device.codec.DecodeError` when
      it is damaged. Its transport calls :meth:`_receive` with each packet and the
      host time it arrived; a source that already holds samples calls
      :meth:`_hand_over`.
    - :meth:`_tare_command`: the device's own tare, if it has one (otherwise
      :meth:`tare` is a software tare).
    - :meth:`_stream`: a task producing packets, for sources nothing pushes (a
      simulation, a replay). Connected devices override the lifecycle methods instead.
    - How scanning and ``ble:<address>`` know its devices: :attr:`advert_names`,
      :attr:`advert_service_uuids`, :attr:`advert_company_ids`, or an override of the
      classmethod :meth:`recognises`. A driver class registered through the
      ``isogrip.devices`` entry point is asked like the built-in drivers.

    Subclasses set ``self._info`` and call ``super().__init__()``.
    """

    #: Human name of the device family (scan's "kind" column).
    display_name: ClassVar[str] = ""
    #: Advertised names (prefixes) of the driver's devices.
    advert_names: ClassVar[tuple[str, ...]] = ()
    #: Advertised service UUIDs of the driver's devices.
    advert_service_uuids: ClassVar[tuple[str, ...]] = ()
    #: Company ids of manufacturer data the driver's devices advertise.
    advert_company_ids: ClassVar[tuple[int, ...]] = ()

    _info: DeviceInfo

    def __init__(self) -> None:
        self._on_samples: SampleHandler | None = None
        self._on_disconnect: DisconnectHandler | None = None
        self._on_status: StatusHandler | None = None
        self._task: asyncio.Task[None] | None = None  # streaming task, if the driver has one
        self._connected = False
        # Whether batches reach on_samples (advertisement devices only pass them on
        # between start and stop; the tare window sees them all the same).
        self._delivering = True
        self._zero = SoftwareTare()
        self.stats = CodecStats()

    @classmethod
    def recognises(cls, advert: Advert) -> bool:
        """Whether an advertisement is one of this driver's devices."""
        return advert.matches(cls.advert_names, cls.advert_service_uuids,
                              cls.advert_company_ids)

    @property
    def info(self) -> DeviceInfo:
        """Device description."""
        return self._info

    def set_handlers(
        self,
        on_samples: SampleHandler,
        on_disconnect: DisconnectHandler | None = None,
        on_status: StatusHandler | None = None,
    ) -> None:
        """Register the callbacks (called on the runtime's event loop)."""
        self._on_samples = on_samples
        self._on_disconnect = on_disconnect
        self._on_status = on_status

    @property
    def malformed_count(self) -> int:
        """Packets rejected so far."""
        return self.stats.errors

    # -- ForceDevice, for sources without a link of their own ---------------------------
    @property
    def is_connected(self) -> bool:
        """Whether the device is open."""
        return self._connected

    async def connect(self) -> None:
        """Open the device."""
        self._connected = True

    async def start(self) -> None:
        """Start streaming: run :meth:`_stream` unless it is running."""
        self._start_stream_task(self._stream)

    async def stop(self) -> None:
        """Stop streaming."""
        await self._stop_stream_task()

    async def tare(self) -> None:
        """Zero the reading: the device's tare command, or a software tare.

        The software tare makes the mean of the last second of readings zero (hold the
        device still and unloaded).
        """
        if not await self._tare_command():
            self._zero.zero()

    async def battery(self) -> float | None:
        """Battery level in percent; unknown unless the driver reads it."""
        return None

    async def disconnect(self) -> None:
        """Stop and close."""
        await self.stop()
        self._connected = False

    # -- what a driver supplies -----------------------------------------------------
    def _decode(self, data: RawT) -> Packet:
        """Decode one packet (the driver's codec).

        Raises:
            DecodeError: The packet is damaged.
        """
        raise NotImplementedError(f"{type(self).__name__} decodes no packets")

    async def _tare_command(self) -> bool:
        """Send the device's own tare command; False when it has none (the default)."""
        return False

    async def _stream(self) -> None:
        """Produce packets until cancelled; by default none (they are pushed)."""

    def _on_response(self, response: CommandResponse) -> None:
        """A reply to a command arrived (drivers that send requests override this)."""

    # -- the one notification path ----------------------------------------------------
    def _receive(self, data: RawT, host_rx_s: float) -> Packet:
        """Decode one packet, stamp it and hand it over. Never raises.

        Returns:
            What the packet decoded to (None when it was rejected), for a transport
            that must know (e.g. to lock on to the device that sent it).
        """
        packet = safe_decode(self._decode, data, self.stats, self._report_damage)
        if isinstance(packet, SampleBatch):
            self._hand_over(packet, host_rx_s)
        elif isinstance(packet, CommandResponse):
            self._on_response(packet)
        elif isinstance(packet, DeviceStatus) and self._on_status is not None:
            self._on_status(packet)
        return packet

    def _hand_over(self, batch: SampleBatch, host_rx_s: float) -> None:
        """Stamp a decoded batch, take off the software tare, pass it to the consumer."""
        if batch.saturated:
            self._report_saturation()
        if not len(batch):
            return
        self._zero.note(host_rx_s, batch.force_n)  # raw readings: before the tare
        if self._delivering and self._on_samples is not None:
            self._on_samples(batch.stamped(host_rx_s, self._zero.offset_n,
                                           clock=self._info.has_clock))

    # -- plumbing ---------------------------------------------------------------------
    def _start_stream_task(self, stream: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``stream()`` as the device's streaming task unless one is running."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(stream())

    async def _stop_stream_task(self) -> None:
        """Cancel the streaming task and wait for it to end."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _report_damage(self, message: str) -> None:
        """Pass a (rate-limited) damaged-packet report on to the log and the user."""
        logging.getLogger(__name__).warning("%s: %s", self._info.name, message)
        if self._on_status is not None:
            self._on_status(DeviceStatus("malformed", message, self.stats.as_dict()))

    def _report_saturation(self) -> None:
        """Tell the user (rate-limited) that readings reached the device's full scale."""
        if self._on_status is None or not report_due(self.stats.saturated):
            return
        full_scale_n = self._info.full_scale_n
        limit = "" if full_scale_n is None else f" ({full_scale_n / KGF_N:.0f} kg)"
        self._on_status(DeviceStatus(
            "saturated",
            f"The device reached the top of its range{limit}: forces above it are not "
            "measured.", {"count": self.stats.saturated}))
