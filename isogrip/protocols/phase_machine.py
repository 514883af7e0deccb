"""The engine's phase machine: what happens when a phase's time is up or a command applies.

:class:`PhaseMachine` holds a session's changing parts (the phase state, the MVC plan,
the efforts waiting for their results, the cue schedule, the band tracker, the sample
stream's gap watch) and moves between phases; :class:`~isogrip.protocols.engine.Engine`
is its facade, which routes samples, ticks and commands to it. Every method takes the
time it acts at and returns the records it caused; none reads a clock.
"""

from __future__ import annotations

from collections.abc import Mapping

from isogrip.protocols import sentences as say
from isogrip.protocols.band import BandTracker
from isogrip.protocols.cue_schedule import CueSchedule
from isogrip.protocols.display import shown_pct
from isogrip.protocols.efforts import EffortIntake
from isogrip.protocols.events import Command, EventKind, Phase, Stage
from isogrip.protocols.model import Protocol
from isogrip.protocols.mvc_plan import MvcPlan
from isogrip.protocols.phase_cues import schedule_countdown, schedule_hold
from isogrip.protocols.phase_state import PhaseState
from isogrip.protocols.records import (
    CommandRejected,
    Cue,
    Event,
    MvcTrialRedone,
    Paused,
    Resumed,
    SessionWarning,
)
from isogrip.protocols.results import mvc_choices
from isogrip.protocols.sample_stream import SampleStream
from isogrip.protocols.settling import PendingEffort, late_sample_wait
from isogrip.protocols.snapshot_view import phase_record
from isogrip.signal.units import KGF_N
from isogrip.types import Hand


