"""Protocol definitions as immutable dataclasses.

A protocol is data: it is read from a TOML file (see :mod:`isogrip.protocols.loader`
and ``docs/protocols.md``) and drives the :class:`~isogrip.protocols.engine.Engine`.
Percentages are of the session's maximal voluntary contraction (% MVC); durations are
seconds. Defaults follow ``docs/science.md``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from isogrip.signal.units import KGF_N
from isogrip.types import Hand


class HandPattern(enum.StrEnum):
    """How holds are assigned to hands."""

    ALTERNATING = "alternating"  # first_hand, other, first_hand, ...
    LEFT = "left"
    RIGHT = "right"
    NON_DOMINANT = "non-dominant"  # resolved from the participant's dominant hand


@dataclass(frozen=True)
class MvcSpec:
    """How the maximal voluntary contraction is measured before the holds.

    Attributes:
        trials_per_hand: Planned maximal efforts per hand (SCIENCE: 2-3).
        max_trials_per_hand: Upper limit including extra trials (SCIENCE: at most 5).
        effort_s: Length of one maximal effort, s (ASHT: at least 3 s).
        rest_s: Rest after each effort, s (ASHT: at least 15 s).
        window_s: Moving-average window used to score a trial, s.
        disagreement_pct: Top-two trials differing by more than this (% of the best)
            ask for another trial.
        improvement_pct: A last trial that beat the best earlier one by more than
            this (% of that earlier best) asks for another trial: strength may still
            be rising. Default 5 %, about one standard error of measurement of grip
            strength (docs/science.md).
        floor_n: An effort whose score is below this is not a maximal effort, N.
        extra_trials: Add a further trial automatically when a hand is flagged.
    """

    trials_per_hand: int = 3
    max_trials_per_hand: int = 5
    effort_s: float = 5.0
    rest_s: float = 20.0
    window_s: float = 0.5
    disagreement_pct: float = 10.0
    floor_n: float = 2.0 * KGF_N
    extra_trials: bool = True
    improvement_pct: float = 5.0


@dataclass(frozen=True)
class Protocol:
    """A training protocol.

    Attributes:
        name: Short identifier (``ihg-4x2-30-alternating``).
        title: One-line human title.
        description: Plain-language description.
        source: Citation(s) the protocol follows.
        reps: Number of holds.
        hands: How holds are assigned to hands.
        first_hand: First hand for ``alternating``.
        hold_s: Duration of each hold, s.
        rest_s: Rest between holds, s.
        target_pct: Target force, % MVC.
        green_pct: Half-width of the green band around the target, % MVC.
        amber_pct: Half-width of the amber ("near") band around the target, % MVC.
        warn_above_pct: Warn when the force stays above this, % MVC.
        prepare_s: "Get ready" time before the first effort, s.
        countdown_s: 3-2-1 countdown before every effort and hold, s.
        ramp_s: Start of a hold excluded from time-in-band and steadiness, s.
        rest_after_mvc_s: Rest between the last MVC trial and the first hold, s.
        breathing_reminder_s: Interval of "breathe normally" reminders in a hold, s
            (0 turns them off).
        display_scale: Factor applied to forces shown to the participant (1 = true;
            a sham protocol at 5 % MVC uses 6 so it looks like 30 %).
        display_slope: Shown N per true N around the target of a protocol whose
            display scale is not 1 (see :mod:`isogrip.protocols.display`): a slope
            near 1 keeps tremor and noise on screen the size they are in the active
            arm, where ``display_scale`` itself would magnify them. Raised when the
            band would not leave room for a ramp; at most ``display_scale``.
        hide_intensity: Hide the true % MVC from the participant's view.
        mvc: MVC measurement settings.
        path: File the protocol was read from, or ``None`` for built-ins.
    """

    name: str
    title: str = ""
    description: str = ""
    source: str = ""
    reps: int = 4
    hands: HandPattern = HandPattern.ALTERNATING
    first_hand: Hand = Hand.RIGHT
    hold_s: float = 120.0
    rest_s: float = 60.0
    target_pct: float = 30.0
    green_pct: float = 3.0
    amber_pct: float = 5.0
    warn_above_pct: float = 35.0
    prepare_s: float = 5.0
    countdown_s: float = 3.0
    ramp_s: float = 3.0
    rest_after_mvc_s: float = 60.0
    breathing_reminder_s: float = 30.0
    display_scale: float = 1.0
    display_slope: float = 1.0
    hide_intensity: bool = False
    mvc: MvcSpec = field(default_factory=MvcSpec)
    path: str | None = None

    def hand_sequence(self, dominant: Hand = Hand.RIGHT) -> tuple[Hand, ...]:
        """The hand of every hold, in order.

        Args:
            dominant: The participant's dominant hand (used by ``non-dominant``).
        """
        if self.hands is HandPattern.ALTERNATING:
            return tuple(
                self.first_hand if i % 2 == 0 else self.first_hand.other
                for i in range(self.reps)
            )
        if self.hands is HandPattern.NON_DOMINANT:
            return (dominant.other,) * self.reps
        return (Hand(self.hands.value),) * self.reps

    def mvc_hands(self, dominant: Hand = Hand.RIGHT) -> tuple[Hand, ...]:
        """Hands whose MVC is measured: those used by the holds, right first."""
        used = set(self.hand_sequence(dominant))
        return tuple(h for h in (Hand.RIGHT, Hand.LEFT) if h in used)

    def planned_duration_s(self) -> float:
        """Nominal session length with planned MVC trials and no pauses, s."""
        n_mvc = self.mvc.trials_per_hand * len(self.mvc_hands())
        mvc = n_mvc * (self.countdown_s + self.mvc.effort_s) + (n_mvc - 1) * self.mvc.rest_s
        holds = self.reps * (self.countdown_s + self.hold_s) + (self.reps - 1) * self.rest_s
        return self.prepare_s + mvc + self.rest_after_mvc_s + holds
