"""Efforts whose time is up but whose last samples may still be on their way.

A device delivers its samples some time after it measured them (over BLE about one
connection interval, more when a packet is sent again), so samples stamped before the
end of a hold or an MVC trial can arrive after the clock tick that ended it. The engine
ends the phase on time (the participant's countdown and "stop" cue never wait) and
keeps the effort as a :class:`PendingEffort`: samples stamped inside it that arrive late
are added to it, and its result is computed once a sample stamped at or after its end
has arrived (notifications arrive in order, so nothing stamped inside it is still to
come), or once the engine's clock is :func:`late_sample_wait` past its end (the device
went quiet). Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from isogrip.protocols.band import Band
from isogrip.protocols.events import Stage
from isogrip.types import Hand

F64 = NDArray[np.float64]

#: Shortest wait for late samples after an effort's end, s: covers BLE delivery
#: latency with several retransmissions, and the simulated device's worst jitter.
LATE_SAMPLE_WAIT_S = 1.0
#: ... raised to this many notification intervals for devices that notify rarely.
LATE_SAMPLE_WAIT_NOTIFICATIONS = 4.0


def late_sample_wait(notification_interval_s: float) -> float:
    """How long after an effort's end its result waits for late samples at most, s.

    ``max(1 s, 4 x the interval between notifications)``. The wait only runs out when
    the device sends nothing stamped after the end (it stopped or went away); normally
    the first later sample settles the effort within one notification interval.
    """
    return max(LATE_SAMPLE_WAIT_S, LATE_SAMPLE_WAIT_NOTIFICATIONS * notification_interval_s)


@dataclass
class PendingEffort:
    """A hold or MVC trial whose time is up, waiting for samples stamped inside it.

    Attributes:
        stage: ``Stage.HOLD`` or ``Stage.MVC``.
        hand: The hand.
        number: Hold index (0-based) or trial number (1-based).
        t_start: Go cue, s.
        t_end: End of the effort, s: it owns the samples stamped in [t_start, t_end).
        completed: Whether a hold ran its full time.
        band: The band of a hold, true N.
        mvc_n: The MVC a hold trained against, N.
        provisional: An MVC trial whose score decides the next phase (another trial
            or the holds): the engine rests meanwhile and decides when it settles.
    """

    stage: Stage
    hand: Hand
    number: int
    t_start: float
    t_end: float
    completed: bool = True
    band: Band | None = None
    mvc_n: float | None = None
    provisional: bool = False
    buf_t: list[F64] = field(default_factory=list)
    buf_f: list[F64] = field(default_factory=list)

    def samples(self) -> tuple[F64, F64]:
        """The samples stamped inside the effort, [t_start, t_end), in time order."""
        if not self.buf_t:
            return np.empty(0), np.empty(0)
        t, f = np.concatenate(self.buf_t), np.concatenate(self.buf_f)
        inside = (t >= self.t_start) & (t < self.t_end)
        if not inside.all():  # stamped before the go cue but delivered after it
            t, f = t[inside], f[inside]
        return t, f


def route_late(pending: list[PendingEffort], t: F64, f: F64) -> tuple[int, int]:
    """Give the leading samples of a batch that were stamped before pending ends to them.

    Args:
        pending: Pending efforts, oldest first (their ends are increasing).
        t: The batch's sample times, non-decreasing.
        f: Its forces.

    Returns:
        (how many leading samples were taken, how many of the oldest pending efforts
        are now covered, i.e. the batch holds a sample stamped at or after their end).
    """
    i = covered = 0
    n = t.shape[0]
    for job in pending:
        j = int(np.searchsorted(t, job.t_end, side="left"))
        if j > i:
            job.buf_t.append(t[i:j])
            job.buf_f.append(f[i:j])
            i = j
        if j >= n:
            break
        covered += 1
    return i, covered
