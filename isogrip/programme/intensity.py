"""The programme's intensity: where it starts and how it steps, from the sessions done.

The rule (docs/science.md, "Starter intensity and progression"; SCIENCE.md: if 2 minutes
at 30 % MVC cannot be held, start at 15-20 % and build up, never above 30 %):

* The first training session runs at the target (30 %). If it was not held (a hold's
  force stayed mostly below the band or kept falling, per
  :func:`isogrip.protocols.starter.not_held_reason`, or a hold or the session was
  stopped early), the programme drops to the starter intensity (20 %).
* Below the target, every :attr:`~isogrip.programme.plan.ProgrammePlan.held_to_step_up`
  sessions in a row held well step it up by one step (5 %), to the target at most.
* :attr:`~isogrip.programme.plan.ProgrammePlan.not_held_to_step_down` sessions in a
  row not held step it down one step, never below the floor (15 %).

Everything is derived again from the recorded sessions each time (no hidden state), so
a researcher can recompute every step from the exported holds.
"""

from __future__ import annotations

import datetime as _dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass

from isogrip.programme.plan import ProgrammePlan
from isogrip.protocols import sentences


@dataclass(frozen=True)
class SessionResult:
    """What the programme needs of one recorded session.

    Attributes:
        session_id: The session's id in the store.
        day: The local date it was done.
        complete: Whether it ran to the end.
        intensity_pct: Its hold target, % MVC (``None`` when no hold started).
        not_held: Why it counts as not held, in a few plain words; ``""`` when held well.
        time_in_band_pct: Mean time in band over its holds, % (``None`` if unknown).
    """

    session_id: int
    day: _dt.date
    complete: bool
    intensity_pct: float | None
    not_held: str = ""
    time_in_band_pct: float | None = None


class StepKind(enum.StrEnum):
    """What a programme step changed."""

    START = "start"
    INTENSITY = "intensity"
    EXTENDED = "extended"
    PHASE = "phase"


@dataclass(frozen=True)
class ProgrammeStep:
    """One change the programme made, with the sentence the person was shown.

    Attributes:
        kind: What changed.
        day: The local date it took effect.
        intensity_pct: The target from this step on (% MVC), if it is about intensity.
        session_id: The session that led to it, if any.
        reason: One plain sentence.
    """

    kind: StepKind
    day: _dt.date
    intensity_pct: float | None
    session_id: int | None
    reason: str


def intensity_steps(plan: ProgrammePlan, sessions: Sequence[SessionResult],
                    training_start: _dt.date) -> tuple[float, list[ProgrammeStep]]:
    """The intensity for the next session, and every change on the way there.

    Args:
        plan: The programme's rules.
        sessions: The recorded sessions (any order); those before ``training_start``
            and those without a hold do not count.
        training_start: First day of training (after the baseline weeks).

    Returns:
        The current target (% MVC) and the intensity steps, oldest first.
    """
    level = plan.target_pct
    steps: list[ProgrammeStep] = []
    judged_first = False
    held_run = not_held_run = 0
    for s in sorted(sessions, key=lambda r: (r.day, r.session_id)):
        if s.day < training_start or s.intensity_pct is None:
            continue
        new_level, why = level, ""
        if not judged_first:
            judged_first = True
            if s.not_held and level > plan.starter_pct:
                new_level = plan.starter_pct
                why = sentences.programme_starts_lower(s.not_held, level, new_level)
        elif s.not_held:
            held_run, not_held_run = 0, not_held_run + 1
            if not_held_run >= plan.not_held_to_step_down and level > plan.floor_pct:
                new_level = max(plan.floor_pct, level - plan.step_pct)
                why = sentences.programme_steps_down(not_held_run, s.not_held, new_level)
                not_held_run = 0
        else:
            not_held_run = 0
            if level < plan.target_pct:
                held_run += 1
                if held_run >= plan.held_to_step_up:
                    new_level = min(plan.target_pct, level + plan.step_pct)
                    why = sentences.programme_steps_up(held_run, level, new_level,
                                                       plan.target_pct)
                    held_run = 0
        if new_level != level:
            steps.append(ProgrammeStep(StepKind.INTENSITY, s.day,
                                       new_level, s.session_id, why))
            level = new_level
    return level, steps
