"""Tests of the session store, the recorder and the data folder helpers."""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hold_records import partial_metrics

from isogrip.cli.session_ref import resolve_session
from isogrip.errors import SessionNotFoundError, StorageError
from isogrip.protocols.events import EventKind, Phase
from isogrip.protocols.records import (
    Cue,
    HoldFinished,
    MvcChosen,
    MvcTrialRedone,
    MvcTrialScored,
    PhaseChanged,
    SessionStarted,
    SessionWarning,
)
from isogrip.storage import paths
from isogrip.storage.jsonio import dumps
from isogrip.storage.recorder import Recorder
from isogrip.storage.schema import SCHEMA_VERSION
from isogrip.storage.store import Store
from isogrip.types import Hand

START = dt.datetime(2024, 5, 1, 9, 30, 0, tzinfo=dt.UTC)


class FakeClock:
    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def new_session(store: Store, participant: str | None = "P001", t0_s: float = 1000.0,
                **kw: Any) -> int:
    args: dict[str, Any] = {
        "started_at": START,
        "protocol_name": "ihg-4x2-30-alternating",
        "protocol": {"name": "ihg-4x2-30-alternating", "reps": 4, "target_pct": 30.0},
        "device": "sim",
        "participant": participant,
        "app_version": "0.1.0",
        "t0_s": t0_s,
        "device_info": {"kind": "sim", "nominal_rate_hz": 80.0},
    }
    args.update(kw)
    return store.create_session(**args)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = Store.open(tmp_path / "data")
    yield s
    s.close()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# ---------------------------------------------------------------------------- paths
def test_default_data_dir_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ISOGRIP_DATA_DIR", str(tmp_path / "x"))
    assert paths.default_data_dir() == tmp_path / "x"
    monkeypatch.setenv("ISOGRIP_DATA_DIR", "")
    d = paths.default_data_dir()
    assert d.name == "isogrip"
    monkeypatch.delenv("ISOGRIP_DATA_DIR")
    assert paths.default_data_dir() == d


def test_prepare_data_dir_creates_private_folders(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    target = tmp_path / "a" / "b"
    assert paths.prepare_data_dir(target) == target
    assert mode(tmp_path / "a") == 0o700
    assert mode(target) == 0o700
    assert mode(tmp_path) == 0o755  # existing folders are left alone
    assert list(target.iterdir()) == []  # the write test file is removed


def test_prepare_data_dir_unwritable(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    with pytest.raises(StorageError) as info:
        paths.prepare_data_dir(afile / "sub")
    msg = str(info.value)
    assert msg.startswith(f"cannot write to data folder {afile / 'sub'}: ")
    assert msg.endswith("Choose another with --data-dir or ISOGRIP_DATA_DIR.")
    with pytest.raises(StorageError, match="cannot write to data folder"):
        Store.open(afile)


def test_store_open_uses_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ISOGRIP_DATA_DIR", str(tmp_path / "envdata"))
    with Store.open() as s:
        assert s.path == tmp_path / "envdata" / "isogrip.sqlite3"


# ---------------------------------------------------------------------------- store
def test_database_files_are_private(tmp_path: Path) -> None:
    s = Store.open(tmp_path / "d")
    sid = new_session(s)
    rec = Recorder(s, sid)
    rec.add_samples(np.arange(10.0), None, np.ones(10))
    rec.flush()
    db = tmp_path / "d" / "isogrip.sqlite3"
    assert mode(tmp_path / "d") == 0o700
    assert mode(db) == 0o600
    for side in ("-wal", "-shm"):
        p = db.with_name(db.name + side)
        assert p.exists()
        assert mode(p) == 0o600
    assert s.path == db
    s.close()
    s.close()  # twice is fine
    assert s.closed
    with pytest.raises(StorageError, match="closed"):
        s.list_sessions()


def test_pragmas(store: Store) -> None:
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    cols = {r[1] for r in conn.execute("PRAGMA table_info(sessions)")}
    assert "participant" in cols
    assert not any("name" in c and c != "protocol_name" for c in cols)  # IDs, not names
    conn.close()
    inner = store._db()
    assert inner.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    # FULL: each commit (about one a second) is on the disk, even through a power cut.
    assert inner.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_corrupt_file_is_rejected(tmp_path: Path) -> None:
    db = tmp_path / "isogrip.sqlite3"
    junk = np.random.default_rng(1).bytes(8192)
    db.write_bytes(junk)
    # Our own file name in our data folder: damaged, with a backup copy kept.
    with pytest.raises(StorageError, match="is damaged") as info:
        Store(db)
    assert Path(info.value.backup).read_bytes() == junk  # type: ignore[attr-defined]
    with pytest.raises(StorageError, match="is damaged"):
        Store.open(tmp_path)
    # Any other random file is simply not an isogrip database.
    other = tmp_path / "other.bin"
    other.write_bytes(junk)
    with pytest.raises(StorageError, match="is not an isogrip database"):
        Store(other)


def test_foreign_sqlite_file_is_rejected(tmp_path: Path) -> None:
    db = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match="is not an isogrip database"):
        Store(db)


def test_newer_database_is_rejected(store: Store) -> None:
    path = store.path
    store.close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match="was written by a newer isogrip"):
        Store(path)


