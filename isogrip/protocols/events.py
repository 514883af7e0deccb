"""Phases, events, commands and the snapshot the protocol engine exposes."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from isogrip.protocols.display import IDENTITY, DisplayMap
from isogrip.types import Hand


class Phase(enum.StrEnum):
    """Where a session is."""

    IDLE = "idle"
    PREPARE = "prepare"
    COUNTDOWN = "countdown"
    MVC_EFFORT = "mvc_effort"
    MVC_REST = "mvc_rest"
    HOLD = "hold"
    REST = "rest"
    COMPLETE = "complete"
    ABORTED = "aborted"

    @property
    def finished(self) -> bool:
        """Whether the session is over."""
        return self in (Phase.COMPLETE, Phase.ABORTED)


class Stage(enum.StrEnum):
    """Which part of the session a countdown leads to."""

    MVC = "mvc"
    HOLD = "hold"


class Zone(enum.StrEnum):
    """Where the force is relative to the target band (holds only)."""

    NONE = "none"  # no band in force (not in a hold)
    IN_BAND = "in_band"
    NEAR_LOW = "near_low"
    NEAR_HIGH = "near_high"
    LOW = "low"
    HIGH = "high"

    @property
    def words(self) -> str:
        """Plain words for the participant."""
        from isogrip.protocols.sentences import ZONE_WORDS  # the catalogue imports this

        return ZONE_WORDS[self]


class EventKind(enum.StrEnum):
    """Kinds of engine events (the ``kind`` column of ``events.csv``)."""

    PHASE = "phase"
    COUNTDOWN = "countdown"
    GO = "go"
    HALFWAY = "halfway"
    TEN_SECONDS_LEFT = "ten_s_left"
    STOP = "stop"
    OUT_OF_BAND = "out_of_band"
    BACK_IN_BAND = "back_in_band"
    BREATHE = "breathe"
    MVC_TRIAL = "mvc_trial"
    MVC_RESULT = "mvc_result"
    HOLD_RESULT = "hold_result"
    WARNING = "warning"
    GAP = "gap"
    GAP_END = "gap_end"
    PAUSED = "paused"
    RESUMED = "resumed"
    COMMAND_REJECTED = "command_rejected"
    # Emitted by the runtime, not the engine:
    DEVICE_DISCONNECTED = "device_disconnected"
    DEVICE_RECONNECTED = "device_reconnected"
    DEVICE_STATUS = "device_status"
    SESSION = "session"
    #: The blood pressure entered before the session, the limits it was checked
    #: against, and whether the person trained despite the advice not to.
    BP_CHECK = "bp_check"


class Command(enum.StrEnum):
    """Commands a user (through the GUI or CLI) can give the engine."""

    START = "start"
    SKIP_REST = "skip_rest"
    REDO_TRIAL = "redo_trial"
    PAUSE = "pause"
    RESUME = "resume"
    ABORT = "abort"


@dataclass(frozen=True)
class Snapshot:
    """The engine's state at a moment, for displays and the virtual participant.

    Forces are true newtons. What a participant is shown comes from ``display``
    (identity except in the holds of a sham protocol) through the ``shown_*``
    properties: every participant-facing view uses those, so the GUI, the terminal
    view and the virtual participant all see the same thing.

    Attributes:
        t: Time of the snapshot, s.
        phase: Current phase.
        stage: For countdowns, what follows; for efforts, their kind.
        hand: Hand in use (or next) or ``None``.
        rep: 1-based hold number (current or next), 0 before the holds.
        reps: Number of holds in the protocol.
        trial: 1-based MVC trial number for the current hand, 0 outside MVC.
        trials_planned: Planned MVC trials per hand.
        target_n: Hold target, N (``None`` outside holds and their countdown/rest).
        band_low_n: Lower edge of the green band, N.
        band_high_n: Upper edge of the green band, N.
        near_low_n: Lower edge of the amber margin, N.
        near_high_n: Upper edge of the amber margin, N.
        target_pct: Target, % MVC.
        mvc_n: Session MVC of ``hand``, N, once measured.
        mvc_by_hand: Session MVC of each measured hand, N.
        phase_duration_s: Planned length of the phase (``None`` if open-ended).
        time_left_s: Time left in the phase, s (``None`` if open-ended).
        force_n: Latest live-filtered force, N (``None`` before any sample).
        pct_mvc: ``force_n`` as % of ``mvc_n``.
        zone: Band zone of ``force_n`` (holds only).
        trial_peak_n: Highest filtered force so far in the current MVC effort, N.
        paused: The session is paused.
        in_gap: No samples have arrived for longer than the gap threshold.
        display_scale: Sham display factor (1 for real protocols).
        hide_intensity: Whether the true % MVC must be hidden from the participant.
        display: True force -> shown force for the current phase.
        cue: Short words for the participant ("Squeeze as hard as you can", "Good").
    """

    t: float
    phase: Phase
    stage: Stage | None = None
    hand: Hand | None = None
    rep: int = 0
    reps: int = 0
    trial: int = 0
    trials_planned: int = 0
    target_n: float | None = None
    band_low_n: float | None = None
    band_high_n: float | None = None
    near_low_n: float | None = None
    near_high_n: float | None = None
    target_pct: float | None = None
    mvc_n: float | None = None
    mvc_by_hand: dict[Hand, float] = field(default_factory=dict)
    phase_duration_s: float | None = None
    time_left_s: float | None = None
    force_n: float | None = None
    pct_mvc: float | None = None
    zone: Zone = Zone.NONE
    trial_peak_n: float | None = None
    paused: bool = False
    in_gap: bool = False
    display_scale: float = 1.0
    hide_intensity: bool = False
    display: DisplayMap = IDENTITY
    cue: str = ""

    def shown(self, force_n: float | None) -> float | None:
        """A true force as the participant is shown it, N (``None`` stays ``None``)."""
        return None if force_n is None else self.display.show_one(force_n)

    @property
    def shown_force_n(self) -> float | None:
        """The current force as shown, N."""
        return self.shown(self.force_n)

    @property
    def shown_target_n(self) -> float | None:
        """The hold target as shown, N."""
        return self.shown(self.target_n)

    @property
    def shown_band(self) -> tuple[float, float, float, float] | None:
        """(green low, green high, amber low, amber high) as shown, N; ``None`` outside holds."""
        edges = (self.band_low_n, self.band_high_n, self.near_low_n, self.near_high_n)
        if any(e is None for e in edges):
            return None
        lo, hi, nlo, nhi = (self.display.show_one(e) for e in edges if e is not None)
        return lo, hi, nlo, nhi

    @property
    def shown_pct_mvc(self) -> float | None:
        """The shown force as % of the session MVC (about 30 in a sham's hold).

        ``None`` when the protocol hides its intensity and shows the true force
        (then this would be the true % MVC).
        """
        if self.hide_intensity and self.display.is_identity:
            return None
        f = self.shown_force_n
        return 100 * f / self.mvc_n if (f is not None and self.mvc_n) else None
