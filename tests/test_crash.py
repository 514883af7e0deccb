"""Killing isogrip (SIGKILL, like a power cut) loses at most about a second of data."""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from isogrip.storage.paths import database_path
from isogrip.storage.store import Store

PROTOCOL = """\
[protocol]
name = "crash-test"
[holds]
reps = 2
duration_s = 60
rest_s = 5
[timing]
prepare_s = 2
rest_after_mvc_s = 2
countdown_s = 1
"""


def _latest(db: Path) -> tuple[float | None, bool]:
    """Newest stored sample time and whether a hold has started (read-only)."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
    except sqlite3.Error:
        return None, False
    try:
        row = con.execute("SELECT t_first_s, n, t_s FROM samples ORDER BY rowid DESC "
                          "LIMIT 1").fetchone()
        hold = con.execute("SELECT 1 FROM phases WHERE phase = 'hold'").fetchone()
    except sqlite3.Error:
        return None, False
    finally:
        con.close()
    if row is None:
        return None, hold is not None
    import numpy as np

    t = np.frombuffer(row[2], "<f8")
    return float(t[-1]), hold is not None


def test_sigkill_in_a_hold_keeps_all_but_the_last_second(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proto = tmp_path / "p.toml"
    proto.write_text(PROTOCOL)
    db = database_path(data)
    child = subprocess.Popen(
        [sys.executable, "-m", "isogrip", "--data-dir", str(data), "run", "--device",
         "sim:good?seed=1&rate=200", "--protocol", str(proto), "--headless",
         "--reuse-mvc", "30,32"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        seen: list[tuple[float, float]] = []  # (wall time, newest stored sample time)
        in_hold_since = None
        while time.monotonic() < deadline:
            t_last, hold = _latest(db)
            now = time.monotonic()
            if t_last is not None and (not seen or t_last > seen[-1][1]):
                seen.append((now, t_last))
            if hold and in_hold_since is None:
                in_hold_since = now
            if in_hold_since is not None and now - in_hold_since > 3.0:
                break
            time.sleep(0.05)
        assert in_hold_since is not None, "the session never reached a hold"
        kill_wall = time.monotonic()
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    # Flushes happen at least once a second: the stored data kept growing that way.
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(seen)]
    assert gaps and max(gaps) < 1.6
    # The session clock runs at wall speed here, so the session time at the kill is
    # about the newest time seen plus the wall time since it was seen.
    w_seen, t_seen = seen[-1]
    t_at_kill = t_seen + (kill_wall - w_seen)
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with Store.open(data) as store:
        [sid] = store.mark_interrupted()
        info = store.get_session_info(sid)
        t, _, force = store.load_samples(sid)
        holds = store.load_holds(sid)
    assert info.status == "interrupted" and "stopped unexpectedly" in (info.note or "")
    assert t[-1] >= t_seen  # nothing that had been stored was lost
    assert t[-1] >= t_at_kill - 1.3  # at most about a second (plus polling) missing
    assert len(force) > 200 * 5  # seconds of 200 Hz data before the kill
    assert holds == []  # the hold never ended, so no hold result, but its samples are kept
    # The next start says so and says how to export it.
    out = subprocess.run([sys.executable, "-m", "isogrip", "--data-dir", str(data),
                          "sessions"], capture_output=True, text=True, timeout=60)
    assert "interrupted" in out.stdout


def test_next_start_offers_the_export(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store.open(data) as store:
        from datetime import UTC, datetime

        sid = store.create_session(started_at=datetime.now(UTC), protocol_name="p",
                                   protocol={"name": "p"}, device="sim", participant=None,
                                   app_version="t", t0_s=0.0)
        store.write_samples(sid, 0, [0.0, 0.1], None, [1.0, 2.0])
    with sqlite3.connect(database_path(data)) as con:  # as if its process had died
        con.execute("UPDATE sessions SET pid = 999999999 WHERE id = ?", (sid,))
    # Only looking (isogrip sessions) changes nothing; the next command that records
    # marks the session interrupted and says so.
    out = subprocess.run([sys.executable, "-m", "isogrip", "--data-dir", str(data),
                          "sessions"], capture_output=True, text=True, timeout=60)
    assert "running" in out.stdout and "interrupted" not in out.stderr
    out = subprocess.run([sys.executable, "-m", "isogrip", "--data-dir", str(data),
                          "bp", "add", "120/80"], capture_output=True, text=True, timeout=60)
    assert f"session {sid} was interrupted" in out.stderr
    assert f"isogrip export {sid} --out FOLDER" in out.stderr


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_sigkill_during_an_export_leaves_no_half_file(tmp_path: Path, fmt: str) -> None:
    data = tmp_path / "data"
    subprocess.run([sys.executable, "-m", "isogrip", "--data-dir", str(data), "run",
                    "--device", "sim:good?seed=2&rate=1000&per_packet=20", "--speed", "max",
                    "--headless", "--reuse-mvc", "30,32"], check=True,
                   capture_output=True, timeout=300)
    out = tmp_path / "out"
    # A first, complete export; then one killed part-way through.
    subprocess.run([sys.executable, "-m", "isogrip", "--data-dir", str(data), "export",
                    "last", "--format", fmt, "--out", str(out)], check=True,
                   capture_output=True, timeout=300)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    killed = 0
    for delay in (0.6, 0.9, 1.2, 1.5):
        child = subprocess.Popen([sys.executable, "-m", "isogrip", "--data-dir", str(data),
                                  "export", "last", "--format", fmt, "--out", str(out)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            killed += 1
        child.wait(30)
    # Whatever moment the kill hit, every export file is the complete one.
    after = {p.name: p.read_bytes() for p in out.iterdir() if not p.name.startswith(".")}
    assert after == before
    # The killed exports' temporary files are hidden; once old, the next export of the
    # same files removes them (young ones may belong to an export still running).
    left = [p for p in out.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]
    hour_ago = time.time() - 2 * 3600
    for p in left:
        os.utime(p, (hour_ago, hour_ago))
    subprocess.run([sys.executable, "-m", "isogrip", "--data-dir", str(data), "export",
                    "last", "--format", fmt, "--out", str(out)], check=True,
                   capture_output=True, timeout=300)
    assert sorted(p.name for p in out.iterdir()) == sorted(before)
    with sqlite3.connect(database_path(data)) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_every_file_is_on_disk_before_it_gets_its_name(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A power cut, unlike SIGKILL, also loses what the OS had not yet written.

    So each export, report and settings file must be flushed to the disk before the
    rename that makes it visible, and the folder entry after it: then a power cut at any
    moment leaves the earlier file or the whole new one, never an empty or cut-off one
    under the real name.
    """
    from isogrip.protocols.loader import load_protocol
    from isogrip.runtime import SessionConfig, SessionRuntime
    from isogrip.settings import Settings, save_settings
    from isogrip.storage.export_formats import export
    from isogrip.types import Hand
    from isogrip.ui.report import session_report

    data = tmp_path / "data"
    with Store.open(data) as store:
        sid = SessionRuntime(SessionConfig(
            device="sim:good?seed=3", speed=None, protocol=load_protocol("ihg-4x2-30-workplace"),
            known_mvc={Hand.LEFT: 300.0, Hand.RIGHT: 320.0}), store).run().session_id
        log: list[tuple[str, ...]] = []
        real_fsync, real_replace = os.fsync, os.replace

        def fsync(fd: int) -> None:
            log.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
            real_fsync(fd)

        def replace(src: str | Path, dst: str | Path) -> None:
            log.append(("replace", str(Path(src).resolve()), str(Path(dst).resolve())))
            real_replace(src, dst)

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(os, "replace", replace)
        out = tmp_path / "out"
        for fmt in ("csv", "parquet", "edf", "json"):
            export(store, sid, out, fmt)
        session_report(store, sid, out / "report.pdf")
        save_settings(Settings(), tmp_path / "settings.json")
    renames = [(i, e[1], e[2]) for i, e in enumerate(log) if e[0] == "replace"]
    names = sorted(Path(dst).name for _i, _src, dst in renames)
    assert names == sorted(["samples.csv", "events.csv", "summary.json", "samples.parquet",
                            "session.edf", "session.json", "report.pdf", "settings.json"])
    ends = [i for i, _src, _dst in renames[1:]] + [len(log)]
    for (i, src, dst), end in zip(renames, ends, strict=True):
        # Its own data, since the previous rename; its own folder entry, before the next.
        start = max([j for j, _s, _d in renames if j < i], default=-1) + 1
        assert ("fsync", src) in log[start:i], f"{dst} renamed before its data was flushed"
        assert ("fsync", str(Path(dst).parent)) in log[i + 1:end], \
            f"{dst}: folder not flushed after the rename"


