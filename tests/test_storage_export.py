"""Tests of the session exports (samples.csv, events.csv, summary.json)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hold_records import METRIC_NAMES, partial_metrics

from isogrip.errors import SessionNotFoundError, StorageError
from isogrip.protocols.events import Phase
from isogrip.protocols.records import (
    HoldFinished,
    MvcChosen,
    MvcTrialRedone,
    MvcTrialScored,
    PhaseChanged,
    SessionStarted,
    SessionWarning,
)
from isogrip.storage.export import (
    export_session,
    session_summary,
)
from isogrip.storage.recorder import Recorder
from isogrip.storage.rows import PhaseRow
from isogrip.storage.samples_csv import SAMPLE_COLUMNS, _format_fixed, fixed, phase_index
from isogrip.storage.store import Store
from isogrip.types import Hand

START = dt.datetime(2024, 5, 1, 9, 30, 0, tzinfo=dt.UTC)
T0 = 1000.0
KG = 9.80665


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = Store.open(tmp_path / "data")
    yield s
    s.close()


def record_session(store: Store) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """A small session: 25 samples every 0.5 s from t0, three phases, MVC, holds."""
    sid = store.create_session(
        started_at=START, protocol_name="test", protocol={"name": "test", "reps": 1},
        device="sim", participant="P042", app_version="0.1.0", t0_s=T0,
        device_info={"kind": "sim", "firmware": None},
    )
    rec = Recorder(store, sid)
    t = T0 + np.arange(25) * 0.5
    td = 5.0 + np.arange(25) * 0.5
    td[3] = np.nan
    f = np.linspace(0.0, 120.0, 25)
    f[10] = 90.0  # t_s 5.0: first sample of the hold, exactly on the boundary
    f[11] = 96.0  # on the upper band edge: in band
    f[12] = 96.00011  # just above: out of band
    f[13] = np.nan
    f[1] = -0.00001  # rounds to 0.0000, no minus sign
    f[2] = -3.25
    rec.add(PhaseChanged(t=T0 + 2.0, phase=Phase.COUNTDOWN))
    rec.add(PhaseChanged(t=T0 + 5.0, phase=Phase.HOLD, hand=Hand.LEFT, rep=1, target_n=90.0,
                         band_low_n=84.0, band_high_n=96.0, mvc_n=300.0))
    rec.add(PhaseChanged(t=T0 + 10.0, phase=Phase.REST, hand=Hand.RIGHT))
    rec.add_samples(t[:12], td[:12], f[:12])
    rec.add_samples(t[12:], None, f[12:])
    rec.add(SessionStarted(t=T0 + 0.25, message="Device connected, \"sim\"", device="sim",
                           battery_pct=1.5))
    rec.add(SessionWarning(t=T0 + 5.0, reason="hold", warn_above_pct=float("nan")))
    for trial, (start, end, score, peak, ttp, plausible, why) in enumerate([
            (0.5, 1.5, 290.0, 295.0, 0.8, True, ""),
            (1.6, 2.0, 300.0, 301.0, 0.7, True, ""),
            (2.1, 2.4, 100.0, 101.0, 0.1, False, "too short")], start=1):
        rec.add(MvcTrialScored(t=T0 + end, hand=Hand.LEFT, trial=trial, t_start_s=T0 + start,
                               t_end_s=T0 + end, score_n=score, raw_peak_n=peak,
                               time_to_peak_s=ttp, plausible=plausible, score_message=why))
    rec.add(MvcTrialRedone(t=T0 + 2.4, hand=Hand.LEFT, trial=3, repeat_as=4))
    rec.add(MvcChosen(t=T0 + 2.4, hand=Hand.LEFT, mvc_n=300.0, best_trial=2,
                      flags=("disagreement",)))
    metrics = partial_metrics(time_in_band_pct=75.0, mean_pct_mvc=30.5, cv_mean_pct=2.5,
                              drift_pct_mvc_per_min=float("nan"), gap_s=0.0, n_samples=10)
    for end, completed, m in [(7.0, False, partial_metrics(gap_s=1.0)), (10.0, True, metrics)]:
        rec.add(HoldFinished(t=T0 + end, rep=1, hand=Hand.LEFT, t_go_s=T0 + 5.0,
                             t_end_s=T0 + end, target_n=90.0, band_low_n=84.0,
                             band_high_n=96.0, mvc_n=300.0, completed=completed, metrics=m))
    rec.close("complete", ended_at=START + dt.timedelta(seconds=12))
    return sid, t, np.where(np.arange(25) < 12, td, np.nan), f


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def test_export_files(store: Store, tmp_path: Path) -> None:
    sid, t, td, f = record_session(store)
    out = tmp_path / "exports" / "s1"
    paths = export_session(store, sid, out)
    assert paths == [out / "samples.csv", out / "events.csv", out / "summary.json"]
    assert mode(out) == 0o700 and mode(out.parent) == 0o700
    for p in paths:
        assert mode(p) == 0o600
    assert sorted(os.listdir(out)) == ["events.csv", "samples.csv", "summary.json"]

    raw = (out / "samples.csv").read_bytes()
    assert raw.startswith(b"t_s,t_device_s,force_n,force_kg,pct_mvc,phase,hand,rep,"
                          b"target_n,band_low_n,band_high_n,in_band\n")
    assert b"\r" not in raw
    header, rows = read_rows(out / "samples.csv")
    assert header == list(SAMPLE_COLUMNS)
    assert len(rows) == 25
    by_t = {r[0]: r for r in rows}
    # Before the first phase: no phase columns.
    assert rows[0] == ["0.000000", "5.000000", "0.0000", "0.0000", "", "", "", "", "", "",
                       "", ""]
    assert rows[1][2:4] == ["0.0000", "0.0000"]
    assert rows[2][2:4] == ["-3.2500", "-0.3314"]
    assert rows[3][1] == ""  # NaN device time
    # Phase boundaries: a sample exactly at a phase's time belongs to that phase.
    assert by_t["1.500000"][5] == ""
    assert by_t["2.000000"][5:12] == ["countdown", "", "", "", "", "", ""]
    assert by_t["4.500000"][5] == "countdown"
    assert by_t["5.000000"] == ["5.000000", "10.000000", "90.0000", f"{90 / KG:.4f}", "30.000",
                                "hold", "left", "1", "90.0000", "84.0000", "96.0000", "1"]
    assert by_t["5.500000"][4:] == ["32.000", "hold", "left", "1", "90.0000", "84.0000",
                                    "96.0000", "1"]
    assert by_t["6.000000"][1:5] == ["", "96.0001", "9.7893", "32.000"]
    assert by_t["6.000000"][11] == "0"
    assert by_t["6.500000"][2:5] == ["", "", ""] and by_t["6.500000"][11] == ""
    assert by_t["7.000000"][11] == "0"  # 70 N: below the band
    assert by_t["9.500000"][5] == "hold"
    assert by_t["10.000000"][4:] == ["", "rest", "right", "", "", "", "", ""]
    assert rows[-1][0] == "12.000000" and rows[-1][2] == "120.0000"

    # Reading back with pandas gives the recorded values (to the written precision).
    df = pd.read_csv(out / "samples.csv")
    assert list(df.columns) == list(SAMPLE_COLUMNS)
    np.testing.assert_allclose(df["t_s"], t - T0, atol=5e-7)
    np.testing.assert_allclose(df["force_n"], f, atol=5e-5)
    np.testing.assert_allclose(df["t_device_s"], td, atol=5e-7)

    header, events = read_rows(out / "events.csv")
    assert header == ["t_s", "kind", "detail"]
    # Every record, in the order recorded.
    assert [e[:2] for e in events] == [
        ["2.000000", "phase"], ["5.000000", "phase"], ["10.000000", "phase"],
        ["0.250000", "session"], ["5.000000", "warning"], ["1.500000", "mvc_trial"],
        ["2.000000", "mvc_trial"], ["2.400000", "mvc_trial"], ["2.400000", "mvc_trial"],
        ["2.400000", "mvc_result"], ["7.000000", "hold_result"],
        ["10.000000", "hold_result"]]
    assert json.loads(events[3][2]) == {"message": 'Device connected, "sim"', "device": "sim",
                                        "battery_pct": 1.5}
    assert events[4] == ["5.000000", "warning", '{"reason":"hold","warn_above_pct":null}']


def test_summary(store: Store, tmp_path: Path) -> None:
    sid, *_ = record_session(store)
    export_session(store, sid, tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text("utf-8"))
    assert summary == session_summary(store, sid)
    assert summary["format"] == "isogrip-session"
    assert summary["format_version"] == 1
    assert summary["session_id"] == sid
    assert summary["uuid"] == store.get_session(sid).uuid
    assert summary["started_at"] == "2024-05-01T09:30:00.000+00:00"
    assert summary["ended_at"] == "2024-05-01T09:30:12.000+00:00"
    assert summary["status"] == "complete" and summary["completed"] is True
    assert summary["protocol"] == {"name": "test", "reps": 1}
    assert summary["device"] == "sim"
    assert summary["device_info"] == {"kind": "sim", "firmware": None}
    assert summary["participant"] == "P042"
    assert summary["app_version"] == "0.1.0"
    assert summary["n_samples"] == 25
    assert list(summary["mvc"]) == ["left"]
    left = summary["mvc"]["left"]
    assert left["mvc_n"] == 300.0
    assert left["mvc_kg"] == pytest.approx(300.0 / KG)
    assert left["best_trial"] == 2 and left["flags"] == ["disagreement"]
    assert [tr["trial"] for tr in left["trials"]] == [1, 2, 3]
    assert left["trials"][0] == {
        "hand": "left", "trial": 1, "t_start_s": 0.5, "t_end_s": 1.5, "score_n": 290.0,
        "score_kg": pytest.approx(290.0 / KG), "raw_peak_n": 295.0, "time_to_peak_s": 0.8,
        "plausible": True, "message": None, "used": True,
    }
    assert left["trials"][2]["used"] is False and left["trials"][2]["plausible"] is False
    h1, h2 = summary["holds"]
    assert h1 == {"rep": 1, "attempt": 1, "hand": "left", "t_go_s": 5.0, "t_end_s": 7.0,
                  "target_n": 90.0, "band_low_n": 84.0, "band_high_n": 96.0, "mvc_n": 300.0,
                  "completed": False, **dict.fromkeys(METRIC_NAMES), "gap_s": 1.0}
    assert h2["attempt"] == 2 and h2["completed"] is True and h2["t_end_s"] == 10.0
    assert h2["time_in_band_pct"] == 75.0 and h2["n_samples"] == 10
    assert h2["drift_pct_mvc_per_min"] is None  # NaN -> null
    text = (tmp_path / "out" / "summary.json").read_text("utf-8")
    assert "NaN" not in text


def test_export_overwrites_previous_files(store: Store, tmp_path: Path) -> None:
    sid, *_ = record_session(store)
    out = tmp_path / "out"
    out.mkdir(mode=0o755)
    os.chmod(out, 0o755)
    (out / "samples.csv").write_text("old")
    os.chmod(out / "samples.csv", 0o644)
    (out / "keep.txt").write_text("mine")
    export_session(store, sid, out)
    assert (out / "samples.csv").read_text().startswith("t_s,")
    assert mode(out / "samples.csv") == 0o600
    assert (out / "keep.txt").read_text() == "mine"
    assert mode(out) == 0o755  # an existing folder is left as it is
    export_session(store, sid, out)  # again: same files
    assert sorted(os.listdir(out)) == ["events.csv", "keep.txt", "samples.csv", "summary.json"]


def test_export_errors(store: Store, tmp_path: Path) -> None:
    sid, *_ = record_session(store)
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(StorageError, match="cannot create the export folder"):
        export_session(store, sid, afile / "sub")
    with pytest.raises(SessionNotFoundError):
        export_session(store, 99, tmp_path / "o")
    with pytest.raises(SessionNotFoundError):
        session_summary(store, 99)


def test_export_empty_session(store: Store, tmp_path: Path) -> None:
    sid = store.create_session(started_at=START, protocol_name="p", protocol={}, device="sim",
                               participant=None, app_version="0", t0_s=0.0)
    export_session(store, sid, tmp_path / "o")
    assert (tmp_path / "o" / "samples.csv").read_text() == ",".join(SAMPLE_COLUMNS) + "\n"
    assert (tmp_path / "o" / "events.csv").read_text() == "t_s,kind,detail\n"
    summary = session_summary(store, sid)
    assert summary["status"] == "running" and summary["completed"] is False
    assert summary["mvc"] == {} and summary["holds"] == [] and summary["n_samples"] == 0
    assert summary["ended_at"] is None and summary["device_info"] is None


def test_phase_index() -> None:
    ph = [PhaseRow(0, 10.0, "a"), PhaseRow(1, 20.0, "b"), PhaseRow(2, 20.0, "c"),
          PhaseRow(3, None, "d"), PhaseRow(4, 15.0, "e")]
    t = np.array([5.0, 10.0, 14.999, 15.0, 19.9, 20.0, 99.0, np.nan])
    assert phase_index(ph, t).tolist() == [-1, 0, 0, 4, 4, 2, 2, -1]
    assert phase_index([], t).tolist() == [-1] * 8


@pytest.mark.parametrize("decimals", [0, 3, 4, 6])
def test_fast_number_format_matches_python(decimals: int) -> None:
    rng = np.random.default_rng(decimals)
    x = np.concatenate([
        rng.normal(0, 50, 2000), rng.uniform(-1e6, 1e6, 500), rng.uniform(-1e-3, 1e-3, 500),
        [0.0, -0.0, 1.0, -1.0, 9.9999999, 10.0, 99.99, 1e9, np.nan, np.inf, -np.inf],
    ])
    got = _format_fixed(x, decimals)
    texts = [bytes(row[row != 0]).decode() for row in got]
    assert texts == [fixed(float(v), decimals) for v in x]
    assert not any(t.startswith("-") and float(t) == 0 for t in texts)  # no "-0.000"


def test_huge_numbers_use_the_exact_path() -> None:
    x = np.array([1e12 + 0.123456, -4e15, 1.5])
    texts = [bytes(row[row != 0]).decode() for row in _format_fixed(x, 6)]
    assert texts == [f"{v:.6f}" for v in x]


def test_csv_is_parseable_with_quoting(store: Store, tmp_path: Path) -> None:
    sid = store.create_session(started_at=START, protocol_name="p", protocol={}, device="sim",
                               participant=None, app_version="0", t0_s=0.0)
    rec = Recorder(store, sid)
    rec.add(PhaseChanged(t=0.0, phase=Phase.REST, hand=Hand.LEFT, message='odd, "phase"'))
    rec.add_samples(np.array([0.0, 1.0]), None, np.array([1.0, 2.0]))
    rec.close("complete")
    export_session(store, sid, tmp_path / "o")
    _, rows = read_rows(tmp_path / "o" / "samples.csv")
    assert rows[0][5:7] == ["rest", "left"]
    _, events = read_rows(tmp_path / "o" / "events.csv")
    assert json.loads(events[0][2])["message"] == 'odd, "phase"'
    text = (tmp_path / "o" / "events.csv").read_text()
    assert json.loads(list(csv.reader(io.StringIO(text)))[1][2])["message"] == 'odd, "phase"'
