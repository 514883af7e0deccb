"""Setting a database aside: never a healthy one unasked, never one in use, never over a file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from isogrip.cli import main
from isogrip.storage import recovery
from isogrip.storage.paths import DB_FILENAME
from isogrip.storage.store import Store


def _sessions_in(path: Path) -> int:
    with sqlite3.connect(path) as c:
        return int(c.execute("SELECT count(*) FROM sessions").fetchone()[0])


def _record(folder: Path) -> None:
    assert main(["--data-dir", str(folder), "run", "--device", "sim:good", "--speed", "max",
                 "--headless", "--reuse-mvc", "30,30", "--protocol", "ihg-4x2-30-alternating",
                 "--bp", "120/80"]) == 0


@pytest.fixture
def recorded(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> Path:
    _record(tmp_path)
    capfd.readouterr()
    return tmp_path


def test_a_healthy_database_is_not_moved_without_yes(
        recorded: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(recorded), "--new-database", "sessions"]) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not damaged (it holds 1 session)" in err[0] and "--yes" in err[0]
    assert _sessions_in(recorded / DB_FILENAME) == 1
    assert not list(recorded.glob("*.replaced-*"))


def test_two_moves_within_one_second_keep_both_databases(
        recorded: Path, capfd: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recovery, "_stamp", lambda: "20261202-103036")  # the same second
    assert main(["--data-dir", str(recorded), "--new-database", "--yes", "sessions"]) == 0
    _record(recorded)
    _record(recorded)
    assert main(["--data-dir", str(recorded), "--new-database", "--yes", "sessions"]) == 0
    first = recorded / f"{DB_FILENAME}.replaced-20261202-103036"
    second = recorded / f"{DB_FILENAME}.replaced-20261202-103036.1"
    assert _sessions_in(first) == 1 and _sessions_in(second) == 2
    assert _sessions_in(recorded / DB_FILENAME) == 0
    assert "moved to" in capfd.readouterr().err


def test_a_database_in_use_is_never_moved(
        recorded: Path, capfd: pytest.CaptureFixture[str]) -> None:
    store = Store.open(recorded)  # as a running session or the desktop app holds it
    try:
        assert main(["--data-dir", str(recorded), "--new-database", "--yes", "sessions"]) == 2
        err = capfd.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "in use by another isogrip" in err[0]
        assert [s.id for s in store.list_sessions()] == [1]  # still there, still usable
        assert not list(recorded.glob("*.replaced-*"))
    finally:
        store.close()
    assert main(["--data-dir", str(recorded), "--new-database", "--yes", "sessions"]) == 0


def test_a_damaged_database_is_moved_whole_and_backed_up_once(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / DB_FILENAME
    junk = b"SQLite format 3\x00" + b"\x13" * 5000
    db.write_bytes(junk)
    for _ in range(3):  # every command finds the damage; one copy is enough
        assert main(["--data-dir", str(tmp_path), "sessions"]) == 2
    assert [p.read_bytes() for p in tmp_path.glob("*.damaged-*")] == [junk]
    assert main(["--data-dir", str(tmp_path), "--new-database", "sessions"]) == 0
    moved = list(tmp_path.glob("*.replaced-*"))
    assert len(moved) == 1 and moved[0].read_bytes() == junk
    assert "moved to" in capfd.readouterr().err


def test_a_backup_is_made_again_when_the_damaged_file_changes(tmp_path: Path) -> None:
    db = tmp_path / DB_FILENAME
    db.write_bytes(b"SQLite format 3\x00" + b"\x13" * 5000)
    first = recovery.backup_damaged(db)
    assert recovery.backup_damaged(db) == first
    db.write_bytes(b"SQLite format 3\x00" + b"\x17" * 6000)
    second = recovery.backup_damaged(db)
    assert second is not None and second != first and first is not None and first.exists()


@pytest.mark.parametrize(("name", "kind"), [
    (DB_FILENAME, "fifo"), (DB_FILENAME + ".lock", "fifo"), (DB_FILENAME + ".lock", "link"),
])
def test_a_pipe_in_place_of_the_database_or_its_lock_is_one_line(
        tmp_path: Path, name: str, kind: str) -> None:
    """Opening a FIFO would wait for a writer for ever; the lock file is never a link
    (a database may be: people keep it on another disk)."""
    import os
    import subprocess
    import sys

    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    if name.endswith(".lock"):
        Store.open(data).close()  # a real database beside the odd lock file
        (data / name).unlink(missing_ok=True)
    if kind == "fifo":
        os.mkfifo(data / name)
    else:
        (data / name).symlink_to(victim)
    isogrip = Path(sys.executable).with_name("isogrip")
    proc = subprocess.run([str(isogrip), "--data-dir", str(data), "sessions"],
                          capture_output=True, text=True, timeout=60)  # a hang, not slowness
    assert proc.returncode == 2, proc.stdout + proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "not a regular file" in line and name in line
    assert victim.read_bytes() == b"keep"
