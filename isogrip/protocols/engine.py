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

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from isogrip.protocols.bounds import MAX_COUNTDOWN_S, out_of_range
from isogrip.protocols.display import IDENTITY, display_map, shown_pct, true_band
from isogrip.protocols.events import (
    Command,
    Event,
    EventKind,
    Phase,
    Snapshot,
    Stage,
    Zone,
)
from isogrip.protocols.model import Protocol
from isogrip.protocols.settling import PendingEffort, late_sample_wait, route_late
from isogrip.signal.filters import DEFAULT_LIVE_FILTER, make_live_filter
from isogrip.signal.metrics import gap_threshold, hold_metrics
from isogrip.signal.mvc import TrialScore, assess_mvc, score_trial
from isogrip.signal.units import KGF_N
from isogrip.types import Hand

F64 = NDArray[np.float64]

#: Time the force must stay outside the green band before "out of band" is reported, s.
OUT_OF_BAND_DEBOUNCE_S = 1.0
#: Time the force must be back in the band before "back in band" is reported, s.
BACK_IN_BAND_DEBOUNCE_S = 0.5
#: Time above the warning level before the warning is given, s.
WARN_DEBOUNCE_S = 1.0
#: Forces beyond this magnitude are not physical readings and are ignored, N.
MAX_FORCE_N = 1e6
#: Most numbers a countdown says (its last whole seconds): a countdown set longer in
#: code than a protocol file allows cannot fill the cue list.
MAX_COUNTDOWN_CUES = int(MAX_COUNTDOWN_S)


@dataclass
class _Trial:
    hand: Hand
    number: int
    score: TrialScore
    t_start: float
    t_end: float
    used: bool = True


