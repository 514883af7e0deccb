"""The command line as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from isogrip import __version__
from isogrip.cli import main


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_headless_run_prints_summary_and_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "--data-dir", str(tmp_path), "run", "--device", "sim:good",
                       "--protocol", "ihg-4x2-30-alternating", "--speed", "max", "--headless",
                       "--participant", "P001")
    assert code == 0
    assert "Maximal grip (MVC)" in out and "Holds" in out and "complete" in out
    code, out, _ = cli(capsys, "--data-dir", str(tmp_path), "sessions")
    assert code == 0 and "P001" in out and "complete" in out
    code, out, _ = cli(capsys, "--data-dir", str(tmp_path), "export", "last",
                       "--out", str(tmp_path / "exp"))
    assert code == 0
    names = sorted(p.name for p in (tmp_path / "exp").iterdir())
    assert names == ["events.csv", "samples.csv", "summary.json"]
    summary = json.loads((tmp_path / "exp" / "summary.json").read_text())
    assert summary["participant"] == "P001" and summary["completed"] is True


def test_protocols_lists_builtins(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "protocols")
    assert code == 0
    for name in ("ihg-4x2-30-alternating", "ihg-4x2-30-single-hand", "ihg-4x2-30-workplace",
                 "ihg-4x45-50-alternating", "ihg-4x2-5-sham"):
        assert name in out


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["run", "--device", "nosuch", "--speed", "max", "--headless"], "unknown device 'nosuch'"),
        (["run", "--device", "sim:superman", "--speed", "max"], "unknown participant"),
        (["run", "--device", "sim?rate=5", "--speed", "max"], "rate must be between"),
        (["run", "--protocol", "nosuch", "--speed", "max"], "unknown protocol 'nosuch'"),
        (["export", "999", "--out", "x"], "999"),
    ],
)
def test_user_errors_print_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], phrase: str
) -> None:
    code, out, err = cli(capsys, "--data-dir", str(tmp_path), *args)
    assert code == 2
    assert phrase in err
    assert "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1


def test_bad_protocol_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[protocol]\nname = "x"\n[holds]\nduration_s = -5\n')
    code, _, err = cli(capsys, "--data-dir", str(tmp_path), "run", "--protocol", str(bad),
                       "--speed", "max", "--headless")
    assert code == 2
    assert "bad.toml" in err and "holds.duration_s" in err


def test_unwritable_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    code, _, err = cli(capsys, "--data-dir", str(blocker / "data"), "run", "--speed", "max",
                       "--headless")
    assert code == 2 and "data folder" in err


def test_speed_must_be_valid(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["run", "--speed", "fast"])
    assert exc.value.code == 2
    assert "speed must be a number or 'max'" in capsys.readouterr().err


def test_python_dash_m_version() -> None:
    proc = subprocess.run([sys.executable, "-m", "isogrip", "--version"],
                          capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == f"isogrip {__version__}"


def test_env_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISOGRIP_DATA_DIR", str(tmp_path / "envdata"))
    code, _, _ = cli(capsys, "run", "--speed", "max", "--headless")
    assert code == 0
    assert (tmp_path / "envdata" / "isogrip.sqlite3").exists()


def _no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")


def test_no_arguments_without_a_display_explains_and_shows_help(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _no_display(monkeypatch)
    code, out, err = cli(capsys)
    assert code == 0
    assert "no display found" in err and "usage: isogrip" in out
    code, _, err = cli(capsys, "gui")
    assert code == 2 and "no display found" in err


def test_no_arguments_opens_the_app_where_a_display_exists(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import isogrip.ui.app as app

    calls: list[dict[str, object]] = []
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(app, "run_app", lambda **kw: calls.append(kw) or 0)
    assert main([]) == 0
    assert main(["--data-dir", str(tmp_path), "demo"]) == 0
    assert main(["gui", "--device", "sim:fatigue", "--speed", "4"]) == 0
    assert main(["demo", "--device", "sim:sloppy?seed=3"]) == 0
    assert calls == [
        {"data_dir": None, "device": None, "speed": 1.0},
        {"data_dir": tmp_path, "device": "sim:good", "speed": 1.0},
        {"data_dir": None, "device": "sim:fatigue", "speed": 4.0},
        {"data_dir": None, "device": "sim:sloppy?seed=3", "speed": 1.0},  # honoured
    ]


def test_demo_without_a_display_runs_the_terminal_session(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    _no_display(monkeypatch)
    code, out, _ = cli(capsys, "--data-dir", str(tmp_path), "demo", "--speed", "max")
    assert code == 0 and "complete" in out


def test_a_name_is_refused_as_participant_id(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "--data-dir", str(tmp_path), "run", "--speed", "max",
                       "--headless", "--participant", "Jane Doe")
    assert code == 2 and "not a name" in err
    assert not (tmp_path / "isogrip.sqlite3").exists() or \
        "Jane" not in (tmp_path / "isogrip.sqlite3").read_bytes().decode("latin-1")


_CRASHED_RECORDING = """\
import os, sys
from datetime import UTC, datetime
from isogrip.storage.store import Store