class PhaseMachine:
    """The phases of one session and the moves between them.

    Args:
        protocol: The protocol being run (already checked by the engine).
        stream: The sample stream's gap watch (the machine tells it when efforts start
            and the session resumes).
        dominant: The participant's dominant hand.
        known_mvc: MVC per hand to reuse (N); those hands skip the MVC trials.
        full_scale_n: The device's largest reading, N (for saturated trials).
    """

    def __init__(
        self,
        protocol: Protocol,
        stream: SampleStream,
        *,
        dominant: Hand,
        known_mvc: Mapping[Hand, float] | None,
        full_scale_n: float | None,
    ) -> None:
        self.protocol = protocol
        self.stream = stream
        self.hold_hands = protocol.hand_sequence(dominant)
        self.mvc_n: dict[Hand, float] = dict(known_mvc or {})
        self.mvc = MvcPlan(protocol.mvc, [h for h in protocol.mvc_hands(dominant)
                                          if h not in self.mvc_n])
        self.tracker = BandTracker(protocol)
        self.state = PhaseState()
        self.cues = CueSchedule()
        self.efforts = EffortIntake(self.mvc, protocol.ramp_s, full_scale_n)

    @property
    def finished(self) -> bool:
        """Whether the session has completed or been aborted."""
        return self.state.phase.finished

    @property
    def late_sample_wait_s(self) -> float:
        """Longest wait for late samples after an effort's end, s (see settling)."""
        return late_sample_wait(self.stream.batch_dt)

    def next_time(self) -> float | None:
        """The next time something is due (a cue, the phase's end, a wait's end), or None."""
        cue = self.cues.next_time()
        times = [] if cue is None else [cue]
        if self.state.deadline is not None:
            times.append(self.state.deadline)
        wait_ends = self.efforts.wait_ends(self.late_sample_wait_s)
        if wait_ends is not None:
            times.append(wait_ends)
        return min(times) if times else None

    def advance(self, t: float) -> list[Event]:
        """Move the clock to ``t``: every cue, phase end and settled result due by then."""
        out: list[Event] = []
        state = self.state
        while True:
            nxt = self.next_time()
            if nxt is None or nxt > t:
                break
            wait_ends = self.efforts.wait_ends(self.late_sample_wait_s)
            if wait_ends is not None and wait_ends <= nxt:
                out += self.settle(self.efforts.pop_oldest())  # waited long enough
                continue
            due = self.cues.take_due(nxt, t)
            if due:
                state.advance_clock(max(c.t for c in due))
                out += due
                continue
            assert state.deadline is not None
            if self.efforts.provisional_waiting:
                out += self.settle_trials()  # it decides what follows this rest
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
        self.state.enter(self.protocol, phase, t, duration, stage=stage, hand=hand,
                          mvc_n=mvc)
        self.cues.clear()
        return [phase_record(self.state, self.mvc_n, duration=duration, message=message,
                             reason=reason)]

    def _phase_done(self, t: float) -> list[Event]:
        """The current phase's time is up at ``t``: move on."""
        phase = self.state.phase
        if phase is Phase.PREPARE or phase is Phase.MVC_REST:
            return self._next_mvc_or_holds(t)
        if phase is Phase.REST:
            return self._countdown(t, Stage.HOLD, self.hold_hands[self.state.rep])
        if phase is Phase.COUNTDOWN:
            return self._go(t)
        if phase is Phase.MVC_EFFORT:
            return self._finish_trial(t)
        if phase is Phase.HOLD:
            return self._finish_hold(t, completed=True)
        raise AssertionError(f"phase {phase} has no deadline")  # pragma: no cover

    # ------------------------------------------------------------------ phases
    def start(self, t: float) -> list[Event]:
        """Start the session at ``t``: the preparation phase (and a warning above 30 %)."""
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
        hand = self.mvc.next_hand
        if hand is not None:
            self.state.trial_no = self._next_trial_number(hand)
            return self._countdown(t, Stage.MVC, hand)
        return self._countdown(t, Stage.HOLD, self.hold_hands[self.state.rep])

    def _countdown(self, t: float, stage: Stage, hand: Hand) -> list[Event]:
        p = self.protocol
        out = self._enter(Phase.COUNTDOWN, t, p.countdown_s, stage=stage, hand=hand,
                          message=say.get_ready(stage, hand, self.state.rep + 1, p.reps))
        schedule_countdown(self.cues, t, p.countdown_s)
        return out

    def _go(self, t: float) -> list[Event]:
        p = self.protocol
        stage, hand = self.state.stage, self.state.hand
        assert stage is not None and hand is not None
        self.efforts.begin()
        self.stream.effort_started(t)
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
        band = self.state.band
        assert band is not None  # a hold's hand has its MVC
        self.tracker.start(t, band, self.state.warn_level)
        out.insert(0, Cue(t=t, cue=EventKind.GO, message=say.GO_HOLD,
                          stage=Stage.HOLD, hand=hand, rep=self.state.rep + 1))
        schedule_hold(self.cues, t, p)
        return out

    def _take_effort(self, t: float, *, completed: bool = True) -> PendingEffort:
        """The effort in progress, ended at ``t``, with the samples it has so far."""
        hand = self.state.hand
        mvc = self.mvc_n.get(hand) if hand is not None else None
        return self.efforts.end(self.state, t, completed=completed, mvc_n=mvc)

    def settle(self, job: PendingEffort) -> list[Event]:
        """Give the result of an ended effort (and, for a provisional trial, what follows)."""
        out = self.efforts.result(job)
        if job.provisional and not self.finished and self.mvc.next_hand is None:
            # No further trial: on to the holds, back-dated to the effort's end so the
            # rest keeps its planned length (else the rest already entered stays).
            out += self._finish_mvc(job.t_end)
        return out

    def settle_trials(self) -> list[Event]:
        """Score at once every MVC trial still waiting for late samples."""
        out: list[Event] = []
        while self.efforts.trial_waiting:
            out += self.settle(self.efforts.pop_oldest())
        return out

    # ------------------------------------------------------------------ MVC
    def _finish_trial(self, t: float) -> list[Event]:
        """The effort's time is up at ``t``: score it now, or once its late samples are in."""
        job = self._take_effort(t)
        self.mvc.start_next()
        if self.efforts.complete_at(t):
            return self.efforts.result(job) + self._after_trial(t)
        self.efforts.wait_for_late(job)
        if self.mvc.next_hand is not None:  # what follows does not depend on the score
            return self._after_trial(t)
        # Another trial or the holds, as the score decides: rest meanwhile, as before
        # another trial; the choice is made (dated t) when the score is in.
        job.provisional = True
        self.state.trial_no = self._next_trial_number(job.hand)
        return self._enter(Phase.MVC_REST, t, self.protocol.mvc.rest_s, stage=Stage.MVC,
                           hand=job.hand, message=say.REST_RELAX)

    def _after_trial(self, t: float) -> list[Event]:
        """The rest before the next trial, or the end of the MVC measurement."""
        hand = self.mvc.next_hand
        if hand is not None:
            self.state.trial_no = self._next_trial_number(hand)
            return self._enter(Phase.MVC_REST, t, self.protocol.mvc.rest_s, stage=Stage.MVC,
                               hand=hand, message=say.REST_RELAX)
        return self._finish_mvc(t)

    def _finish_mvc(self, t: float) -> list[Event]:
        """The MVC measurement is over at ``t``: choose each hand's MVC, rest, then holds."""
        chosen, failed = mvc_choices(self.mvc, t)
        for record in chosen:
            self.mvc_n[record.hand] = record.mvc_n
        out: list[Event] = [*chosen]
        if failed is not None:
            floor_kg = self.protocol.mvc.floor_n / KGF_N
            return out + self.abort(t, say.no_maximum_measured(failed, floor_kg))
        return out + self._enter(Phase.REST, t, self.protocol.rest_after_mvc_s,
                                 stage=Stage.HOLD, hand=self.hold_hands[self.state.rep],
                                 message=say.REST_BEFORE_FIRST_HOLD)

    def _next_trial_number(self, hand: Hand) -> int:
        return self.mvc.number_for(hand, self.efforts.trials_waiting(hand))

    def redo(self, t: float) -> list[Event]:
        """Discard the latest MVC trial and rest before repeating it, if that applies."""
        in_mvc_rest = self.state.phase is Phase.MVC_REST
        before_holds = (self.state.phase is Phase.REST and self.state.rep == 0
                        and bool(self.mvc.trials))
        # Only the latest trial can be redone, once (a second press must not discard
        # an earlier, valid trial).
        last = self.mvc.last_redoable()
        if not (in_mvc_rest or before_holds) or last is None:
            return [self.reject(Command.REDO_TRIAL, t, say.NO_TRIAL_TO_REDO)]
        number = self._next_trial_number(last.hand)
        if number > 2 * self.protocol.mvc.max_trials_per_hand:
            return [self.reject(Command.REDO_TRIAL, t, say.ENOUGH_SQUEEZES)]
        self.mvc.redo(last)
        self.state.trial_no = number  # the repeat gets a new number: both stay on record
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
        p, state = self.protocol, self.state
        job = self._take_effort(t, completed=completed)
        out: list[Event] = []
        if completed:
            out.append(Cue(t=t, cue=EventKind.STOP, message=say.STOP_RELAX,
                           rep=state.rep + 1))
        if self.efforts.complete_at(t):
            out += self.efforts.result(job)
        else:
            self.efforts.wait_for_late(job)
        if not completed:
            return out
        state.rep += 1
        if state.rep >= p.reps:
            return out + self._enter(Phase.COMPLETE, t, None,
                                     message=say.SESSION_COMPLETE)
        return out + self._enter(Phase.REST, t, p.rest_s, stage=Stage.HOLD,
                                 hand=self.hold_hands[state.rep],
                                 message=say.REST_RELAX)

    # ------------------------------------------------------------------ commands
    def pause(self, t: float) -> list[Event]:
        """Pause at ``t``: a rest's timer freezes, an effort in progress is abandoned."""
        state = self.state
        if state.paused:
            return [self.reject(Command.PAUSE, t, say.ALREADY_PAUSED)]
        out: list[Event] = []
        phase, hand = state.phase, state.hand
        if phase is Phase.HOLD:
            out += self._finish_hold(t, completed=False)
            out += self._enter(Phase.REST, t, 0.0, stage=Stage.HOLD, hand=hand,
                               message=say.PAUSED_HOLD_AGAIN)
        elif phase is Phase.MVC_EFFORT or (phase is Phase.COUNTDOWN
                                           and state.stage is Stage.MVC):
            self.efforts.drop_samples()
            out += self._enter(Phase.MVC_REST, t, 0.0, stage=Stage.MVC, hand=hand,
                               message=say.PAUSED_SQUEEZE_AGAIN)
        elif phase is Phase.COUNTDOWN:
            out += self._enter(Phase.REST, t, 0.0, stage=Stage.HOLD, hand=hand,
                               message=say.PAUSED)
        state.pause(t)
        self.cues.clear()
        out.append(Paused(t=t, message=say.PAUSED_RESUME_WHEN_READY, phase=state.phase))
        return out

    def resume(self, t: float) -> list[Event]:
        """Resume at ``t`` where the pause left off (an abandoned effort from its countdown)."""
        if not self.state.paused:
            return [self.reject(Command.RESUME, t, say.NOT_PAUSED)]
        self.state.resume(t)
        self.stream.resumed(t)
        out: list[Event] = [Resumed(t=t, message=say.RESUMED, phase=self.state.phase)]
        return out + self.advance(t)

    def abort(self, t: float, reason: str) -> list[Event]:
        """End the session at ``t`` (a hold in progress is recorded as incomplete)."""
        out: list[Event] = []
        if self.state.phase is Phase.HOLD and not self.state.paused:
            out += self._finish_hold(t, completed=False)
        self.state.paused = False
        return out + self._enter(Phase.ABORTED, t, None, message=say.session_stopped(reason),
                                 reason=reason)

    def reject(self, cmd: Command, t: float, why: str) -> Event:
        """The record of a command that does not apply now, saying why."""
        return CommandRejected(t=t, message=say.cannot(cmd.value, why),
                               command=cmd.value)
