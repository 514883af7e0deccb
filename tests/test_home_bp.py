"""Home blood pressure summaries (isogrip.home_bp) and ``isogrip bp summary``."""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from scipy import stats

from isogrip.bp_check import BpLimits
from isogrip.cli import main
from isogrip.cli.bp_summary import period
from isogrip.errors import BpValueError
from isogrip.home_bp import (
    EXPECTED_EFFECT,
    BpChange,
    CiUnit,
    Guideline,
    HomeReading,
    bp_advice,
    change_from_baseline,
    change_sentence,
    classify,
    summarise_period,
)
from isogrip.settings import Settings, SettingsError, check_value, save_settings
from isogrip.storage.rows import BpReading
from isogrip.storage.store import Store
from isogrip.timefmt import SystemLocalTime

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
DAY1 = dt.date(2026, 1, 5)
ESH, ACC = Guideline.ESH_2023, Guideline.ACC_AHA_2017


def at(day: int, hour: int, minute: int = 0, tz: dt.tzinfo = UTC) -> dt.datetime:
    """A time on day ``day`` (0 = DAY1) of the test calendar."""
    return dt.datetime.combine(DAY1 + dt.timedelta(days=day), dt.time(hour, minute), tz)


def week(values: list[list[tuple[int, int]]], *, pulse: int | None = None,
         first: int = 0) -> list[HomeReading]:
    """Readings: ``values[d]`` are day ``first + d``'s, at 07:00, 07:01, 19:00, 19:01."""
    slots = [(7, 0), (7, 1), (19, 0), (19, 1)]
    return [HomeReading(at(first + d, *slots[i]), s, di, pulse)
            for d, day in enumerate(values) for i, (s, di) in enumerate(day)]


# ------------------------------------------------------------------ the period rule
def test_first_day_is_left_out_and_every_other_reading_averaged() -> None:
    readings = week([[(170, 100)] * 4,  # day 1: high (a new routine), left out
                     [(130, 80), (132, 82), (128, 78), (130, 80)],
                     [(126, 76), (124, 74), (140, 90), (138, 88)],
                     [(120, 70), (122, 72), (130, 80), (128, 78)]], pulse=60)
    s = summarise_period(reversed(readings), UTC, guideline=ESH)  # any order
    assert s.discarded_day == DAY1 and s.first_day_discarded
    assert (s.n_readings, s.n_days, len(s.readings)) == (12, 3, 16)
    kept = [130, 132, 128, 130, 126, 124, 140, 138, 120, 122, 130, 128]
    assert s.sbp_mean == pytest.approx(1548 / 12)  # 129.0
    assert s.dbp_mean == pytest.approx(948 / 12)  # 79.0: 320 + 328 + 300
    assert s.sbp_sd == pytest.approx(statistics.stdev(kept))
    assert s.pulse_mean == 60
    assert s.enough and s.category is not None and s.category.code == "home-normal"
    assert s.message == ("Average of 12 readings (the first day, 2026-01-05, is left out, "
                         "as the guidelines advise).")
    assert s.day_means()[DAY1 + dt.timedelta(days=2)] == (4, 132.0, 82.0)


def test_local_days_decide_the_first_day() -> None:
    # 23:30 UTC on 5 January is 00:30 on the 6th in Berlin.
    readings = [HomeReading(at(0, 23, 30), 150, 95), *week([[(120, 70)] * 4] * 4, first=1)]
    utc = summarise_period(readings, UTC)
    berlin = summarise_period(readings, BERLIN)
    assert utc.discarded_day == DAY1 and utc.n_readings == 16
    # In Berlin the late reading is on the 6th, the first day: all five are left out.
    assert berlin.discarded_day == DAY1 + dt.timedelta(days=1) and berlin.n_readings == 12
    assert berlin.sbp_mean == 120


def test_too_few_readings_keep_the_numbers_but_no_category() -> None:
    readings = week([[(150, 95)] * 4, [(140, 90)] * 4, [(142, 92)] * 4])
    s = summarise_period(readings, UTC, guideline=ACC)
    assert (s.n_readings, s.enough, s.category) == (8, False, None)
    assert s.sbp_mean == 141 and s.dbp_mean == 91
    assert s.message == ("Only 8 readings after the first day; at least 12 are needed for "
                         "an average you can act on.")
    one_day = summarise_period(week([[(120, 70)] * 4]), UTC)
    assert not one_day.first_day_discarded and one_day.n_readings == 4  # nothing else
    assert one_day.message == ("Only 4 readings; at least 12 are needed for an average "
                               "you can act on.")
    assert one_day.pulse_mean is None


