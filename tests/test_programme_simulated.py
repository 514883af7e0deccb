"""A whole programme, simulated: 10 weeks of sessions and home blood pressure.

A simulated participant starts too weak to hold 30 % MVC for 2 minutes (short hold
endurance) and improves week by week; every session runs through the real session
runtime with the simulated dynamometer (flat out, at 20 Hz to keep the suite quick),
on its own day of the programme's calendar. Home blood pressure is generated with a
known training effect and day-to-day noise, entered as a participant would (4 readings
a day in each measurement week), and summarised by the guideline rule.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from isogrip.cli import main
from isogrip.home_bp.change import change_from_baseline
from isogrip.home_bp.period import summarise_period
from isogrip.programme.outcome import outcomes
from isogrip.programme.plan import ProgrammePlan
from isogrip.programme.review import WeekKind, training_start
from isogrip.programme_status import load_view, programme_protocol
from isogrip.protocols.loader import load_protocol
from isogrip.runtime import SessionConfig, SessionRuntime
from isogrip.storage.store import Store

TZ = dt.timezone(dt.timedelta(hours=1))
START = dt.date(2026, 1, 5)
PLAN = ProgrammePlan(training_weeks=8)
#: The generated effect at the end of training (mmHg), reached linearly over 8 weeks.
EFFECT_SBP, EFFECT_DBP = -7.0, -4.0
BASE_SBP, BASE_DBP = 142.0, 88.0


def endurance_s(training_week: int) -> float:
    """The participant's hold endurance: 25 s in week 1 (30 % not held), +4 s a week."""
    return 25.0 + 4.0 * (training_week - 1)


def run_session(data: Path, when: dt.datetime, week: int, seed: int) -> None:
    with Store.open(data) as store:
        view = load_view(store, None, when.date(), record=True, now=when)
        assert view is not None
        protocol = programme_protocol(load_protocol(PLAN.protocol_name), PLAN,
                                      view.status.intensity_pct)
    device = (f"sim:good?seed={seed}&endurance_s={endurance_s(week):g}&rate=20"
              "&jitter_ms=0")
    runtime = SessionRuntime(SessionConfig(device=device, protocol=protocol, speed=None,
                                           data_dir=data, started_at=when))
    runtime.start()
    result = runtime.wait(120)
    runtime.close()
    assert result.status == "complete"


def add_bp_week(store: Store, first_day: dt.date, effect: float,
                rng: np.random.Generator) -> None:
    """7 days x (2 morning + 2 evening) readings around the generated level."""
    for d in range(7):
        day = first_day + dt.timedelta(days=d)
        day_sbp = rng.normal(0.0, 5.0)  # day-to-day variation
        day_dbp = rng.normal(0.0, 3.0)
        for hour, minute in ((7, 30), (7, 31), (19, 0), (19, 1)):
            sbp = BASE_SBP + effect + day_sbp + rng.normal(0.0, 4.0)
            dbp = BASE_DBP + effect * EFFECT_DBP / EFFECT_SBP + day_dbp + rng.normal(0, 3)
            store.add_bp_reading(sbp=round(sbp), dbp=round(dbp), pulse=70,
                                 taken_at=dt.datetime.combine(day, dt.time(hour, minute),
                                                              TZ), context="rest")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_ten_week_programme_runs_end_to_end(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    rng = np.random.default_rng(7)
    train = training_start(PLAN, START)
    with Store.open(data) as store:
        store.programmes.start(PLAN, participant=None, started_on=START,
                               now=dt.datetime.combine(START, dt.time(9), TZ),
                               reason="started")
        add_bp_week(store, START, 0.0, rng)
    seed = 0
    for week in range(1, 10):  # 8 training weeks, then a maintenance week
        first = train + dt.timedelta(days=7 * (week - 1))
        for offset in ((0, 2, 4) if week <= 8 else (1,)):
            seed += 1
            run_session(data, dt.datetime.combine(first + dt.timedelta(days=offset),
                                                  dt.time(10), TZ), week, seed)
        if week in (4, 8):
            with Store.open(data) as store:
                add_bp_week(store, first, EFFECT_SBP * week / 8, rng)

    today = train + dt.timedelta(days=7 * 8 + 3)
    with Store.open(data) as store:
        view = load_view(store, None, today, record=True,
                         now=dt.datetime.combine(today, dt.time(12), TZ))
        readings = store.list_bp_readings()
    assert view is not None
    status = view.status
    # Starter chosen, then stepped up to 30 % and never beyond the cap.
    levels = [s.intensity_pct for s in view.steps if s.kind == "intensity"]
    assert levels[0] == 20.0
    assert "so your programme starts at 20 %" in view.steps[1].reason
    assert levels[-1] == 30.0 and status.intensity_pct == 30.0
    assert all(15.0 <= x <= 30.0 for x in levels)
    assert max(levels[:levels.index(30.0)]) < 30.0  # built up, not jumped
    # Adherence and maintenance.
    assert status.phase == "maintenance" and status.missed_weeks == 0
    assert status.current is not None and status.current.done == 1
    assert (status.done_overall, status.planned_overall) == (25, 25)
    bp_weeks = [w for w in status.weeks if w.bp_week and w.start <= today]
    assert [(w.kind, w.counted) for w in bp_weeks] == [
        (WeekKind.BASELINE, None), (WeekKind.TRAINING, 4), (WeekKind.TRAINING, 8)]
    # The outcome: baseline against the last training week.
    base = summarise_period(readings, TZ, start=START, end=START + dt.timedelta(days=6))
    last = bp_weeks[-1]
    end = summarise_period(readings, TZ, start=last.start, end=last.end)
    assert base.enough and end.enough and base.discarded_day == START
    change = change_from_baseline(base, end)
    assert change is not None
    for diff, effect in ((change.sbp, EFFECT_SBP), (change.dbp, EFFECT_DBP)):
        assert diff.low is not None and diff.high is not None
        assert diff.low <= effect <= diff.high
        assert diff.mean < 0
    # The same figures, week by week, beside the training done by then.
    weeks = outcomes(status, readings, TZ)
    assert [o.week.number for o in weeks] == [1, 5, 9]
    assert weeks[0].change is None and weeks[0].sessions_done == 0
    assert [o.sessions_done for o in weeks[1:]] == [12, 24]
    assert [o.training_weeks for o in weeks[1:]] == [4, 8]
    assert weeks[2].change is not None and weeks[2].change.sbp.mean == change.sbp.mean
    assert all(o.time_in_band_pct is not None and 50 < o.time_in_band_pct <= 100
               for o in weeks[1:])
    # And as the participant reads it (the real today is later: maintenance).
    capsys.readouterr()
    assert main(["--data-dir", str(data), "programme", "status"]) == 0
    out = capsys.readouterr().out
    assert "Home blood pressure by measurement week" in out
    assert f"{change.sbp.mean:+.0f}/{change.dbp.mean:+.0f}" in out
    assert "not a promise for you" in out
    assert main(["--data-dir", str(data), "programme", "status", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["outcome"]
    assert shown[2]["change"]["sbp"]["mean"] == round(change.sbp.mean, 1)
