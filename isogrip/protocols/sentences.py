"""Every sentence the protocol engine says to the participant, in one catalogue.

One place to read them all: to review the wording of a sham arm (nothing here may
reveal the true intensity: intensities are passed in as the participant is shown
them), to keep the GUI, terminal view and spoken coaching saying the same words, and
to translate them later as one file.
"""

from __future__ import annotations

from isogrip.protocols.events import Phase, Stage, Zone
from isogrip.types import Hand

#: What each phase is called when it starts (unless a sentence below says more).
PHASE_WORDS = {
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

#: The short feedback under the gauge during a hold, by zone.
ZONE_WORDS = {
    Zone.NONE: "",
    Zone.IN_BAND: "Good",
    Zone.NEAR_LOW: "A little harder",
    Zone.NEAR_HIGH: "Ease off a little",
    Zone.LOW: "Harder",
    Zone.HIGH: "Ease off",
}

# Cues -------------------------------------------------------------------------
SQUEEZE_MAX = "Squeeze as hard as you can!"
BREATHE_OUT = "Breathe out as you squeeze."
GO_HOLD = "Go! Squeeze to the green band."
HOLD_START = "Squeeze to the green band and hold."
HALFWAY = "Halfway."
TEN_SECONDS_LEFT = "10 seconds left."
KEEP_BREATHING = "Keep breathing normally."
BACK_IN_BAND = "Good, back in the green band."
TOO_LIGHT = "Too light: squeeze a little harder."
TOO_HARD = "Too hard: ease off."
STOP_RELAX = "Stop. Relax your hand."

# Short words shown large (the cue line of the snapshot) ------------------------
WORD_PAUSED = "Paused"
WORD_SQUEEZE = "Squeeze"
WORD_HARDER = "Harder... harder!"
WORD_GO = "Go"

# Rests, pauses and the end ------------------------------------------------------
REST_RELAX = "Rest. Let your hand relax."
REST_THEN_REPEAT = "Rest, then repeat the trial."
REST_BEFORE_FIRST_HOLD = "Rest before the first hold."
SESSION_COMPLETE = "Session complete. Well done!"
PAUSED_HOLD_AGAIN = "Paused. The hold will start again."
PAUSED_SQUEEZE_AGAIN = "Paused. The squeeze will be repeated."
PAUSED = "Paused."
PAUSED_RESUME_WHEN_READY = "Paused. Resume when you are ready."
RESUMED = "Resumed."

# Data -----------------------------------------------------------------------------
GAP_STARTED = "No force data from the device. Keep going: the timer continues."
GAP_ENDED = "Force data is back."

# Why a command does not apply ------------------------------------------------------
ALREADY_STARTED = "the session has already started"
NO_REST_TO_SKIP = "there is no rest to skip"
IS_PAUSED = "the session is paused"
ALREADY_PAUSED = "the session is already paused"
NOT_PAUSED = "the session is not paused"
NO_TRIAL_TO_REDO = "there is no trial to redo now"
ENOUGH_SQUEEZES = ("that hand has had enough maximal squeezes for today; continue with "
                   "the session")


def get_ready(stage: Stage, hand: Hand, rep: int, reps: int) -> str:
    """The countdown's opening: what comes and with which hand."""
    what = "maximal squeeze" if stage is Stage.MVC else f"hold {rep} of {reps}"
    return f"Get ready: {what}, {hand.label} hand."


def above_usual_intensity(shown_pct: float) -> str:
    """A protocol that trains above 30 % (as the participant is shown it)."""
    return (f"This protocol trains at {shown_pct:g} % of your maximum, above the usual "
            "30 %. Stop if it feels too hard.")


def above_warning_level(shown_pct: float) -> str:
    """Squeezing above the warning level (as the participant is shown it)."""
    return f"You are squeezing above {shown_pct:.0f} % of your maximum. Ease off."


def trial_score(hand: Hand, trial: int, kg: float) -> str:
    """The score of a maximal squeeze."""
    return f"{hand.label} hand, trial {trial}: {kg:.1f} kg."


def reached_device_limit(full_scale_kg: float) -> str:
    """A squeeze that reached the device's full scale."""
    return (f"The squeeze reached the device's limit ({full_scale_kg:.0f} kg): your true "
            "maximum may be higher than measured.")


def hand_maximum(hand: Hand, kg: float) -> str:
    """The maximum chosen for a hand."""
    return f"{hand.label} hand maximum: {kg:.1f} kg."


def no_maximum_measured(hand: Hand, floor_kg: float) -> str:
    """Every squeeze of a hand stayed under the floor: why the session stops."""
    return (f"No maximal effort was measured for the {hand.value} hand (every squeeze "
            f"stayed under {floor_kg:.1f} kg). Check that the device is connected and "
            "zeroed, then start again.")


def trial_will_be_repeated(hand: Hand, trial: int) -> str:
    """A trial the participant asked to redo."""
    return f"Trial {trial} of the {hand.value} hand will be repeated."


def hold_result(rep: int, time_in_band_pct: float | None) -> str:
    """A hold's result (``None``: it stopped early or could not be scored)."""
    if time_in_band_pct is None:
        return f"Hold {rep} stopped early."
    return f"Hold {rep}: {time_in_band_pct:.0f} % of the time in the green band."


def session_stopped(reason: str) -> str:
    """The session ended early."""
    return f"Session stopped: {reason}"


def cannot(command: str, why: str) -> str:
    """A command that does not apply now (``command`` is its value)."""
    return f"Cannot {command.replace('_', ' ')}: {why}."


# The training programme (isogrip.programme) ------------------------------------
def programme_starts_lower(reason: str, target_pct: float, starter_pct: float) -> str:
    """Why the programme starts below its target, after the first session."""
    return (f"Your first session showed that 2 minutes at {target_pct:g} % is hard for "
            f"now ({reason}), so your programme starts at {starter_pct:g} % and builds "
            "up from there.")


def programme_steps_up(n_sessions: int, from_pct: float, to_pct: float,
                       target_pct: float) -> str:
    """Why the intensity goes up one step."""
    goal = " That is the full programme intensity." if to_pct >= target_pct else ""
    return (f"Your last {n_sessions} sessions at {from_pct:g} % went well, so the next "
            f"ones are at {to_pct:g} %.{goal}")


def programme_steps_down(n_sessions: int, reason: str, to_pct: float) -> str:
    """Why the intensity goes down one step."""
    return (f"Your last {n_sessions} sessions were hard ({reason}), so the next ones "
            f"are a little easier, at {to_pct:g} %.")


def programme_week_missed(n_missed: int, training_ends: str) -> str:
    """What a missed week does to the programme."""
    weeks = "1 week" if n_missed == 1 else f"{n_missed} weeks"
    return (f"{weeks} had no session, so your programme is {weeks} longer: training "
            f"now ends on {training_ends}.")


def programme_started(training_weeks: int, sessions_per_week: int, protocol: str) -> str:
    """The first step of every programme."""
    return (f"Programme started: {training_weeks} weeks of {sessions_per_week} sessions a "
            f"week with {protocol}.")


PROGRAMME_SESSION_STOPPED = "the session was stopped early"
PROGRAMME_HOLD_STOPPED = "a hold was stopped early"
