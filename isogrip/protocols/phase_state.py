"""Where the engine is in the session: its phase, the phase's timing, and pausing.

:class:`PhaseState` is the engine's mutable state between events, as plain data, so
what the engine shows of it (:mod:`isogrip.protocols.snapshot_view`) is a pure
function of it. Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from isogrip.protocols.band import Band, band_for, warn_level_for
from isogrip.protocols.display import IDENTITY, DisplayMap, display_map
from isogrip.protocols.events import Phase, Stage
from isogrip.protocols.model import Protocol
from isogrip.types import Hand


@dataclass
class PhaseState:
    """The current phase and what it runs against.

    Attributes:
        phase: The current phase.
        stage: For countdowns, what follows; for efforts and rests, their kind.
        hand: Hand in use (or next).
        band: The hold band of ``hand``, true N, once its MVC is known.
        display: True force -> shown force for ``hand``.
        warn_level: Force above which a hold warns, true N.
        phase_start: When the phase began, s (moved on resume by the time paused).
        deadline: When the phase ends, s (``None`` if open-ended or paused).
        rep: Index of the current or next hold (0-based).
        trial_no: Number of the current or next MVC trial (1-based).
        t: The engine's clock, s: the latest time it has been advanced to.
        force: Latest live-filtered force, N.
        paused: The session is paused.
        paused_remaining: Time that was left in the phase when it was paused, s.
        paused_duration: Planned length of the phase that was paused, s.
    """

    phase: Phase = Phase.IDLE
    stage: Stage | None = None
    hand: Hand | None = None
    band: Band | None = None
    display: DisplayMap = IDENTITY
    warn_level: float = math.inf
    phase_start: float = 0.0
    deadline: float | None = None
    rep: int = 0
    trial_no: int = 0
    t: float = 0.0
    force: float | None = None
    paused: bool = False
    paused_remaining: float | None = None
    paused_duration: float | None = None

    def enter(
        self,
        protocol: Protocol,
        phase: Phase,
        t: float,
        duration: float | None,
        *,
        stage: Stage | None,
        hand: Hand | None,
        mvc_n: float | None,
    ) -> None:
        """Begin ``phase`` at ``t``, lasting ``duration`` (``None``: open-ended).

        Args:
            protocol: The protocol (sets the band, display and warning level).
            phase: The new phase.
            t: When it begins, s.
            duration: Its planned length, s.
            stage: What it belongs to (MVC or holds).
            hand: The hand in use or next.
            mvc_n: The session MVC of ``hand``, N, if measured.
        """
        self.phase = phase
        self.stage = stage
        self.hand = hand
        self.band = None if mvc_n is None else band_for(protocol, mvc_n)
        self.display = IDENTITY if mvc_n is None else display_map(protocol, mvc_n)
        self.warn_level = math.inf if mvc_n is None else warn_level_for(protocol, mvc_n)
        self.phase_start = t
        self.deadline = None if duration is None else t + duration
        self.advance_clock(t)

    def advance_clock(self, t: float) -> None:
        """Move the clock to ``t``; it never goes back."""
        self.t = max(self.t, t)

    def pause(self, t: float) -> None:
        """Freeze the phase's timer at ``t``: keep what was left of it."""
        self.paused = True
        deadline = self.deadline
        self.paused_remaining = None if deadline is None else deadline - t
        self.paused_duration = None if deadline is None else deadline - self.phase_start
        self.deadline = None

    def resume(self, t: float) -> None:
        """Run the frozen timer again from ``t``."""
        self.paused = False
        remaining = self.paused_remaining or 0.0
        duration = self.paused_duration if self.paused_duration is not None else remaining
        self.paused_remaining = self.paused_duration = None
        # The phase keeps its planned length; only the time spent paused is skipped.
        self.phase_start = t - (duration - remaining)
        self.deadline = t + remaining
