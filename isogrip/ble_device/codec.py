r"""Types shared by every device codec: the decode error, the samples, error counters.

Every codec module (``progressor``, ``forceboard``, ``whc06``, ``cts500``, ``entralpi``,
``weightscale``) decodes its samples into :class:`SampleBatch`, the one type that then
travels, stamped by the driver, all the way to the runtime. It raises
:class:`DecodeError` for bad input and nothing else, so a notification callback can
wrap any decoder in :func:`safe_decode`, which counts and logs the error and never
raises.

Example:
    >>> from isogrip.ble_device import entralpi
    >>> stats = CodecStats()
    >>> safe_decode(entralpi.decode, b"\x01", stats) is None
    True
    >>> round(float(safe_decode(entralpi.decode, bytes.fromhex("04d2"), stats).force_n[0]), 3)
    121.014
    >>> stats.as_dict()["truncated"], stats.as_dict()["decoded"]
    (1, 1)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Literal, TypeVar, get_args

import numpy as np
from numpy.typing import NDArray

from isogrip.errors import IsogripError

#: Why a packet could not be decoded.
DecodeErrorKind = Literal[
    "truncated",  # fewer bytes than the packet's own header (or the format) needs
    "malformed",  # lengths or fields that contradict each other
    "unknown_type",  # a record type / opcode this codec does not know
    "out_of_range",  # a value no working device sends (or "measurement failed")
    "nonfinite",  # NaN or infinity where a number was expected
    "bad_checksum",  # a frame whose checksum does not add up
]
DECODE_ERROR_KINDS: tuple[str, ...] = get_args(DecodeErrorKind)

_log = logging.getLogger(__name__)
T = TypeVar("T")
D = TypeVar("D")


class DecodeError(IsogripError, ValueError):
    """A packet could not be decoded.

    Attributes:
        kind: Why, one of :data:`DECODE_ERROR_KINDS` (``"truncated"``,
            ``"malformed"``, ``"unknown_type"``, ``"out_of_range"``, ``"nonfinite"``,
            ``"bad_checksum"``); used for counting, the message is for people.
    """

    def __init__(self, message: str, kind: DecodeErrorKind = "malformed") -> None:
        self.kind: DecodeErrorKind = kind
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class SampleBatch:
    """Force samples from one packet: what a codec decodes and a driver hands over.

    A codec fills in the samples; the driver that received the packet stamps the batch
    with the host time it arrived (:meth:`stamped`) and hands it to the runtime, so one
    type travels from the bytes to the recorder.

    Attributes:
        force_n: Force of each sample, N.
        device_t_s: Device clock of each sample, s, or ``None`` for devices without
            a clock. Not yet unwrapped: a u32 microsecond counter wraps.
        saturated: At least one sample reached the device's full scale (or the largest
            value its field can hold): the true force may have been higher.
        unknown_bytes: Bytes of the packet no public source explains, left undecoded
            (not an error: counted, never read as force).
        host_rx_s: Host monotonic time the packet arrived, s; NaN until a driver
            stamps the batch (a codec cannot know it).
    """

    force_n: NDArray[np.float64]
    device_t_s: NDArray[np.float64] | None = None
    saturated: bool = False
    unknown_bytes: int = 0
    host_rx_s: float = math.nan

    def __len__(self) -> int:
        return int(self.force_n.shape[0])

    def stamped(self, host_rx_s: float, offset_n: float = 0.0, *,
                clock: bool = True) -> SampleBatch:
        """This batch as received at ``host_rx_s``, ``offset_n`` (a software tare) taken off.

        Args:
            host_rx_s: When the packet arrived, s.
            offset_n: Subtracted from every force, N.
            clock: Keep the device times; False drops them (a device whose clock is
                too coarse to time samples, such as a weight scale's 1 s timestamp).

        Example:
            >>> b = SampleBatch(np.array([5.0, 7.0])).stamped(2.5, offset_n=5.0)
            >>> b.host_rx_s, b.force_n.tolist()
            (2.5, [0.0, 2.0])
        """
        force = self.force_n - offset_n if offset_n else self.force_n
        times = self.device_t_s if clock else None
        return replace(self, force_n=force, device_t_s=times, host_rx_s=host_rx_s)


@dataclass(frozen=True)
class CommandResponse:
    """A device's reply to the last command written to it (battery, firmware, id ...).

    Attributes:
        payload: The reply's bytes.
    """

    payload: bytes


@dataclass
class CodecStats:
    """Counters for one decoding stream (one connection or one capture).

    Attributes:
        decoded: Packets (or frames) decoded successfully.
        truncated: Packets shorter than their format needs.
        malformed: Packets whose lengths or fields contradict each other.
        unknown_type: Packets of a type the codec does not know.
        out_of_range: Packets holding an impossible value.
        nonfinite: Packets holding NaN or infinity.
        bad_checksum: Frames whose checksum failed.
        skipped_bytes: Bytes thrown away while looking for the next frame start.
        unknown_bytes: Bytes of decoded packets whose meaning is not known, left
            undecoded (not an error; e.g. an Entralpi notification longer than its
            force field).
        saturated: Decoded packets with a sample at full scale (not an error).
        internal_error: Exceptions other than :class:`DecodeError` (a codec bug).
    """

    decoded: int = 0
    truncated: int = 0
    malformed: int = 0
    unknown_type: int = 0
    out_of_range: int = 0
    nonfinite: int = 0
    bad_checksum: int = 0
    skipped_bytes: int = 0
    unknown_bytes: int = 0
    saturated: int = 0
    internal_error: int = 0

    def record(self, kind: str, n: int = 1) -> int:
        """Add ``n`` to the counter ``kind`` and return its new value.

        Raises:
            ValueError: ``kind`` names no counter.
        """
        if kind not in _COUNTERS:
            raise ValueError(f"unknown codec counter {kind!r}")
        value: int = getattr(self, kind) + n
        setattr(self, kind, value)
        return value

    @property
    def errors(self) -> int:
        """Packets or frames rejected, of every kind (skipped bytes not included)."""
        total: int = sum(getattr(self, k) for k in DECODE_ERROR_KINDS)
        return total + self.internal_error

    def as_dict(self) -> dict[str, int]:
        """Every counter by name (for status messages and session metadata)."""
        return {name: getattr(self, name) for name in _COUNTERS}


_COUNTERS = tuple(f.name for f in fields(CodecStats))


def report_due(n: int) -> bool:
    """Whether the ``n``-th error should be reported: 1st, 10th, 100th, every 1000th.

    Damaged packets can arrive at the full sample rate; reporting each would flood the
    log and the user's screen, reporting none would hide a failing device.
    """
    return n in (1, 10, 100) or (n > 0 and n % 1000 == 0)


Log = logging.Logger | Callable[[str], object]


def _emit(log: Log | None, message: str) -> None:
    if log is None:
        _log.warning(message)
    elif isinstance(log, logging.Logger):
        log.warning(message)
    else:
        log(message)


def safe_decode(
    decode_fn: Callable[[D], T],
    data: D,
    stats: CodecStats,
    log: Log | None = None,
) -> T | None:
    """Decode one packet inside a notification callback: count errors, never raise.

    Args:
        decode_fn: A codec's decode function.
        data: The packet's bytes.
        stats: Counters to update (``decoded``, ``saturated``, ``unknown_bytes`` or the
            error's kind).
        log: Where rate-limited error reports go: a ``logging.Logger`` (warning level),
            any callable taking the message, or ``None`` for this module's logger.

    Returns:
        What ``decode_fn`` returned, or ``None`` when the packet was rejected.
    """
    try:
        result = decode_fn(data)
    except DecodeError as exc:
        kind = exc.kind if exc.kind in DECODE_ERROR_KINDS else "malformed"
        stats.record(kind)
        problem = str(exc)
    except Exception as exc:  # a codec bug must not kill the notification callback
        stats.record("internal_error")
        problem = f"codec error {type(exc).__name__}: {exc}"
    else:
        stats.record("decoded")
        if isinstance(result, SampleBatch):
            _count_samples(result, stats)
        return result
    n = stats.errors
    if report_due(n):
        try:
            _emit(log, f"{n} damaged packet(s) ignored so far; latest: {problem}")
        except Exception:  # a broken log sink must not break decoding either
            _log.exception("error report failed")
    return None


def _count_samples(batch: SampleBatch, stats: CodecStats) -> None:
    """Count a decoded batch's saturation and bytes of unknown meaning (said once)."""
    if batch.saturated:
        stats.record("saturated")
    n = batch.unknown_bytes
    if n <= 0:
        return
    if stats.unknown_bytes == 0:
        _log.info("the device sends %d byte(s) per packet that no known format explains; "
                  "they are counted (unknown_bytes) and never read as force", n)
    stats.record("unknown_bytes", n)