def test_period_bounds_are_inclusive_local_days() -> None:
    readings = week([[(150, 95)] * 4, [(130, 80)] * 4, [(120, 70)] * 4, [(110, 60)] * 4,
                     [(100, 55)] * 4])
    s = summarise_period(readings, UTC, start=DAY1 + dt.timedelta(days=1),
                         end=DAY1 + dt.timedelta(days=4))
    assert (s.start, s.end) == (DAY1 + dt.timedelta(days=1), DAY1 + dt.timedelta(days=4))
    assert s.discarded_day == DAY1 + dt.timedelta(days=1)  # the period's first day
    assert s.n_readings == 12 and s.sbp_mean == pytest.approx(110)
    empty = summarise_period(readings, UTC, start=dt.date(2025, 1, 1),
                             end=dt.date(2025, 1, 7))
    assert empty.n_readings == 0 and empty.sbp_mean is None and empty.category is None
    assert empty.message == "No blood-pressure readings in this period."
    assert json.dumps(empty.to_json(), allow_nan=False)


def test_stored_rows_are_read_and_damaged_times_refused() -> None:
    row = BpReading(1, None, "2026-01-05T23:30:00.000+00:00", 128, 82, 64, "rest", None,
                    "manual", None)
    r = HomeReading.from_row(row)
    assert r.taken_at == at(0, 23, 30) and (r.sbp, r.dbp, r.pulse) == (128, 82, 64)
    assert summarise_period([row], BERLIN).start == DAY1 + dt.timedelta(days=1)
    with pytest.raises(BpValueError, match="reading 2: the time 'yesterday'"):
        HomeReading.from_row(BpReading(2, None, "yesterday", 128, 82, None, None, None,
                                       "manual", None))
    with pytest.raises(ValueError, match="UTC offset"):
        HomeReading(dt.datetime(2026, 1, 5, 7), 120, 80)


def test_json_has_the_keys_and_is_json_safe() -> None:
    s = summarise_period(week([[(150, 95)] * 4] + [[(131, 79), (133, 81)] * 2] * 6,
                              pulse=None), UTC, guideline=ACC)
    j = s.to_json()
    assert {"n_readings", "n_days", "sbp_mean", "dbp_mean", "pulse_mean", "category",
            "first_day_discarded"} <= set(j)
    assert j["n_readings"] == 24 and j["n_days"] == 6 and j["sbp_mean"] == 132.0
    assert j["dbp_mean"] == 80.0 and j["pulse_mean"] is None
    assert j["category"] == "stage-1" and j["first_day_discarded"] is True
    assert j["discarded_day"] == "2026-01-05" and j["guideline"] == "acc-aha-2017"
    assert j["enough"] is True and len(j["days"]) == 6
    json.dumps(j, allow_nan=False)


# ------------------------------------------------------------------- categories
@pytest.mark.parametrize(("guideline", "home", "sbp", "dbp", "code"), [
    # ACC/AHA 2017, office
    (ACC, False, 119, 79, "normal"), (ACC, False, 120, 79, "elevated"),
    (ACC, False, 129.9, 79.9, "elevated"), (ACC, False, 119, 80, "stage-1"),
    (ACC, False, 130, 70, "stage-1"), (ACC, False, 139, 89, "stage-1"),
    (ACC, False, 140, 70, "stage-2"), (ACC, False, 110, 90, "stage-2"),
    (ACC, False, 180, 120, "stage-2"), (ACC, False, 181, 90, "crisis"),
    (ACC, False, 150, 121, "crisis"),
    # ACC/AHA 2017, home (Table 11: 130/80 -> 130/80, 140/90 -> 135/85)
    (ACC, True, 119.9, 79.9, "normal"), (ACC, True, 120, 79, "elevated"),
    (ACC, True, 130, 79, "stage-1"), (ACC, True, 125, 80, "stage-1"),
    (ACC, True, 134.9, 84.9, "stage-1"), (ACC, True, 135, 70, "stage-2"),
    (ACC, True, 120, 85, "stage-2"), (ACC, True, 180.5, 80, "crisis"),
    # ESH 2023, office
    (ESH, False, 119, 79, "optimal"), (ESH, False, 120, 70, "normal"),
    (ESH, False, 110, 80, "normal"), (ESH, False, 129, 84, "normal"),
    (ESH, False, 130, 70, "high-normal"), (ESH, False, 110, 85, "high-normal"),
    (ESH, False, 139, 89, "high-normal"), (ESH, False, 140, 70, "grade-1"),
    (ESH, False, 110, 90, "grade-1"), (ESH, False, 159, 99, "grade-1"),
    (ESH, False, 160, 70, "grade-2"), (ESH, False, 110, 100, "grade-2"),
    (ESH, False, 179, 109, "grade-2"), (ESH, False, 180, 70, "grade-3"),
    (ESH, False, 110, 110, "grade-3"),
    # ESH 2023, home: one threshold, 135/85
    (ESH, True, 134.9, 84.9, "home-normal"), (ESH, True, 135, 60, "home-hypertension"),
    (ESH, True, 110, 85, "home-hypertension"), (ESH, True, 200, 115, "home-hypertension"),
])
def test_category_boundaries(guideline: Guideline, home: bool, sbp: float, dbp: float,
                             code: str) -> None:
    c = classify(sbp, dbp, guideline, home=home)
    assert c.code == code and c.guideline is guideline and c.home is home
    assert c.label  # plain words


