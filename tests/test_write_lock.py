"""Recording while another process holds the database's write lock.

An ``isogrip import`` (or any other program) may hold SQLite's write lock while a
session records. The session must not wait for it: its writes go through the
recorder's own thread, samples wait in memory, and the session's end is written as
soon as the lock is free.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from isogrip.protocols.events import EventKind
from isogrip.protocols.records import Cue
from isogrip.runtime import SessionConfig, SessionRuntime
from isogrip.storage import batches as batches_mod
from isogrip.storage import recorder as recorder_mod
from isogrip.storage.recorder import Recorder
from isogrip.storage.store import Store
from isogrip.types import Hand

KNOWN = {Hand.RIGHT: 392.0, Hand.LEFT: 363.0}
#: Upper bound on how long any wait in these tests may take before it counts as a hang.
PATIENCE_S = 60.0


class LockHolder:
    """Another connection that takes the write lock (``BEGIN IMMEDIATE``) and keeps it."""

    def __init__(self, db: Path) -> None:
        self.con = sqlite3.connect(db, timeout=PATIENCE_S, isolation_level=None,
                                   check_same_thread=False)

    def take(self) -> None:
        self.con.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.con.execute("COMMIT")
        self.con.close()


def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


def test_the_recorder_hands_over_while_the_lock_is_held(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    sid = store.create_session(started_at=datetime(2026, 1, 1, 10, tzinfo=UTC), protocol_name="p",
                               protocol={}, device="sim", participant=None,
                               app_version="t", t0_s=0.0)
    holder = LockHolder(store.path)
    holder.take()
    rec = Recorder(store, sid, flush_interval_s=1e-6, background=True)
    t = np.arange(1000) / 80.0
    # With the lock held, each of these returns (a foreground write would wait for the
    # lock and then fail with "database is locked").
    for block in np.array_split(np.arange(1000), 10):
        rec.add_samples(t[block], None, np.full(len(block), 100.0))
        rec.add(Cue(t=float(t[block[0]]), cue=EventKind.COUNTDOWN, count=int(block[0])))
    wait_for(lambda: rec.waiting, "the writer to notice the lock")
    assert rec.error is None  # waiting for a lock is not a failure
    assert rec.samples_written == 0 and rec.buffered_samples == 1000
    assert rec.pending_records == 10
    holder.release()
    rec.close("complete")
    assert rec.samples_written == 1000 and rec.buffered_samples == 0
    assert rec.pending_records == 0
    row = store.get_session(sid)
    assert row.status == "complete" and row.ended_at is not None
    t_back, _, _ = store.load_samples(sid)
    np.testing.assert_array_equal(t_back, t)
    assert len(store.load_events(sid)) == 10
    store.close()


def test_a_session_records_and_ends_through_another_processes_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The lock is taken once the session records and kept until after it has ended."""
    store = Store.open(tmp_path)
    holder = LockHolder(store.path)
    closing = threading.Event()
    original_close = Recorder.close

    def close(self: Recorder, *args: object, **kwargs: object) -> None:
        closing.set()
        original_close(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Recorder, "close", close)
    monkeypatch.setattr(recorder_mod, "FINISH_WAIT_S", PATIENCE_S, raising=False)
    config = SessionConfig(device="sim:good?seed=3", speed=None, data_dir=tmp_path,
                           known_mvc=KNOWN)
    rt = SessionRuntime(config, store=store)
    reader = Store(store.path)
    stored_while_locked: list[int] = []

    def hold() -> None:
        wait_for(lambda: rt.session_id is not None, "the session to start")
        holder.take()
        # Kept until the session is ending, and a little beyond, so that the end
        # itself has to wait its turn.
        closing.wait(PATIENCE_S)
        time.sleep(0.5)
        stored_while_locked.append(reader.count_samples(rt.session_id))  # type: ignore[arg-type]
        holder.release()

    thread = threading.Thread(target=hold)
    thread.start()
    with caplog.at_level(logging.WARNING):
        result = rt.run()
    thread.join()
    assert result.status == "complete", result.reason
    assert "database is locked" not in caplog.text
    row = store.get_session(result.session_id)
    assert row.status == "complete" and row.ended_at is not None
    t, _, _ = store.load_samples(result.session_id)
    assert len(t) == result.samples > 0.97 * 12 * 60 * 80 * 0.9
    assert float(np.max(np.diff(t))) < 0.1  # no hole where the lock was held
    assert len(store.load_holds(result.session_id)) == 4
    # Nearly the whole session was recorded while the lock was held: it waited in
    # memory, the session went on, and all of it was written once the lock was free.
    assert stored_while_locked[0] < 0.2 * result.samples
    reader.close()
    store.close()


def test_the_queue_stays_short_and_loses_nothing_however_long_the_wait(
        tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    sid = store.create_session(started_at=datetime(2026, 1, 1, 10, tzinfo=UTC),
                               protocol_name="p", protocol={}, device="sim",
                               participant=None, app_version="t", t0_s=0.0)
    holder = LockHolder(store.path)
    holder.take()
    rec = Recorder(store, sid, flush_interval_s=1e-6, background=True)
    n_blocks, per = 200, 8
    for k in range(n_blocks):  # each call seals a batch: 200 batches while locked
        t = (k * per + np.arange(per)) / 80.0
        device = None if k % 3 else t + 5.0  # some with a device clock, some without
        rec.add_samples(t, device, np.full(per, float(k)))
        rec.add(Cue(t=float(t[0]), cue=EventKind.COUNTDOWN, count=k))
        assert rec.queued_batches <= batches_mod.MAX_WAITING_BATCHES
    holder.release()
    rec.close("complete")
    t_back, dev_back, f_back = store.load_samples(sid)
    np.testing.assert_array_equal(t_back, np.arange(n_blocks * per) / 80.0)
    np.testing.assert_array_equal(f_back, np.repeat(np.arange(n_blocks, dtype=float), per))
    with_clock = np.repeat(np.arange(n_blocks) % 3 == 0, per)
    np.testing.assert_array_equal(dev_back[with_clock], t_back[with_clock] + 5.0)
    assert np.isnan(dev_back[~with_clock]).all()
    assert [e.detail["count"] for e in store.load_events(sid)] == list(range(n_blocks))
    with sqlite3.connect(store.path) as con:  # chunk numbers stay 0, 1, 2, ...
        chunks = [r[0] for r in con.execute(
            "SELECT chunk FROM samples WHERE session_id = ? ORDER BY chunk", (sid,))]
    assert chunks == list(range(len(chunks)))
    assert len(chunks) <= batches_mod.MAX_WAITING_BATCHES + 2
    store.close()
