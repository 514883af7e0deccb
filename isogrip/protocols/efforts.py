"""The samples of the effort in progress, ended efforts waiting for late ones, results.

:class:`EffortIntake` keeps the raw samples of the hold or MVC trial under way, the
trial's peak, and, once its time is up, the effort itself until every sample stamped
inside it is in (:mod:`isogrip.protocols.settling`); then it gives the effort's result.
The engine decides when an effort begins and ends and what its result leads to.
Pure: no I/O, no clock.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from isogrip.protocols.events import Stage
from isogrip.protocols.mvc_plan import MvcPlan
from isogrip.protocols.phase_state import PhaseState
from isogrip.protocols.records import Event, HoldFinished
from isogrip.protocols.results import hold_record, trial_records
from isogrip.protocols.settling import PendingEffort, route_late
from isogrip.types import Hand

F64 = NDArray[np.float64]


class EffortIntake:
    """Samples of the effort in progress and of ended efforts still settling.

    Args:
        mvc: The MVC plan, which scores ended trials.
        ramp_s: The protocol's ramp at the start of a hold, s (excluded from metrics).
        full_scale_n: The device's largest reading, N (flags saturated trials).

    Attributes:
        trial_peak_n: Highest filtered force of the current MVC effort, N.
        horizon: Latest sample time seen, s.
        hold_results: The results of ended holds, in the order they were given.
    """

    def __init__(self, mvc: MvcPlan, ramp_s: float, full_scale_n: float | None) -> None:
        self._mvc = mvc
        self._ramp_s = ramp_s
        self._full_scale_n = full_scale_n
        self.hold_results: list[HoldFinished] = []
        self._buf_t: list[F64] = []
        self._buf_f: list[F64] = []
        self.trial_peak_n: float | None = None
        # Efforts whose time is up, waiting for samples stamped inside them that are
        # still on their way; oldest first, so their ends are increasing.
        self._pending: list[PendingEffort] = []
        self.horizon = -math.inf

    # ------------------------------------------------------------ the effort under way
    def begin(self) -> None:
        """A new effort starts: nothing collected, no peak."""
        self._buf_t, self._buf_f = [], []
        self.trial_peak_n = None

    def drop_samples(self) -> None:
        """Forget the samples collected (the effort was abandoned)."""
        self._buf_t, self._buf_f = [], []

    def collect(self, t: F64, f: F64) -> None:
        """Keep raw samples of the effort under way."""
        self._buf_t.append(t)
        self._buf_f.append(f)

    def note_peak(self, filtered_n: F64) -> None:
        """Raise the trial's peak to the highest of ``filtered_n`` if above it."""
        peak = float(filtered_n.max())
        if self.trial_peak_n is None or peak > self.trial_peak_n:
            self.trial_peak_n = peak

    def end(self, state: PhaseState, t_end: float, *, completed: bool,
            mvc_n: float | None) -> PendingEffort:
        """The effort under way in ``state``, ended at ``t_end``, with its samples so far.

        Args:
            state: The engine's phase state (a hold or an MVC effort).
            t_end: When the effort ended, s.
            completed: Whether a hold ran its full time.
            mvc_n: The MVC of the effort's hand, N (a hold's reference).
        """
        assert state.stage is not None and state.hand is not None
        number = state.rep if state.stage is Stage.HOLD else state.trial_no
        job = PendingEffort(state.stage, state.hand, number, state.phase_start, t_end,
                            completed=completed, band=state.band, mvc_n=mvc_n,
                            buf_t=self._buf_t, buf_f=self._buf_f)
        self._buf_t, self._buf_f = [], []
        return job

    # ------------------------------------------------------------ ended efforts
    def result(self, job: PendingEffort) -> list[Event]:
        """The record of an ended effort, from every sample stamped inside it.

        A trial is scored (its score may add a trial to the plan); a hold's record is
        also kept in :attr:`hold_results`.
        """
        if job.stage is Stage.HOLD:
            record = hold_record(job, self._ramp_s)
            self.hold_results.append(record)
            return [record]
        tt, ff = job.samples()
        done = self._mvc.score(job.hand, job.number, tt, ff, job.t_start, job.t_end)
        return trial_records(done, job, self._full_scale_n)

    def complete_at(self, t: float) -> bool:
        """Whether a sample stamped at or after ``t`` is in (nothing before it is due)."""
        return self.horizon >= t

    def wait_for_late(self, job: PendingEffort) -> None:
        """Keep ``job`` until its late samples are in."""
        self._pending.append(job)

    @property
    def waiting(self) -> bool:
        """Whether an ended effort still waits for late samples."""
        return bool(self._pending)

    def wait_ends(self, wait_s: float) -> float | None:
        """When the oldest waiting effort has waited ``wait_s`` past its end, s."""
        return self._pending[0].t_end + wait_s if self._pending else None

    def pop_oldest(self) -> PendingEffort:
        """Take the oldest waiting effort, to give its result."""
        return self._pending.pop(0)

    def take_late(self, t: F64, f: F64) -> tuple[int, int]:
        """Give the leading samples of a batch stamped before pending ends to them.

        Returns:
            (how many leading samples were taken, how many of the oldest waiting
            efforts are now complete); see :func:`~.settling.route_late`.
        """
        return route_late(self._pending, t, f)

    @property
    def trial_waiting(self) -> bool:
        """Whether an MVC trial is among the waiting efforts."""
        return any(j.stage is Stage.MVC for j in self._pending)

    @property
    def provisional_waiting(self) -> bool:
        """Whether a waiting trial's score still decides what follows its rest."""
        return any(j.provisional for j in self._pending)

    def trials_waiting(self, hand: Hand) -> int:
        """How many MVC trials of ``hand`` wait for late samples."""
        return sum(1 for j in self._pending if j.stage is Stage.MVC and j.hand is hand)
