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

from isogrip.ble_device.base import DeviceInfo, Packet
from isogrip.ble_device.capture import read_capture
from isogrip.ble_device.driver import DriverBase
from isogrip.ble_device.gatt import GattProfile
from isogrip.ble_device.profiles import PROFILES
from isogrip.ble_device.registry import DeviceContext, DeviceSpec
from isogrip.clock import Clock
from isogrip.errors import DeviceSpecError


class ReplayDevice(DriverBase[bytes]):
    """Replays a capture as notifications of ``profile``'s device.

    Tare is the base's software tare (the last second played), as for a device without
    a tare command: a capture cannot be sent commands.

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
        self._decoder = profile.make_decoder() if profile.make_decoder else profile.decode
        self._clock = clock
        self._loop = loop
        self._info = DeviceInfo(kind=profile.kind, name=f"Replay of {path.name}",
                                address=f"replay:{path}",
                                nominal_rate_hz=profile.nominal_rate_hz,
                                has_clock=profile.has_clock, full_scale_n=profile.full_scale_n,
                                extra={"replay": str(path)})

    async def _stream(self) -> None:
        t_first = self.items[0][0]
        start = self._clock.now()
        while True:
            for t, data in self.items:
                at = start + (t - t_first)
                await self._clock.sleep_until(at)
                self._receive(data, at)
            if not self._loop:
                return
            start = self._clock.now() + 0.1
            t_first = self.items[0][0]

    def _decode(self, data: bytes) -> Packet:
        return self._decoder(data)


def create(spec: DeviceSpec, context: DeviceContext) -> DriverBase[bytes]:
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
