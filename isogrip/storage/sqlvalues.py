"""Python values turned into SQLite parameters, the same way for every table.

Callers hand the store numpy scalars, enums and NaN; SQLite would store a numpy
scalar as a blob and an enum not at all, so each value goes through one of these.
"""

from __future__ import annotations

import enum
import math
from typing import Any

import numpy as np


def real(x: Any) -> float | None:
    """A float for SQLite, or ``None`` (NaN and infinities are stored as NULL)."""
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def integer(x: Any) -> int | None:
    """An int for SQLite, or ``None``."""
    return None if x is None else int(x)


def text(x: Any) -> str | None:
    """Text for SQLite (an enum gives its value), or ``None``."""
    if x is None:
        return None
    if isinstance(x, enum.Enum):
        return str(x.value)
    return str(x)


def is_number(x: Any) -> bool:
    """Whether ``x`` is a real number (``True``/``False`` are not)."""
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool)
