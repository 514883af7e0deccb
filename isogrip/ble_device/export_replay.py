"""``replay:FOLDER``: play the force of an exported session through the normal path.

``FOLDER`` is an export folder, or its ``samples.csv`` or ``samples.parquet``.

The recorded samples are sent in batches the size a live device would send (its
nominal rate, 80 Hz by default, in 12.5 ms notifications), at their recorded spacing
on the session clock, so ``--speed max`` plays an hour in seconds. Device-clock times
are passed on when the export has them. Tare is the base's software tare, as for
captures; before the play starts it averages the recording's first batch, what the
"device" shows at rest before it is replayed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from isogrip.ble_device.base import DeviceInfo, SampleBatch
from isogrip.ble_device.driver import DriverBase
from isogrip.clock import Clock
from isogrip.errors import DeviceSpecError, InputFileError
from isogrip.extras import RESEARCH, import_extra
from isogrip.files import (
    SAMPLES_FILE_LIMIT,
    SMALL_FILE_LIMIT,
    read_limited_bytes,
    read_limited_text,
)
from isogrip.storage.csv_numbers import LOOSE_WIDTH, loose_numbers, split_lines

#: Seconds of samples per replayed notification.
BATCH_S = 0.0125


def read_export_samples(path: Path) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                              NDArray[np.float64], float]:
    """Times, device times and forces of an export, and its nominal rate (Hz).

    Both files are read through :mod:`isogrip.files`: regular files only (a FIFO or a
    device would block or never end) of bounded size.

    Raises:
        DeviceSpecError: The path is not a readable export.
    """
    folder = path if path.is_dir() else path.parent
    rate = _nominal_rate(folder / "summary.json")
    if path.is_dir():
        path = next((p for p in (folder / "samples.parquet", folder / "samples.csv")
                     if p.is_file()), folder / "samples.csv")
    try:
        data = read_limited_bytes(path, SAMPLES_FILE_LIMIT, "samples file")
    except FileNotFoundError:
        raise DeviceSpecError(f"replay: {path} is not a readable session export "
                              "(no such file)") from None
    except InputFileError as exc:  # names the file and says why, in one line
        raise DeviceSpecError(f"replay: {exc}") from None
    try:
        if path.suffix == ".parquet":
            t, td, f = _parquet_columns(data)
        else:
            t, td, f = _csv_columns(data)
    except (OSError, ValueError, KeyError) as exc:
        raise DeviceSpecError(f"replay: {path} is not a readable session export ({exc})") \
            from exc
    ok = np.isfinite(t) & np.isfinite(f)
    if not ok.any():
        raise DeviceSpecError(f"replay: {path} holds no samples")
    back = np.flatnonzero(np.diff(t[ok]) < 0)
    if back.size:  # a replay plays the samples in the order of their times
        raise DeviceSpecError(f"replay: {path}: the times go backwards after sample "
                              f"{int(back[0]) + 1}; not an isogrip export")
    return t[ok], td[ok], f[ok], rate


_COLUMNS = ("t_s", "t_device_s", "force_n")
F64 = NDArray[np.float64]


def _parquet_columns(data: bytes) -> tuple[F64, F64, F64]:
    """The three columns of a ``samples.parquet`` (pyarrow: the ``research`` extra).

    Raises:
        MissingExtraError: pyarrow is not installed.
    """
    pa = import_extra("pyarrow", "Replaying a Parquet export", RESEARCH)
    pq = import_extra("pyarrow.parquet", "Replaying a Parquet export", RESEARCH)
    table = pq.read_table(pa.BufferReader(data), columns=list(_COLUMNS))
    t, td, f = (np.asarray(table.column(c).to_numpy(zero_copy_only=False), np.float64)
                for c in _COLUMNS)
    return t, td, f


def _csv_columns(data: bytes) -> tuple[F64, F64, F64]:
    """The three columns of a ``samples.csv``, found by the names in its header.

    Raises:
        ValueError: A column is missing, a line has fewer or more fields than the
            header, or a field is not a number.
    """
    end = data.find(b"\n")
    header = (data if end < 0 else data[:end]).rstrip(b"\r").decode("utf-8", "replace")
    names = header.split(",")
    missing = [c for c in _COLUMNS if c not in names]
    if missing:
        raise ValueError(f"no column {missing[0]!r}")
    lines = split_lines(data)
    counts = lines.field_counts()
    bad = np.flatnonzero((counts != len(names)) & (counts != 0))
    if bad.size:
        raise ValueError(f"line {int(bad[0]) + 2} has {int(counts[bad[0]])} fields, the "
                         f"header {len(names)}")
    index = [names.index(c) for c in _COLUMNS]
    spans = lines.leading_fields(max(index) + 1, LOOSE_WIDTH)
    t, td, f = (loose_numbers(lines, spans[i]) for i in index)
    return t, td, f


#: The rate assumed when the summary does not give a usable one, Hz.
DEFAULT_RATE_HZ = 80.0
#: The highest rate believed of a summary, Hz (no supported device comes near).
MAX_RATE_HZ = 10_000.0


def _nominal_rate(summary: Path) -> float:
    """The device's nominal rate from an export's summary, else :data:`DEFAULT_RATE_HZ`.

    The rate is a nicety (it sets the replay's pacing); the samples matter. A missing,
    unreadable, deeply nested or odd summary (a rate that is text, NaN, negative or
    absurd) gives the default rather than an error or an unusable device.
    """
    try:
        text = read_limited_text(summary, SMALL_FILE_LIMIT, "summary file")
        data = json.loads(text)
    except (OSError, ValueError, RecursionError):
        return DEFAULT_RATE_HZ
    info = data.get("device_info") if isinstance(data, dict) else None
    value = info.get("nominal_rate_hz") if isinstance(info, dict) else None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return DEFAULT_RATE_HZ
    if isinstance(value, bool) or not isinstance(value, int | float):
        return DEFAULT_RATE_HZ
    if not (math.isfinite(value) and 0 < value <= MAX_RATE_HZ):
        return DEFAULT_RATE_HZ
    return float(value)


class ExportReplayDevice(DriverBase[bytes]):
    """Plays an exported session's force as if a device sent it.

    Args:
        path: Export folder, ``samples.csv`` or ``samples.parquet``.
        clock: Session clock.
        loop: Start again at the end.
    """

    def __init__(self, path: Path, clock: Clock, *, loop: bool = False) -> None:
        super().__init__()
        self.t, self.t_device, self.force, rate = read_export_samples(path)
        self._has_clock = bool(np.isfinite(self.t_device).all())
        self._clock = clock
        self._loop = loop
        per = max(1, round(rate * BATCH_S))
        self._bounds = [*range(0, len(self.t), per), len(self.t)]
        self._info = DeviceInfo(kind="replay", name=f"Replay of {path.name}",
                                address=f"replay:{path}", nominal_rate_hz=rate,
                                has_clock=self._has_clock, extra={"replay": str(path)})

    async def connect(self) -> None:
        """Open the replay; the recording's first batch is what a tare before play sees."""
        await super().connect()
        self._zero.note(self._clock.now(), self.force[:self._bounds[1]])

    async def _stream(self) -> None:
        t0 = float(self.t[0])
        lap = 0.0  # device time added per loop, so it keeps rising
        while True:
            start = self._clock.now()
            for a, b in zip(self._bounds, self._bounds[1:], strict=False):
                at = start + float(self.t[b - 1]) - t0
                await self._clock.sleep_until(at)
                dev = self.t_device[a:b] + lap if self._has_clock else None
                self._hand_over(SampleBatch(self.force[a:b], dev), at)
            if not self._loop:
                return
            lap += float(self.t[-1] - t0) + BATCH_S