store = Store.open(sys.argv[1])
sid = store.create_session(started_at=datetime.now(UTC), protocol_name="p",
                           protocol={"name": "p"}, device="sim", participant="P1",
                           app_version="t", t0_s=0.0)
store.write_samples(sid, 0, [0.0, 0.1], None, [1.0, 2.0])
store.add_bp_reading(sbp=120, dbp=80, participant="P1")
os._exit(0)  # killed: no close, so the last commits stay in the -wal file
"""


def _files(data: Path) -> dict[str, tuple[bytes, int]]:
    """The database and its write-ahead log: contents and modification times."""
    db = data / "isogrip.sqlite3"
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns)
            for p in (db, db.with_name(db.name + "-wal")) if p.exists()}


def _status(data: Path) -> str:
    import sqlite3

    con = sqlite3.connect(f"file:{data / 'isogrip.sqlite3'}?mode=ro", uri=True)
    try:
        return str(con.execute("SELECT status FROM sessions").fetchone()[0])
    finally:
        con.close()


def test_commands_that_only_read_leave_the_database_as_it_was(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    subprocess.run([sys.executable, "-c", _CRASHED_RECORDING, str(data)], check=True,
                   timeout=60)
    before = _files(data)
    assert before["isogrip.sqlite3-wal"][0]  # the crash left its commits in the log
    assert _status(data) == "running"
    for command in (["sessions"], ["export", "last", "--out", str(tmp_path / "a")],
                    ["export", "--participant", "P1", "--format", "csv",
                     "--out", str(tmp_path / "b")],
                    ["bp", "list"]):
        code, out, err = cli(capsys, "--data-dir", str(data), *command)
        assert code == 0, err
        assert "interrupted" not in err  # crash detection is left to a recording command
        assert _files(data) == before, command
        assert _status(data) == "running"
        if command == ["sessions"]:
            assert "running" in out and "P1" in out
        if command == ["bp", "list"]:
            assert "120/80" in out
    assert (tmp_path / "a" / "samples.csv").read_text().count("\n") == 3  # header + 2
    # The next command that records finds the crash, marks it and says so.
    code, _, err = cli(capsys, "--data-dir", str(data), "bp", "add", "118/76")
    assert code == 0 and "session 1 was interrupted" in err
    assert _status(data) == "interrupted"


def test_listing_a_cleanly_closed_database_changes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from isogrip.storage.store import Store

    with Store.open(tmp_path):
        pass  # closed cleanly: everything is in the database file, no -wal left
    db = tmp_path / "isogrip.sqlite3"
    before = (db.read_bytes(), db.stat().st_mtime_ns)
    code, out, _ = cli(capsys, "--data-dir", str(tmp_path), "sessions")
    assert code == 0 and "No sessions recorded yet" in out
    assert (db.read_bytes(), db.stat().st_mtime_ns) == before
    wal = db.with_name(db.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # SQLite's empty companion at most