def test_folder_as_database_and_missing_parent(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="is a folder"):
        Store(tmp_path)
    with pytest.raises(StorageError, match="folder does not exist"):
        Store(tmp_path / "nope" / "isogrip.sqlite3")


def test_create_and_get_session(store: Store) -> None:
    sid = new_session(store, participant="  P007 ")
    row = store.get_session(sid)
    assert row.id == sid
    assert row.status == "running"
    assert row.started_at == "2024-05-01T09:30:00.000+00:00"
    assert row.ended_at is None
    assert row.participant == "P007"
    assert row.n_holds_done == 0
    assert row.mvc_left_n is None and row.mvc_right_n is None
    assert len(row.uuid) == 36
    info = store.get_session_info(sid)
    assert info.protocol == {"name": "ihg-4x2-30-alternating", "reps": 4, "target_pct": 30.0}
    assert info.device_info == {"kind": "sim", "nominal_rate_hz": 80.0}
    assert info.t0_s == 1000.0
    assert info.app_version == "0.1.0"
    store.finish_session(sid, "aborted", START + dt.timedelta(minutes=3), note="stopped")
    row = store.get_session(sid)
    assert (row.status, row.ended_at, row.note) == (
        "aborted", "2024-05-01T09:33:00.000+00:00", "stopped")
    with pytest.raises(ValueError, match="status"):
        store.finish_session(sid, "running", START)
    with pytest.raises(SessionNotFoundError):
        store.finish_session(999, "complete", START)


def test_naive_start_time_gets_an_offset(store: Store) -> None:
    sid = new_session(store, started_at=dt.datetime(2024, 1, 2, 3, 4, 5))
    started = dt.datetime.fromisoformat(store.get_session(sid).started_at)
    assert started.utcoffset() is not None


def test_get_session_not_found(store: Store) -> None:
    with pytest.raises(SessionNotFoundError) as info:
        store.get_session(42)
    assert "42" in str(info.value)
    assert "isogrip sessions" in str(info.value)
    with pytest.raises(SessionNotFoundError):
        store.load_samples(42)


def test_list_sessions(store: Store) -> None:
    a = new_session(store, participant="P1")
    b = new_session(store, participant="P2")
    c = new_session(store, participant=None)
    rec = Recorder(store, b)
    rec.add(MvcChosen(t=0.0, hand=Hand.LEFT, mvc_n=300.0, best_trial=2))
    rec.add(MvcChosen(t=0.0, hand=Hand.RIGHT, mvc_n=320.0, best_trial=1,
                      flags=("disagreement",)))
    rec.add(HoldFinished(t=121.0, rep=1, hand=Hand.RIGHT, t_go_s=1.0, t_end_s=121.0,
                         target_n=96.0, band_low_n=90.0, band_high_n=102.0, mvc_n=320.0,
                         completed=True, metrics=partial_metrics(gap_s=0.0)))
    rec.add(HoldFinished(t=200.0, rep=2, hand=Hand.LEFT, t_go_s=181.0, t_end_s=200.0,
                         target_n=90.0, band_low_n=84.0, band_high_n=96.0, mvc_n=300.0,
                         completed=False, metrics=partial_metrics()))
    rec.add(HoldFinished(t=380.0, rep=2, hand=Hand.LEFT, t_go_s=260.0, t_end_s=380.0,
                         target_n=90.0, band_low_n=84.0, band_high_n=96.0, mvc_n=300.0,
                         completed=True, metrics=partial_metrics()))
    rec.close("complete")
    rows = store.list_sessions()
    assert [r.id for r in rows] == [a, b, c]
    rb = rows[1]
    assert (rb.n_holds_done, rb.mvc_left_n, rb.mvc_right_n) == (2, 300.0, 320.0)
    assert [r.id for r in store.list_sessions(participant="P2")] == [b]
    assert store.list_sessions(participant="nobody") == []


