"""Hold metrics for tests that record a hold without computing its metrics."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from isogrip.signal.metrics import HoldMetrics

#: The names of every hold metric.
METRIC_NAMES = tuple(f.name for f in dataclasses.fields(HoldMetrics))


def partial_metrics(**values: Any) -> HoldMetrics:
    """Hold metrics with ``values`` and NaN in every other field (as nothing computed).

    Raises:
        TypeError: A name that is not a hold metric.
    """
    unknown = set(values) - set(METRIC_NAMES)
    if unknown:
        raise TypeError(f"not hold metrics: {sorted(unknown)}")
    fields: dict[str, Any] = {name: values.get(name, math.nan) for name in METRIC_NAMES}
    return HoldMetrics(**fields)
