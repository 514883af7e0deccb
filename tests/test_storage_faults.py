"""The disk filling up during a recording, and damaged or unusable databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from isogrip.protocols.events import EventKind
from isogrip.runtime import SessionConfig, SessionRuntime
from isogrip.storage.store import Store
from isogrip.types import Hand

KNOWN = {Hand.LEFT: 300.0, Hand.RIGHT: 320.0}


def test_disk_full_stops_cleanly_keeps_what_was_written_and_says_so(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    # SQLite reports SQLITE_FULL ("database or disk is full") once the file reaches
    # max_page_count: the same error, through the same code, as a full disk.
    pages = store._db().execute("PRAGMA page_count").fetchone()[0]
    store._db().execute(f"PRAGMA max_page_count = {pages + 400}")
    rt = SessionRuntime(SessionConfig(device="sim:good?seed=1&rate=1000&per_packet=20",
                                      speed=20.0, known_mvc=KNOWN), store)
    result = rt.run()
    events = rt.drain_events()
    assert result.status in ("aborted", "interrupted")
    assert "could not be saved" in result.reason and "full" in result.reason
    warnings = [e for e in events if e.kind is EventKind.WARNING
                and e.data.get("reason") == "storage_failed"]
    assert len(warnings) == 1 and "Free some disk space" in warnings[0].message
    saved = store.count_samples(result.session_id)
    assert saved > 1000  # what was written before the disk filled is there
    assert saved <= result.samples
    store._db().execute("PRAGMA max_page_count = 1073741823")  # space freed
    store.close()
    with sqlite3.connect(tmp_path / "isogrip.sqlite3") as con:  # as the next run sees it
        con.execute("UPDATE sessions SET pid = 999999999")
    with Store.open(tmp_path) as again:  # the next start: consistent and explained
        again.mark_interrupted()
        info = again.get_session_info(result.session_id)
        assert info.status in ("aborted", "interrupted")
        assert again.count_samples(result.session_id) == saved
        with sqlite3.connect(again.path) as con:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