def test_categories_take_the_guideline_as_text_and_rank_in_order() -> None:
    assert classify(150, 95, "esh-2023", home=False).label == "grade 1 high blood pressure"  # type: ignore[arg-type]
    ranks = [classify(s, 70, ACC, home=False).rank for s in (110, 125, 135, 150, 190)]
    assert ranks == [0, 1, 2, 3, 4]


# --------------------------------------------------------------- change from baseline
BASE = [[(140, 90), (142, 91), (138, 88), (141, 90)], [(135, 86), (137, 87), (139, 89),
        (136, 86)], [(144, 92), (143, 91), (146, 93), (141, 90)], [(138, 88), (139, 88),
        (137, 86), (140, 89)]]
LATER = [[(134, 85), (132, 84), (136, 86), (131, 83)], [(130, 82), (133, 84), (129, 81),
         (131, 83)], [(137, 87), (135, 85), (138, 88), (134, 84)], [(128, 80), (130, 81),
         (127, 80), (129, 81)]]


def periods() -> tuple[list[HomeReading], list[HomeReading]]:
    first_day = [[(160, 100)] * 4]
    return (week(first_day + BASE), week(first_day + LATER, first=28))


def test_change_interval_is_welch_on_readings() -> None:
    base, later = periods()
    change = change_from_baseline(base, later, tz=UTC, unit=CiUnit.READING)
    assert isinstance(change, BpChange)
    b_sbp = [s for day in BASE for s, _ in day]
    l_sbp = [s for day in LATER for s, _ in day]
    assert change.sbp.mean == pytest.approx(statistics.fmean(l_sbp) - statistics.fmean(b_sbp))
    ci = stats.ttest_ind(l_sbp, b_sbp, equal_var=False).confidence_interval(0.95)
    assert (change.sbp.low, change.sbp.high) == pytest.approx((ci.low, ci.high))
    b_dbp = [d for day in BASE for _, d in day]
    l_dbp = [d for day in LATER for _, d in day]
    ci = stats.ttest_ind(l_dbp, b_dbp, equal_var=False).confidence_interval(0.95)
    assert (change.dbp.low, change.dbp.high) == pytest.approx((ci.low, ci.high))
    assert (change.n_baseline, change.n_later, change.days_baseline) == (16, 16, 4)


def test_change_interval_on_day_means_is_wider() -> None:
    base, later = periods()
    by_day = change_from_baseline(base, later, tz=UTC)  # the default: day means
    by_reading = change_from_baseline(base, later, tz=UTC, unit="reading")  # type: ignore[arg-type]
    assert by_day is not None and by_reading is not None and by_day.unit is CiUnit.DAY
    b_days = [statistics.fmean(s for s, _ in day) for day in BASE]
    l_days = [statistics.fmean(s for s, _ in day) for day in LATER]
    res = stats.ttest_ind(l_days, b_days, equal_var=False)
    ci = res.confidence_interval(0.95)
    assert by_day.sbp.mean == pytest.approx(statistics.fmean(l_days) - statistics.fmean(b_days))
    assert (by_day.sbp.low, by_day.sbp.high) == pytest.approx((ci.low, ci.high))
    assert by_day.sbp.df == pytest.approx(res.df)
    # Readings of one day move together: counting each as independent is too narrow.
    assert by_day.sbp.low is not None and by_day.sbp.high is not None
    assert by_reading.sbp.low is not None and by_reading.sbp.high is not None
    assert by_day.sbp.high - by_day.sbp.low > by_reading.sbp.high - by_reading.sbp.low
    assert by_day.to_json()["sbp"]["ci_low"] == round(ci.low, 1)
    words = change_sentence(by_day)
    assert words.startswith(f"Compared with your baseline, your home average is "
                            f"{abs(by_day.sbp.mean):.1f} mmHg lower for the upper number")


