"""The MVC measurement's plan: which hand squeezes next, trial numbers, redo, extras.

Hands alternate trial by trial, right first (Southampton protocol). A trial's number
is given when it starts; a redone trial keeps its number and stays on record (not
used), and its repeat gets the next number. The assessment of a hand's trials
(:func:`isogrip.signal.mvc.assess_mvc`) may add one more trial for that hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from numpy.typing import ArrayLike

from isogrip.protocols.model import MvcSpec
from isogrip.signal.mvc import MvcAssessment, TrialScore, assess_mvc, score_trial
from isogrip.types import Hand


@dataclass
class Trial:
    """A scored MVC trial (``used`` is false once it has been redone)."""

    hand: Hand
    number: int
    score: TrialScore
    t_start: float
    t_end: float
    used: bool = True


@dataclass(frozen=True)
class Scored:
    """What scoring a trial decided."""

    trial: Trial
    assessment: MvcAssessment
    extra_trial: bool  # one more trial was added for the hand


class MvcPlan:
    """The queue of MVC trials still to do and the trials done.

    Args:
        settings: The protocol's MVC settings.
        hands: The hands to measure, in order (hands with a known MVC left out).
    """

    def __init__(self, settings: MvcSpec, hands: list[Hand]) -> None:
        self.settings = settings
        self.queue: list[Hand] = []
        for _ in range(settings.trials_per_hand):
            self.queue.extend(hands)
        self.trials: list[Trial] = []

    @property
    def next_hand(self) -> Hand | None:
        """The hand of the next trial, if one is due."""
        return self.queue[0] if self.queue else None

    def start_next(self) -> Hand:
        """Take the next trial off the queue."""
        return self.queue.pop(0)

    def number_for(self, hand: Hand, waiting: int) -> int:
        """The number the next trial of ``hand`` gets (``waiting``: not yet scored)."""
        return 1 + waiting + sum(1 for tr in self.trials if tr.hand is hand)

    def assess(self, hand: Hand) -> tuple[list[Trial], MvcAssessment]:
        """The used trials of ``hand`` and their assessment."""
        used = [tr for tr in self.trials if tr.hand is hand and tr.used]
        s = self.settings
        return used, assess_mvc([tr.score for tr in used], planned=s.trials_per_hand,
                                max_trials=s.max_trials_per_hand,
                                disagreement_pct=s.disagreement_pct,
                                improvement_pct=s.improvement_pct)

    def score(self, hand: Hand, number: int, t: ArrayLike, force_n: ArrayLike,
              t_start: float, t_end: float) -> Scored:
        """Score an ended trial from every sample stamped inside it."""
        s = self.settings
        score = score_trial(t, force_n, window_s=s.window_s, floor_n=s.floor_n,
                            t_start=t_start)
        trial = Trial(hand, number, score, t_start, t_end)
        self.trials.append(trial)
        _, assessment = self.assess(hand)
        extra = assessment.offer_another and s.extra_trials and hand not in self.queue
        if extra:
            self.queue.append(hand)
        return Scored(trial, assessment, extra)

    def measured_hands(self) -> list[Hand]:
        """Hands with a trial, right first."""
        return sorted({tr.hand for tr in self.trials}, key=lambda h: h is Hand.LEFT)

    def last_redoable(self) -> Trial | None:
        """The latest trial, if it may be redone (once: not one already set aside)."""
        return self.trials[-1] if self.trials and self.trials[-1].used else None

    def redo(self, trial: Trial) -> None:
        """Set ``trial`` aside and put its hand first in the queue."""
        trial.used = False
        self.queue.insert(0, trial.hand)
