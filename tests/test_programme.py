"""The training programme: its plan, weeks, intensity steps, calendar and commands."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from icalendar import Calendar

from isogrip.cli import main
from isogrip.programme.calendar import programme_calendar, session_days
from isogrip.programme.intensity import SessionResult, StepKind, intensity_steps
from isogrip.programme.plan import ProgrammeError, ProgrammePlan
from isogrip.programme.review import WeekKind, review, training_start
from isogrip.programme.words import done_of_planned, say_day, status_lines
from isogrip.programme_status import programme_protocol, session_result
from isogrip.protocols.loader import load_protocol
from isogrip.storage.rows import HoldRow, SessionRow
from isogrip.storage.store import Store

START = dt.date(2026, 1, 5)  # a Monday
PLAN = ProgrammePlan()
TRAIN = training_start(PLAN, START)


def done(day: dt.date, sid: int, *, pct: float = 30.0, not_held: str = "",
         complete: bool = True) -> SessionResult:
    return SessionResult(sid, day, complete, pct, not_held)


def week_day(week: int, offset: int = 0) -> dt.date:
    """Day ``offset`` of training week ``week`` (1-based), no weeks missed."""
    return TRAIN + dt.timedelta(days=7 * (week - 1) + offset)


# ------------------------------------------------------------------------- the plan
@pytest.mark.parametrize(("change", "message"), [
    ({"training_weeks": 0}, "training weeks must be from 1 to 52, got 0"),
    ({"target_pct": 40.0}, r"target intensity \(% MVC\) must be from 5 to 30, got 40"),
    ({"sessions_per_week": 2.5}, "sessions a week must be a whole number, got 2.5"),
    ({"starter_pct": 25.0, "target_pct": 20.0}, "must rise from the lowest"),
    ({"training_weeks": "8"}, "training weeks must be a number, got '8'"),
])
def test_a_plan_out_of_range_is_refused_in_one_line(change: dict[str, object],
                                                   message: str) -> None:
    with pytest.raises(ProgrammeError, match=message):
        ProgrammePlan(**change)  # type: ignore[arg-type]


def test_a_plan_round_trips_through_json_and_refuses_unknown_keys() -> None:
    plan = ProgrammePlan(training_weeks=10, sessions_per_week=4)
    assert ProgrammePlan.from_json(json.loads(json.dumps(plan.to_json()))) == plan
    with pytest.raises(ProgrammeError, match="unknown programme setting 'weeks'"):
        ProgrammePlan.from_json({"weeks": 3})


# ------------------------------------------------------------------------ the weeks
def test_a_new_programme_begins_with_its_baseline_week() -> None:
    status = review(PLAN, START, [], START)
    assert status.phase == "baseline"
    assert status.current is not None and status.current.bp_week
    assert status.next_bp == START  # measure from the first day
    assert status.next_session == TRAIN  # training waits for the baseline
    assert status.intensity_pct == 30.0
    kinds = [w.kind for w in status.weeks]
    assert kinds[:9] == [WeekKind.BASELINE] + [WeekKind.TRAINING] * 8
    bp_training = [w.counted for w in status.weeks if w.kind == WeekKind.TRAINING
                   and w.bp_week]
    assert bp_training == [4, 8]  # every 4 weeks and at the end
    assert status.training_ends == TRAIN + dt.timedelta(days=8 * 7 - 1)


def test_a_week_without_a_session_extends_the_programme_and_says_so() -> None:
    sessions = [done(week_day(1, d), i) for i, d in enumerate((0, 2, 4), 1)]
    today = week_day(3, 1)  # training week 2 passed without a session
    status = review(PLAN, START, sessions, today)
    assert status.missed_weeks == 1
    assert status.current is not None and status.current.counted == 2
    assert status.training_ends == TRAIN + dt.timedelta(days=9 * 7 - 1)
    (step,) = [s for s in status.steps if s.kind == StepKind.EXTENDED]
    assert step.reason == (f"1 week had no session, so your programme is 1 week longer: "
                           f"training now ends on {status.training_ends.isoformat()}.")
    # The blood-pressure week moves with the training it measures.
    bp = [w for w in status.weeks if w.bp_week and w.kind == WeekKind.TRAINING]
    assert bp[0].counted == 4 and bp[0].start == week_day(5)
    assert "1 week longer" in status_lines(status)[-1]


def test_a_partly_done_week_counts_and_adherence_shows_it() -> None:
    sessions = [done(week_day(1, 0), 1), done(week_day(2, 0), 2), done(week_day(2, 2), 3),
                done(week_day(2, 3), 4, complete=False)]
    status = review(PLAN, START, sessions, week_day(2, 4))
    assert status.missed_weeks == 0
    assert status.current is not None and (status.current.done, status.current.planned) \
        == (2, 3)
    assert (status.done_overall, status.planned_overall) == (3, 6)
    assert status.next_session == week_day(2, 4)


def test_one_session_a_day_at_most_and_the_next_week_after_a_full_one() -> None:
    today = week_day(1, 2)
    status = review(PLAN, START, [done(today, 1)], today)
    assert status.next_session == today + dt.timedelta(days=1)
    full = [done(week_day(1, d), i) for i, d in enumerate((0, 1, 2), 1)]
    assert review(PLAN, START, full, week_day(1, 2)).next_session == week_day(2)


def test_the_next_bp_day_skips_days_that_have_their_four_readings() -> None:
    status = review(PLAN, START, [], START + dt.timedelta(days=1),
                    {START + dt.timedelta(days=1): 4})
    assert status.next_bp == START + dt.timedelta(days=2)
    after = review(PLAN, START, [], TRAIN)
    assert after.next_bp == week_day(4)  # the next measurement week


def test_after_the_training_weeks_comes_maintenance_once_a_week() -> None:
    sessions = [done(week_day(w, d), w * 10 + d) for w in range(1, 9) for d in (0, 2, 4)]
    status = review(PLAN, START, sessions, week_day(9, 1))
    assert status.phase == "maintenance"
    assert status.current is not None and status.current.planned == 1
    assert status_lines(status)[0].startswith("You have finished the training weeks")


# -------------------------------------------------------------------- the intensity
def test_a_first_session_not_held_starts_the_programme_at_the_starter_intensity() -> None:
    sessions = [done(week_day(1, 0), 1, not_held="the force kept falling during the hold")]
    level, steps = intensity_steps(PLAN, sessions, TRAIN)
    assert level == 20.0
    (step,) = steps
    assert (step.kind, step.intensity_pct, step.session_id) == (StepKind.INTENSITY, 20.0, 1)
    assert step.reason == ("Your first session showed that 2 minutes at 30 % is hard for "
                           "now (the force kept falling during the hold), so your programme "
                           "starts at 20 % and builds up from there.")


def test_held_sessions_step_up_by_five_to_thirty_and_never_above() -> None:
    hard = "the force stayed mostly below the green band"
    sessions = [done(week_day(1, 0), 1, not_held=hard)]
    sessions += [done(week_day(1 + i // 3, 2 * (i % 3)), 2 + i, pct=20.0 if i < 2 else 25.0)
                 for i in range(8)]
    level, steps = intensity_steps(PLAN, sessions, TRAIN)
    assert [s.intensity_pct for s in steps] == [20.0, 25.0, 30.0]
    assert level == 30.0
    assert steps[1].reason == ("Your last 2 sessions at 20 % went well, so the next ones "
                               "are at 25 %.")
    assert steps[2].reason.endswith("at 30 %. That is the full programme intensity.")


def test_sessions_not_held_step_down_but_never_below_the_floor() -> None:
    hard = "the force kept falling during the hold"
    sessions = [done(week_day(1, d), d + 1, not_held=hard) for d in range(7)]
    level, steps = intensity_steps(PLAN, sessions, TRAIN)
    assert [s.intensity_pct for s in steps] == [20.0, 15.0]
    assert level == 15.0
    assert steps[1].reason == ("Your last 2 sessions were hard (the force kept falling "
                               "during the hold), so the next ones are a little easier, "
                               "at 15 %.")


def test_baseline_week_sessions_do_not_set_the_intensity() -> None:
    sessions = [done(START, 1, not_held="the session was stopped early")]
    assert intensity_steps(PLAN, sessions, TRAIN) == (30.0, [])


def hold(rep: int, *, completed: bool = True, tib: float = 95.0, mean_pct: float = 20.0,
         drift: float = -1.0, target_pct: float = 20.0) -> HoldRow:
    mvc = 300.0
    return HoldRow(rep=rep, attempt=1, hand="right", t_go_s=0.0, t_end_s=120.0,
                   target_n=mvc * target_pct / 100, band_low_n=mvc * (target_pct - 3) / 100,
                   band_high_n=mvc * (target_pct + 3) / 100, mvc_n=mvc, completed=completed,
                   time_in_band_pct=tib, mean_pct_mvc=mean_pct, cv_mean_pct=3.0,
                   drift_pct_mvc_per_min=drift, gap_s=0.0, metrics={})


def row(status: str = "complete") -> SessionRow:
    return SessionRow(7, "u", "2026-01-12T09:00:00.000+00:00", None, status, "p", "sim",
                      None, 4, 300.0, 300.0)


def test_a_stored_session_is_judged_at_every_intensity_the_programme_sets() -> None:
    good = session_result(row(), [hold(r) for r in (1, 2, 3, 4)])
    assert (good.intensity_pct, good.not_held, good.complete) == (20.0, "", True)
    assert good.time_in_band_pct == pytest.approx(95.0)
    low = session_result(row(), [hold(1), hold(2, tib=40.0, mean_pct=15.0)])
    assert low.not_held == "the force stayed mostly below the green band"
    stopped = session_result(row("aborted"), [hold(1)])
    assert stopped.not_held == "the session was stopped early" and not stopped.complete
    cut = session_result(row(), [hold(1), hold(2, completed=False)])
    assert cut.not_held == "a hold was stopped early"


def test_the_programme_sets_the_target_of_its_protocol_and_refuses_a_sham() -> None:
    standard = load_protocol("ihg-4x2-30-alternating")
    step = programme_protocol(standard, PLAN, 20.0)
    assert step.target_pct == 20.0 and step.hold_s == standard.hold_s
    assert step.title.startswith("4 x 2 min at 20 % MVC")
    assert programme_protocol(standard, PLAN, 30.0) is standard
    with pytest.raises(ProgrammeError, match="sham protocol"):
        programme_protocol(load_protocol("ihg-4x2-5-sham"), PLAN, 30.0)


# ------------------------------------------------------------------------- the words
def test_the_words_say_days_and_counts_as_people_do() -> None:
    today = dt.date(2026, 11, 12)
    assert say_day(today, today) == "today"
    assert say_day(dt.date(2026, 11, 13), today) == "tomorrow"
    assert say_day(dt.date(2026, 11, 16), today) == "Monday 16 November"
    assert say_day(dt.date(2027, 1, 4), today) == "Monday 4 January 2027"
    assert done_of_planned(2, 3) == "2 of 3 sessions done"
    assert done_of_planned(5, 3) == "5 sessions done (3 planned)"
    assert done_of_planned(0, 1) == "0 of 1 session done"


# ---------------------------------------------------------------------- the calendar
def test_the_calendar_has_the_sessions_and_blood_pressure_days_from_today() -> None:
    status = review(PLAN, START, [], START)
    data = programme_calendar(status, programme_id=3, session_time=dt.time(9, 30),
                              stamp=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    cal = Calendar.from_ical(data)
    events = list(cal.walk("VEVENT"))
    sessions = [e for e in events if str(e["SUMMARY"]) == "Handgrip training session"]
    bp = [e for e in events if str(e["SUMMARY"]).startswith("Blood pressure")]
    maintenance = sum(w.kind == WeekKind.MAINTENANCE for w in status.weeks)
    assert len(sessions) == 8 * 3 + maintenance
    # Baseline, training weeks 4 and 8, and every 4th maintenance week: 7 days x 2.
    n_bp_weeks = sum(w.bp_week for w in status.weeks)
    assert len(bp) == n_bp_weeks * 14
    first = min(sessions, key=lambda e: e.decoded("DTSTART"))
    assert first.decoded("DTSTART") == dt.datetime.combine(TRAIN, dt.time(9, 30))
    assert {e.decoded("DTSTART").date() for e in bp[:14]} == {
        START + dt.timedelta(days=d) for d in range(7)}
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == len(uids) and all(u.startswith("isogrip-3-") for u in uids)
    assert all(e.walk("VALARM") for e in events)
    assert session_days(status.weeks[1]) == [TRAIN, week_day(1, 2), week_day(1, 4)]


# ---------------------------------------------------------------------- the commands
def cli(tmp_path: Path, *args: str) -> int:
    return main(["--data-dir", str(tmp_path / "data"), *args])


def test_programme_commands_start_show_write_and_end(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(tmp_path, "programme", "status") == 0
    assert "No programme yet" in capsys.readouterr().out
    assert cli(tmp_path, "programme", "start", "--weeks", "10", "--participant", "P01") == 0
    out = capsys.readouterr().out
    assert "This is your baseline week" in out
    assert cli(tmp_path, "programme", "status", "--participant", "P01", "--json") == 0
    status = json.loads(capsys.readouterr().out)
    assert status["phase"] == "baseline" and status["training_weeks"] == 10
    assert status["programme"]["plan"]["sessions_per_week"] == 3
    assert status["steps"][0]["kind"] == "start"
    ics = tmp_path / "plan.ics"
    assert cli(tmp_path, "programme", "calendar", "--participant", "P01", "--out",
               str(ics)) == 0
    assert "events" in capsys.readouterr().out
    assert len(list(Calendar.from_ical(ics.read_bytes()).walk("VEVENT"))) > 30
    assert cli(tmp_path, "programme", "start", "--participant", "P01") == 2
    assert "already follow a programme" in capsys.readouterr().err
    assert cli(tmp_path, "programme", "end", "--participant", "P01") == 0
    assert cli(tmp_path, "programme", "calendar", "--participant", "P01", "--out",
               str(ics)) == 2
    assert "no programme to write" in capsys.readouterr().err
    with Store.open(tmp_path / "data", read_only=True) as store:
        (row,) = store.programmes.all("P01")
        assert row.status == "ended" and row.plan.training_weeks == 10


@pytest.mark.parametrize(("args", "message"), [
    (("--weeks", "0"), "training weeks must be from 1 to 52"),
    (("--protocol", "ihg-4x2-5-sham"), "sham protocol"),
    (("--start", "2001-01-01"), "within a year before"),
])
def test_programme_start_refuses_bad_input_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
        message: str) -> None:
    assert cli(tmp_path, "programme", "start", *args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_a_run_follows_the_programme_and_records_why_it_changed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    start = (dt.datetime.now().astimezone().date() - dt.timedelta(days=8)).isoformat()
    assert cli(tmp_path, "programme", "start", "--start", start) == 0
    weak = "sim:good?seed=2&endurance_s=25&rate=20&jitter_ms=0"
    assert cli(tmp_path, "run", "--device", weak, "--speed", "max", "--headless") == 0
    out = capsys.readouterr().out
    assert "today's target is 30 % of your maximum" in out
    assert "so your programme starts at 20 %" in out
    assert cli(tmp_path, "run", "--device", weak, "--speed", "max", "--headless") == 0
    assert "today's target is 20 % of your maximum" in capsys.readouterr().out
    with Store.open(tmp_path / "data", read_only=True) as store:
        targets = [round(h.target_n / h.mvc_n * 100) for sid in (1, 2)
                   for h in store.load_holds(sid) if h.target_n and h.mvc_n]
        assert targets == [30] * 4 + [20] * 4
        (programme,) = store.programmes.all()
        kinds = [(s.kind, s.intensity_pct, s.session_id)
                 for s in store.programmes.steps(programme.id)]
        assert kinds == [("start", 30.0, None), ("intensity", 20.0, 1)]


def test_the_participant_table_says_which_programme_week_each_session_was(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    start = (dt.datetime.now().astimezone().date() - dt.timedelta(days=9)).isoformat()
    assert cli(tmp_path, "programme", "start", "--start", start, "--participant", "P02") == 0
    weak = "sim:good?seed=2&endurance_s=25&rate=20&jitter_ms=0"
    assert cli(tmp_path, "run", "--device", weak, "--speed", "max", "--headless",
               "--participant", "P02") == 0
    assert cli(tmp_path, "export", "--participant", "P02", "--format", "csv", "--out",
               str(tmp_path / "out")) == 0
    table = pd.read_csv(tmp_path / "out" / "participant-P02.csv")
    assert set(table["programme_id"]) == {1}
    assert set(table["programme_week"]) == {2}  # 9 days after the first day
    assert table["programme_step"].iloc[0].startswith("Your first session showed")
    assert set(table["target_pct_mvc"]) == {30.0}


def test_status_says_when_the_baseline_week_has_too_few_readings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    start = dt.datetime.now().astimezone().date() - dt.timedelta(days=10)
    assert cli(tmp_path, "programme", "start", "--start", start.isoformat()) == 0
    with Store.open(tmp_path / "data") as store:
        for day in (0, 1, 2, 3):  # day 0 is left out: 3 days x 2 = 6 readings kept
            for minute in (0, 1):
                store.add_bp_reading(sbp=130, dbp=80, taken_at=dt.datetime.combine(
                    start + dt.timedelta(days=day), dt.time(8, minute)).astimezone())
    capsys.readouterr()
    assert cli(tmp_path, "programme", "status") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert ("Your baseline week has 6 blood-pressure readings after its first day (12 are "
            "needed), so the change in your blood pressure cannot be worked out") in out