def test_resolve_session(store: Store) -> None:
    with pytest.raises(SessionNotFoundError, match="no sessions recorded yet"):
        resolve_session(store, "last")
    a = new_session(store)
    b = new_session(store)
    ua = store.get_session(a).uuid
    assert resolve_session(store, str(a)) == a
    assert resolve_session(store, a) == a
    assert resolve_session(store, " last ") == b
    assert resolve_session(store, "LATEST") == b
    assert resolve_session(store, ua) == a
    assert resolve_session(store, ua[:6]) == a
    assert resolve_session(store, ua[:8].upper()) == a
    with pytest.raises(SessionNotFoundError, match="isogrip sessions"):
        resolve_session(store, "77")
    with pytest.raises(SessionNotFoundError, match="at least 6"):
        resolve_session(store, ua[:5] if not ua[:5].isdigit() else "abcde")
    with pytest.raises(SessionNotFoundError, match="not a session"):
        resolve_session(store, "first")
    with pytest.raises(SessionNotFoundError, match="no session's uuid starts with"):
        resolve_session(store, "ffffff-ffff")
    # Two uuids with the same start: ambiguous.
    conn = store._db()
    conn.execute("UPDATE sessions SET uuid = 'abcdef01-0000-4000-8000-000000000001' WHERE id = ?",
                 (a,))
    conn.execute("UPDATE sessions SET uuid = 'abcdef02-0000-4000-8000-000000000002' WHERE id = ?",
                 (b,))
    with pytest.raises(SessionNotFoundError, match="more than one session"):
        resolve_session(store, "abcdef")
    assert resolve_session(store, "abcdef02") == b


def test_mark_interrupted(store: Store) -> None:
    crashed = new_session(store, t0_s=50.0)
    live = new_session(store)  # recorded by this process: still alive, left alone
    other_host = new_session(store)
    done = new_session(store)
    rec = Recorder(store, crashed)
    rec.add_samples(np.array([50.0, 60.0, 110.0]), None, np.array([1.0, 2.0, 3.0]))
    rec.add(PhaseChanged(t=80.0, phase=Phase.HOLD))
    rec.flush()
    store.finish_session(done, "complete", START)
    conn = store._db()
    conn.execute("UPDATE sessions SET pid = ? WHERE id = ?", (dead_pid(), crashed))
    conn.execute("UPDATE sessions SET host = 'elsewhere' WHERE id = ?", (other_host,))
    assert sorted(store.mark_interrupted()) == [crashed, other_host]
    row = store.get_session(crashed)
    assert row.status == "interrupted"
    assert row.ended_at == "2024-05-01T09:31:00.000+00:00"  # last sample 60 s after start
    assert row.note and "unexpectedly" in row.note
    assert store.get_session(other_host).ended_at == "2024-05-01T09:30:00.000+00:00"
    assert store.get_session(live).status == "running"
    assert store.get_session(done).status == "complete"
    assert store.mark_interrupted() == []


