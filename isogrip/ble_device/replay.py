"""``replay:PATH``: play a packet capture through the same decode path as the live device.

``PATH`` may also be a session export (its folder, ``samples.csv`` or
``samples.parquet``): see :mod:`isogrip.ble_device.export_replay`.

A capture is a text file with one notification per line, ``<receive time s> <hex>``
(see ``fixtures/captures/README.md``). The device family comes from ``?device=NAME``
or from the file name (``progressor.hex``, ``progressor-faults.hex``). Replay runs on
the session clock, so ``--speed max`` plays a capture as fast as it decodes.

Options: ``device`` (progressor, ...), ``loop=1`` to play the capture over and over.
"""

from __future__ import annotations

from pathlib import Path

from isogrip.ble_device.base import (
    DeviceInfo,
    DriverBase,
    SampleBatch,
)
from isogrip.ble_device.capture import read_capture
from isogrip.ble_device.codec import safe_decode
from isogrip.ble_device.gatt import GattProfile
from isogrip.ble_device.profiles import PROFILES
from isogrip.ble_device.registry import DeviceContext, DeviceSpec
from isogrip.clock import Clock
from isogrip.errors import DeviceSpecError


class ReplayDevice(DriverBase):
    """Replays a capture as notifications of ``profile``'s device.

    Args:
        path: Capture file.
        profile: Device family whose decoder is used.
        clock: Session clock.
        loop: Start again at the end of the capture.
    """

    def __init__(self, path: Path, profile: GattProfile, clock: Clock, *,
                 loop: bool = False) -> None:
        super().__init__()
        self.items = read_capture(path)
        if not self.items:
            raise DeviceSpecError(f"replay: {path} holds no notifications")
        self.profile = profile
        # Frames that span notifications need the stateful decoder, as live.
        self._decode = profile.make_decoder() if profile.make_decoder else profile.decode
        self._clock = clock
        self._loop = loop
        self._connected = False
        self._offset_n = 0.0
        self._last_force = 0.0
        self._info = DeviceInfo(kind=profile.kind, name=f"Replay of {path.name}",
                                address=f"replay:{path}",
                                nominal_rate_hz=profile.nominal_rate_hz,
                                has_clock=profile.has_clock, full_scale_n=profile.full_scale_n,
                                extra={"replay": str(path)})

    @property
    def is_connected(self) -> bool:
        """Whether the replay is open."""
        return self._connected

    async def connect(self) -> None:
        """Open the replay."""
        self._connected = True

    async def start(self) -> None:
        """Start playing."""
        self._start_stream_task(self._play)

    async def stop(self) -> None:
        """Stop playing."""
        await self._stop_stream_task()

    async def tare(self) -> None:
        """Software tare on the latest reading."""
        self._offset_n = self._last_force

    async def battery(self) -> float | None:
        """Unknown for a replay."""
        return None

    async def disconnect(self) -> None:
        """Close the replay."""
        await self.stop()
        self._connected = False

    async def _play(self) -> None:
        t_first = self.items[0][0]
        start = self._clock.now()
        while True:
            for t, data in self.items:
                at = start + (t - t_first)
                await self._clock.sleep_until(at)
                self._notification(data, at)
            if not self._loop:
                return
            start = self._clock.now() + 0.1
            t_first = self.items[0][0]

    def _notification(self, data: bytes, host_rx: float) -> None:
        d = safe_decode(self._decode, data, self.stats, self._report_damage)
        if d is not None and d.force_n.size and self._on_samples is not None:
            self._last_force = float(d.force_n[-1])
            self._on_samples(SampleBatch(host_rx, d.force_n - self._offset_n, d.device_t_s))

def create(spec: DeviceSpec, context: DeviceContext) -> DriverBase:
    """Factory for ``replay:PATH[?device=NAME&loop=1]`` (a capture or a session export)."""
    if not spec.argument:
        raise DeviceSpecError("replay needs a file: replay:path/to/capture.hex or an "
                              "exported session folder")
    path = Path(spec.argument).expanduser()
    unknown = set(spec.params) - {"device", "loop"}
    if unknown:
        raise DeviceSpecError(f"replay: unknown option(s) {', '.join(sorted(unknown))}; "
                              "options: device, loop")
    loop = spec.params.get("loop", "0") not in ("0", "", "false", "no")
    if path.is_dir() or (path.is_file() and path.suffix in (".csv", ".parquet")):
        from isogrip.ble_device.export_replay import ExportReplayDevice

        return ExportReplayDevice(path, context.clock, loop=loop)
    if not path.is_file():
        raise DeviceSpecError(f"replay: no such capture file or export folder: {path}")
    name = spec.params.get("device") or path.stem.split("-")[0]
    if name not in PROFILES:
        raise DeviceSpecError(
            f"replay: cannot tell which device recorded {path.name}; add "
            f"?device=NAME (one of: {', '.join(PROFILES)})")
    return ReplayDevice(path, PROFILES[name], context.clock, loop=loop)
