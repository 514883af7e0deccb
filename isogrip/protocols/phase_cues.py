"""The cues a phase gives on its own as it runs: countdown numbers, hold reminders.

Each function schedules a phase's cues on a :class:`CueSchedule` when it begins; the
engine gives them as its clock passes their times.
"""

from __future__ import annotations

import math

from isogrip.protocols import sentences as say
from isogrip.protocols.bounds import MAX_COUNTDOWN_S
from isogrip.protocols.cue_schedule import CueSchedule
from isogrip.protocols.events import EventKind, Stage
from isogrip.protocols.model import Protocol
from isogrip.protocols.records import Cue

#: Most numbers a countdown says (its last whole seconds): a countdown set longer in
#: code than a protocol file allows cannot fill the cue list.
MAX_COUNTDOWN_CUES = int(MAX_COUNTDOWN_S)


def schedule_countdown(cues: CueSchedule, t: float, countdown_s: float) -> None:
    """Say the last whole seconds of a countdown that starts at ``t``."""
    n = min(math.floor(countdown_s + 1e-9), MAX_COUNTDOWN_CUES)
    for k in range(n, 0, -1):
        ct = t + countdown_s - k
        cues.add(Cue(t=ct, cue=EventKind.COUNTDOWN, message=str(k), count=k))


def schedule_hold(cues: CueSchedule, t: float, protocol: Protocol) -> None:
    """Halfway, ten seconds left (long holds) and breathing reminders of a hold at ``t``."""
    p = protocol
    end = t + p.hold_s
    cues.add(Cue(t=t + p.hold_s / 2, cue=EventKind.HALFWAY, message=say.HALFWAY))
    if p.hold_s > 20:
        cues.add(Cue(t=end - 10, cue=EventKind.TEN_SECONDS_LEFT,
                     message=say.TEN_SECONDS_LEFT))
    every = p.breathing_reminder_s
    # One reminder is scheduled at a time and re-armed when given: a list of every
    # reminder of the hold would grow without bound as the interval shrinks, and a
    # jump of the clock would give all of them at once.
    if every > 0 and t + every < end - 1e-9:
        cues.add_repeating(Cue(t=t + every, cue=EventKind.BREATHE,
                               message=say.KEEP_BREATHING, stage=Stage.HOLD),
                           every=every, anchor=t, until=end - 1e-9)
