"""The protocol engine: a pure state machine that runs a training session.

The engine never reads a clock and never sleeps. It is fed force samples with their
times (:meth:`Engine.feed`) and clock ticks (:meth:`Engine.tick`); both return the
events that happened up to that time. Phase timing follows the protocol's clock from
each cue, so a hold lasts exactly its duration even when samples stop arriving (the
missing time is recorded as a gap). A hold's or MVC trial's result counts every sample
stamped inside it, also those delivered after the tick that ended it: it is given once
a later-stamped sample has arrived, or after a bounded wait
(:mod:`isogrip.protocols.settling`, :attr:`Engine.results_pending`).

Session shape (default protocol)::

    idle -> prepare -> [countdown -> mvc_effort -> mvc_rest] x trials
         -> rest -> [countdown -> hold -> rest] x 4 -> complete

Commands (:meth:`Engine.command`): ``start``, ``skip_rest`` (prepare and rests),
``redo_trial`` (after an MVC trial, until the first hold starts), ``pause`` /
``resume`` and ``abort``. Pausing freezes the timer of a rest; pausing during an
effort (countdown, MVC effort or hold) abandons that effort, which is repeated from
its countdown on resume, and an abandoned hold is recorded as incomplete.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

from isogrip.protocols import sentences as say
from isogrip.protocols.bounds import out_of_range
from isogrip.protocols.events import Command, Phase, Snapshot
from isogrip.protocols.model import Protocol
from isogrip.protocols.mvc_plan import Trial
from isogrip.protocols.phase_machine import PhaseMachine
from isogrip.protocols.records import (
    Event,
    HoldFinished,
)
from isogrip.protocols.sample_stream import SampleStream
from isogrip.protocols.settling import late_sample_wait
from isogrip.protocols.snapshot_view import snapshot_of
from isogrip.signal.filters import DEFAULT_LIVE_FILTER, make_live_filter
from isogrip.types import Hand

F64 = NDArray[np.float64]


class Engine:
    """Runs one session of a protocol.

    Args:
        protocol: The protocol to run.
        sample_rate_hz: The device's nominal sample rate (sets up the live filter).
        dominant: The participant's dominant hand (for non-dominant protocols).
        known_mvc: MVC per hand to reuse (N); those hands skip the MVC trials.
        full_scale_n: The device's largest reading, N: MVC trials that reach it are
            flagged as saturated.
        live_filter: Name of the live filter behind the shown force (one of
            ``isogrip.signal.filters.LIVE_FILTERS``; ``"butterworth"`` is the earlier
            5 Hz low-pass, kept for comparisons).

    Raises:
        ValueError: A field of the protocol is outside its range. The model refuses
            such a protocol when it is built (:mod:`isogrip.protocols.validation`);
            this second look catches one changed behind its back, since a breathing
            reminder every microsecond would never let a tick end.

    Example:
        >>> from isogrip.protocols.model import Protocol
        >>> e = Engine(Protocol(name="demo"), sample_rate_hz=80)
        >>> [ev.kind.value for ev in e.command(Command.START, 0.0)]
        ['phase']
        >>> e.snapshot().phase.value
        'prepare'
    """

    def __init__(
        self,
        protocol: Protocol,
        *,
        sample_rate_hz: float = 80.0,
        dominant: Hand = Hand.RIGHT,
        known_mvc: Mapping[Hand, float] | None = None,
        full_scale_n: float | None = None,
        live_filter: str = DEFAULT_LIVE_FILTER,
    ) -> None:
        # Every interval and count within its bounds: the number of events a tick can
        # give is then bounded too (phases at least MIN_STEP_S apart, one reminder of
        # each kind per tick, at most 10 countdown numbers, at most 20 holds).
        bad = out_of_range(protocol)
        if bad:
            raise ValueError(f"protocol {protocol.name!r} is outside the ranges isogrip "
                             f"can run ({', '.join(bad)}); see docs/protocols.md")
        self.protocol = protocol
        self._filter = make_live_filter(live_filter, sample_rate_hz)
        self._stream = SampleStream(sample_rate_hz)
        self._machine = PhaseMachine(protocol, self._stream, dominant=dominant,
                               known_mvc=known_mvc, full_scale_n=full_scale_n)

    @property
    def mvc_n(self) -> dict[Hand, float]:
        """Each hand's MVC so far, N (reused, or chosen from this session's trials)."""
        return self._machine.mvc_n

    # ------------------------------------------------------------------ public API
    @property
    def phase(self) -> Phase:
        """The current phase."""
        return self._machine.state.phase

    @property
    def trials(self) -> list[Trial]:
        """The MVC trials scored so far, in order (a redone one has ``used`` false)."""
        return self._machine.mvc.trials

    @property
    def hold_results(self) -> list[HoldFinished]:
        """The results of the holds ended so far, in order (incomplete ones included)."""
        return self._machine.efforts.hold_results

    @property
    def finished(self) -> bool:
        """Whether the session has completed or been aborted."""
        return self._machine.state.phase.finished

    @property
    def results_pending(self) -> bool:
        """Whether an ended hold or MVC trial still waits for late samples.

        Its phase has ended on time, but its result comes once a sample stamped at or
        after its end has arrived, or :attr:`late_sample_wait_s` after its end; keep
        feeding and ticking until this is false, also after the session has finished.
        """
        return self._machine.efforts.waiting

    @property
    def late_sample_wait_s(self) -> float:
        """Longest wait for late samples after an effort's end, s (see settling)."""
        return late_sample_wait(self._stream.batch_dt)

    @property
    def gap_threshold_s(self) -> float:
        """Silence that counts as a gap now, s (see :mod:`.sample_stream`)."""
        return self._stream.threshold_s

    def settle(self) -> list[Event]:
        """Give every result still waiting for late samples now, with what has arrived.

        For a session cut short (the program is closing, the disk is full). Returns
        the events (hold results, MVC trials and what follows from them).
        """
        out: list[Event] = []
        while self._machine.efforts.waiting:
            out += self._machine.settle(self._machine.efforts.pop_oldest())
        return out

    def command(self, cmd: Command | str, t: float) -> list[Event]:
        """Apply a user command at time ``t``.

        Returns:
            The events it caused. A command that does not apply in the current phase
            yields one ``command_rejected`` event saying why; it never raises.
        """
        cmd = Command(cmd)
        # An MVC trial still waiting for late samples is scored first: a command
        # (redo, pause, abort) must see it, and may change what comes after it.
        out = self._machine.advance(t) + self._machine.settle_trials()
        phase = self._machine.state.phase
        if cmd is Command.START:
            if phase is not Phase.IDLE:
                return [*out, self._machine.reject(cmd, t, say.ALREADY_STARTED)]
            return out + self._machine.start(t)
        if phase in (Phase.IDLE, Phase.COMPLETE, Phase.ABORTED):
            return [*out, self._machine.reject(cmd, t, f"the session is {phase.value}")]
        if cmd is Command.ABORT:
            return out + self._machine.abort(t, "stopped by the user")
        if cmd is Command.PAUSE:
            return out + self._machine.pause(t)
        if cmd is Command.RESUME:
            return out + self._machine.resume(t)
        if self._machine.state.paused:
            return [*out, self._machine.reject(cmd, t, say.IS_PAUSED)]
        if cmd is Command.SKIP_REST:
            if phase not in (Phase.PREPARE, Phase.REST, Phase.MVC_REST):
                return [*out, self._machine.reject(cmd, t, say.NO_REST_TO_SKIP)]
            self._machine.state.deadline = t
            return out + self._machine.advance(t)
        # REDO_TRIAL
        return out + self._machine.redo(t)

    def tick(self, t: float) -> list[Event]:
        """Advance the clock to ``t`` without samples (drives timers and gap detection)."""
        out = self._machine.advance(t)
        state = self._machine.state
        if not state.paused and state.phase in (Phase.HOLD, Phase.MVC_EFFORT):
            self._stream.check(t, out)
        return out

    def feed(self, t: ArrayLike, force_n: ArrayLike) -> list[Event]:
        """Process a batch of samples.

        Args:
            t: Sample times on the session clock, s, non-decreasing.
            force_n: Forces, N. Non-finite samples are ignored.

        Returns:
            Events up to the last sample's time.
        """
        ta = np.asarray(t, dtype=np.float64).reshape(-1)
        fa = np.asarray(force_n, dtype=np.float64).reshape(-1)
        if ta.shape != fa.shape:
            raise ValueError("t and force_n must have the same length")
        out: list[Event] = []
        if ta.shape[0] == 0:
            return out
        ta, fa = self._stream.clean(ta, fa)
        n = ta.shape[0]
        if n == 0:
            return out
        self._stream.arrived(float(ta[0]), out)
        ff = self._filter.process(fa)
        # Samples stamped before the end of an effort that has ended go to it.
        i = self._take_late(ta, fa, out) if self._machine.efforts.waiting else 0
        while i < n:
            nxt = self._machine.next_time()
            j = n if nxt is None else int(np.searchsorted(ta, nxt, side="left"))
            if j > i:
                self._consume(ta[i:j], fa[i:j], ff[i:j], out)
                i = j
            if i < n:
                self._machine.efforts.horizon = float(ta[i])  # a deadline crossed by a sample
                out += self._machine.advance(float(ta[i]))
        self._machine.efforts.horizon = float(ta[-1])
        self._machine.state.force = float(ff[-1])
        self._stream.batch_done(float(ta[-1]))
        return out

    def snapshot(self) -> Snapshot:
        """The current state, for displays and the virtual participant."""
        return snapshot_of(self._machine.state, self.protocol, self._machine.mvc_n,
                           trial_peak_n=self._machine.efforts.trial_peak_n,
                           in_gap=self._stream.in_gap)

    def stop(self, t: float, reason: str) -> list[Event]:
        """End the session at ``t`` for a reason other than the user's.

        For example the disk is full, or no data come. Results still waiting for late
        samples are given at once. Does nothing else once the session has ended.

        Returns:
            The events it caused (the hold in progress is recorded as incomplete).
        """
        out = self._machine.advance(t) + self.settle()
        if not self.finished:
            out += self._machine.abort(t, reason) + self.settle()
        return out

    # ------------------------------------------------------------------ samples
    def _consume(self, t: F64, f: F64, ff: F64, out: list[Event]) -> None:
        if self._machine.state.paused:
            return
        if self._machine.state.phase is Phase.MVC_EFFORT:
            self._machine.efforts.collect(t, f)
            self._machine.efforts.note_peak(ff)
        elif self._machine.state.phase is Phase.HOLD:
            self._machine.efforts.collect(t, f)
            self._machine.tracker.feed(t, ff, out)

    def _take_late(self, ta: F64, fa: F64, out: list[Event]) -> int:
        """Give late samples to the ended efforts they belong to; settle covered ones.

        Returns:
            How many leading samples of the batch were taken.
        """
        taken, covered = self._machine.efforts.take_late(ta, fa)
        for _ in range(covered):
            out += self._machine.settle(self._machine.efforts.pop_oldest())
        return taken
