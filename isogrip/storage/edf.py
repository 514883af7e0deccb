"""A small EDF+ writer: continuous signals in 1-s data records and whole annotations.

EDF+ (https://www.edfplus.info/specs/edfplus.html) stores each signal as 16-bit
integers per fixed-length data record, and annotations as Time-stamped Annotation
Lists (TALs) in a signal labelled ``EDF Annotations``. The format puts no limit on the
length of an annotation; it only asks that every TAL lies whole inside one data record.
edflib (and so pyedflib's writer) cuts every annotation to 40 bytes at compile time
("back_in_band: Good, back in the green ba"), so isogrip writes the file itself and
sizes the annotation signal so that every event fits whole: each TAL goes into the
data record of its onset, or the next one with room.

Only what isogrip needs is written: continuous recordings (``EDF+C``), 1-s records,
one rate for all signals. Files read back with pyedflib and EDFbrowser.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Final

import numpy as np
from numpy.typing import NDArray

from isogrip.errors import StorageError

DIGITAL_MIN: Final = -32768
DIGITAL_MAX: Final = 32767
ANNOTATIONS_LABEL: Final = "EDF Annotations"
#: TAL separators (EDF+ section 2.2.2).
_ONSET_END, _TEXT_END, _TAL_END = b"\x15", b"\x14", b"\x00"
_MONTHS: Final = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                  "NOV", "DEC")


@dataclass(frozen=True)
class EdfSignal:
    """One signal, in physical units, one value per sample at the file's rate.

    Attributes:
        label: Signal label (at most 16 ASCII characters).
        dimension: Physical unit (at most 8 ASCII characters), e.g. ``"N"``.
        values: Physical values; NaN is written as ``physical_min``.
        physical_min: Physical value of the lowest digital value.
        physical_max: Physical value of the highest digital value.
        transducer: Transducer type (at most 80 characters).
        prefilter: Filtering applied (at most 80 characters).
    """

    label: str
    dimension: str
    values: NDArray[np.float64]
    physical_min: float
    physical_max: float
    transducer: str = ""
    prefilter: str = ""


@dataclass(frozen=True)
class EdfAnnotation:
    """One annotation.

    Attributes:
        onset_s: Seconds from the start of the file (may not be negative).
        duration_s: Duration, s, or ``None`` for an instant.
        text: The whole annotation text (UTF-8 in the file).
    """

    onset_s: float
    duration_s: float | None
    text: str


def edf_number(x: float, up: bool) -> float:
    """A physical limit that fits EDF's 8-character field, rounded outwards.

    Raises:
        StorageError: ``x`` is too large for 8 characters.
    """
    for decimals in (3, 2, 1, 0):
        scale = 10.0**decimals
        v = (math.ceil(x * scale) if up else math.floor(x * scale)) / scale
        if len(_fixed(v, decimals)) <= 8:
            return v
    raise StorageError(f"the value range reaches {x:g}, too large for an EDF file")


def _fixed(v: float, decimals: int) -> str:
    text = f"{v:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _field(text: str, width: int) -> bytes:
    """A header field: printable ASCII, left-justified, space-padded, cut to width."""
    clean = "".join(c if 32 <= ord(c) < 127 else "_" for c in text)
    return clean[:width].ljust(width).encode("ascii")


def _tal_time(x: float) -> bytes:
    return ("+" + _fixed(max(0.0, x), 6)).encode("ascii")


def _tal(a: EdfAnnotation) -> bytes:
    # Control characters would end the TAL early; the text is otherwise kept whole.
    text = "".join(" " if ord(c) < 32 else c for c in a.text).encode("utf-8")
    head = _tal_time(a.onset_s)
    if a.duration_s is not None:
        head += _ONSET_END + _fixed(max(0.0, a.duration_s), 6).encode("ascii")
    return head + _TEXT_END + text + _TEXT_END + _TAL_END


def _timekeeping(t: float) -> bytes:
    return _tal_time(t) + _TEXT_END + _TEXT_END + _TAL_END


def _place(tals: Sequence[tuple[int, bytes]], n_records: int, start_s: float,
           capacity: int) -> list[list[bytes]] | None:
    """Put each TAL in the record of its onset or the next one with room (None: full)."""
    records: list[list[bytes]] = [[_timekeeping(start_s + k)] for k in range(n_records)]
    used = [len(r[0]) for r in records]
    k = 0
    for first, tal in tals:
        k = max(k, min(first, n_records - 1))
        while k < n_records and used[k] + len(tal) > capacity:
            k += 1
        if k == n_records:
            return None
        records[k].append(tal)
        used[k] += len(tal)
    return records


def _annotation_records(annotations: Sequence[EdfAnnotation], n_records: int,
                        start_s: float) -> tuple[int, list[bytes]]:
    """The annotation signal: (bytes per record, one byte block per record)."""
    tals = sorted(((max(0, int(a.onset_s - start_s)), _tal(a)) for a in annotations),
                  key=lambda x: x[0])
    longest = max((len(t) for _, t in tals), default=0)
    keep = len(_timekeeping(start_s + n_records))
    capacity = keep + max(longest, 48)
    while True:
        capacity += capacity % 2  # whole 16-bit samples
        placed = _place(tals, n_records, start_s, capacity)
        if placed is not None:
            return capacity, [b"".join(r).ljust(capacity, b"\x00") for r in placed]
        capacity *= 2


def _digital(sig: EdfSignal) -> NDArray[np.int16]:
    span = sig.physical_max - sig.physical_min
    x = np.where(np.isfinite(sig.values), sig.values, sig.physical_min)
    d = np.rint((x - sig.physical_min) / span * (DIGITAL_MAX - DIGITAL_MIN) + DIGITAL_MIN)
    out: NDArray[np.int16] = np.clip(d, DIGITAL_MIN, DIGITAL_MAX).astype("<i2")
    return out


def write_edf_plus(fh: IO[bytes], signals: Sequence[EdfSignal], rate_hz: int,
                   start: _dt.datetime, annotations: Sequence[EdfAnnotation], *,
                   patient_code: str = "X", equipment: str = "isogrip") -> None:
    """Write a continuous EDF+ file.

    Args:
        fh: Binary file to write to.
        signals: The signals; each has a whole number of 1-s records of samples.
        rate_hz: Samples per second of every signal.
        start: Start of the recording (local time, naive); fractions of a second are
            kept in the first record's time-keeping annotation, as EDF+ asks.
        annotations: Annotations, onsets relative to ``start``.
        patient_code: Patient code (spaces become underscores, as EDF+ asks).
        equipment: Recording equipment.

    Raises:
        ValueError: Signals of different lengths or not whole records.
    """
    n = {s.values.size for s in signals}
    if len(n) != 1 or next(iter(n)) % rate_hz:
        raise ValueError("every signal needs the same whole number of 1-s records")
    n_records = next(iter(n)) // rate_hz
    whole = start.replace(microsecond=0)
    frac = start.microsecond / 1e6
    ann_bytes, ann_blocks = _annotation_records(
        [EdfAnnotation(a.onset_s + frac, a.duration_s, a.text) for a in annotations],
        n_records, frac)
    ns = len(signals) + 1
    labels = [*(s.label for s in signals), ANNOTATIONS_LABEL]
    header = b"".join((
        _field("0", 8),
        _field(f"{patient_code.replace(' ', '_') or 'X'} X X X", 80),
        _field(f"Startdate {whole.day:02d}-{_MONTHS[whole.month - 1]}-{whole.year} X X "
               f"{equipment.replace(' ', '_')}", 80),
        _field(whole.strftime("%d.%m.%y"), 8), _field(whole.strftime("%H.%M.%S"), 8),
        _field(str(256 * (ns + 1)), 8), _field("EDF+C", 44), _field(str(n_records), 8),
        _field("1", 8), _field(str(ns), 4),
        *(_field(x, 16) for x in labels),
        *(_field(x, 80) for x in (*(s.transducer for s in signals), "")),
        *(_field(x, 8) for x in (*(s.dimension for s in signals), "")),
        *(_field(_fixed(x, 3), 8) for x in (*(s.physical_min for s in signals), -1)),
        *(_field(_fixed(x, 3), 8) for x in (*(s.physical_max for s in signals), 1)),
        *(_field(str(DIGITAL_MIN), 8) for _ in range(ns)),
        *(_field(str(DIGITAL_MAX), 8) for _ in range(ns)),
        *(_field(x, 80) for x in (*(s.prefilter for s in signals), "")),
        *(_field(str(x), 8) for x in (*(rate_hz for _ in signals), ann_bytes // 2)),
        *(_field("", 32) for _ in range(ns)),
    ))
    fh.write(header)
    digital = [_digital(s).reshape(n_records, rate_hz) for s in signals]
    for k in range(n_records):
        fh.write(b"".join(d[k].tobytes() for d in digital) + ann_blocks[k])
