"""Protocol definitions as immutable dataclasses.

A protocol is data: it is read from a TOML file (see :mod:`isogrip.protocols.loader`
and ``docs/protocols.md``) and drives the :class:`~isogrip.protocols.engine.Engine`.
Percentages are of the session's maximal voluntary contraction (% MVC); durations are
seconds. Defaults follow ``docs/science.md``.

Every field is declared with its TOML table and key, its unit, its allowed range and
its rules (:func:`~isogrip.protocols.fields.spec`), and a protocol checks them all
when it is built: one made in code obeys the same rules as one read from a file and
is refused with the same :class:`~isogrip.protocols.validation.ProtocolValueError`.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from typing import Final

from isogrip.protocols import rules
from isogrip.protocols.bounds import MAX_COUNTDOWN_S, MAX_DURATION_S, MIN_STEP_S
from isogrip.protocols.fields import Range, Slot, Table, Unit, slots, spec, spec_metadata
from isogrip.protocols.validation import check_fields
from isogrip.signal.units import KGF_N
from isogrip.types import Hand

__all__ = ["HandPattern", "MvcSpec", "Protocol", "protocol_slots"]

_PROTOCOL, _HOLDS, _BAND, _TIMING, _MVC, _DISPLAY = Table
_S = Unit.SECONDS
#: The MVC floor is below 100 kgf (docs/protocols.md, [mvc]).
_MAX_FLOOR_N: Final = 100.0 * KGF_N
#: The largest display scale or slope (docs/protocols.md, [display]).
_MAX_SCALE: Final = 50.0
_ABOVE_ZERO: Final = Range(0.0, low_open=True)
_SCALE: Final = Range(0.0, _MAX_SCALE, low_open=True)
_REST: Final = Range(MIN_STEP_S, MAX_DURATION_S)
_STEP_OR_OFF: Final = Range(MIN_STEP_S, MAX_DURATION_S, off=True)


class HandPattern(enum.StrEnum):
    """How holds are assigned to hands."""

    ALTERNATING = "alternating"  # first_hand, other, first_hand, ...
    LEFT = "left"
    RIGHT = "right"
    NON_DOMINANT = "non-dominant"  # resolved from the participant's dominant hand


@dataclass(frozen=True)
class MvcSpec:
    """How the maximal voluntary contraction is measured before the holds.

    Building one checks every field against its spec.

    Raises:
        ProtocolValueError: A value is of the wrong type, outside its range or breaks
            a rule linking it to another field (the message names the TOML key).

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

    trials_per_hand: int = spec(3, _MVC, "trials_per_hand", Unit.EFFORTS, Range(1, 10))
    # At least trials_per_hand: its rule is the lower bound.
    max_trials_per_hand: int = spec(
        5, _MVC, "max_trials_per_hand", Unit.EFFORTS, Range(high=10),
        unit_words="maximal efforts per hand", rules=(rules.max_covers_planned_trials,))
    effort_s: float = spec(5.0, _MVC, "effort_s", _S, Range(1.0, 60.0))
    rest_s: float = spec(20.0, _MVC, "rest_s", _S, _REST)
    # Four samples at 80 Hz at the least; a window longer than 10 s is no peak.
    window_s: float = spec(0.5, _MVC, "window_s", _S, Range(0.05, 10.0),
                           rules=(rules.window_inside_effort,))
    disagreement_pct: float = spec(10.0, _MVC, "disagreement_pct", Unit.PCT,
                                   Range(0.0, 100.0, low_open=True))
    # Files give kilograms-force, which people read off their scales.
    floor_n: float = spec(2.0 * KGF_N, _MVC, "floor_kgf", Unit.NEWTONS,
                          Range(0.0, _MAX_FLOOR_N, high_open=True),
                          file_unit=Unit.KGF, file_scale=KGF_N)
    extra_trials: bool = spec(True, _MVC, "extra_trials")
    # Declared last to keep the positional arguments of MvcSpec.
    improvement_pct: float = spec(5.0, _MVC, "improvement_pct", Unit.PCT, Range(0.0, 50.0),
                                  after="disagreement_pct")

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class Protocol:
    """A training protocol.

    Building one, in code or by a loader, checks every field against its spec
    (TOML key, unit, range and rules), in file order; the nested :class:`MvcSpec`
    checked itself when it was built.

    Raises:
        ProtocolValueError: A value is of the wrong type, outside its range or breaks
            a rule linking it to another field, e.g.
            ``<protocol built in code>: holds.duration_s: must be a positive number
            of seconds, got -5``.

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

    name: str = field(metadata=spec_metadata(_PROTOCOL, "name", rules=(rules.valid_name,)))
    title: str = spec("", _PROTOCOL, "title")
    description: str = spec("", _PROTOCOL, "description")
    source: str = spec("", _PROTOCOL, "source")
    reps: int = spec(4, _HOLDS, "reps", Unit.HOLDS, Range(1, 20))
    # spec() returns a dataclasses.field holding the (immutable) enum member.
    hands: HandPattern = spec(HandPattern.ALTERNATING, _HOLDS, "hands")  # noqa: RUF009
    first_hand: Hand = spec(Hand.RIGHT, _HOLDS, "first_hand")  # noqa: RUF009
    hold_s: float = spec(120.0, _HOLDS, "duration_s", _S, Range(1.0, MAX_DURATION_S))
    rest_s: float = spec(60.0, _HOLDS, "rest_s", _S, _REST)
    target_pct: float = spec(30.0, _HOLDS, "target_pct_mvc", Unit.PCT_MVC, Range(1.0, 100.0))
    green_pct: float = spec(3.0, _BAND, "green_pct_mvc", Unit.PCT_MVC, _ABOVE_ZERO,
                            what="a band half-width")
    amber_pct: float = spec(5.0, _BAND, "amber_pct_mvc", Unit.PCT_MVC, _ABOVE_ZERO,
                            what="a band half-width", rules=(rules.amber_surrounds_green,))
    # At least target + green: its rule is its range.
    warn_above_pct: float = spec(35.0, _BAND, "warn_above_pct_mvc", Unit.PCT_MVC,
                                 rules=(rules.warning_above_band,))
    prepare_s: float = spec(5.0, _TIMING, "prepare_s", _S, _STEP_OR_OFF)
    countdown_s: float = spec(3.0, _TIMING, "countdown_s", _S,
                              Range(MIN_STEP_S, MAX_COUNTDOWN_S, off=True))
    # Only left out of the figures, never scheduled: any small value is harmless.
    ramp_s: float = spec(3.0, _TIMING, "ramp_s", _S, Range(0.0, 60.0),
                         rules=(rules.ramp_inside_hold,))
    rest_after_mvc_s: float = spec(60.0, _TIMING, "rest_after_mvc_s", _S, _STEP_OR_OFF)
    # More often than every 5 s would nag (and flood the event log); the longest
    # interval is the longest hold.
    breathing_reminder_s: float = spec(30.0, _TIMING, "breathing_reminder_s", _S,
                                       Range(5.0, MAX_DURATION_S, off=True))
    display_scale: float = spec(1.0, _DISPLAY, "scale", Unit.FACTOR, _SCALE,
                                what="a factor", why="1 shows true force")
    display_slope: float = spec(1.0, _DISPLAY, "slope", Unit.FACTOR, _SCALE,
                                why="shown newtons per true newton around the target")
    hide_intensity: bool = spec(False, _DISPLAY, "hide_intensity")
    mvc: MvcSpec = field(default_factory=MvcSpec)
    path: str | None = None

    def __post_init__(self) -> None:
        check_fields(self)

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


@functools.cache
def protocol_slots() -> tuple[Slot, ...]:
    """Every specified field of a protocol, the MVC settings included, in file order."""
    order = list(Table)
    both = (*slots(Protocol), *slots(MvcSpec, "mvc"))
    return tuple(sorted(both, key=lambda s: order.index(s.spec.table)))
