"""The records of ended efforts: a scored MVC trial, a finished hold, the chosen MVC.

Each is computed from every sample stamped inside the effort
(:class:`~isogrip.protocols.settling.PendingEffort`), late ones included.
"""

from __future__ import annotations

import math

from isogrip.protocols import sentences as say
from isogrip.protocols.mvc_plan import MvcPlan, Scored
from isogrip.protocols.records import (
    Event,
    HoldFinished,
    MvcChosen,
    MvcTrialScored,
    SessionWarning,
)
from isogrip.protocols.settling import PendingEffort
from isogrip.signal.metrics import hold_metrics
from isogrip.signal.units import KGF_N
from isogrip.types import Hand


def trial_records(done: Scored, job: PendingEffort, full_scale_n: float | None) -> list[Event]:
    """The trial's record, and a warning if it reached the device's full scale."""
    score, hand, t = done.trial.score, job.hand, job.t_end
    msg = say.trial_score(hand, job.number, score.score_n / KGF_N) \
        if score.plausible else score.message
    fs = full_scale_n
    saturated = bool(fs and math.isfinite(score.raw_peak_n) and score.raw_peak_n >= 0.99 * fs)
    out: list[Event] = [MvcTrialScored(
        t=t, message=msg, hand=hand, trial=job.number, t_start_s=job.t_start, t_end_s=t,
        score_n=score.score_n, raw_peak_n=score.raw_peak_n,
        time_to_peak_s=score.time_to_peak_s, plausible=score.plausible,
        score_message=score.message, flags=tuple(f.value for f in done.assessment.flags),
        extra_trial=done.extra_trial, advice=done.assessment.message, saturated=saturated,
    )]
    if saturated:
        assert fs is not None
        out.append(SessionWarning(t=t, message=say.reached_device_limit(fs / KGF_N),
                                  reason="saturated", full_scale_n=fs))
    return out


def hold_record(job: PendingEffort, ramp_s: float) -> HoldFinished:
    """The metrics of an ended hold as its record."""
    assert job.band is not None and job.mvc_n is not None
    tt, ff = job.samples()
    band = job.band
    # The gap threshold is the gap rule on the hold's own samples (the default), so
    # the metrics can be recomputed from an export alone.
    m = hold_metrics(tt, ff, band.target_n, band.low_n, band.high_n, ramp_s=ramp_s,
                     mvc_n=job.mvc_n, start_s=job.t_start, end_s=job.t_end)
    rep = job.number + 1
    tib = m.time_in_band_pct
    return HoldFinished(
        t=job.t_end, message=say.hold_result(rep, tib if job.completed and math.isfinite(tib)
                                             else None),
        rep=rep, hand=job.hand, t_go_s=job.t_start, t_end_s=job.t_end,
        target_n=band.target_n, band_low_n=band.low_n, band_high_n=band.high_n,
        mvc_n=job.mvc_n, completed=job.completed, metrics=m)


def mvc_choices(plan: MvcPlan, t: float) -> tuple[list[MvcChosen], Hand | None]:
    """The MVC chosen for each measured hand at the end of the measurement, at ``t``.

    Returns:
        The records of the hands chosen, right first, and the first hand for which no
        trial gave a maximum (the session cannot go on), if any; the records stop
        before that hand.
    """
    out: list[MvcChosen] = []
    for hand in plan.measured_hands():
        used, a = plan.assess(hand)
        if a.best_n is None or a.best_index is None:
            return out, hand
        out.append(MvcChosen(
            t=t, message=say.hand_maximum(hand, a.best_n / KGF_N), hand=hand,
            mvc_n=a.best_n, best_trial=used[a.best_index].number,
            flags=tuple(f.value for f in a.flags), advice=a.message))
    return out, None
