"""Blood-pressure log, schema migration, and the history queries."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isogrip.errors import BpValueError, StorageError
from isogrip.storage.history import (
    last_measured_mvc,
    mvc_trend,
    parse_bp,
    previous_mvc,
    weekly_adherence,
)
from isogrip.storage.paths import database_path
from isogrip.storage.schema import SCHEMA_VERSION
from isogrip.storage.store import Store
from isogrip.types import Hand

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = Store.open(tmp_path / "data")
    yield s
    s.close()


def session(store: Store, when: dt.datetime, *, participant: str | None = "P1",
            status: str = "complete", mvc: dict[str, float] | None = None,
            reused: bool = False) -> int:
    sid = store.create_session(started_at=when, protocol_name="p", protocol={"name": "p"},
                               device="sim", participant=participant, app_version="t",
                               t0_s=0.0)
    for hand, value in (mvc or {}).items():
        store.write_mvc(sid, hand, value, None if reused else 1,
                        ["reused"] if reused else [])
    store.finish_session(sid, status, when + dt.timedelta(minutes=15))
    return sid


# ---------------------------------------------------------------------------- BP log
def test_bp_readings_are_stored_in_time_order(store: Store) -> None:
    later = NOW + dt.timedelta(hours=1)
    store.add_bp_reading(sbp=150, dbp=95, pulse=70, taken_at=later, participant="P1",
                         context="post")
    # A local time with another offset still sorts by the real instant.
    earlier = (NOW - dt.timedelta(hours=2)).astimezone(dt.timezone(dt.timedelta(hours=5)))
    store.add_bp_reading(sbp=140.0, dbp=90, taken_at=earlier, participant="P1", context="pre")
    store.add_bp_reading(sbp=120, dbp=80, participant="P2")
    mine = store.list_bp_readings("P1")
    assert [(r.sbp, r.dbp, r.pulse, r.context) for r in mine] == [
        (140, 90, None, "pre"), (150, 95, 70, "post")]
    assert mine[0].taken_at.endswith("+00:00") and mine[0].source == "manual"
    assert len(store.list_bp_readings()) == 3
    assert [r.sbp for r in store.list_bp_readings("P1", since=NOW)] == [150]


@pytest.mark.parametrize(("kw", "words"), [
    ({"sbp": 82, "dbp": 128}, "higher than the diastolic"),
    ({"sbp": 128, "dbp": 128}, "higher than the diastolic"),
    ({"sbp": 400, "dbp": 80}, "between 60 and 300"),
    ({"sbp": 120, "dbp": 10}, "between 30 and 200"),
    ({"sbp": 120, "dbp": 80, "pulse": 300}, "between 25 and 250"),
    ({"sbp": 120.5, "dbp": 80}, "whole number"),
    ({"sbp": float("nan"), "dbp": 80}, "whole number"),
    ({"sbp": True, "dbp": 80}, "whole number"),
    ({"sbp": "120", "dbp": 80}, "whole number"),
    ({"sbp": 120, "dbp": 80, "context": "during"}, "context must be one of"),
])
def test_implausible_readings_are_refused(store: Store, kw: dict[str, Any], words: str) -> None:
    with pytest.raises(BpValueError, match=words):
        store.add_bp_reading(**kw)
    assert store.list_bp_readings() == []


def test_parse_bp() -> None:
    assert parse_bp("128/82") == (128, 82)
    assert parse_bp(" 95 / 60 ") == (95, 60)
    for bad in ("128", "128-82", "a/b", "1280/82", "", "128/82/70"):
        with pytest.raises(BpValueError, match="upper/lower"):
            parse_bp(bad)


@given(st.text(max_size=12))
def test_parse_bp_fuzz(text: str) -> None:
    try:
        sbp, dbp = parse_bp(text)
    except BpValueError:
        return
    assert 10 <= sbp <= 999 and 10 <= dbp <= 999


def test_version_1_database_is_migrated(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    with Store.open(folder) as s:
        sid = session(s, NOW, mvc={"left": 300.0})
    with sqlite3.connect(database_path(folder)) as db:  # make it look like version 1
        for table in ("bp_readings", "programme_steps", "programmes"):
            db.execute(f"DROP TABLE {table}")
        db.execute("PRAGMA user_version = 1")
    with Store.open(folder) as s:
        assert s.get_session(sid).mvc_left_n == 300.0  # old data kept
        s.add_bp_reading(sbp=130, dbp=85)
        assert len(s.list_bp_readings()) == 1
    with sqlite3.connect(database_path(folder)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3


def test_version_2_database_gains_programmes_and_cuff_columns(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    Store.open(folder).close()
    with sqlite3.connect(database_path(folder)) as db:  # the version 2 layout
        db.execute("DROP TABLE programme_steps")
        db.execute("DROP TABLE programmes")
        db.execute("DROP TABLE bp_readings")
        db.execute("CREATE TABLE bp_readings (id INTEGER PRIMARY KEY, participant TEXT,"
                   " taken_at TEXT NOT NULL, sbp INTEGER NOT NULL, dbp INTEGER NOT NULL,"
                   " pulse INTEGER, context TEXT, session_id INTEGER, source TEXT NOT NULL"
                   " DEFAULT 'manual', note TEXT)")
        db.execute("INSERT INTO bp_readings (participant, taken_at, sbp, dbp)"
                   " VALUES ('P01', '2026-11-01T08:00:00.000+00:00', 131, 84)")
        db.execute("PRAGMA user_version = 2")
    with Store.open(folder) as s:
        (kept,) = s.list_bp_readings()
        assert (kept.participant, kept.sbp, kept.dbp) == ("P01", 131, 84)
    with sqlite3.connect(database_path(folder)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 3
        columns = {r[1] for r in db.execute("PRAGMA table_info(bp_readings)")}
        assert {"device", "cuff_user", "time_source"} <= columns
        assert db.execute("SELECT time_source FROM bp_readings").fetchone()[0] == "entered"
        assert db.execute("SELECT count(*) FROM programmes").fetchone()[0] == 0


def test_newer_database_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    Store.open(folder).close()
    with sqlite3.connect(database_path(folder)) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StorageError, match="newer isogrip"):
        Store.open(folder)


# ---------------------------------------------------------------------------- history
def test_weekly_adherence_counts_complete_sessions_per_week(store: Store) -> None:
    today = NOW.date()
    monday = today - dt.timedelta(days=today.weekday())
    for days in (0, 1, 2):  # three this week
        session(store, dt.datetime.combine(monday + dt.timedelta(days=days), dt.time(10),
                                           tzinfo=UTC).astimezone())
    session(store, NOW - dt.timedelta(days=14))  # two weeks ago
    session(store, NOW - dt.timedelta(days=14), status="aborted")  # not counted
    session(store, NOW - dt.timedelta(days=100))  # outside the window
    weeks = weekly_adherence(store.list_sessions(), weeks=4, today=today)
    assert [w.week_start for w in weeks] == [monday - dt.timedelta(weeks=k)
                                             for k in (3, 2, 1, 0)]
    assert [w.sessions for w in weeks] == [0, 1, 0, 3]
    assert [w.met for w in weeks] == [False, False, False, True]


def test_mvc_trend_skips_reused(store: Store) -> None:
    session(store, NOW - dt.timedelta(days=3), mvc={"left": 300.0, "right": 320.0})
    session(store, NOW - dt.timedelta(days=2), mvc={"left": 300.0, "right": 320.0},
            reused=True)
    session(store, NOW - dt.timedelta(days=1), mvc={"left": 310.0})
    session(store, NOW, participant="P2", mvc={"left": 999.0})
    trend = mvc_trend(store, "P1")
    assert [v for _, v in trend[Hand.LEFT]] == [300.0, 310.0]
    assert [v for _, v in trend[Hand.RIGHT]] == [320.0]
    assert trend[Hand.LEFT][0][0] < trend[Hand.LEFT][1][0]


def test_last_measured_mvc_window(store: Store) -> None:
    session(store, NOW - dt.timedelta(days=8), mvc={"right": 280.0})
    session(store, NOW - dt.timedelta(days=6, hours=23), mvc={"left": 300.0},
            status="aborted")  # measured, then stopped: still a measurement
    session(store, NOW - dt.timedelta(days=1), mvc={"left": 999.0}, reused=True)
    got = last_measured_mvc(store, "P1", within_days=7, now=NOW)
    assert set(got) == {Hand.LEFT}
    assert got[Hand.LEFT][0] == 300.0
    assert last_measured_mvc(store, "P1", within_days=9, now=NOW)[Hand.RIGHT][0] == 280.0
    assert last_measured_mvc(store, "P1", within_days=0.5, now=NOW) == {}


def test_previous_mvc_is_the_latest_earlier_session_of_that_participant(store: Store) -> None:
    session(store, NOW - dt.timedelta(days=5), mvc={"left": 290.0, "right": 310.0})
    session(store, NOW - dt.timedelta(days=3), mvc={"left": 295.0})
    session(store, NOW - dt.timedelta(days=2), participant="P2", mvc={"left": 500.0})
    sid = session(store, NOW, mvc={"left": 300.0, "right": 305.0})
    assert previous_mvc(store, sid) == {Hand.LEFT: 295.0, Hand.RIGHT: 310.0}
    first = store.list_sessions("P1")[0].id
    assert previous_mvc(store, first) == {}