@dataclass
class _Cue:
    t: float
    kind: EventKind
    message: str
    data: dict[str, Any] = field(default_factory=dict)
    # A repeating cue is due at anchor + k * every (k = 1, 2, ...) before ``until``;
    # only the next one is ever scheduled (see Engine._rearm).
    every: float = 0.0
    anchor: float = 0.0
    k: int = 0
    until: float = math.inf


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
        ValueError: A field of the protocol is outside its range
            (:data:`isogrip.protocols.bounds.RANGES`), as a protocol built in code can
            be: a breathing reminder every microsecond would never let a tick end.

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
        self._sample_dt = 1.0 / sample_rate_hz if sample_rate_hz > 0 else 0.0
        self._batch_dt = 0.0  # smoothed interval between batches, s
        self._full_scale_n = full_scale_n
        self._hold_hands = protocol.hand_sequence(dominant)
        self.mvc_n: dict[Hand, float] = dict(known_mvc or {})
        mvc = protocol.mvc
        # Hands still to do an MVC trial; a trial's number is given when it starts.
        self._mvc_queue: list[Hand] = []
        hands = [h for h in protocol.mvc_hands(dominant) if h not in self.mvc_n]
        # Hands alternate trial by trial, right first (Southampton protocol).
        for _ in range(mvc.trials_per_hand):
            self._mvc_queue.extend(hands)
        self.trials: list[_Trial] = []
        self.hold_results: list[dict[str, Any]] = []

        self._t = 0.0
        self._phase = Phase.IDLE
        self._stage: Stage | None = None
        self._hand: Hand | None = None
        self._band: tuple[float, float, float, float, float] | None = None
        self._display = IDENTITY  # what the participant is shown of the force
        self._warn_level = math.inf  # true N
        self._phase_start = 0.0
        self._deadline: float | None = None
        self._cues: list[_Cue] = []
        self._rep = 0  # index of the current or next hold
        self._trial_no = 0
        self._paused = False
        self._paused_remaining: float | None = None
        self._paused_duration: float | None = None

        self._force: float | None = None
        self._last_sample_t: float | None = None
        self._in_gap = False
        self._gap_start = 0.0
        self._buf_t: list[F64] = []
        self._buf_f: list[F64] = []
        self._trial_peak: float | None = None
        # Efforts whose time is up, waiting for samples stamped inside them that are
        # still on their way (isogrip.protocols.settling); oldest first.
        self._pending: list[PendingEffort] = []
        self._horizon = -math.inf  # latest sample time seen

        # Band bookkeeping (holds)
        self._cls = 0  # -1 low, 0 in band, +1 high (raw, filtered force)
        self._cls_since = 0.0
        self._reported_cls = 0
        self._above_since: float | None = None
        self._warned = False

    # ------------------------------------------------------------------ public API
    @property
    def phase(self) -> Phase:
        """The current phase."""
        return self._phase

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
        return late_sample_wait(self._batch_dt)

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
                return [*out, self._reject(cmd, t, "the session has already started")]
            # The intensity as shown, so a sham of a high-intensity protocol warns
            # like its active arm and says nothing of its true intensity.
            shown_target = shown_pct(self.protocol, self.protocol.target_pct)
            if shown_target > 30.0:
                out.append(
                    Event(
                        t,
                        EventKind.WARNING,
                        f"This protocol trains at {shown_target:g} % of your "
                        "maximum, above the usual 30 %. Stop if it feels too hard.",
                        {"reason": "intensity_above_30"},
                    )
                )
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
            return [*out, self._reject(cmd, t, "the session is paused")]
        if cmd is Command.SKIP_REST:
            if self._phase not in (Phase.PREPARE, Phase.REST, Phase.MVC_REST):
                return [*out, self._reject(cmd, t, "there is no rest to skip")]
            self._deadline = t
            return out + self._advance(t)
        # REDO_TRIAL
        return out + self._redo(t)

    def tick(self, t: float) -> list[Event]:
        """Advance the clock to ``t`` without samples (drives timers and gap detection)."""
        out = self._advance(t)
        self._check_gap(t, out)
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
        # One cheap check for the usual all-good batch (NaN fails the comparison).
        if not (float(np.abs(fa).max()) < MAX_FORCE_N and math.isfinite(float(ta.sum()))):
            ok = np.isfinite(ta) & (np.abs(fa) < MAX_FORCE_N)
            ta, fa = ta[ok], fa[ok]
            n = ta.shape[0]
            if n == 0:
                return out
        if self._last_sample_t is not None and ta[0] < self._last_sample_t:
            # Late or out-of-order samples: keep the engine's time monotonic.
            ta = np.maximum(ta, self._last_sample_t)
        if self._in_gap:
            self._in_gap = False
            out.append(
                Event(
                    float(ta[0]),
                    EventKind.GAP_END,
                    "Force data is back.",
                    {"duration_s": float(ta[0]) - self._gap_start},
                )
            )
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
        if self._last_sample_t is not None:
            dt = float(ta[-1]) - self._last_sample_t
            if 0.0 < dt < 2.0:  # silences are gaps, not the device's rhythm
                self._batch_dt = dt if self._batch_dt == 0.0 else 0.9 * self._batch_dt + 0.1 * dt
        self._last_sample_t = float(ta[-1])
        return out

    @property
    def gap_threshold_s(self) -> float:
        """Silence that counts as a gap now, s.

        The gap rule (:func:`isogrip.signal.metrics.gap_threshold`) of the nominal
        sample interval and the typical interval between batches, so devices that send
        many samples per notification are not taken to be silent between them.
        """
        return gap_threshold(self._sample_dt, self._batch_dt)

    def snapshot(self) -> Snapshot:
        """The current state, for displays and the virtual participant."""
        p = self.protocol
        hand = self._hand
        mvc = self.mvc_n.get(hand) if hand is not None else None
        target = low = high = nlow = nhigh = None
        band = self._band
        display = IDENTITY
        if band is not None and self._stage is Stage.HOLD:
            target, low, high, nlow, nhigh = band
            display = self._display  # MVC efforts always show the true force
        force = self._force
        pct = 100 * force / mvc if (force is not None and mvc) else None
        zone = Zone.NONE
        if self._phase is Phase.HOLD and force is not None and band is not None:
            zone = _zone(force, band)
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
            in_gap=self._in_gap,
            display_scale=p.display_scale,
            hide_intensity=p.hide_intensity,
            display=display,
            cue=self._cue_words(zone),
        )

    # ------------------------------------------------------------------ timing
    def _next_time(self) -> float | None:
        times = [c.t for c in self._cues]
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
            due = [c for c in self._cues if c.t <= nxt]
            if due:
                self._cues = [c for c in self._cues if c.t > nxt]
                for c in due:
                    self._t = max(self._t, c.t)
                    out.append(Event(c.t, c.kind, c.message, c.data))
                    self._rearm(c, t)
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

    def _rearm(self, cue: _Cue, now: float) -> None:
        """Schedule the next time of a repeating cue that has just been given.

        The next time is the first of the cue's own times (``anchor + k * every``)
        after ``now``, the time the engine is advanced to: a tick after a long jump of
        the clock (a suspended laptop, a stalled event loop) gives one reminder, not
        every one it missed, and however small the interval the cue list holds one
        such cue. Regular ticks keep the times exact.
        """
        if cue.every <= 0:
            return
        steps = (now - cue.anchor) / cue.every
        if not math.isfinite(steps):  # an interval too small to count in
            return
        k = max(cue.k + 1, math.floor(steps) + 1)
        t = cue.anchor + k * cue.every
        # ``t <= now`` only when the interval is lost in rounding: stop, do not spin.
        if now < t < cue.until:
            self._cues.append(replace(cue, t=t, k=k, data=dict(cue.data)))

    def _enter(
        self,
        phase: Phase,
        t: float,
        duration: float | None,
        *,
        stage: Stage | None = None,
        hand: Hand | None = None,
        message: str = "",
    ) -> list[Event]:
        self._phase = phase
        self._stage = stage
        self._hand = hand
        self._band = self._band_for(hand)
        known = hand is not None and hand in self.mvc_n
        self._display = display_map(self.protocol, self.mvc_n[hand]) \
            if known and hand is not None else IDENTITY
        self._warn_level = self._warn_n(hand) if known and hand is not None else math.inf
        self._phase_start = t
        self._deadline = None if duration is None else t + duration
        self._cues = []
        self._t = max(self._t, t)
        snap = self.snapshot()
        data: dict[str, Any] = {
            "phase": phase.value,
            "stage": stage.value if stage else None,
            "hand": hand.value if hand else None,
            "duration_s": duration,
        }
        if stage is Stage.HOLD:
            data.update(
                rep=self._rep + 1,
                target_n=snap.target_n,
                band_low_n=snap.band_low_n,
                band_high_n=snap.band_high_n,
                mvc_n=snap.mvc_n,
            )
        elif stage is Stage.MVC:
            data["trial"] = self._trial_no
        return [Event(t, EventKind.PHASE, message or _PHASE_WORDS[phase], data)]

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
        if self._mvc_queue:
            hand = self._mvc_queue[0]
            self._trial_no = self._next_trial_number(hand)
            return self._countdown(t, Stage.MVC, hand)
        return self._countdown(t, Stage.HOLD, self._hold_hands[self._rep])

    def _countdown(self, t: float, stage: Stage, hand: Hand) -> list[Event]:
        p = self.protocol
        what = "maximal squeeze" if stage is Stage.MVC else f"hold {self._rep + 1} of {p.reps}"
        out = self._enter(
            Phase.COUNTDOWN,
            t,
            p.countdown_s,
            stage=stage,
            hand=hand,
            message=f"Get ready: {what}, {hand.label} hand.",
        )
        n = min(math.floor(p.countdown_s + 1e-9), MAX_COUNTDOWN_CUES)
        for k in range(n, 0, -1):
            ct = t + p.countdown_s - k
            self._cues.append(_Cue(ct, EventKind.COUNTDOWN, str(k), {"count": k}))
        return out

    def _go(self, t: float) -> list[Event]:
        p = self.protocol
        stage, hand = self._stage, self._hand
        assert stage is not None and hand is not None
        self._buf_t, self._buf_f = [], []
        self._trial_peak = None
        self._cls, self._cls_since, self._reported_cls = 0, t, 0
        self._above_since, self._warned = None, False
        if not self._in_gap:  # a gap running across efforts keeps its start
            self._gap_start = t
        if self._last_sample_t is None or self._last_sample_t < t - self.gap_threshold_s:
            # Pretend a sample arrived at the cue so silence from here is a gap.
            self._last_sample_t = t
        if stage is Stage.MVC:
            out = self._enter(
                Phase.MVC_EFFORT,
                t,
                p.mvc.effort_s,
                stage=stage,
                hand=hand,
                message="Squeeze as hard as you can!",
            )
            out.insert(0, Event(t, EventKind.GO, "Squeeze as hard as you can!",
                                {"stage": "mvc", "hand": hand.value}))
            out.append(Event(t, EventKind.BREATHE, "Breathe out as you squeeze.",
                             {"stage": "mvc"}))
            return out
        out = self._enter(Phase.HOLD, t, p.hold_s, stage=stage, hand=hand,
                          message="Squeeze to the green band and hold.")
        out.insert(0, Event(t, EventKind.GO, "Go! Squeeze to the green band.",
                            {"stage": "hold", "hand": hand.value, "rep": self._rep + 1}))
        end = t + p.hold_s
        self._cues.append(_Cue(t + p.hold_s / 2, EventKind.HALFWAY, "Halfway.", {}))
        if p.hold_s > 20:
            self._cues.append(_Cue(end - 10, EventKind.TEN_SECONDS_LEFT, "10 seconds left.", {}))
        every = p.breathing_reminder_s
        # One reminder is scheduled at a time and re-armed when given (_rearm): a
        # list of every reminder of the hold would grow without bound as the
        # interval shrinks, and a jump of the clock would give all of them at once.
        if every > 0 and t + every < end - 1e-9:
            self._cues.append(_Cue(t + every, EventKind.BREATHE, "Keep breathing normally.",
                                   {"stage": "hold"}, every=every, anchor=t, k=1,
                                   until=end - 1e-9))
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
            self._band_events(t, ff, out)

    def _band_events(self, t: F64, ff: F64, out: list[Event]) -> None:
        assert self._band is not None and self._hand is not None
        p = self.protocol
        _, low, high, _, _ = self._band
        warn_n = self._warn_level
        lo, hi = float(ff.min()), float(ff.max())
        judged = t[0] >= self._phase_start + p.ramp_s
        if judged and low <= lo and hi <= high and hi <= warn_n:
            # The common case: the whole batch is in the band.
            if self._cls != 0:
                self._cls, self._cls_since = 0, float(t[0])
            self._report_band(float(t[-1]), out)
            self._above_since = None
            return
        cls = (ff > high).astype(np.int8) - (ff < low).astype(np.int8)
        if not judged:
            cls[t < self._phase_start + p.ramp_s] = 0  # the ramp is not judged
        # Segments of constant class; a handful per batch at most (filtered force).
        bounds = np.concatenate(([0], np.flatnonzero(np.diff(cls)) + 1, [len(cls)]))
        for s, e in itertools.pairwise(bounds):
            c = int(cls[s])
            if c != self._cls:
                self._cls, self._cls_since = c, float(t[s])
            self._report_band(float(t[e - 1]), out)
        self._warn_events(t, ff > warn_n, out)

    def _warn_events(self, t: F64, above: NDArray[np.bool_], out: list[Event]) -> None:
        """Warn once per hold when the force stays above the warning level."""
        if not above[-1]:
            self._above_since = None
            return
        below = np.flatnonzero(~above)
        if below.size:
            self._above_since = float(t[below[-1] + 1])
        elif self._above_since is None:
            self._above_since = float(t[0])
        if not self._warned and float(t[-1]) - self._above_since >= WARN_DEBOUNCE_S:
            self._warned = True
            p = self.protocol
            out.append(Event(
                self._above_since + WARN_DEBOUNCE_S,
                EventKind.WARNING,
                # Shown as the participant sees it, so a sham stays blind.
                f"You are squeezing above {p.warn_above_pct * p.display_scale:.0f} % "
                "of your maximum. Ease off.",
                {"reason": "above_warn_level", "warn_above_pct": p.warn_above_pct},
            ))

    def _report_band(self, seg_end: float, out: list[Event]) -> None:
        c = self._cls
        if c == self._reported_cls:
            return
        wait = BACK_IN_BAND_DEBOUNCE_S if c == 0 else OUT_OF_BAND_DEBOUNCE_S
        if seg_end - self._cls_since < wait:
            return
        self._reported_cls = c
        at = self._cls_since + wait
        if c == 0:
            out.append(Event(at, EventKind.BACK_IN_BAND, "Good, back in the green band.", {}))
        else:
            side = "low" if c < 0 else "high"
            words = "Too light: squeeze a little harder." if c < 0 else "Too hard: ease off."
            out.append(Event(at, EventKind.OUT_OF_BAND, words, {"side": side}))

    def _band_for(self, hand: Hand | None) -> tuple[float, float, float, float, float] | None:
        """(target, green low, green high, amber low, amber high) for ``hand``, N.

        True force. For a sham these are the band the participant sees mapped back
        through the display curve, so zones, cues and time in band mean what they
        mean in the active arm.
        """
        if hand is None or hand not in self.mvc_n:
            return None
        mvc = self.mvc_n[hand]
        p = self.protocol
        if not display_map(p, mvc).is_identity:
            return true_band(p, mvc).as_tuple()
        return (
            p.target_pct / 100 * mvc,
            (p.target_pct - p.green_pct) / 100 * mvc,
            (p.target_pct + p.green_pct) / 100 * mvc,
            (p.target_pct - p.amber_pct) / 100 * mvc,
            (p.target_pct + p.amber_pct) / 100 * mvc,
        )

    def _warn_n(self, hand: Hand) -> float:
        """The warning level of ``hand``, true N (a sham's shown 35 % mapped back)."""
        p, mvc = self.protocol, self.mvc_n[hand]
        if not display_map(p, mvc).is_identity:
            return true_band(p, mvc).warn_n
        return p.warn_above_pct / 100 * mvc

    def _check_gap(self, t: float, out: list[Event]) -> None:
        if self._in_gap or self._paused or self._phase not in (Phase.HOLD, Phase.MVC_EFFORT):
            return
        if self._last_sample_t is not None and t - self._last_sample_t > self.gap_threshold_s:
            self._in_gap = True
            self._gap_start = self._last_sample_t
            out.append(Event(
                t, EventKind.GAP,
                "No force data from the device. Keep going: the timer continues.",
                {"since_s": self._last_sample_t},
            ))

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
        if job.provisional and not self.finished and not self._mvc_queue:
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
        self._mvc_queue.pop(0)
        if self._horizon >= t:  # a sample stamped at or after the end is in already
            return self._score_trial(job) + self._after_trial(t)
        self._pending.append(job)
        if self._mvc_queue:  # what follows does not depend on the score
            return self._after_trial(t)
        # Another trial or the holds, as the score decides: rest meanwhile, as before
        # another trial; the choice is made (dated t) when the score is in.
        job.provisional = True
        self._trial_no = self._next_trial_number(job.hand)
        return self._enter(Phase.MVC_REST, t, self.protocol.mvc.rest_s, stage=Stage.MVC,
                           hand=job.hand, message="Rest. Let your hand relax.")

    def _after_trial(self, t: float) -> list[Event]:
        """The rest before the next trial, or the end of the MVC measurement."""
        if self._mvc_queue:
            self._trial_no = self._next_trial_number(self._mvc_queue[0])
            return self._enter(Phase.MVC_REST, t, self.protocol.mvc.rest_s, stage=Stage.MVC,
                               hand=self._mvc_queue[0], message="Rest. Let your hand relax.")
        return self._finish_mvc(t)

    def _score_trial(self, job: PendingEffort) -> list[Event]:
        """Score an ended trial from every sample stamped inside it."""
        mvc = self.protocol.mvc
        hand, number, t = job.hand, job.number, job.t_end
        tt, ff = job.samples()
        score = score_trial(tt, ff, window_s=mvc.window_s, floor_n=mvc.floor_n,
                            t_start=job.t_start)
        self.trials.append(_Trial(hand, number, score, job.t_start, t))
        used = [tr.score for tr in self.trials if tr.hand is hand and tr.used]
        assessment = assess_mvc(used, planned=mvc.trials_per_hand,
                                max_trials=mvc.max_trials_per_hand,
                                disagreement_pct=mvc.disagreement_pct,
                                improvement_pct=mvc.improvement_pct)
        queued = hand in self._mvc_queue
        extra = assessment.offer_another and mvc.extra_trials and not queued
        if extra:
            self._mvc_queue.append(hand)
        msg = f"{hand.label} hand, trial {number}: {score.score_n / KGF_N:.1f} kg."
        if not score.plausible:
            msg = score.message
        fs = self._full_scale_n
        saturated = bool(fs and math.isfinite(score.raw_peak_n)
                         and score.raw_peak_n >= 0.99 * fs)
        out = [Event(t, EventKind.MVC_TRIAL, msg, {
            "hand": hand.value,
            "trial": number,
            "t_start_s": job.t_start,
            "t_end_s": t,
            "score_n": score.score_n,
            "raw_peak_n": score.raw_peak_n,
            "time_to_peak_s": score.time_to_peak_s,
            "plausible": score.plausible,
            "message": score.message,
            "flags": [f.value for f in assessment.flags],
            "extra_trial": extra,
            "advice": assessment.message,
            "saturated": saturated,
        })]
        if saturated:
            assert fs is not None
            out.append(Event(t, EventKind.WARNING,
                             f"The squeeze reached the device's limit ({fs / KGF_N:.0f} kg): "
                             "your true maximum may be higher than measured.",
                             {"reason": "saturated", "full_scale_n": fs}))
        return out

    def _finish_mvc(self, t: float) -> list[Event]:
        mvc = self.protocol.mvc
        out: list[Event] = []
        measured = sorted({tr.hand for tr in self.trials}, key=lambda h: h is Hand.LEFT)
        for hand in measured:
            scores = [tr for tr in self.trials if tr.hand is hand and tr.used]
            a = assess_mvc([tr.score for tr in scores], planned=mvc.trials_per_hand,
                           max_trials=mvc.max_trials_per_hand,
                           disagreement_pct=mvc.disagreement_pct,
                           improvement_pct=mvc.improvement_pct)
            if a.best_n is None or a.best_index is None:
                return out + self._abort(
                    t,
                    f"No maximal effort was measured for the {hand.value} hand "
                    f"(every squeeze stayed under {mvc.floor_n / KGF_N:.1f} kg). "
                    "Check that the device is connected and zeroed, then start again.",
                )
            self.mvc_n[hand] = a.best_n
            out.append(Event(t, EventKind.MVC_RESULT,
                             f"{hand.label} hand maximum: {a.best_n / KGF_N:.1f} kg.", {
                                 "hand": hand.value,
                                 "mvc_n": a.best_n,
                                 "best_trial": scores[a.best_index].number,
                                 "flags": [f.value for f in a.flags],
                                 "advice": a.message,
                             }))
        return out + self._enter(Phase.REST, t, self.protocol.rest_after_mvc_s,
                                 stage=Stage.HOLD, hand=self._hold_hands[self._rep],
                                 message="Rest before the first hold.")

    def _next_trial_number(self, hand: Hand) -> int:
        waiting = sum(1 for j in self._pending if j.stage is Stage.MVC and j.hand is hand)
        return 1 + waiting + sum(1 for tr in self.trials if tr.hand is hand)

    def _redo(self, t: float) -> list[Event]:
        in_mvc_rest = self._phase is Phase.MVC_REST
        before_holds = self._phase is Phase.REST and self._rep == 0 and bool(self.trials)
        # Only the latest trial can be redone, once (a second press must not discard
        # an earlier, valid trial).
        last = self.trials[-1] if self.trials and self.trials[-1].used else None
        if not (in_mvc_rest or before_holds) or last is None:
            return [self._reject(Command.REDO_TRIAL, t, "there is no trial to redo now")]
        number = self._next_trial_number(last.hand)
        if number > 2 * self.protocol.mvc.max_trials_per_hand:
            return [self._reject(Command.REDO_TRIAL, t, "that hand has had enough maximal "
                                 "squeezes for today; continue with the session")]
        last.used = False
        self._trial_no = number  # the repeat gets a new number: both stay on record
        self._mvc_queue.insert(0, last.hand)
        if before_holds:
            self.mvc_n.pop(last.hand, None)
        out = [Event(t, EventKind.MVC_TRIAL, f"Trial {last.number} of the "
                     f"{last.hand.value} hand will be repeated.",
                     {"hand": last.hand.value, "trial": last.number, "redo": True,
                      "repeat_as": number})]
        return out + self._enter(Phase.MVC_REST, t, self.protocol.mvc.rest_s,
                                 stage=Stage.MVC, hand=last.hand,
                                 message="Rest, then repeat the trial.")

    # ------------------------------------------------------------------ holds
    def _finish_hold(self, t: float, *, completed: bool) -> list[Event]:
        """The hold ends at ``t``: stop cue now, result now or once late samples are in."""
        p = self.protocol
        job = self._take_effort(t, completed=completed)
        out: list[Event] = []
        if completed:
            out.append(Event(t, EventKind.STOP, "Stop. Relax your hand.",
                             {"rep": self._rep + 1}))
        if self._horizon >= t:  # a sample stamped at or after the end is in already
            out += self._hold_result(job)
        else:
            self._pending.append(job)
        if not completed:
            return out
        self._rep += 1
        if self._rep >= p.reps:
            return out + self._enter(Phase.COMPLETE, t, None,
                                     message="Session complete. Well done!")
        return out + self._enter(Phase.REST, t, p.rest_s, stage=Stage.HOLD,
                                 hand=self._hold_hands[self._rep],
                                 message="Rest. Let your hand relax.")

    def _hold_result(self, job: PendingEffort) -> list[Event]:
        """The metrics of an ended hold, from every sample stamped inside it."""
        assert job.band is not None and job.mvc_n is not None
        tt, ff = job.samples()
        target, low, high, _, _ = job.band
        # The gap threshold is the gap rule on the hold's own samples (the default),
        # so the metrics can be recomputed from an export alone.
        m = hold_metrics(tt, ff, target, low, high, ramp_s=self.protocol.ramp_s,
                         mvc_n=job.mvc_n, start_s=job.t_start, end_s=job.t_end)
        rep = job.number + 1
        result: dict[str, Any] = {
            "rep": rep,
            "hand": job.hand.value,
            "t_go_s": job.t_start,
            "t_end_s": job.t_end,
            "target_n": target,
            "band_low_n": low,
            "band_high_n": high,
            "mvc_n": job.mvc_n,
            "completed": job.completed,
            "metrics": m.as_dict(),
        }
        self.hold_results.append(result)
        tib = m.time_in_band_pct
        words = f"Hold {rep}: {tib:.0f} % of the time in the green band." \
            if job.completed and math.isfinite(tib) else f"Hold {rep} stopped early."
        return [Event(job.t_end, EventKind.HOLD_RESULT, words, result)]

    # ------------------------------------------------------------------ commands
    def _pause(self, t: float) -> list[Event]:
        if self._paused:
            return [self._reject(Command.PAUSE, t, "the session is already paused")]
        out: list[Event] = []
        phase = self._phase
        if phase is Phase.HOLD:
            out += self._finish_hold(t, completed=False)
            out += self._enter(Phase.REST, t, 0.0, stage=Stage.HOLD, hand=self._hand,
                               message="Paused. The hold will start again.")
        elif phase is Phase.MVC_EFFORT or (phase is Phase.COUNTDOWN and self._stage is Stage.MVC):
            self._buf_t, self._buf_f = [], []
            out += self._enter(Phase.MVC_REST, t, 0.0, stage=Stage.MVC, hand=self._hand,
                               message="Paused. The squeeze will be repeated.")
        elif phase is Phase.COUNTDOWN:
            out += self._enter(Phase.REST, t, 0.0, stage=Stage.HOLD, hand=self._hand,
                               message="Paused.")
        self._paused = True
        self._paused_remaining = None if self._deadline is None else self._deadline - t
        self._paused_duration = (
            None if self._deadline is None else self._deadline - self._phase_start
        )
        self._deadline = None
        self._cues = []
        out.append(Event(t, EventKind.PAUSED, "Paused. Resume when you are ready.",
                         {"phase": self._phase.value}))
        return out

    def _resume(self, t: float) -> list[Event]:
        if not self._paused:
            return [self._reject(Command.RESUME, t, "the session is not paused")]
        self._paused = False
        remaining = self._paused_remaining or 0.0
        duration = self._paused_duration if self._paused_duration is not None else remaining
        self._paused_remaining = self._paused_duration = None
        # The phase keeps its planned length; only the time spent paused is skipped.
        self._phase_start = t - (duration - remaining)
        self._deadline = t + remaining
        self._last_sample_t = max(self._last_sample_t or t, t)
        out = [Event(t, EventKind.RESUMED, "Resumed.", {"phase": self._phase.value})]
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
        out += self._enter(Phase.ABORTED, t, None, message=f"Session stopped: {reason}")
        out[-1].data["reason"] = reason
        return out

    def _reject(self, cmd: Command, t: float, why: str) -> Event:
        return Event(t, EventKind.COMMAND_REJECTED, f"Cannot {cmd.value.replace('_', ' ')}: {why}.",
                     {"command": cmd.value})

    def _cue_words(self, zone: Zone) -> str:
        if self._paused:
            return "Paused"
        phase = self._phase
        if phase is Phase.HOLD:
            return zone.words or "Squeeze"
        if phase is Phase.MVC_EFFORT:
            return "Harder... harder!"
        if phase is Phase.COUNTDOWN:
            left = (self._deadline or self._t) - self._t
            return str(max(1, math.ceil(left - 1e-9))) if left > 0 else "Go"
        return _PHASE_WORDS[phase]


def _zone(force: float, band: tuple[float, float, float, float, float]) -> Zone:
    _, low, high, nlow, nhigh = band
    if force < nlow:
        return Zone.LOW
    if force < low:
        return Zone.NEAR_LOW
    if force <= high:
        return Zone.IN_BAND
    if force <= nhigh:
        return Zone.NEAR_HIGH
    return Zone.HIGH


_PHASE_WORDS = {
    Phase.IDLE: "Ready to start",
    Phase.PREPARE: "Get ready. Sit upright, elbow bent at a right angle.",
    Phase.COUNTDOWN: "Get ready",
    Phase.MVC_EFFORT: "Squeeze as hard as you can!",
    Phase.MVC_REST: "Rest",
    Phase.HOLD: "Hold",
    Phase.REST: "Rest",
    Phase.COMPLETE: "Session complete. Well done!",
    Phase.ABORTED: "Session stopped",
}
