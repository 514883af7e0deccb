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

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

from isogrip.protocols import sentences as say
from isogrip.protocols.band import Band, BandTracker, band_for, warn_level_for
from isogrip.protocols.bounds import MAX_COUNTDOWN_S, out_of_range
from isogrip.protocols.cue_schedule import CueSchedule
from isogrip.protocols.display import IDENTITY, display_map, shown_pct
from isogrip.protocols.events import Command, EventKind, Phase, Snapshot, Stage, Zone
from isogrip.protocols.model import Protocol
from isogrip.protocols.mvc_plan import MvcPlan, Trial
from isogrip.protocols.records import (
    CommandRejected,
    Cue,
    Event,
    HoldFinished,
    MvcChosen,
    MvcTrialRedone,
    Paused,
    PhaseChanged,
    Resumed,
    SessionWarning,
)
from isogrip.protocols.results import hold_record, trial_records
from isogrip.protocols.sample_stream import SampleStream
from isogrip.protocols.settling import PendingEffort, late_sample_wait, route_late
from isogrip.signal.filters import DEFAULT_LIVE_FILTER, make_live_filter
from isogrip.signal.units import KGF_N
from isogrip.types import Hand

F64 = NDArray[np.float64]

#: Most numbers a countdown says (its last whole seconds): a countdown set longer in
#: code than a protocol file allows cannot fill the cue list.
MAX_COUNTDOWN_CUES = int(MAX_COUNTDOWN_S)





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
        self._full_scale_n = full_scale_n
        self._hold_hands = protocol.hand_sequence(dominant)
        self.mvc_n: dict[Hand, float] = dict(known_mvc or {})
        self._mvc = MvcPlan(protocol.mvc, [h for h in protocol.mvc_hands(dominant)
                                           if h not in self.mvc_n])
        self._tracker = BandTracker(protocol)
        self.hold_results: list[HoldFinished] = []

        self._t = 0.0
        self._phase = Phase.IDLE
        self._stage: Stage | None = None
        self._hand: Hand | None = None
        self._band: Band | None = None
        self._display = IDENTITY  # what the participant is shown of the force
        self._warn_level = math.inf  # true N
        self._phase_start = 0.0
        self._deadline: float | None = None
        self._cues = CueSchedule()
        self._rep = 0  # index of the current or next hold
        self._trial_no = 0
        self._paused = False
        self._paused_remaining: float | None = None
        self._paused_duration: float | None = None

        self._force: float | None = None

        self._buf_t: list[F64] = []
        self._buf_f: list[F64] = []
        self._trial_peak: float | None = None
        # Efforts whose time is up, waiting for samples stamped inside them that are
        # still on their way (isogrip.protocols.settling); oldest first.
        self._pending: list[PendingEffort] = []
        self._horizon = -math.inf  # latest sample time seen

    # ------------------------------------------------------------------ public API
    @property
    def phase(self) -> Phase:
        """The current phase."""
        return self._phase

    @property
    def trials(self) -> list[Trial]:
        """The MVC trials scored so far, in order (a redone one has ``used`` false)."""
        return self._mvc.trials

    @property
    def finished(self) -> bool:
        """Whether the session has completed or been aborted."""
        return self._phase.finished

    @property
    def results_pending(self) -> bool:
        """Whether an ended hold or MVC trial still waits for late samples.

        Its phase has ended on time, but its result comes once a sample stamped at or
        after its end has arrived, or :attr:`late_sample_wait_s` after its end; keep
        feeding and ticking until this is false, also after the session has finished.
        """
        return bool(self._pending)

    @property
    def late_sample_wait_s(self) -> float:
        """Longest wait for late samples after an effort's end, s (see settling)."""
        return late_sample_wait(self._stream.batch_dt)

    def settle(self) -> list[Event]:
        """Give every result still waiting for late samples now, with what has arrived.

        For a session cut short (the program is closing, the disk is full). Returns
        the events (hold results, MVC trials and what follows from them).
        """
        out: list[Event] = []
        while self._pending:
            out += self._settle(self._pending.pop(0))
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
        if cmd is Command.START:
            if self._phase is not Phase.IDLE:
                return [*out, self._reject(cmd, t, say.ALREADY_STARTED)]
            # The intensity as shown, so a sham of a high-intensity protocol warns
            # like its active arm and says nothing of its true intensity.
            shown_target = shown_pct(self.protocol, self.protocol.target_pct)
            if shown_target > 30.0:
                out.append(SessionWarning(
                    t=t,
                    message=say.above_usual_intensity(shown_target),
                    reason="intensity_above_30",
                ))
            out += self._enter(Phase.PREPARE, t, self.protocol.prepare_s)
            return out
        if self._phase in (Phase.IDLE, Phase.COMPLETE, Phase.ABORTED):
            return [*out, self._reject(cmd, t, f"the session is {self._phase.value}")]
        if cmd is Command.ABORT:
            return out + self._abort(t, "stopped by the user")
        if cmd is Command.PAUSE:
            return out + self._pause(t)
        if cmd is Command.RESUME:
            return out + self._resume(t)
        if self._paused:
            return [*out, self._reject(cmd, t, say.IS_PAUSED)]
        if cmd is Command.SKIP_REST:
            if self._phase not in (Phase.PREPARE, Phase.REST, Phase.MVC_REST):
                return [*out, self._reject(cmd, t, say.NO_REST_TO_SKIP)]
            self._deadline = t
            return out + self._advance(t)
        # REDO_TRIAL
        return out + self._redo(t)

    def tick(self, t: float) -> list[Event]:
        """Advance the clock to ``t`` without samples (drives timers and gap detection)."""
        out = self._advance(t)
        if not self._paused and self._phase in (Phase.HOLD, Phase.MVC_EFFORT):
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
        n = ta.shape[0]
        out: list[Event] = []
        if n == 0:
            return out
        ta, fa = self._stream.clean(ta, fa)
        n = ta.shape[0]
        if n == 0:
            return out
        self._stream.arrived(float(ta[0]), out)
        ff = self._filter.process(fa)
        # Samples stamped before the end of an effort that has ended go to it.
        i = self._take_late(ta, fa, out) if self._pending else 0
        while i < n:
            nxt = self._next_time()
            j = n if nxt is None else int(np.searchsorted(ta, nxt, side="left"))
            if j > i:
                self._consume(ta[i:j], fa[i:j], ff[i:j], out)
                i = j
            if i < n:
                self._horizon = float(ta[i])  # a deadline crossed by a sample
                out += self._advance(float(ta[i]))
        self._horizon = float(ta[-1])
        self._force = float(ff[-1])
        self._stream.batch_done(float(ta[-1]))
        return out

    @property
    def gap_threshold_s(self) -> float:
        """Silence that counts as a gap now, s (see :mod:`.sample_stream`)."""
        return self._stream.threshold_s

    def snapshot(self) -> Snapshot:
        """The current state, for displays and the virtual participant."""
        p = self.protocol
        hand = self._hand
        mvc = self.mvc_n.get(hand) if hand is not None else None
        target = low = high = nlow = nhigh = None
        band = self._band
        display = IDENTITY
        if band is not None and self._stage is Stage.HOLD:
            target, low, high = band.target_n, band.low_n, band.high_n
            nlow, nhigh = band.near_low_n, band.near_high_n
            display = self._display  # MVC efforts always show the true force
        force = self._force
        pct = 100 * force / mvc if (force is not None and mvc) else None
        zone = Zone.NONE
        if self._phase is Phase.HOLD and force is not None and band is not None:
            zone = band.zone(force)
        duration = None if self._deadline is None else self._deadline - self._phase_start
        left = None if self._deadline is None else max(0.0, self._deadline - self._t)
        if self._paused:
            left = self._paused_remaining
            duration = self._paused_duration
        return Snapshot(
            t=self._t,
            phase=self._phase,
            stage=self._stage,
            hand=hand,
            rep=min(self._rep + 1, p.reps) if self._stage is Stage.HOLD else 0,
            reps=p.reps,
            trial=self._trial_no if self._stage is Stage.MVC else 0,
            trials_planned=p.mvc.trials_per_hand,
            target_n=target,
            band_low_n=low,
            band_high_n=high,
            near_low_n=nlow,
            near_high_n=nhigh,
            target_pct=p.target_pct if target is not None else None,
            mvc_n=mvc,
            mvc_by_hand=dict(self.mvc_n),
            phase_duration_s=duration,
            time_left_s=left,
            force_n=force,
            pct_mvc=pct,
            zone=zone,
            trial_peak_n=self._trial_peak if self._phase is Phase.MVC_EFFORT else None,
            paused=self._paused,
            in_gap=self._stream.in_gap,
            display_scale=p.display_scale,
            hide_intensity=p.hide_intensity,
            display=display,
            cue=self._cue_words(zone),
        )

    # ------------------------------------------------------------------ timing
    def _next_time(self) -> float | None:
        cue = self._cues.next_time()
        times = [] if cue is None else [cue]
        if self._deadline is not None:
            times.append(self._deadline)
        if self._pending:
            times.append(self._pending[0].t_end + self.late_sample_wait_s)
        return min(times) if times else None

    def _advance(self, t: float) -> list[Event]:
        out: list[Event] = []
        while True:
            nxt = self._next_time()
            if nxt is None or nxt > t:
                break
            if self._pending and self._pending[0].t_end + self.late_sample_wait_s <= nxt:
                out += self._settle(self._pending.pop(0))  # waited long enough
                continue
            due = self._cues.take_due(nxt, t)
            if due:
                self._t = max(self._t, *(c.t for c in due))
                out += due
                continue
            assert self._deadline is not None
            if any(job.provisional for job in self._pending):
                out += self._settle_trials()  # it decides what follows this rest
                continue
            deadline = self._deadline
            self._t = max(self._t, deadline)
            out += self._phase_done(deadline)
        self._t = max(self._t, t)
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
        self._phase = phase
        self._stage = stage
        self._hand = hand
        mvc = self.mvc_n.get(hand) if hand is not None else None
        self._band = None if mvc is None else band_for(self.protocol, mvc)
        self._display = IDENTITY if mvc is None else display_map(self.protocol, mvc)
        self._warn_level = math.inf if mvc is None else warn_level_for(self.protocol, mvc)
        self._phase_start = t
        self._deadline = None if duration is None else t + duration
        self._cues.clear()
        self._t = max(self._t, t)
        words = message or say.PHASE_WORDS[phase]
        if stage is Stage.MVC:
            return [PhaseChanged(t=t, message=words, phase=phase, stage=stage, hand=hand,
                                 duration_s=duration, trial=self._trial_no)]
        if stage is not Stage.HOLD:
            return [PhaseChanged(t=t, message=words, phase=phase, hand=hand,
                                 duration_s=duration, reason=reason)]
        snap = self.snapshot()
        return [PhaseChanged(t=t, message=words, phase=phase, stage=stage, hand=hand,
                             duration_s=duration, rep=self._rep + 1,
                             target_n=snap.target_n, band_low_n=snap.band_low_n,
                             band_high_n=snap.band_high_n, mvc_n=snap.mvc_n)]

    def _phase_done(self, t: float) -> list[Event]:
        """The current phase's time is up at ``t``: move on."""
        phase = self._phase
        if phase is Phase.PREPARE or phase is Phase.MVC_REST:
            return self._next_mvc_or_holds(t)
        if phase is Phase.REST:
            return self._countdown(t, Stage.HOLD, self._hold_hands[self._rep])
        if phase is Phase.COUNTDOWN:
            return self._go(t)
        if phase is Phase.MVC_EFFORT:
            return self._finish_trial(t)
        if phase is Phase.HOLD:
            return self._finish_hold(t, completed=True)
        raise AssertionError(f"phase {phase} has no deadline")  # pragma: no cover

    def _next_mvc_or_holds(self, t: float) -> list[Event]:
        hand = self._mvc.next_hand
        if hand is not None:
            self._trial_no = self._next_trial_number(hand)
            return self._countdown(t, Stage.MVC, hand)
        return self._countdown(t, Stage.HOLD, self._hold_hands[self._rep])

    def _countdown(self, t: float, stage: Stage, hand: Hand) -> list[Event]:
        p = self.protocol
        out = self._enter(Phase.COUNTDOWN, t, p.countdown_s, stage=stage, hand=hand,
                          message=say.get_ready(stage, hand, self._rep + 1, p.reps))
        n = min(math.floor(p.countdown_s + 1e-9), MAX_COUNTDOWN_CUES)
        for k in range(n, 0, -1):
            ct = t + p.countdown_s - k
            self._cues.add(Cue(t=ct, cue=EventKind.COUNTDOWN, message=str(k), count=k))
        return out

    def _go(self, t: float) -> list[Event]:
        p = self.protocol
        stage, hand = self._stage, self._hand
        assert stage is not None and hand is not None
        self._buf_t, self._buf_f = [], []
        self._trial_peak = None
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
        assert self._band is not None  # a hold's hand has its MVC
        self._tracker.start(t, self._band, self._warn_level)
        out.insert(0, Cue(t=t, cue=EventKind.GO, message=say.GO_HOLD,
                          stage=Stage.HOLD, hand=hand, rep=self._rep + 1))
        end = t + p.hold_s
        self._cues.add(Cue(t=t + p.hold_s / 2, cue=EventKind.HALFWAY, message=say.HALFWAY))
        if p.hold_s > 20:
            self._cues.add(Cue(t=end - 10, cue=EventKind.TEN_SECONDS_LEFT,
                               message=say.TEN_SECONDS_LEFT))
        every = p.breathing_reminder_s
        # One reminder is scheduled at a time and re-armed when given (_rearm): a
        # list of every reminder of the hold would grow without bound as the
        # interval shrinks, and a jump of the clock would give all of them at once.
        if every > 0 and t + every < end - 1e-9:
            self._cues.add_repeating(Cue(t=t + every, cue=EventKind.BREATHE,
                                         message=say.KEEP_BREATHING, stage=Stage.HOLD),
                                     every=every, anchor=t, until=end - 1e-9)
        return out

    # ------------------------------------------------------------------ samples
    def _consume(self, t: F64, f: F64, ff: F64, out: list[Event]) -> None:
        if self._paused:
            return
        if self._phase is Phase.MVC_EFFORT:
            self._buf_t.append(t)
            self._buf_f.append(f)
            peak = float(ff.max())
            if self._trial_peak is None or peak > self._trial_peak:
                self._trial_peak = peak
        elif self._phase is Phase.HOLD:
            self._buf_t.append(t)
            self._buf_f.append(f)
            self._tracker.feed(t, ff, out)



    # ------------------------------------------------------------------ late samples
    def _take_effort(self, t: float, *, completed: bool = True) -> PendingEffort:
        """The effort in progress, ended at ``t``, with the samples it has so far."""
        assert self._stage is not None and self._hand is not None
        hold = self._stage is Stage.HOLD
        job = PendingEffort(self._stage, self._hand, self._rep if hold else self._trial_no,
                            self._phase_start, t, completed=completed, band=self._band,
                            mvc_n=self.mvc_n.get(self._hand), buf_t=self._buf_t,
                            buf_f=self._buf_f)
        self._buf_t, self._buf_f = [], []
        return job

    def _take_late(self, ta: F64, fa: F64, out: list[Event]) -> int:
        """Give late samples to the ended efforts they belong to; settle covered ones.

        Returns:
            How many leading samples of the batch were taken.
        """
        taken, covered = route_late(self._pending, ta, fa)
        for _ in range(covered):
            out += self._settle(self._pending.pop(0))
        return taken

    def _settle(self, job: PendingEffort) -> list[Event]:
        """Give the result of an ended effort (and, for a provisional trial, what follows)."""
        if job.stage is Stage.HOLD:
            return self._hold_result(job)
        out = self._score_trial(job)
        if job.provisional and not self.finished and self._mvc.next_hand is None:
            # No further trial: on to the holds, back-dated to the effort's end so the
            # rest keeps its planned length (else the rest already entered stays).
            out += self._finish_mvc(job.t_end)
        return out

    def _settle_trials(self) -> list[Event]:
        """Score at once every MVC trial still waiting for late samples."""
        out: list[Event] = []
        while self._pending and any(j.stage is Stage.MVC for j in self._pending):
            out += self._settle(self._pending.pop(0))
        return out

    # ------------------------------------------------------------------ MVC
    def _finish_trial(self, t: float) -> list[Event]:
        """The effort's time is up at ``t``: score it now, or once its late samples are in."""
        job = self._take_effort(t)
        self._mvc.start_next()
        if self._horizon >= t:  # a sample stamped at or after the end is in already
            return self._score_trial(job) + self._after_trial(t)
        self._pending.append(job)
        if self._mvc.next_hand is not None:  # what follows does not depend on the score
            return self._after_trial(t)
        # Another trial or the holds, as the score decides: rest meanwhile, as before
        # another trial; the choice is made (dated t) when the score is in.
        job.provisional = True
        self._trial_no = self._next_trial_number(job.hand)
        return self._enter(Phase.MVC_REST, t, self.protocol.mvc.rest_s, stage=Stage.MVC,
                           hand=job.hand, message=say.REST_RELAX)

    def _after_trial(self, t: float) -> list[Event]:
        """The rest before the next trial, or the end of the MVC measurement."""
        hand = self._mvc.next_hand
        if hand is not None:
            self._trial_no = self._next_trial_number(hand)
            return self._enter(Phase.MVC_REST, t, self.protocol.mvc.rest_s, stage=Stage.MVC,
                               hand=hand, message=say.REST_RELAX)
        return self._finish_mvc(t)

    def _score_trial(self, job: PendingEffort) -> list[Event]:
        """Score an ended trial from every sample stamped inside it."""
        tt, ff = job.samples()
        done = self._mvc.score(job.hand, job.number, tt, ff, job.t_start, job.t_end)
        return trial_records(done, job, self._full_scale_n)

    def _finish_mvc(self, t: float) -> list[Event]:
        out: list[Event] = []
        for hand in self._mvc.measured_hands():
            used, a = self._mvc.assess(hand)
            if a.best_n is None or a.best_index is None:
                floor_kg = self.protocol.mvc.floor_n / KGF_N
                return out + self._abort(t, say.no_maximum_measured(hand, floor_kg))
            self.mvc_n[hand] = a.best_n
            out.append(MvcChosen(
                t=t, message=say.hand_maximum(hand, a.best_n / KGF_N), hand=hand,
                mvc_n=a.best_n, best_trial=used[a.best_index].number,
                flags=tuple(f.value for f in a.flags), advice=a.message))
        return out + self._enter(Phase.REST, t, self.protocol.rest_after_mvc_s,
                                 stage=Stage.HOLD, hand=self._hold_hands[self._rep],
                                 message=say.REST_BEFORE_FIRST_HOLD)

    def _next_trial_number(self, hand: Hand) -> int:
        waiting = sum(1 for j in self._pending if j.stage is Stage.MVC and j.hand is hand)
        return self._mvc.number_for(hand, waiting)

    def _redo(self, t: float) -> list[Event]:
        in_mvc_rest = self._phase is Phase.MVC_REST
        before_holds = (self._phase is Phase.REST and self._rep == 0
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
        self._trial_no = number  # the repeat gets a new number: both stay on record
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
        p = self.protocol
        job = self._take_effort(t, completed=completed)
        out: list[Event] = []
        if completed:
            out.append(Cue(t=t, cue=EventKind.STOP, message=say.STOP_RELAX,
                           rep=self._rep + 1))
        if self._horizon >= t:  # a sample stamped at or after the end is in already
            out += self._hold_result(job)
        else:
            self._pending.append(job)
        if not completed:
            return out
        self._rep += 1
        if self._rep >= p.reps:
            return out + self._enter(Phase.COMPLETE, t, None,
                                     message=say.SESSION_COMPLETE)
        return out + self._enter(Phase.REST, t, p.rest_s, stage=Stage.HOLD,
                                 hand=self._hold_hands[self._rep],
                                 message=say.REST_RELAX)

    def _hold_result(self, job: PendingEffort) -> list[Event]:
        """The metrics of an ended hold, from every sample stamped inside it."""
        result = hold_record(job, self.protocol.ramp_s)
        self.hold_results.append(result)
        return [result]

    # ------------------------------------------------------------------ commands
    def _pause(self, t: float) -> list[Event]:
        if self._paused:
            return [self._reject(Command.PAUSE, t, say.ALREADY_PAUSED)]
        out: list[Event] = []
        phase = self._phase
        if phase is Phase.HOLD:
            out += self._finish_hold(t, completed=False)
            out += self._enter(Phase.REST, t, 0.0, stage=Stage.HOLD, hand=self._hand,
                               message=say.PAUSED_HOLD_AGAIN)
        elif phase is Phase.MVC_EFFORT or (phase is Phase.COUNTDOWN and self._stage is Stage.MVC):
            self._buf_t, self._buf_f = [], []
            out += self._enter(Phase.MVC_REST, t, 0.0, stage=Stage.MVC, hand=self._hand,
                               message=say.PAUSED_SQUEEZE_AGAIN)
        elif phase is Phase.COUNTDOWN:
            out += self._enter(Phase.REST, t, 0.0, stage=Stage.HOLD, hand=self._hand,
                               message=say.PAUSED)
        self._paused = True
        self._paused_remaining = None if self._deadline is None else self._deadline - t
        self._paused_duration = (
            None if self._deadline is None else self._deadline - self._phase_start
        )
        self._deadline = None
        self._cues.clear()
        out.append(Paused(t=t, message=say.PAUSED_RESUME_WHEN_READY,
                          phase=self._phase))
        return out

    def _resume(self, t: float) -> list[Event]:
        if not self._paused:
            return [self._reject(Command.RESUME, t, say.NOT_PAUSED)]
        self._paused = False
        remaining = self._paused_remaining or 0.0
        duration = self._paused_duration if self._paused_duration is not None else remaining
        self._paused_remaining = self._paused_duration = None
        # The phase keeps its planned length; only the time spent paused is skipped.
        self._phase_start = t - (duration - remaining)
        self._deadline = t + remaining
        self._stream.resumed(t)
        out: list[Event] = [Resumed(t=t, message=say.RESUMED, phase=self._phase)]
        return out + self._advance(t)

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

    def _abort(self, t: float, reason: str) -> list[Event]:
        out: list[Event] = []
        if self._phase is Phase.HOLD and not self._paused:
            out += self._finish_hold(t, completed=False)
        self._paused = False
        return out + self._enter(Phase.ABORTED, t, None, message=say.session_stopped(reason),
                                 reason=reason)

    def _reject(self, cmd: Command, t: float, why: str) -> Event:
        return CommandRejected(t=t, message=say.cannot(cmd.value, why),
                               command=cmd.value)

    def _cue_words(self, zone: Zone) -> str:
        if self._paused:
            return say.WORD_PAUSED
        phase = self._phase
        if phase is Phase.HOLD:
            return zone.words or say.WORD_SQUEEZE
        if phase is Phase.MVC_EFFORT:
            return say.WORD_HARDER
        if phase is Phase.COUNTDOWN:
            left = (self._deadline or self._t) - self._t
            return str(max(1, math.ceil(left - 1e-9))) if left > 0 else say.WORD_GO
        return say.PHASE_WORDS[phase]
