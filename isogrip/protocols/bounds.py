"""The limits that keep a protocol within what a session can run.

The ranges themselves are declared beside each field in
:mod:`isogrip.protocols.model` (see :class:`~isogrip.protocols.fields.Range`) and
checked whenever a protocol is built; ``docs/protocols.md`` has the same table with
the reasons. The limits they share are here: nothing is scheduled faster than the
session is ticked (:data:`MIN_STEP_S` is two ticks of :data:`isogrip.runtime.TICK_S`),
a countdown says at most ten numbers, and no duration is long enough to be anything
but minutes typed as seconds.

:func:`out_of_range` is the engine's second look at a protocol before it schedules
anything.
"""

from __future__ import annotations

from typing import Final

from isogrip.protocols.fields import Range
from isogrip.protocols.validation import out_of_range

__all__ = ["MAX_COUNTDOWN_S", "MAX_DURATION_S", "MIN_STEP_S", "Range", "out_of_range"]

#: Shortest rest, "get ready" or countdown step, s: two ticks of the session clock
#: (``isogrip.runtime.TICK_S`` = 0.05 s), so every phase is seen by at least one tick.
MIN_STEP_S: Final = 0.1
#: Longest duration accepted anywhere in a protocol, s: longer is almost surely a
#: number of minutes typed where seconds are meant.
MAX_DURATION_S: Final = 30 * 60.0
#: Longest countdown, s: it says one number per whole second ("3, 2, 1").
MAX_COUNTDOWN_S: Final = 10.0