def test_reopen_keeps_data(tmp_path: Path) -> None:
    with Store.open(tmp_path) as s:
        sid = new_session(s)
        rec = Recorder(s, sid)
        rec.add_samples(np.array([1.0, 2.0]), np.array([0.5, 0.6]), np.array([3.0, 4.0]))
        rec.add(PhaseChanged(t=1.0, phase=Phase.REST))
        rec.close("complete")
    with Store.open(tmp_path) as s:
        t, td, f = s.load_samples(sid)
        np.testing.assert_array_equal(f, [3.0, 4.0])
        # A second recorder on the same session continues the numbering.
        rec = Recorder(s, sid)
        rec.add_samples(np.array([3.0]), None, np.array([5.0]))
        rec.add(PhaseChanged(t=3.0, phase=Phase.HOLD))
        rec.flush()
        t, td, f = s.load_samples(sid)
        np.testing.assert_array_equal(t, [1.0, 2.0, 3.0])
        np.testing.assert_array_equal(f, [3.0, 4.0, 5.0])
        np.testing.assert_array_equal(td, [0.5, 0.6, np.nan])
        assert [p.seq for p in s.load_phases(sid)] == [0, 1]
        assert [e.seq for e in s.load_events(sid)] == [0, 1]


def test_dumps_is_compact_and_strict() -> None:
    class Color(enum.Enum):
        RED = "red"

    text = dumps({"a": float("nan"), "b": np.float32(1.5), "c": np.int64(3), "d": (1, 2),
                  "e": Color.RED, "f": np.array([1.0, np.inf]), 5: "five", "g": "é"})
    assert text == ('{"a":null,"b":1.5,"c":3,"d":[1,2],"e":"red","f":[1.0,null],'
                    '"5":"five","g":"é"}')


