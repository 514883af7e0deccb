"""The disk filling up during a recording, and damaged or unusable databases."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from isogrip.protocols.records import SessionWarning
from isogrip.runtime import SessionConfig, SessionRuntime
from isogrip.storage.store import Store
from isogrip.types import Hand

KNOWN = {Hand.LEFT: 300.0, Hand.RIGHT: 320.0}


def test_disk_full_stops_cleanly_keeps_what_was_written_and_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store.open(tmp_path) as first:
        pages = first._db().execute("PRAGMA page_count").fetchone()[0]
    # SQLite reports SQLITE_FULL ("database or disk is full") once the file reaches
    # max_page_count: the same error, through the same code, as a full disk. The limit
    # is per connection, so every connection (the recorder writes through its own) gets it.
    real_connect = Store._connect

    def on_a_full_disk(self: Store) -> sqlite3.Connection:
        conn = real_connect(self)
        conn.execute(f"PRAGMA max_page_count = {pages + 400}")
        return conn

    monkeypatch.setattr(Store, "_connect", on_a_full_disk)
    store = Store.open(tmp_path)
    rt = SessionRuntime(SessionConfig(device="sim:good?seed=1&rate=1000&per_packet=20",
                                      speed=20.0, known_mvc=KNOWN), store)
    result = rt.run()
    events = rt.drain_events()
    assert result.status in ("aborted", "interrupted")
    assert "could not be saved" in result.reason and "full" in result.reason
    warnings = [e for e in events if isinstance(e, SessionWarning)
                and e.reason == "storage_failed"]
    assert len(warnings) == 1 and "Free some disk space" in warnings[0].message
    saved = store.count_samples(result.session_id)
    assert saved > 1000  # what was written before the disk filled is there
    assert saved <= result.samples
    store._db().execute("PRAGMA max_page_count = 1073741823")  # space freed
    store.close()
    monkeypatch.undo()
    with sqlite3.connect(tmp_path / "isogrip.sqlite3") as con:  # as the next run sees it
        con.execute("UPDATE sessions SET pid = 999999999")
    with Store.open(tmp_path) as again:  # the next start: consistent and explained
        again.mark_interrupted()
        info = again.get_session_info(result.session_id)
        assert info.status in ("aborted", "interrupted")
        assert again.count_samples(result.session_id) == saved
        with sqlite3.connect(again.path) as con:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _recorded(folder: Path) -> int:
    with Store.open(folder) as store:
        result = SessionRuntime(SessionConfig(device="sim:good?seed=3", speed=None,
                                              known_mvc=KNOWN), store).run()
    return result.session_id


def test_truncated_database_is_refused_backed_up_and_replaced(tmp_path: Path,
                                                              capsys: Any) -> None:
    from isogrip.cli import main
    from isogrip.errors import DatabaseDamagedError

    _recorded(tmp_path)
    db = tmp_path / "isogrip.sqlite3"
    whole = db.read_bytes()
    db.write_bytes(whole[: len(whole) // 2])  # a copy cut off half-way
    try:
        Store.open(tmp_path)
    except DatabaseDamagedError as exc:
        assert "is damaged" in str(exc) and exc.backup is not None
        assert Path(exc.backup).read_bytes() == whole[: len(whole) // 2]  # backup kept
    else:
        raise AssertionError("a truncated database was opened")
    assert main(["--data-dir", str(tmp_path), "sessions"]) == 2
    err = capsys.readouterr().err
    assert "is damaged" in err and "--new-database" in err and "A copy is kept at" in err
    assert main(["--data-dir", str(tmp_path), "--new-database", "sessions"]) == 0
    assert "moved to" in capsys.readouterr().err
    backups = sorted(p.name for p in tmp_path.iterdir() if ".damaged-" in p.name
                     or ".replaced-" in p.name)
    assert len(backups) == 2  # the copy made on discovery and the moved original
    with Store.open(tmp_path) as fresh:
        assert fresh.list_sessions() == []


def test_garbage_database_file_is_damage_not_a_crash(tmp_path: Path, capsys: Any) -> None:
    from isogrip.cli import main

    (tmp_path / "isogrip.sqlite3").write_bytes(b"\x00garbage" * 1000)
    assert main(["--data-dir", str(tmp_path), "sessions"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is damaged" in err


def test_gui_offers_a_new_database(qtbot: Any, tmp_path: Path) -> None:
    from isogrip.settings import Settings, save_settings
    from isogrip.ui.main_window import MainWindow

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "isogrip.sqlite3").write_bytes(b"not sqlite at all" * 300)
    save_settings(Settings(first_run_done=True), tmp_path / "s.json")
    asked: list[str] = []
    w = MainWindow(settings_file=tmp_path / "s.json", data_dir=tmp_path / "data",
                   confirm=lambda title, text: asked.append(title) or True)
    qtbot.addWidget(w)
    assert asked == ["The database is damaged"]
    assert w.store.list_sessions() == []
    kept = [p for p in (tmp_path / "data").iterdir() if ".replaced-" in p.name]
    assert kept and kept[0].read_bytes().startswith(b"not sqlite")
    w.close()


def test_unreadable_data_folder_is_a_clear_error(tmp_path: Path, capsys: Any) -> None:
    import os

    from isogrip.cli import main

    # A data folder that is really a file: refused with one clear line.
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["--data-dir", str(blocker), "sessions"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("isogrip: error:") and str(blocker) in err and err.count("\n") == 1
    # A folder without permission (only meaningful when not running as root, since
    # root may write anywhere; CI machines may be either).
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    try:
        if not os.access(locked, os.W_OK):
            assert main(["--data-dir", str(locked / "inner"), "sessions"]) == 2
            assert str(locked) in capsys.readouterr().err
    finally:
        os.chmod(locked, 0o700)


def test_a_really_full_file_system(tmp_path: Path) -> None:
    """The same through the operating system: ``isogrip run`` on a 2 MiB tmpfs.

    The tmpfs is mounted in a private user and mount namespace (``unshare``), so no
    privileges are needed and nothing outside the test sees it; the database is copied
    out before the namespace (and its tmpfs) goes away.
    """
    import re
    import shlex
    import subprocess
    import sys

    data, after = tmp_path / "data", tmp_path / "after"
    data.mkdir()
    after.mkdir()
    isogrip = Path(sys.executable).with_name("isogrip")
    run = [str(isogrip), "--data-dir", str(data), "run", "--headless", "--speed", "20",
           "--device", "sim:good?seed=1&rate=1000&per_packet=20", "--reuse-mvc", "30,32"]
    script = (f"mount -t tmpfs -o size=2m tmpfs {shlex.quote(str(data))} || exit 90; "
              f"{shlex.join(run)}; code=$?; "
              f"cp -a {shlex.quote(str(data))}/. {shlex.quote(str(after))}/; exit $code")
    proc = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                           script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 90, f"could not mount a tmpfs here: {out}"
    assert "database or disk is full" in out and "Free some disk space" in out, out
    assert "session was stopped" in out
    saved = int(re.search(r"The (\d+) samples saved before that are kept", out)[1])  # type: ignore[index]
    assert saved > 10_000
    with sqlite3.connect(after / "isogrip.sqlite3") as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with Store.open(after) as store:  # the next start, with the space freed
        (info,) = store.list_sessions()
        assert store.count_samples(info.id) == saved  # exactly what it said it kept
    # The next command that records (only looking changes nothing) marks it interrupted.
    nxt = subprocess.run([str(isogrip), "--data-dir", str(after), "bp", "add", "120/80"],
                         capture_output=True, text=True, timeout=60)
    assert nxt.returncode == 0
    assert "was interrupted" in nxt.stderr and "isogrip export" in nxt.stderr
