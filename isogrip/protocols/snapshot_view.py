"""What the engine shows of its state: the snapshot, the cue words, a phase's record.

Pure functions of :class:`~isogrip.protocols.phase_state.PhaseState`, so a display,
the virtual participant and the record of a phase change all read one description.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from isogrip.protocols import sentences as say
from isogrip.protocols.display import IDENTITY
from isogrip.protocols.events import Phase, Snapshot, Stage, Zone
from isogrip.protocols.model import Protocol
from isogrip.protocols.phase_state import PhaseState
from isogrip.protocols.records import PhaseChanged
from isogrip.types import Hand


def snapshot_of(
    state: PhaseState,
    protocol: Protocol,
    mvc_by_hand: Mapping[Hand, float],
    *,
    trial_peak_n: float | None,
    in_gap: bool,
) -> Snapshot:
    """The engine's state as a :class:`Snapshot`.

    Args:
        state: The engine's phase state.
        protocol: The protocol it runs.
        mvc_by_hand: Session MVC of each measured hand, N.
        trial_peak_n: Highest filtered force of the current MVC effort, N.
        in_gap: Whether samples have stopped for longer than the gap threshold.
    """
    p = protocol
    hand = state.hand
    mvc = mvc_by_hand.get(hand) if hand is not None else None
    band = state.band
    shown = band if state.stage is Stage.HOLD else None  # the band a hold's phases show
    display = IDENTITY if shown is None else state.display  # MVC: always the true force
    force = state.force
    pct = 100 * force / mvc if (force is not None and mvc) else None
    zone = Zone.NONE
    if state.phase is Phase.HOLD and force is not None and band is not None:
        zone = band.zone(force)
    duration, left = _timing(state)
    return Snapshot(
        t=state.t,
        phase=state.phase,
        stage=state.stage,
        hand=hand,
        rep=min(state.rep + 1, p.reps) if state.stage is Stage.HOLD else 0,
        reps=p.reps,
        trial=state.trial_no if state.stage is Stage.MVC else 0,
        trials_planned=p.mvc.trials_per_hand,
        target_n=None if shown is None else shown.target_n,
        band_low_n=None if shown is None else shown.low_n,
        band_high_n=None if shown is None else shown.high_n,
        near_low_n=None if shown is None else shown.near_low_n,
        near_high_n=None if shown is None else shown.near_high_n,
        target_pct=None if shown is None else p.target_pct,
        mvc_n=mvc,
        mvc_by_hand=dict(mvc_by_hand),
        phase_duration_s=duration,
        time_left_s=left,
        force_n=force,
        pct_mvc=pct,
        zone=zone,
        trial_peak_n=trial_peak_n if state.phase is Phase.MVC_EFFORT else None,
        paused=state.paused,
        in_gap=in_gap,
        display_scale=p.display_scale,
        hide_intensity=p.hide_intensity,
        display=display,
        cue=cue_words(state, zone),
    )


def _timing(state: PhaseState) -> tuple[float | None, float | None]:
    """(planned length of the phase, time left in it), s; frozen while paused."""
    if state.paused:
        return state.paused_duration, state.paused_remaining
    if state.deadline is None:
        return None, None
    return state.deadline - state.phase_start, max(0.0, state.deadline - state.t)


def cue_words(state: PhaseState, zone: Zone) -> str:
    """The short words shown to the participant now ("Squeeze", "3", "Go")."""
    if state.paused:
        return say.WORD_PAUSED
    phase = state.phase
    if phase is Phase.HOLD:
        return zone.words or say.WORD_SQUEEZE
    if phase is Phase.MVC_EFFORT:
        return say.WORD_HARDER
    if phase is Phase.COUNTDOWN:
        left = (state.deadline or state.t) - state.t
        return str(max(1, math.ceil(left - 1e-9))) if left > 0 else say.WORD_GO
    return say.PHASE_WORDS[phase]


def phase_record(
    state: PhaseState,
    mvc_by_hand: Mapping[Hand, float],
    *,
    duration: float | None,
    message: str,
    reason: str | None,
) -> PhaseChanged:
    """The record of the phase ``state`` has just entered.

    Args:
        state: The engine's phase state, just after entering the phase.
        mvc_by_hand: Session MVC of each measured hand, N.
        duration: The phase's planned length, s (``None``: open-ended).
        message: What it says; empty for the phase's usual words.
        reason: Why the session ended (aborted sessions only).
    """
    t, phase, stage, hand = state.phase_start, state.phase, state.stage, state.hand
    words = message or say.PHASE_WORDS[phase]
    if stage is Stage.MVC:
        return PhaseChanged(t=t, message=words, phase=phase, stage=stage, hand=hand,
                            duration_s=duration, trial=state.trial_no)
    if stage is not Stage.HOLD:
        return PhaseChanged(t=t, message=words, phase=phase, hand=hand,
                            duration_s=duration, reason=reason)
    band = state.band
    mvc = mvc_by_hand.get(hand) if hand is not None else None
    # A hold's phases carry the band they train to, as the snapshot shows it.
    return PhaseChanged(t=t, message=words, phase=phase, stage=stage, hand=hand,
                        duration_s=duration, rep=state.rep + 1,
                        target_n=None if band is None else band.target_n,
                        band_low_n=None if band is None else band.low_n,
                        band_high_n=None if band is None else band.high_n, mvc_n=mvc)