def test_a_folder_that_cannot_be_flushed_still_gets_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Network shares and FUSE file systems may refuse to flush a folder (EINVAL): by then
    # the file is complete under its name, so that is no reason to call it a failure.
    import errno

    from isogrip import files as paths

    real = paths._fsync_path

    def refuse_folders(path: Path, *, directory: bool) -> None:
        if directory:
            raise OSError(errno.EINVAL, "Invalid argument")
        real(path, directory=directory)

    monkeypatch.setattr(paths, "_fsync_path", refuse_folders)
    tmp = tmp_path / ".x.tmp"
    tmp.write_bytes(b"complete")
    paths.durable_replace(tmp, tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_bytes() == b"complete" and not tmp.exists()

    def refuse_files(path: Path, *, directory: bool) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(paths, "_fsync_path", refuse_files)
    tmp.write_bytes(b"new")
    with pytest.raises(OSError):  # the data itself could not be made durable: say so
        paths.durable_replace(tmp, tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_bytes() == b"complete"  # the earlier file stays


def test_old_temporary_files_of_killed_exports_are_removed(tmp_path: Path) -> None:
    from isogrip.storage.export import STALE_TEMP_S, write_atomic

    old, young, other = (tmp_path / ".samples.csv.k1x.tmp", tmp_path / ".samples.csv.k2y.tmp",
                         tmp_path / ".events.csv.k3z.tmp")
    for p in (old, young, other):
        p.write_bytes(b"half")
    long_ago = time.time() - STALE_TEMP_S - 60
    for p in (old, other):
        os.utime(p, (long_ago, long_ago))
    write_atomic(tmp_path / "samples.csv", lambda fh: fh.write(b"whole"))
    assert (tmp_path / "samples.csv").read_bytes() == b"whole"
    assert not old.exists()  # left by a killed writer of this file
    assert young.exists()  # may be an export still running
    assert other.exists()  # another file's: its own next export cleans it
