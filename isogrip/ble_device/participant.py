"""A virtual participant: a model of a person squeezing a dynamometer.

The participant watches the feedback the way a person watches the screen: it sees the
engine's snapshot (phase, target, the displayed force) after a reaction delay of
150-250 ms and corrects its effort with a tracking gain when the force leaves the
range it is content with. Its output passes through a first-order muscle lag and
carries physiological tremor (8-12 Hz, ~1 % MVC), a slow random drift, and fatigue
that grows over a hold. Maximal efforts rise with a realistic time constant to a
fraction of the participant's true MVC.

Everything random comes from one seeded :class:`numpy.random.Generator`, so a
participant with the same seed and the same inputs produces the same forces.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from isogrip.signal.units import KGF_N
from isogrip.types import Hand

F64 = NDArray[np.float64]


class DisplayCurve(Protocol):
    """How true force is shown (the engine's display map satisfies this)."""

    def show_one(self, force_n: float) -> float:
        """Shown force for a true force, N."""
        ...

    def true_of(self, shown_n: float) -> float:
        """True force shown as ``shown_n``, N."""
        ...


class Feedback(Protocol):
    """What a participant can see (the engine's snapshot satisfies this).

    Forces are true newtons; ``display`` says how they appear on screen (a sham
    protocol maps them), and the participant acts on what appears.
    """

    @property
    def phase(self) -> str:
        """Phase name (``"hold"``, ``"mvc_effort"`` ...)."""
        ...

    @property
    def hand(self) -> Hand | None:
        """Hand asked for."""
        ...

    @property
    def target_n(self) -> float | None:
        """Target force, N."""
        ...

    @property
    def force_n(self) -> float | None:
        """Force shown on screen, N."""
        ...

    @property
    def paused(self) -> bool:
        """Whether the session is paused."""
        ...

    @property
    def display(self) -> DisplayCurve:
        """True force -> shown force."""
        ...


@dataclass(frozen=True)
class ParticipantProfile:
    """How a virtual participant behaves.

    Attributes:
        name: Preset name.
        mvc_right_n: True maximal force of the right hand, N.
        mvc_left_n: True maximal force of the left hand, N.
        reaction_s: Range of the reaction delay, s (drawn once per participant).
        gain: Tracking gain: fraction of the seen error corrected per second.
        content_pct: Error (% MVC) the participant tolerates before correcting.
        tremor_pct: Tremor amplitude, % MVC (scaled by the effort).
        drift_pct: Standard deviation of the slow random drift, % MVC.
        drift_tau_s: Time constant of the drift, s.
        fatigue_pct_per_min: Force lost for the same effort, % MVC per minute of hold.
        effort_frac: Range of the fraction of true MVC reached in a maximal effort.
        rise_tau_s: Time constant of force rise in a maximal effort, s.
        aim_error_pct: Standard deviation of the first aim at the target, % of target.
        noise_n: Sensor noise, N.
        endurance_s: Hold endurance: after ``t`` s of a hold the most force the hand
            keeps is MVC / (1 + t / endurance_s), whatever the effort (infinite: no
            limit). At 25 s, a hold at 30 % MVC falls below its band (27 %) after
            about 67 s while 20 % stays in its band for 2 minutes: a person the
            programme starts at the starter intensity.
    """

    name: str
    mvc_right_n: float = 40.0 * KGF_N
    mvc_left_n: float = 37.0 * KGF_N
    reaction_s: tuple[float, float] = (0.15, 0.25)
    gain: float = 2.0
    content_pct: float = 1.0
    tremor_pct: float = 1.0
    drift_pct: float = 0.6
    drift_tau_s: float = 8.0
    fatigue_pct_per_min: float = 1.0
    effort_frac: tuple[float, float] = (0.93, 1.0)
    rise_tau_s: float = 0.25
    aim_error_pct: float = 4.0
    noise_n: float = 0.3
    endurance_s: float = math.inf

    def mvc(self, hand: Hand) -> float:
        """True MVC of ``hand``, N."""
        return self.mvc_left_n if hand is Hand.LEFT else self.mvc_right_n


#: Built-in participant presets (``sim:<preset>``).
PRESETS: dict[str, ParticipantProfile] = {
    "good": ParticipantProfile(name="good"),
    "sloppy": ParticipantProfile(
        name="sloppy",
        reaction_s=(0.2, 0.25),
        gain=0.6,
        content_pct=4.5,
        tremor_pct=1.5,
        drift_pct=2.5,
        drift_tau_s=5.0,
        fatigue_pct_per_min=2.0,
        effort_frac=(0.8, 1.0),
        aim_error_pct=15.0,
    ),
    "fatigue": ParticipantProfile(
        name="fatigue",
        mvc_right_n=34.0 * KGF_N,
        mvc_left_n=31.0 * KGF_N,
        gain=1.2,
        content_pct=3.0,
        fatigue_pct_per_min=6.0,
        tremor_pct=1.3,
    ),
    "weak": ParticipantProfile(
        name="weak",
        mvc_right_n=14.0 * KGF_N,
        mvc_left_n=12.0 * KGF_N,
        reaction_s=(0.2, 0.25),
        gain=1.2,
        content_pct=2.0,
        tremor_pct=1.5,
        fatigue_pct_per_min=3.0,
        effort_frac=(0.9, 1.0),
    ),
}


class VirtualParticipant:
    """Produces force samples from what the participant sees.

    Args:
        profile: Behaviour parameters.
        seed: Seed of the random generator.
    """

    def __init__(self, profile: ParticipantProfile, seed: int = 0) -> None:
        self.profile = profile
        self._rng = np.random.default_rng(seed)
        lo, hi = profile.reaction_s
        self.reaction_s = float(self._rng.uniform(lo, hi))
        self._seen: deque[tuple[float, Feedback | None]] = deque()
        self._intent = 0.0  # motor command, N
        self._force = 0.0  # muscle output before tremor and noise, N
        self._drift = 0.0  # % MVC
        self._phase: str = "idle"
        self._hand: Hand = Hand.RIGHT
        self._phase_t0 = 0.0
        self._effort_goal = 0.0
        self._aim = 1.0
        self._trials_done = 0
        self._tremor_hz = float(self._rng.uniform(8.0, 12.0))
        self._tremor_w = 2 * math.pi * self._tremor_hz
        self._tremor_phase = float(self._rng.uniform(0, 2 * math.pi))
        self._last_t: float | None = None
        self._last_sample_t: float | None = None
        self._current: Feedback | None = None

    def observe(self, t: float, feedback: Feedback | None) -> None:
        """Record what is on screen at ``t`` (seen ``reaction_s`` later)."""
        self._seen.append((t, feedback))

    def _perceived(self, t: float) -> Feedback | None:
        """The latest observation at least one reaction time old."""
        seen = None
        while self._seen and self._seen[0][0] <= t - self.reaction_s:
            seen = self._seen.popleft()[1]
        if seen is not None:
            self._current = seen
        return self._current

    def forces(self, t: F64) -> F64:
        """Forces at the sample times ``t`` (one packet), N.

        The control decision is made once per packet from the delayed view, the
        output is computed for every sample.
        """
        p = self.profile
        t0 = float(t[0])
        dt_packet = 0.0 if self._last_t is None else max(0.0, float(t[-1]) - self._last_t)
        self._last_t = float(t[-1])
        view = self._perceived(t0)
        phase = "idle" if view is None else str(view.phase)
        hand = self._hand if view is None or view.hand is None else view.hand
        paused = bool(view is not None and view.paused)
        if phase != self._phase or hand is not self._hand:
            self._start_phase(phase, hand, t0)
        mvc = p.mvc(self._hand)
        in_hold = phase == "hold" and not paused
        if phase == "mvc_effort" and not paused:
            goal = self._effort_goal
            tau = p.rise_tau_s
        elif in_hold and view is not None and view.target_n is not None:
            goal = self._track(view, t0, dt_packet, mvc)
            tau = 0.08
        else:
            goal, tau = 0.0, 0.12
        z = self._rng.standard_normal(t.shape[0] + 1)  # one draw per packet: cheaper
        # Slow drift (Ornstein-Uhlenbeck), applied while holding.
        if dt_packet > 0:
            a = math.exp(-dt_packet / p.drift_tau_s)
            self._drift = self._drift * a + p.drift_pct * math.sqrt(1 - a * a) * float(z[0])
        # First-order muscle response towards the goal (constant within a packet).
        prev = t0 if self._last_sample_t is None else self._last_sample_t
        decay = np.exp(-np.maximum(t - prev, 0.0) / tau)
        out = goal + (self._force - goal) * decay
        self._force = float(out[-1])
        self._last_sample_t = float(t[-1])
        if in_hold:
            fatigue = 1.0 - p.fatigue_pct_per_min / 6000.0 * (t - self._phase_t0)
            out = out * np.maximum(fatigue, 0.3) + self._drift / 100 * mvc
            if math.isfinite(p.endurance_s):
                out = np.minimum(out, mvc / (1.0 + (t - self._phase_t0) / p.endurance_s))
        # Tremor grows with effort (0.15 at rest to 1.15 at maximum), in % MVC.
        level = np.minimum(np.maximum(out, 0.0), mvc) * (p.tremor_pct / 100)
        tremor = (level + 0.0015 * p.tremor_pct * mvc) * np.sin(
            self._tremor_w * t + self._tremor_phase
        )
        force: F64 = np.maximum(out + tremor + p.noise_n * z[1:], -2.0)
        return force

    def _start_phase(self, phase: str, hand: Hand, t: float) -> None:
        p = self.profile
        self._phase, self._hand, self._phase_t0 = phase, hand, t
        if phase == "mvc_effort":
            self._trials_done += 1
            lo, hi = p.effort_frac
            # People warm up: later trials tend to be a little stronger.
            frac = float(self._rng.uniform(lo, hi))
            frac = min(1.0, frac + 0.01 * min(self._trials_done, 3))
            self._effort_goal = frac * p.mvc(hand)
        elif phase == "hold":
            self._aim = 1.0 + float(self._rng.normal(0.0, p.aim_error_pct / 100))
            self._intent = 0.0

    def _track(self, view: Feedback, t: float, dt: float, mvc: float) -> float:
        """Motor command during a hold: aim, then correct what is seen.

        The participant works in what the screen shows (the marker against the
        band), as a person who has learnt how hard to squeeze to move the marker:
        the intent is a shown force, and the muscles produce the true force that
        the display shows as that (identical for protocols that show true force).
        """
        p = self.profile
        assert view.target_n is not None
        display = view.display
        target = display.show_one(view.target_n)
        if t - self._phase_t0 < 1.0 + self.reaction_s:
            # The initial ramp: the person squeezes to where they think the target is.
            self._intent = target * self._aim
            return display.true_of(self._intent)
        seen = display.show_one(view.force_n) if view.force_n is not None else 0.0
        error = target - seen
        if abs(error) > p.content_pct / 100 * mvc:
            self._intent += p.gain * error * dt
        self._intent = min(max(self._intent, 0.0), display.show_one(1.5 * mvc))
        return display.true_of(self._intent)


def make_participant(preset: str, seed: int = 0, **overrides: Any) -> VirtualParticipant:
    """Create a participant from a preset name.

    Args:
        preset: One of :data:`PRESETS`.
        seed: Random seed.
        **overrides: Profile fields to change (e.g. ``mvc_right_n=300``).

    Raises:
        KeyError: Unknown preset.
    """
    if preset not in PRESETS:
        raise KeyError(f"unknown participant {preset!r}; presets: {', '.join(PRESETS)}")
    profile = replace(PRESETS[preset], **overrides) if overrides else PRESETS[preset]
    return VirtualParticipant(profile, seed)
