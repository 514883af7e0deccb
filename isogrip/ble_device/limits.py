"""The physical range of every supported device: one table, used by every codec.

A reading outside the range a device can physically report is not a force but a
damaged packet (a radio glitch, a firmware bug, an uncalibrated DIY gauge): the codecs
reject it with :class:`~isogrip.ble_device.codec.DecodeError` of kind
``out_of_range`` (``nonfinite`` for NaN or infinity), so
:func:`~isogrip.ble_device.codec.safe_decode` counts and reports it like any other
damaged packet. Without this, one 1e6 kg
notification (a Progressor sends an f32, which holds up to 3.4e38) became a stored
sample, the MVC peak and the top of the EDF export's range.

Where the rated capacity is known the accepted range is -10 % .. 150 % of it: a tared
load cell reads a little below zero, and one pulled beyond its rating still answers
for a while. Where it is not known the range is the device's data field (or, for the
Force Board, isogrip's earlier bound). The table with its sources is in
``docs/devices.md``.

Example:
    >>> lim = LIMITS["progressor"]
    >>> round(lim.low_n / KGF_N, 1), round(lim.high_n / KGF_N, 1)
    (-20.0, 300.0)
    >>> lim.check(np.array([300 * KGF_N]))  # the top of the range is accepted
    >>> try:
    ...     lim.check(np.array([1e6 * KGF_N]))
    ... except DecodeError as exc:
    ...     print(exc.kind, exc)
    out_of_range reading 1e+06 kg is outside the Tindeq Progressor's range (-20 .. 300 kg)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike

from isogrip.ble_device.codec import DecodeError
from isogrip.signal.units import KGF_N, LBF_N

#: Below zero a load cell may read this fraction of its capacity (tare, drift).
LOW_MARGIN: Final = 0.10
#: Above its capacity a load cell may read up to this multiple of it before the value
#: can no longer be a force it measured.
HIGH_MARGIN: Final = 1.50
# Readings are converted to newtons in float64; a value exactly on a bound may land a
# few ulps outside it and must still count as inside.
_REL_SLACK = 1e-9


@dataclass(frozen=True)
class ForceLimits:
    """What one device can report, N.

    Attributes:
        name: Device name for messages.
        low_n: Lowest reading accepted as a force.
        high_n: Highest reading accepted as a force.
        capacity_n: The rated capacity (full scale), or ``None`` when no source gives
            one; readings at or above it are where the device may saturate.
    """

    name: str
    low_n: float
    high_n: float
    capacity_n: float | None = None

    @classmethod
    def from_capacity(cls, name: str, capacity_n: float) -> ForceLimits:
        """The range -10 % .. 150 % of a rated capacity.

        Raises:
            ValueError: ``capacity_n`` is not a positive finite number.
        """
        if not (math.isfinite(capacity_n) and capacity_n > 0):
            raise ValueError(f"capacity must be a positive number of newtons, not {capacity_n}")
        return cls(name, -LOW_MARGIN * capacity_n, HIGH_MARGIN * capacity_n, capacity_n)

    @property
    def full_scale_n(self) -> float:
        """Largest force the device reports: its capacity, or the top of its range."""
        return self.capacity_n if self.capacity_n is not None else self.high_n

    def contains(self, force_n: ArrayLike) -> np.ndarray:
        """Which readings lie within the range (NaN and infinity never do)."""
        f = np.asarray(force_n, dtype=np.float64)
        slack_lo = abs(self.low_n) * _REL_SLACK
        slack_hi = abs(self.high_n) * _REL_SLACK
        with np.errstate(invalid="ignore"):
            return np.asarray((f >= self.low_n - slack_lo) & (f <= self.high_n + slack_hi))

    def check(self, force_n: ArrayLike) -> None:
        """Raise unless every reading is a finite force within the range.

        Raises:
            DecodeError: A NaN or infinite reading (kind ``nonfinite``) or one outside
                the range (kind ``out_of_range``).
        """
        f = np.asarray(force_n, dtype=np.float64)
        # The common case first, cheaply (this runs for every notification): min and
        # max are NaN when any reading is, and NaN fails both comparisons.
        if f.size and (float(f.min()) >= self.low_n - abs(self.low_n) * _REL_SLACK
                       and float(f.max()) <= self.high_n + abs(self.high_n) * _REL_SLACK):
            return
        if not np.all(np.isfinite(f)):
            raise DecodeError(f"{self.name} sent a NaN or infinite reading", "nonfinite")
        inside = self.contains(f)
        if not np.all(inside):
            bad = float(f[~inside][0])
            raise DecodeError(
                f"reading {bad / KGF_N:.6g} kg is outside the {self.name}'s range "
                f"({self.low_n / KGF_N:.6g} .. {self.high_n / KGF_N:.6g} kg)", "out_of_range")


def _kg(name: str, capacity_kg: float) -> ForceLimits:
    return ForceLimits.from_capacity(name, capacity_kg * KGF_N)


#: Per device kind (the driver name): the one place the ranges live. Sources and
#: reasoning per entry in docs/devices.md ("Physical range of each device").
LIMITS: Final[dict[str, ForceLimits]] = {
    # Tindeq Progressor 200: 200 kg (model name; isogrip's full scale since the first
    # driver). The DIY firmware and the clones use this codec, so they share the range.
    "progressor": _kg("Tindeq Progressor", 200.0),
    # No public source gives the Force Board's capacity. The field is unsigned, and
    # isogrip has always taken 1000 lb (454 kg, far beyond a hand) as the largest force.
    "forceboard": ForceLimits("PitchSix Force Board", 0.0, 1000 * LBF_N, None),
    # Weiheng's WH-C06 is sold as a 300 kg hanging scale.
    "whc06": _kg("WH-C06 hanging scale", 300.0),
    # The CTS500 (500 kg; the CTS-300 is smaller) shares one codec with the CTS-300.
    "cts500": _kg("CTS500 dynamometer", 500.0),
    # No published capacity: the i16 field in 0.01 kg tops out at 327.67 kg; below zero
    # the usual 10 % of that.
    "entralpi": ForceLimits("Entralpi", -LOW_MARGIN * 327.67 * KGF_N, 327.67 * KGF_N, None),
    # A DIY build of unknown capacity: the Weight Measurement field itself (u16 in
    # 0.005 kg, 0xFFFF meaning "unsuccessful", so 0 .. 327.67 kg; imperial 0.01 lb
    # units reach only 655.34 lb = 297 kg).
    "weightscale": ForceLimits("Bluetooth weight scale", 0.0, 0xFFFE * 0.005 * KGF_N, None),
}


def limits_for(kind: str | None, full_scale_n: float | None = None) -> ForceLimits | None:
    """The range of a device known by its kind, else one built from its full scale.

    Args:
        kind: The driver name recorded with a session (``"progressor"``, ``"sim"`` ...).
        full_scale_n: The full scale the device reported, N, if any (the simulated
            device's ``saturate_kg``, a third-party driver's).

    Returns:
        The limits, or ``None`` when neither says anything (e.g. an export replay).
    """
    if kind is not None and kind in LIMITS:
        return LIMITS[kind]
    if full_scale_n is not None:
        try:
            return ForceLimits.from_capacity(kind or "device", float(full_scale_n))
        except (TypeError, ValueError):
            return None
    return None
