"""Force units, in one place.

Every force inside isogrip is in newtons; conversion happens only at the edges
(device codecs on the way in, displays and exports on the way out).
"""

from __future__ import annotations

import enum
from typing import overload

import numpy as np
from numpy.typing import NDArray

#: One kilogram-force in newtons (standard gravity, exact by definition).
KGF_N = 9.80665
#: One pound-force in newtons (exact by definition).
LBF_N = 4.4482216152605


class Unit(enum.StrEnum):
    """A force unit. Values are the symbols shown to users."""

    N = "N"
    KGF = "kg"
    LBF = "lb"

    @property
    def newtons(self) -> float:
        """Newtons per one of this unit."""
        return _N_PER_UNIT[self]

    @classmethod
    def parse(cls, text: str) -> Unit:
        """Read a unit from user text (``"N"``, ``"kg"``, ``"kgf"``, ``"lb"``, ``"lbf"``).

        Raises:
            ValueError: The text names no known unit.
        """
        key = text.strip().lower()
        try:
            return _ALIASES[key]
        except KeyError:
            known = ", ".join(sorted(_ALIASES))
            raise ValueError(f"unknown force unit {text!r} (use one of: {known})") from None


_N_PER_UNIT = {Unit.N: 1.0, Unit.KGF: KGF_N, Unit.LBF: LBF_N}
_ALIASES = {
    "n": Unit.N,
    "newton": Unit.N,
    "newtons": Unit.N,
    "kg": Unit.KGF,
    "kgf": Unit.KGF,
    "lb": Unit.LBF,
    "lbs": Unit.LBF,
    "lbf": Unit.LBF,
}


@overload
def to_newtons(value: float, unit: Unit) -> float: ...
@overload
def to_newtons(value: NDArray[np.float64], unit: Unit) -> NDArray[np.float64]: ...
def to_newtons(
    value: float | NDArray[np.float64], unit: Unit
) -> float | NDArray[np.float64]:
    """Convert a force from ``unit`` to newtons."""
    return value * unit.newtons


@overload
def from_newtons(value_n: float, unit: Unit) -> float: ...
@overload
def from_newtons(value_n: NDArray[np.float64], unit: Unit) -> NDArray[np.float64]: ...
def from_newtons(
    value_n: float | NDArray[np.float64], unit: Unit
) -> float | NDArray[np.float64]:
    """Convert a force in newtons to ``unit``."""
    return value_n / unit.newtons


def format_force(value_n: float, unit: Unit, decimals: int = 1) -> str:
    """Format a force for display, e.g. ``"12.3 kg"``."""
    return f"{from_newtons(value_n, unit):.{decimals}f} {unit.value}"