# ---------------------------------------------------------------------------- recorder
def test_recorder_round_trip_and_flush_timing(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    reader = Store(store.path)  # a second connection sees only committed data
    sid = new_session(store, t0_s=0.0)
    clock = FakeClock(0.0)
    rec = Recorder(store, sid, clock=clock)
    rng = np.random.default_rng(7)
    n, batch = 10_000, 100
    t = np.arange(n) / 1000.0 + 12.5
    td = t * 1.00002 + 3.0
    force = rng.normal(100.0, 10.0, n)
    force[[5, 6, 4321]] = np.nan
    force[77] = -0.0
    with_device = np.ones(n, bool)
    with_device[2000:2300] = False  # three batches without device times
    rec.add(PhaseChanged(t=12.5, phase=Phase.COUNTDOWN))
    for i in range(0, n, batch):
        sl = slice(i, i + batch)
        clock.t = i / 1000.0 * 0.0999  # 10,000 samples in ~1 s of clock
        if i == 0:
            rec.add(SessionStarted(t=12.5, message="hi", device="sim"))
        rec.add_samples(t[sl], td[sl] if with_device[i] else None, force[sl])
        if clock.t < 1.0:
            assert rec.flushes == 0
            assert reader.count_samples(sid) == 0
            assert reader.load_phases(sid) == []
    assert clock.t < 1.0
    clock.t = 1.0
    rec.add_samples(np.array([99.0]), None, np.array([1.0]))
    assert rec.flushes == 1
    assert rec.samples_written == n + 1
    assert reader.count_samples(sid) == n + 1
    assert [p.phase for p in reader.load_phases(sid)] == ["countdown"]
    assert [(e.kind, e.detail) for e in reader.load_events(sid)] == [
        ("phase", {"phase": "countdown", "stage": None, "hand": None, "duration_s": None}),
        ("session", {"message": "hi", "device": "sim", "battery_pct": None})]
    clock.t = 1.5
    rec.add_samples(np.array([100.0]), None, np.array([2.0]))
    assert rec.flushes == 1 and rec.buffered_samples == 1
    rec.close("complete", ended_at=START)
    assert rec.flushes == 2

    t2, td2, f2 = reader.load_samples(sid)
    exp_td = np.where(with_device, td, np.nan)
    np.testing.assert_array_equal(t2, np.concatenate([t, [99.0, 100.0]]))
    np.testing.assert_array_equal(td2, np.concatenate([exp_td, [np.nan, np.nan]]))
    np.testing.assert_array_equal(f2, np.concatenate([force, [1.0, 2.0]]))
    assert np.signbit(f2[77])  # stored bit for bit
    assert t2.dtype == np.float64 and t2.flags.writeable
    row = reader.get_session(sid)
    assert row.status == "complete" and row.ended_at == "2024-05-01T09:30:00.000+00:00"
    reader.close()
    store.close()


def test_samples_blob_layout(store: Store) -> None:
    sid = new_session(store)
    rec = Recorder(store, sid)
    rec.add_samples(np.array([1.0, 2.0]), None, np.array([10.0, 20.0]))
    rec.flush()
    conn = sqlite3.connect(store.path)
    chunk, t_first, n, bt, btd, bf = conn.execute(
        "SELECT chunk, t_first_s, n, t_s, t_device_s, force_n FROM samples").fetchone()
    conn.close()
    assert (chunk, t_first, n, btd) == (0, 1.0, 2, None)
    assert bt == np.array([1.0, 2.0], "<f8").tobytes()
    assert np.frombuffer(bf, "<f8").tolist() == [10.0, 20.0]


def test_recorder_flushes_when_buffer_is_full(store: Store) -> None:
    sid = new_session(store)
    clock = FakeClock()
    rec = Recorder(store, sid, clock=clock, max_buffer_samples=250)
    for _ in range(2):
        rec.add_samples(np.zeros(100), None, np.ones(100))
    assert rec.flushes == 0
    rec.add_samples(np.zeros(100), None, np.ones(100))
    assert (rec.flushes, rec.samples_written, rec.buffered_samples) == (1, 300, 0)


def test_recorder_flushes_records_without_samples(store: Store) -> None:
    sid = new_session(store)
    clock = FakeClock()
    rec = Recorder(store, sid, clock=clock)
    rec.add(SessionWarning(t=0.1, reason="x"))
    assert rec.pending_records == 1 and rec.flushes == 0
    assert rec.maybe_flush() is False
    clock.t = 1.2
    assert rec.maybe_flush() is True
    assert rec.pending_records == 0
    assert store.count_samples(sid) == 0
    assert len(store.load_events(sid)) == 1
    assert rec.maybe_flush() is False  # nothing to write


def test_recorder_tables(store: Store) -> None:
    sid = new_session(store, t0_s=0.0)
    rec = Recorder(store, sid)
    rec.add(PhaseChanged(t=0.0, phase=Phase.MVC_EFFORT, hand=Hand.RIGHT, trial=1))
    rec.add(PhaseChanged(t=5.0, phase=Phase.HOLD, hand=Hand.LEFT, rep=1, target_n=90.0,
                         band_low_n=84.0, band_high_n=96.0, mvc_n=300.0))
    rec.add(SessionWarning(t=1.0, reason="above_warn_level", warn_above_pct=float("nan")))
    rec.add(Cue(t=2.0, cue=EventKind.GO))
    rec.add(MvcTrialScored(t=5.0, hand=Hand.RIGHT, trial=1, t_start_s=0.0, t_end_s=5.0,
                           score_n=310.0, raw_peak_n=320.0, time_to_peak_s=1.2,
                           plausible=True, score_message=""))
    rec.add(MvcTrialScored(t=11.0, hand=Hand.RIGHT, trial=2, t_start_s=6.0, t_end_s=11.0,
                           score_n=300.0, raw_peak_n=305.0, time_to_peak_s=0.9,
                           plausible=False, score_message="too short"))
    rec.add(MvcTrialRedone(t=12.0, hand=Hand.RIGHT, trial=1, repeat_as=3))
    rec.add(MvcChosen(t=13.0, hand=Hand.RIGHT, mvc_n=310.0, best_trial=1))
    rec.add(MvcChosen(t=14.0, hand=Hand.RIGHT, mvc_n=300.0, best_trial=2,
                      flags=("single_trial",)))  # replaced
    metrics = partial_metrics(time_in_band_pct=88.5, mean_pct_mvc=29.7, cv_mean_pct=3.2,
                              drift_pct_mvc_per_min=-0.4, gap_s=0.0, n_samples=9600,
                              rmse_n=float("nan"))
    rec.add(HoldFinished(t=30.0, rep=1, hand=Hand.LEFT, t_go_s=5.0, t_end_s=30.0,
                         target_n=90.0, band_low_n=84.0, band_high_n=96.0, mvc_n=300.0,
                         completed=False, metrics=partial_metrics(gap_s=0.5)))
    rec.add(HoldFinished(t=160.0, rep=1, hand=Hand.LEFT, t_go_s=40.0, t_end_s=160.0,
                         target_n=90.0, band_low_n=84.0, band_high_n=96.0, mvc_n=300.0,
                         completed=True, metrics=metrics))
    rec.close("complete")

    ph = store.load_phases(sid)
    assert [(p.seq, p.phase, p.hand, p.rep, p.trial) for p in ph] == [
        (0, "mvc_effort", "right", None, 1), (1, "hold", "left", 1, None)]
    assert (ph[1].target_n, ph[1].band_low_n, ph[1].band_high_n, ph[1].mvc_n) == (
        90.0, 84.0, 96.0, 300.0)
    ev = store.load_events(sid)
    # Every record is an events row, numbered in the order it was added.
    assert [(e.seq, e.t_s, e.kind) for e in ev] == [
        (0, 0.0, "phase"), (1, 5.0, "phase"), (2, 1.0, "warning"), (3, 2.0, "go"),
        (4, 5.0, "mvc_trial"), (5, 11.0, "mvc_trial"), (6, 12.0, "mvc_trial"),
        (7, 13.0, "mvc_result"), (8, 14.0, "mvc_result"), (9, 30.0, "hold_result"),
        (10, 160.0, "hold_result")]
    # NaN is stored as null; a record without fields has an empty detail.
    assert ev[2].detail == {"reason": "above_warn_level", "warn_above_pct": None}
    assert ev[3].detail == {}
    trials = store.load_mvc_trials(sid)
    assert [(tr.trial, tr.used, tr.plausible, tr.message) for tr in trials] == [
        (1, False, True, None), (2, True, False, "too short")]
    assert trials[0].score_n == 310.0 and trials[0].time_to_peak_s == 1.2
    (m,) = store.load_mvc(sid)
    assert (m.hand, m.mvc_n, m.best_trial, m.flags) == ("right", 300.0, 2, ["single_trial"])
    holds = store.load_holds(sid)
    assert [(h.rep, h.attempt, h.completed) for h in holds] == [(1, 1, False), (1, 2, True)]
    h = holds[1]
    assert (h.time_in_band_pct, h.mean_pct_mvc, h.cv_mean_pct, h.drift_pct_mvc_per_min,
            h.gap_s) == (88.5, 29.7, 3.2, -0.4, 0.0)
    assert h.metrics["n_samples"] == 9600 and h.metrics["rmse_n"] is None
    assert holds[0].time_in_band_pct is None and holds[0].gap_s == 0.5


def test_recorder_accepts_enums_and_numpy_values(store: Store) -> None:
    sid = new_session(store)
    rec = Recorder(store, sid)
    rec.add(PhaseChanged(t=np.float64(1.0), phase=Phase.HOLD, hand=Hand.LEFT,
                         rep=np.int64(2),  # type: ignore[arg-type]
                         target_n=np.float32(90.0)))  # type: ignore[arg-type]
    rec.add(HoldFinished(t=np.float64(2.0), rep=np.int64(2),  # type: ignore[arg-type]
                         hand=Hand.RIGHT, t_go_s=1.0, t_end_s=2.0, target_n=3.0,
                         band_low_n=4.0, band_high_n=5.0, mvc_n=6.0,
                         completed=np.bool_(True),  # type: ignore[arg-type]
                         metrics=partial_metrics(gap_s=np.float64(0.25))))
    rec.add_samples([1.0, 2.0], [0.1, 0.2], [3.0, 4.0])
    rec.close("complete")
    (p,) = store.load_phases(sid)
    assert (p.hand, p.rep, p.target_n) == ("left", 2, 90.0)
    (h,) = store.load_holds(sid)
    assert (h.hand, h.completed, h.gap_s) == ("right", True, 0.25)
    assert [e.detail["rep"] for e in store.load_events(sid)] == [2, 2]


def test_recorder_bad_input_and_close(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    sid = new_session(store)
    rec = Recorder(store, sid)
    with pytest.raises(ValueError, match="same length"):
        rec.add_samples(np.zeros(3), None, np.zeros(2))
    with pytest.raises(ValueError, match="same length"):
        rec.add_samples(np.zeros(2), np.zeros(3), np.zeros(2))
    rec.add_samples(np.zeros(0), None, np.zeros(0))
    assert rec.buffered_samples == 0
    with pytest.raises(ValueError, match="status"):
        rec.close("finished")
    rec.add_samples(np.zeros(2), None, np.ones(2))
    rec.close("aborted", "the participant stopped")
    assert rec.closed
    row = store.get_session(sid)
    assert (row.status, row.note) == ("aborted", "the participant stopped")
    rec.close("complete")  # second close does nothing
    assert store.get_session(sid).status == "aborted"
    rec.add_samples(np.zeros(2), None, np.ones(2))  # ignored, with one warning
    rec.add(SessionWarning(t=1.0, reason="late"))
    assert store.count_samples(sid) == 2
    assert "after the recorder closed" in caplog.text
    with pytest.raises(SessionNotFoundError):
        Recorder(store, 12345)
    with pytest.raises(ValueError):
        Recorder(store, sid, flush_interval_s=0)


def test_recorder_survives_a_failed_flush(store: Store, monkeypatch: pytest.MonkeyPatch,
                                          caplog: pytest.LogCaptureFixture) -> None:
    sid = new_session(store)
    clock = FakeClock()
    rec = Recorder(store, sid, clock=clock)
    real = store.write_samples
    calls = {"n": 0}

    def failing(*args: Any, **kw: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise StorageError("disk full")
        return real(*args, **kw)

    monkeypatch.setattr(store, "write_samples", failing)
    rec.add(PhaseChanged(t=0.0, phase=Phase.REST))
    clock.t = 1.0
    rec.add_samples(np.array([1.0, 2.0]), None, np.array([5.0, 6.0]))  # fails, no raise
    assert isinstance(rec.error, StorageError)
    assert "could not save data" in caplog.text
    assert rec.buffered_samples == 2 and rec.pending_records == 1
    assert store.load_phases(sid) == []  # the transaction was rolled back
    clock.t = 1.5
    rec.add_samples(np.array([3.0]), None, np.array([7.0]))  # retry not due yet
    assert calls["n"] == 1
    clock.t = 2.0
    rec.add_samples(np.array([4.0]), None, np.array([8.0]))  # retried, succeeds
    assert rec.error is None and rec.flushes == 2  # the failed batch first, then the new
    assert rec.buffered_samples == 0 and rec.pending_records == 0
    t, _, f = store.load_samples(sid)
    np.testing.assert_array_equal(t, [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(f, [5.0, 6.0, 7.0, 8.0])
    assert len(store.load_phases(sid)) == 1


def test_flush_raises_storage_errors(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    sid = new_session(store)
    rec = Recorder(store, sid)

    def fail(*args: Any, **kw: Any) -> None:
        raise StorageError("disk full")

    monkeypatch.setattr(store, "write_event", fail)
    rec.add(SessionWarning(t=1.0, reason="x"))
    with pytest.raises(StorageError, match="disk full"):
        rec.flush()
    with pytest.raises(StorageError, match="disk full"):
        rec.close("complete")
    assert not rec.closed
    assert store.get_session(sid).status == "running"


def test_transaction_rolls_back(store: Store) -> None:
    sid = new_session(store)
    with pytest.raises(RuntimeError), store.transaction():
        store.write_event(sid, 0, 1.0, "x")
        raise RuntimeError("boom")
    assert store.load_events(sid) == []
    with store.transaction(), store.transaction():  # nested blocks join
        store.write_event(sid, 0, 1.0, "x")
    assert len(store.load_events(sid)) == 1
    with pytest.raises(StorageError, match="could not save an event"):
        store.write_event(sid, 0, 1.0, "duplicate seq")


def test_nan_time_is_stored_as_null(store: Store) -> None:
    sid = new_session(store)
    store.write_event(sid, 0, math.nan, "odd", {"v": math.inf})
    (e,) = store.load_events(sid)
    assert e.t_s is None and e.detail == {"v": None}
    raw = store._db().execute("SELECT detail FROM events").fetchone()[0]
    assert json.loads(raw) == {"v": None}
