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
from isogrip.protocols.band import BandTracker
from isogrip.protocols.bounds import out_of_range
from isogrip.protocols.cue_schedule import CueSchedule
from isogrip.protocols.display import shown_pct
from isogrip.protocols.efforts import EffortIntake
from isogrip.protocols.events import Command, EventKind, Phase, Snapshot, Stage
from isogrip.protocols.model import Protocol
from isogrip.protocols.mvc_plan import MvcPlan, Trial
from isogrip.protocols.phase_cues import schedule_countdown, schedule_hold
from isogrip.protocols.phase_state import PhaseState
from isogrip.protocols.records import (
    CommandRejected,
    Cue,
    Event,
    HoldFinished,
    MvcTrialRedone,
    Paused,
    Resumed,
    SessionWarning,
)
from isogrip.protocols.results import mvc_choices
from isogrip.protocols.sample_stream import SampleStream
from isogrip.protocols.settling import PendingEffort, late_sample_wait
from isogrip.protocols.snapshot_view import phase_record, snapshot_of
from isogrip.signal.filters import DEFAULT_LIVE_FILTER, make_live_filter
from isogrip.signal.units import KGF_N
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
        self._hold_hands = protocol.hand_sequence(dominant)
        self.mvc_n: dict[Hand, float] = dict(known_mvc or {})
        self._mvc = MvcPlan(protocol.mvc, [h for h in protocol.mvc_hands(dominant)
                                           if h not in self.mvc_n])
        self._tracker = BandTracker(protocol)
        self._state = PhaseState()
        self._cues = CueSchedule()
        self._efforts = EffortIntake(self._mvc, protocol.ramp_s, full_scale_n)

    # ------------------------------------------------------------------ public API
    @property
    def phase(self) -> Phase:
        """The current phase."""
        return self._state.phase

    @property
    def trials(self) -> list[Trial]:
        """The MVC trials scored so far, in order (a redone one has ``used`` false)."""
        return self._mvc.trials

    @property
    def hold_results(self) -> list[HoldFinished]:
        """The results of the holds ended so far, in order (incomplete ones included)."""
        return self._efforts.hold_results

    @property
    def finished(self) -> bool:
        """Whether the session has completed or been aborted."""
        return self._state.phase.finished

    @property
    def results_pending(self) -> bool:
        """Whether an ended hold or MVC trial still waits for late samples.

        Its phase has ended on time, but its result comes once a sample stamped at or
        after its end has arrived, or :attr:`late_sample_wait_s` after its end; keep
        feeding and ticking until this is false, also after the session has finished.
        """
        return self._efforts.waiting

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
        while self._efforts.waiting:
            out += self._settle(self._efforts.pop_oldest())
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
        out = self._advance(t) + self._settle_trials()
        phase = self._state.phase
        if cmd is Command.START:
            if phase is not Phase.IDLE:
                return [*out, self._reject(cmd, t, say.ALREADY_STARTED)]
            return out + self._start(t)
        if phase in (Phase.IDLE, Phase.COMPLETE, Phase.ABORTED):
            return [*out, self._reject(cmd, t, f"the session is {phase.value}")]
        if cmd is Command.ABORT:
            return out + self._abort(t, "stopped by the user")
        if cmd is Command.PAUSE:
            return out + self._pause(t)
        if cmd is Command.RESUME:
            return out + self._resume(t)
        if self._state.paused:
            return [*out, self._reject(cmd, t, say.IS_PAUSED)]
        if cmd is Command.SKIP_REST:
            if phase not in (Phase.PREPARE, Phase.REST, Phase.MVC_REST):
                return [*out, self._reject(cmd, t, say.NO_REST_TO_SKIP)]
            self._state.deadline = t
            return out + self._advance(t)
        # REDO_TRIAL
        return out + self._redo(t)

    def tick(self, t: float) -> list[Event]:
        """Advance the clock to ``t`` without samples (drives timers and gap detection)."""
        out = self._advance(t)
        if not self._state.paused and self._state.phase in (Phase.HOLD, Phase.MVC_EFFORT):
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
        i = self._take_late(ta, fa, out) if self._efforts.waiting else 0
        while i < n:
            nxt = self._next_time()
            j = n if nxt is None else int(np.searchsorted(ta, nxt, side="left"))
            if j > i:
                self._consume(ta[i:j], fa[i:j], ff[i:j], out)
                i = j
            if i < n:
                self._efforts.horizon = float(ta[i])  # a deadline crossed by a sample
                out += self._advance(float(ta[i]))
        self._efforts.horizon = float(ta[-1])
        self._state.force = float(ff[-1])
        self._stream.batch_done(float(ta[-1]))
        return out

    def snapshot(self) -> Snapshot:
        """The current state, for displays and the virtual participant."""
        return snapshot_of(self._state, self.protocol, self.mvc_n,
                           trial_peak_n=self._efforts.trial_peak_n,
                           in_gap=self._stream.in_gap)

    def stop(self, t: float, reason: str) -> list[Event]:
        """End the session at ``t`` for a reason other than the user's.

        For example the disk is full, or no data come. Results still waiting for late
        samples are given at once. Does nothing else once the session has ended.

        Returns:
            The events it caused (the hold in progress is recorded as incomplete).
        """
        out = self._advance(t) + self.settle()
        if not self.finished:
            out += self._abort(t, reason) + self.settle()
        return out

    # ------------------------------------------------------------------ timing
    def _next_time(self) -> float | None:
        cue = self._cues.next_time()
        times = [] if cue is None else [cue]
        if self._state.deadline is not None:
            times.append(self._state.deadline)
        wait_ends = self._efforts.wait_ends(self.late_sample_wait_s)
        if wait_ends is not None:
            times.append(wait_ends)
        return min(times) if times else None

    def _advance(self, t: float) -> list[Event]:
        out: list[Event] = []
        state = self._state
        while True:
            nxt = self._next_time()
            if nxt is None or nxt > t:
                break
            wait_ends = self._efforts.wait_ends(self.late_sample_wait_s)
            if wait_ends is not None and wait_ends <= nxt:
                out += self._settle(self._efforts.pop_oldest())  # waited long enough
                continue
            due = self._cues.take_due(nxt, t)
            if due:
                state.advance_clock(max(c.t for c in due))
                out += due
                continue
            assert state.deadline is not None
            if self._efforts.provisional_waiting:
                out += self._settle_trials()  # it decides what follows this rest
                continue
            deadline = state.deadline
            state.advance_clock(deadline)
            out += self._phase_done(deadline)
        state.advance_clock(t)
        return out

    def _enter(
        self,
        phase: Phase,
        t: float,
        duration: float | None,
        *,
        stage: Stage | None = None,
        hand: Hand | None = None,
        message: str = "",
        reason: str | None = None,
    ) -> list[Event]:
        mvc = self.mvc_n.get(hand) if hand is not None else None
        self._state.enter(self.protocol, phase, t, duration, stage=stage, hand=hand,
                          mvc_n=mvc)
        self._cues.clear()
        return [phase_record(self._state, self.mvc_n, duration=duration, message=message,
                             reason=reason)]

    def _phase_done(self, t: float) -> list[Event]:
        """The current phase's time is up at ``t``: move on."""
        phase = self._state.phase
        if phase is Phase.PREPARE or phase is Phase.MVC_REST:
            return self._next_mvc_or_holds(t)
        if phase is Phase.REST:
            return self._countdown(t, Stage.HOLD, self._hold_hands[self._state.rep])
        if phase is Phase.COUNTDOWN:
            return self._go(t)
        if phase is Phase.MVC_EFFORT:
            return self._finish_trial(t)
        if phase is Phase.HOLD:
            return self._finish_hold(t, completed=True)
        raise AssertionError(f"phase {phase} has no deadline")  # pragma: no cover

    # ------------------------------------------------------------------ phases
    def _start(self, t: float) -> list[Event]:
        out: list[Event] = []
        # The intensity as shown, so a sham of a high-intensity protocol warns
        # like its active arm and says nothing of its true intensity.
        shown_target = shown_pct(self.protocol, self.protocol.target_pct)
        if shown_target > 30.0:
            out.append(SessionWarning(
                t=t,
                message=say.above_usual_intensity(shown_target),
                reason="intensity_above_30",
            ))
        return out + self._enter(Phase.PREPARE, t, self.protocol.prepare_s)

    def _next_mvc_or_holds(self, t: float) -> list[Event]:
        hand = self._mvc.next_hand
        if hand is not None:
            self._state.trial_no = self._next_trial_number(hand)
            return self._countdown(t, Stage.MVC, hand)
        return self._countdown(t, Stage.HOLD, self._hold_hands[self._state.rep])

    def _countdown(self, t: float, stage: Stage, hand: Hand) -> list[Event]:
        p = self.protocol
        out = self._enter(Phase.COUNTDOWN, t, p.countdown_s, stage=stage, hand=hand,
                          message=say.get_ready(stage, hand, self._state.rep + 1, p.reps))
        schedule_countdown(self._cues, t, p.countdown_s)
        return out

    def _go(self, t: float) -> list[Event]:
        p = self.protocol
        stage, hand = self._state.stage, self._state.hand
        assert stage is not None and hand is not None
        self._efforts.begin()
        self._stream.effort_started(t)
        if stage is Stage.MVC:
            out = self._enter(Phase.MVC_EFFORT, t, p.mvc.effort_s, stage=stage, hand=hand,
                              message=say.SQUEEZE_MAX)
            out.insert(0, Cue(t=t, cue=EventKind.GO, message=say.SQUEEZE_MAX,
                              stage=Stage.MVC, hand=hand))
            out.append(Cue(t=t, cue=EventKind.BREATHE, message=say.BREATHE_OUT,
                           stage=Stage.MVC))
            return out
        out = self._enter(Phase.HOLD, t, p.hold_s, stage=stage, hand=hand,
                          message=say.HOLD_START)
        band = self._state.band
        assert band is not None  # a hold's hand has its MVC
        self._tracker.start(t, band, self._state.warn_level)
        out.insert(0, Cue(t=t, cue=EventKind.GO, message=say.GO_HOLD,
                          stage=Stage.HOLD, hand=hand, rep=self._state.rep + 1))
        schedule_hold(self._cues, t, p)
        return out

    # ------------------------------------------------------------------ samples
    def _consume(self, t: F64, f: F64, ff: F64, out: list[Event]) -> None:
        if self._state.paused:
            return
        if self._state.phase is Phase.MVC_EFFORT:
            self._efforts.collect(t, f)
            self._efforts.note_peak(ff)
        elif self._state.phase is Phase.HOLD:
            self._efforts.collect(t, f)
            self._tracker.feed(t, ff, out)

    def _take_effort(self, t: float, *, completed: bool = True) -> PendingEffort:
        """The effort in progress, ended at ``t``, with the samples it has so far."""
        hand = self._state.hand
        mvc = self.mvc_n.get(hand) if hand is not None else None
        return self._efforts.end(self._state, t, completed=completed, mvc_n=mvc)

    def _take_late(self, ta: F64, fa: F64, out: list[Event]) -> int:
        """Give late samples to the ended efforts they belong to; settle covered ones.

        Returns:
            How many leading samples of the batch were taken.
        """
        taken, covered = self._efforts.take_late(ta, fa)
        for _ in range(covered):
            out += self._settle(self._efforts.pop_oldest())
        return taken

    def _settle(self, job: PendingEffort) -> list[Event]:
        """Give the result of an ended effort (and, for a provisional trial, what follows)."""
        out = self._efforts.result(job)
        if job.provisional and not self.finished and self._mvc.next_hand is None:
            # No further trial: on to the holds, back-dated to the effort's end so the
            # rest keeps its planned length (else the rest already entered stays).
            out += self._finish_mvc(job.t_end)
        return out

    def _settle_trials(self) -> list[Event]:
        """Score at once every MVC trial still waiting for late samples."""
        out: list[Event] = []
        while self._efforts.trial_waiting:
            out += self._settle(self._efforts.pop_oldest())
        return out

    # ------------------------------------------------------------------ MVC
    def _finish_trial(self, t: float) -> list[Event]:
        """The effort's time is up at ``t``: score it now, or once its late samples are in."""
        job = self._take_effort(t)
        self._mvc.start_next()
        if self._efforts.complete_at(t):
            return self._efforts.result(job) + self._after_trial(t)
        self._efforts.wait_for_late(job)
        if self._mvc.next_hand is not None:  # what follows does not depend on the score
            return self._after_trial(t)
        # Another trial or the holds, as the score decides: rest meanwhile, as before
        # another trial; the choice is made (dated t) when the score is in.
        job.provisional = True
        self._state.trial_no = self._next_trial_number(job.hand)
        return self._enter(Phase.MVC_REST, t, self.protocol.mvc.rest_s, stage=Stage.MVC,
                           hand=job.hand, message=say.REST_RELAX)

    def _after_trial(self, t: float) -> list[Event]:
        """The rest before the next trial, or the end of the MVC measurement."""
        hand = self._mvc.next_hand
        if hand is not None:
            self._state.trial_no = self._next_trial_number(hand)
            return self._enter(Phase.MVC_REST, t, self.protocol.mvc.rest_s, stage=Stage.MVC,
                               hand=hand, message=say.REST_RELAX)
        return self._finish_mvc(t)

    def _finish_mvc(self, t: float) -> list[Event]:
        """The MVC measurement is over at ``t``: choose each hand's MVC, rest, then holds."""
        chosen, failed = mvc_choices(self._mvc, t)
        for record in chosen:
            self.mvc_n[record.hand] = record.mvc_n
        out: list[Event] = [*chosen]
        if failed is not None:
            floor_kg = self.protocol.mvc.floor_n / KGF_N
            return out + self._abort(t, say.no_maximum_measured(failed, floor_kg))
        return out + self._enter(Phase.REST, t, self.protocol.rest_after_mvc_s,
                                 stage=Stage.HOLD, hand=self._hold_hands[self._state.rep],
                                 message=say.REST_BEFORE_FIRST_HOLD)

    def _next_trial_number(self, hand: Hand) -> int:
        return self._mvc.number_for(hand, self._efforts.trials_waiting(hand))

    def _redo(self, t: float) -> list[Event]:
        in_mvc_rest = self._state.phase is Phase.MVC_REST
        before_holds = (self._state.phase is Phase.REST and self._state.rep == 0
                        and bool(self._mvc.trials))
        # Only the latest trial can be redone, once (a second press must not discard
        # an earlier, valid trial).
        last = self._mvc.last_redoable()
        if not (in_mvc_rest or before_holds) or last is None:
            return [self._reject(Command.REDO_TRIAL, t, say.NO_TRIAL_TO_REDO)]
        number = self._next_trial_number(last.hand)
        if number > 2 * self.protocol.mvc.max_trials_per_hand:
            return [self._reject(Command.REDO_TRIAL, t, say.ENOUGH_SQUEEZES)]
        self._mvc.redo(last)
        self._state.trial_no = number  # the repeat gets a new number: both stay on record
        if before_holds:
            self.mvc_n.pop(last.hand, None)
        out: list[Event] = [MvcTrialRedone(
            t=t, message=say.trial_will_be_repeated(last.hand, last.number),
            hand=last.hand, trial=last.number, repeat_as=number)]
        return out + self._enter(Phase.MVC_REST, t, self.protocol.mvc.rest_s,
                                 stage=Stage.MVC, hand=last.hand,
                                 message=say.REST_THEN_REPEAT)

    # ------------------------------------------------------------------ holds
    def _finish_hold(self, t: float, *, completed: bool) -> list[Event]:
        """The hold ends at ``t``: stop cue now, result now or once late samples are in."""
        p, state = self.protocol, self._state
        job = self._take_effort(t, completed=completed)
        out: list[Event] = []
        if completed:
            out.append(Cue(t=t, cue=EventKind.STOP, message=say.STOP_RELAX,
                           rep=state.rep + 1))
        if self._efforts.complete_at(t):
            out += self._efforts.result(job)
        else:
            self._efforts.wait_for_late(job)
        if not completed:
            return out
        state.rep += 1
        if state.rep >= p.reps:
            return out + self._enter(Phase.COMPLETE, t, None,
                                     message=say.SESSION_COMPLETE)
        return out + self._enter(Phase.REST, t, p.rest_s, stage=Stage.HOLD,
                                 hand=self._hold_hands[state.rep],
                                 message=say.REST_RELAX)

    # ------------------------------------------------------------------ commands
    def _pause(self, t: float) -> list[Event]:
        state = self._state
        if state.paused:
            return [self._reject(Command.PAUSE, t, say.ALREADY_PAUSED)]
        out: list[Event] = []
        phase, hand = state.phase, state.hand
        if phase is Phase.HOLD:
            out += self._finish_hold(t, completed=False)
            out += self._enter(Phase.REST, t, 0.0, stage=Stage.HOLD, hand=hand,
                               message=say.PAUSED_HOLD_AGAIN)
        elif phase is Phase.MVC_EFFORT or (phase is Phase.COUNTDOWN
                                           and state.stage is Stage.MVC):
            self._efforts.drop_samples()
            out += self._enter(Phase.MVC_REST, t, 0.0, stage=Stage.MVC, hand=hand,
                               message=say.PAUSED_SQUEEZE_AGAIN)
        elif phase is Phase.COUNTDOWN:
            out += self._enter(Phase.REST, t, 0.0, stage=Stage.HOLD, hand=hand,
                               message=say.PAUSED)
        state.pause(t)
        self._cues.clear()
        out.append(Paused(t=t, message=say.PAUSED_RESUME_WHEN_READY, phase=state.phase))
        return out

    def _resume(self, t: float) -> list[Event]:
        if not self._state.paused:
            return [self._reject(Command.RESUME, t, say.NOT_PAUSED)]
        self._state.resume(t)
        self._stream.resumed(t)
        out: list[Event] = [Resumed(t=t, message=say.RESUMED, phase=self._state.phase)]
        return out + self._advance(t)

    def _abort(self, t: float, reason: str) -> list[Event]:
        out: list[Event] = []
        if self._state.phase is Phase.HOLD and not self._state.paused:
            out += self._finish_hold(t, completed=False)
        self._state.paused = False
        return out + self._enter(Phase.ABORTED, t, None, message=say.session_stopped(reason),
                                 reason=reason)

    def _reject(self, cmd: Command, t: float, why: str) -> Event:
        return CommandRejected(t=t, message=say.cannot(cmd.value, why),
                               command=cmd.value)