def test_change_needs_twelve_readings_on_each_side() -> None:
    base, later = periods()
    assert change_from_baseline(base, later[:-5], tz=UTC) is None  # 11 after day 1
    with pytest.raises(ValueError, match="tz"):
        change_from_baseline(base, later)
    # All kept readings on one day: the difference, but no interval from day means.
    same_day = week([[(150, 95)] * 4], first=40) + [
        HomeReading(at(41, 8, minute), 130, 80) for minute in range(12)]
    change = change_from_baseline(base, same_day, tz=UTC)
    assert change is not None and change.sbp.low is None and change.days_later == 1


# ---------------------------------------------------------------------- advice
def test_advice_for_a_high_average_follows_the_guideline() -> None:
    readings = week([[(120, 70)] * 4] + [[(132, 78)] * 4] * 3)
    assert bp_advice(readings, tz=UTC) == []  # ESH: below 135/85
    acc = bp_advice(summarise_period(readings, UTC, guideline=ACC))
    assert acc == ["Your home average is 132.0/78.0 mmHg, at or above 130/80 mmHg, the "
                   "level ACC/AHA 2017 uses for high blood pressure at home. This is not "
                   "a diagnosis, but please talk to your doctor and show them these "
                   "readings."]
    mine = bp_advice(readings, BpLimits(125, 90), tz=UTC)
    assert len(mine) == 1 and "your limits (125/90 mmHg)" in mine[0]
    few = bp_advice(week([[(150, 95)] * 4] * 2), tz=UTC)
    assert len(few) == 1 and "too few to be sure" in few[0]


def test_any_crisis_reading_gets_calm_advice_even_on_the_first_day() -> None:
    readings = week([[(182, 100), (120, 80), (120, 80), (120, 80)]]
                    + [[(120, 75)] * 4] * 3 + [[(150, 121), (180, 120), (120, 70),
                                                (120, 70)]])
    advice = bp_advice(readings, tz=UTC)
    assert len(advice) == 1  # the average itself is fine
    assert advice[0].startswith("2 readings were very high (above 180/120); the highest "
                                "was 182/100 mmHg on 2026-01-05.")
    assert "contact your doctor today" in advice[0] and "emergency" in advice[0]
    at_limit = bp_advice(week([[(180, 120)] * 4]), tz=UTC)  # at 180/120: not "above"
    assert not any("very high" in a for a in at_limit)
    for sentence in [*advice, EXPECTED_EFFECT]:
        assert "you have" not in sentence.lower()  # advice, never a diagnosis


def test_expected_effect_is_context_not_a_promise() -> None:
    assert "5 to 8 mmHg" in EXPECTED_EFFECT and "3 to 4 mmHg" in EXPECTED_EFFECT
    assert "not a promise" in EXPECTED_EFFECT


# -------------------------------------------------------------------- settings
def test_bp_guideline_setting() -> None:
    assert Settings().bp_guideline is Guideline.ESH_2023
    assert check_value("bp_guideline", " ACC-AHA-2017 ") is Guideline.ACC_AHA_2017
    with pytest.raises(SettingsError,
                       match="bp_guideline must be one of acc-aha-2017, esh-2023, got 'jnc-7'"):
        check_value("bp_guideline", "jnc-7")
    with pytest.raises(SettingsError, match="bp_guideline"):
        check_value("bp_guideline", 3)


# ----------------------------------------------------------------- command line
def local_day(days_ago: int) -> dt.date:
    return dt.datetime.now().astimezone().date() - dt.timedelta(days=days_ago)


def add_week(data: Path, participant: str | None = None, sbp: int = 130) -> None:
    """Four readings a day for the last 7 local days (today included), 08:00 and 20:00."""
    store = Store.open(data)
    try:
        for ago in range(7):
            for hm in ((8, 0), (8, 1), (20, 0), (20, 1)):
                when = dt.datetime.combine(local_day(ago), dt.time(*hm)).astimezone()
                # The first day of the week (6 days ago) is high: it must be left out.
                store.add_bp_reading(sbp=170 if ago == 6 else sbp + ago, dbp=80,
                                     pulse=62, taken_at=when, participant=participant)
    finally:
        store.close()


def summary(capsys: pytest.CaptureFixture[str], data: Path,
            *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data), "bp", "summary", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_summary_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_week(tmp_path)
    code, out, err = summary(capsys, tmp_path, "--json")
    assert code == 0 and not err
    j = json.loads(out)  # exactly one object
    assert j["from"] == local_day(6).isoformat() and j["to"] == local_day(0).isoformat()
    assert j["n_readings"] == 24 and j["n_days"] == 6 and j["first_day_discarded"]
    assert j["sbp_mean"] == 132.5 and j["dbp_mean"] == 80.0 and j["pulse_mean"] == 62.0
    assert j["category"] == "home-normal" and j["guideline"] == "esh-2023"
    assert j["advice"] == [] and j["participant"] is None
    code, out, _ = summary(capsys, tmp_path, "--json", "--guideline", "acc-aha-2017")
    j = json.loads(out)
    # ACC/AHA home: 130-134 or 80-84 is stage 1, and 132.5/80 is at or above 130/80.
    assert j["category"] == "stage-1" and len(j["advice"]) == 1
    code, out, _ = summary(capsys, tmp_path, "--json", "--from", local_day(2).isoformat())
    j = json.loads(out)
    assert j["n_readings"] == 8 and not j["enough"] and j["category"] is None


def test_cli_guideline_from_settings_and_human_output(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    monkeypatch.setenv("ISOGRIP_CONFIG_DIR", str(config))
    save_settings(Settings().replace(bp_guideline="acc-aha-2017"))
    add_week(tmp_path / "data")
    code, out, _ = summary(capsys, tmp_path / "data")
    assert code == 0
    assert "132.5/80.0 mmHg" in out and "24 on 6 days" in out
    assert "stage 1 high blood pressure" in out and "ACC/AHA 2017" in out
    assert "not a diagnosis" in out and "talk to your doctor" in out
    assert "not a promise" in out
    code, out, _ = summary(capsys, tmp_path / "data", "--from", "2020-01-01", "--to",
                           "2020-01-07")
    assert code == 0 and "No blood-pressure readings in this period." in out


@pytest.mark.parametrize(("args", "message"), [
    (("--from", "2026-02-30"), "--from must be a date written YYYY-MM-DD"),
    (("--to", "20260105"), "--to must be a date written YYYY-MM-DD"),
    (("--from", "2026-W02-1"), "--from must be a date"),
    (("--from", "2026-01-08", "--to", "2026-01-07"), "--from (2026-01-08) is after --to"),
    (("--participant", "Jane Doe"), "participant"),
])
def test_cli_bad_input_is_one_line_and_status_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
        message: str) -> None:
    add_week(tmp_path)
    code, out, err = summary(capsys, tmp_path, *args)
    assert code == 2 and not out
    assert err.count("\n") == 1 and err.startswith("isogrip: error: ") and message in err


def test_cli_does_not_mix_participants(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    add_week(tmp_path, "P01", sbp=120)
    add_week(tmp_path, "P02", sbp=150)
    code, _, err = summary(capsys, tmp_path, "--json")
    assert code == 2 and "2 participants (P01, P02); choose one with --participant" in err
    code, out, _ = summary(capsys, tmp_path, "--json", "--participant", "P02")
    j = json.loads(out)
    assert code == 0 and j["participant"] == "P02" and j["sbp_mean"] == 152.5


def test_period_defaults_to_the_last_seven_days() -> None:
    today = dt.date(2026, 3, 31)
    assert period(None, None, today) == (dt.date(2026, 3, 25), today)
    assert period(None, "2026-03-10", today) == (dt.date(2026, 3, 4), dt.date(2026, 3, 10))
    assert period("2026-03-01", None, today) == (dt.date(2026, 3, 1), today)


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="needs time.tzset (Unix)")
def test_system_local_time_follows_daylight_saving(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        zone = SystemLocalTime()
        winter = dt.datetime(2026, 1, 5, 23, 30, tzinfo=UTC).astimezone(zone)
        summer = dt.datetime(2026, 7, 5, 22, 30, tzinfo=UTC).astimezone(zone)
        assert winter.date() == dt.date(2026, 1, 6) and winter.hour == 0
        assert summer.date() == dt.date(2026, 7, 6) and summer.hour == 0
        assert summer.utcoffset() == dt.timedelta(hours=2)
        assert winter.astimezone(UTC) == dt.datetime(2026, 1, 5, 23, 30, tzinfo=UTC)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_building_the_parser_stays_light() -> None:
    # isogrip --help must not import scipy for the summary (it is imported on demand).
    code = ("import sys, isogrip.cli; isogrip.cli.build_parser(); "
            "print('scipy' in sys.modules)")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ}).stdout
    assert out.strip() == "False"
