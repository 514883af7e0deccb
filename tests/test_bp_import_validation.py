"""``isogrip bp import``: every kind of bad file is refused in one line, and adds nothing.

Each case is a file that once gave a traceback, hung, or was stored and then broke or
distorted ``bp list``, ``report --participant`` and the desktop app's history (a
reading in the year 9999 stays the "latest" for ever). Now each gives exit status 2
and one line on stderr naming the file, the line and the column; the log is unchanged
and the views still work.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from isogrip.cli import main
from isogrip.errors import BpValueError
from isogrip.storage.store import Store

HEADER = "taken_at,sbp,dbp,pulse,context\n"
GOOD = "2026-11-20 08:00,121,79,64,rest\n"  # line 2 of every bad file: a good reading
SEEDED = (132, 84)  # the reading already in the log before each import


@contextlib.contextmanager
def local_zone(name: str) -> Iterator[None]:
    """Run with this computer's time zone set to ``name`` (naive times are local)."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A data folder with one finished session and one reading of participant P1."""
    folder = tmp_path / "data"
    now = dt.datetime.now(dt.UTC)
    with Store.open(folder) as store:
        sid = store.create_session(
            started_at=now - dt.timedelta(days=1), protocol_name="ihg-4x2-30-alternating",
            protocol={}, device="sim", participant="P1", app_version="test", t0_s=0.0)
        store.finish_session(sid, "complete", now - dt.timedelta(hours=23))
        store.add_bp_reading(sbp=SEEDED[0], dbp=SEEDED[1], participant="P1",
                             taken_at=now - dt.timedelta(days=2))
    return folder


def log_of(folder: Path) -> list[tuple[str | None, str, int, int, int | None, str | None]]:
    with Store.open(folder) as store:
        return [(r.participant, r.taken_at, r.sbp, r.dbp, r.pulse, r.note)
                for r in store.list_bp_readings()]


def views_still_work(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                     expected: list[tuple[int, int]] | None = None) -> None:
    """``bp list``, ``report --participant`` and the app's history read the log.

    ``expected``: P1's readings in time order (default: only the one seeded).
    """
    from isogrip.ui.history_screen import load_history

    assert main(["--data-dir", str(folder), "bp", "list", "--participant", "P1"]) == 0
    assert f"{SEEDED[0]}/{SEEDED[1]}" in capsys.readouterr().out
    out = tmp_path / "report.png"
    assert main(["--data-dir", str(folder), "report", "--participant", "P1",
                 "--out", str(out)]) == 0, capsys.readouterr().err
    assert out.stat().st_size > 0
    capsys.readouterr()
    with Store.open(folder) as store:
        history = load_history(store, "P1")
    assert [(r.sbp, r.dbp) for r in history.bp] == (expected or [SEEDED])


def refused(folder: Path, file: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Import ``file``; it must be refused with exit 2 and one line. Returns that line."""
    before = log_of(folder)
    code = main(["--data-dir", str(folder), "bp", "import", str(file), "--participant", "P1"])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    lines = err.splitlines()
    assert len(lines) == 1, err[:2000]
    assert len(lines[0]) < 400, lines[0][:400]
    assert lines[0].startswith("isogrip: error: ") and str(file) in lines[0]
    assert "Traceback" not in err and out == ""
    assert log_of(folder) == before  # nothing written, not even the good line 2
    return lines[0]


def in_days(days: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).isoformat(timespec="minutes")


# (case, file content, line, column named, words in the message)
BAD_FILES = [
    # dates at the ends of the calendar, and far in the future
    ("year 1", HEADER + GOOD + "0001-01-01 08:00,120,80,60,rest\n", 3, "taken_at",
     "before 1900"),
    ("year 1 east of UTC", HEADER + GOOD + "0001-01-01T00:00+05:00,120,80,60,rest\n", 3,
     "taken_at", "before 1900"),
    ("year 1 west of UTC", HEADER + GOOD + "0001-01-01T00:00-05:00,120,80,60,rest\n", 3,
     "taken_at", "before 1900"),
    ("year 1 UTC", HEADER + GOOD + "0001-01-01T00:00Z,120,80,60,rest\n", 3, "taken_at",
     "before 1900"),
    ("year 9999", HEADER + GOOD + "9999-12-31 23:59,120,80,60,rest\n", 3, "taken_at",
     "in the future"),
    ("year 9999 west of UTC", HEADER + GOOD + "9999-12-31T23:59-05:00,120,80,60,rest\n",
     3, "taken_at", "in the future"),
    ("year 9999 east of UTC", HEADER + GOOD + "9999-12-31T23:59+14:00,120,80,60,rest\n",
     3, "taken_at", "in the future"),
    ("before 1900", HEADER + GOOD + "1899-12-31 12:00,120,80,60,rest\n", 3, "taken_at",
     "before 1900"),
    ("before 1900 in UTC", HEADER + GOOD + "1900-01-01T00:00+01:00,120,80,60,rest\n", 3,
     "taken_at", "before 1900"),
    ("next century", HEADER + GOOD + "2099-01-01 08:00,120,80,60,rest\n", 3, "taken_at",
     "in the future"),
    ("two days ahead", HEADER + GOOD + f"{in_days(2)},120,80,60,rest\n", 3, "taken_at",
     "in the future"),
    ("not a time", HEADER + GOOD + "yesterday,120,80,60,rest\n", 3, "taken_at",
     "date and time"),
    ("no time", HEADER + GOOD + ",120,80,60,rest\n", 3, "taken_at", "missing"),
    ("escape codes in the time", HEADER + GOOD + "2026-11-21 08:00\x1b[31m,120,80,,\n", 3,
     "taken_at", "date and time"),
    # very long fields
    ("1 MB note", "taken_at,sbp,dbp,note\n2026-11-20 08:00,121,79,\n"
     "2026-11-21 08:00,120,80," + "n" * (1 << 20) + "\n", 3, "note", "too long"),
    ("10 MB quoted line", HEADER + GOOD + '2026-11-21 08:00,120,80,60,"'
     + "y" * (10 << 20) + '"\n', 3, "context", "too long"),
    ("600-character note", "taken_at,sbp,dbp,note\n2026-11-20 08:00,121,79,\n"
     "2026-11-21 08:00,120,80," + "n" * 600 + "\n", 3, "note", "at most 500"),
    ("long time text", HEADER + GOOD + "2026-11-21 08:00" + " " * 300 + "x,120,80,60,\n",
     3, "taken_at", "too long"),
    ("5000 digits", HEADER + GOOD + "2026-11-21 08:00," + "1" * 5000 + ",80,60,\n", 3,
     "sbp", "too long"),
    ("long header", "taken_at,sbp,dbp," + "x" * 5000 + "\n" + GOOD, 1, "", "first line"),
    ("quote never closed", HEADER + GOOD + '2026-11-21 08:00,120,80,60,"rest\n'
     + "2026-11-22 08:00,120,80,60,rest\n" * 20, 3, "", "not closed"),
    ("quote open at the end", HEADER + GOOD + '2026-11-21 08:00,120,80,60,"rest\n', 3,
     "", "not valid CSV"),
    ("line break in a note", "taken_at,sbp,dbp,note\n2026-11-20 08:00,121,79,\n"
     '2026-11-21 08:00,120,80,"first\nsecond"\n', 3, "note", "one line"),
    ("NUL in a note", "taken_at,sbp,dbp,note\n2026-11-20 08:00,121,79,\n"
     "2026-11-21 08:00,120,80,a\x00b\n", 3, "note", "control character"),
    # extra and missing columns and values
    ("unknown column", "taken_at,sbp,dbp,arm\n2026-11-20 08:00,121,79,left\n", 1, "'arm'",
     "not a column"),
    ("participant column", "taken_at,sbp,dbp,participant\n2026-11-20 08:00,121,79,P1\n",
     1, "'participant'", "--participant"),
    ("column named twice", "taken_at,sbp,dbp,sbp\n2026-11-20 08:00,121,79,130\n", 1,
     "sbp", "named twice"),
    ("nameless column", "taken_at,sbp,,dbp\n2026-11-20 08:00,121,,79\n", 1, "column 3",
     "has no name"),
    ("no dbp column", "taken_at,sbp,pulse\n2026-11-20 08:00,121,60\n", 1, "dbp",
     "missing"),
    ("value after the last column", HEADER + GOOD + "2026-11-21 08:00,120,80,60,rest,x,y\n",
     3, "column 6", "7 values for 5 columns"),
    ("values missing", HEADER + GOOD + "2026-11-21 08:00,120\n", 3, "dbp", "missing"),
    ("empty file", "", 0, "", "empty"),
    ("no readings", HEADER, 0, "", "no readings"),
    # values
    ("decimal pressure", HEADER + GOOD + "2026-11-21 08:00,120.5,80,,\n", 3, "sbp",
     "whole number"),
    ("underscore digits", HEADER + GOOD + "2026-11-21 08:00,1_20,80,,\n", 3, "sbp",
     "whole number"),
    ("Arabic-Indic digits", HEADER + GOOD + "2026-11-21 08:00,\u0661\u0662\u0660,80,,\n",
     3, "sbp", "whole number"),
    ("typing error", HEADER + GOOD + "2026-11-21 08:00,300,20,,\n", 3, "dbp",
     "typing error"),
    ("pressures swapped", HEADER + GOOD + "2026-11-21 08:00,80,120,,\n", 3, "sbp/dbp",
     "higher than"),
    ("pulse", HEADER + GOOD + "2026-11-21 08:00,120,80,0,\n", 3, "pulse", "typing error"),
    ("unknown context", HEADER + GOOD + "2026-11-21 08:00,120,80,60,lunch\n", 3,
     "context", "pre, post, rest"),
    # duplicate rows
    ("the same line twice", HEADER + GOOD + "2026-11-21 08:00,120,80,60,rest\n"
     "2026-11-21T08:00:00.000,120,80,60,post\n", 4, "taken_at", "same time as line 3"),
]


@pytest.mark.parametrize(("content", "line", "column", "words"),
                         [case[1:] for case in BAD_FILES],
                         ids=[case[0] for case in BAD_FILES])
def test_a_bad_file_is_refused_in_one_line_and_adds_nothing(
        data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str,
        line: int, column: str, words: str) -> None:
    file = tmp_path / "bp.csv"
    file.write_text(content, encoding="utf-8", newline="")
    message = refused(data, file, capsys)
    if line:
        assert f", line {line}" in message, message
    if column:
        assert f", line {line}, {column}: " in message, message
    assert words in message, message
    views_still_work(data, tmp_path, capsys)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo", "America/Los_Angeles",
                                  "Pacific/Kiritimati", "Pacific/Pago_Pago"])
@pytest.mark.parametrize("when", ["0001-01-01 00:00", "0001-01-01T00:00",
                                  "0001-01-01T00:00+05:00", "0001-01-01T00:00-05:00",
                                  "9999-12-31 23:59", "9999-12-31T23:59:59.999999",
                                  "9999-12-31T23:59+14:00", "9999-12-31T23:59-14:00"])
def test_the_ends_of_the_calendar_in_every_zone(
        data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], zone: str,
        when: str) -> None:
    """Converting these to UTC (or to local time to show them) overflows; never reached."""
    file = tmp_path / "bp.csv"
    file.write_text(HEADER + GOOD + f"{when},120,80,60,rest\n")
    with local_zone(zone):
        message = refused(data, file, capsys)
        assert ", line 3, taken_at: " in message
        assert ("before 1900" if when.startswith("0001") else "in the future") in message
        views_still_work(data, tmp_path, capsys)


def test_not_utf8_is_refused_in_one_line(data: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "bp.csv"
    file.write_bytes((HEADER + GOOD).encode() + b"2026-11-21 08:00,120,80,60,r\xe9st\n")
    assert "not UTF-8" in refused(data, file, capsys)
    file.write_text(HEADER + GOOD, encoding="utf-16")
    assert "not UTF-8" in refused(data, file, capsys)
    views_still_work(data, tmp_path, capsys)


def test_a_missing_file_is_one_line(data: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert "no such file" in refused(data, tmp_path / "none.csv", capsys)


def _limit_memory() -> None:  # pragma: no cover - runs in the child process
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not Path("/dev/zero").exists(),
                    reason="needs FIFOs and /dev/zero (POSIX)")
@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder"])
def test_a_pipe_or_device_is_refused_at_once(data: Path, tmp_path: Path, kind: str) -> None:
    """A FIFO blocked for ever and /dev/zero was read until memory ran out.

    Run in a child process with a time and memory limit, so a regression fails the
    test instead of hanging it or exhausting the machine.
    """
    file = tmp_path / "bp.csv"
    if kind == "fifo":
        os.mkfifo(file)
    elif kind == "dev-zero":
        file.symlink_to("/dev/zero")
    else:
        file.mkdir()
    before = log_of(data)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "isogrip", "--data-dir", str(data), "bp", "import",
         str(file), "--participant", "P1"],
        capture_output=True, text=True, timeout=30, preexec_fn=_limit_memory,
        check=False)
    assert done.returncode == 2, done.stderr[-2000:]
    assert time.monotonic() - started < 20
    (line,) = done.stderr.splitlines()
    assert str(file) in line and "not a regular file" in line
    assert log_of(data) == before


def test_a_good_file_is_added_whole(data: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Byte order mark, CRLF, quoted commas, zones and the edges of the range."""
    file = tmp_path / "bp.csv"
    soon = in_days(0.9)  # a cuff's clock a little ahead is not a typing error
    file.write_bytes(b"\xef\xbb\xbf" + (
        " Taken_At , SBP ,dbp,pulse,context,note\r\n"
        '2026-11-21 08:00,120,80,,PRE,"after a walk, tired"\r\n'
        "\r\n"
        ",,,,,\r\n"
        "1900-01-01T00:00Z,130,85,70,,\r\n"
        f"{soon},125,81,66,rest,\r\n").encode())
    assert main(["--data-dir", str(data), "bp", "import", str(file),
                 "--participant", "P1"]) == 0
    assert capsys.readouterr().out.strip() == "Added 3 readings."
    got = {(r[2], r[3]): r for r in log_of(data)}
    assert got[120, 80][5] == "after a walk, tired"
    assert got[130, 85][1].startswith("1900-01-01T00:00:00.000+00:00")
    with Store.open(data) as store:
        pre = [r for r in store.list_bp_readings("P1") if r.sbp == 120]
    assert pre[0].context == "pre" and pre[0].source == "csv"
    # The same file again adds nothing: its readings are in the log already.
    assert main(["--data-dir", str(data), "bp", "import", str(file),
                 "--participant", "P1"]) == 0
    assert "Added 0 readings. (3 already in the log, skipped)" in capsys.readouterr().out
    assert len(log_of(data)) == 4
    # ... but for another participant they are new.
    assert main(["--data-dir", str(data), "bp", "import", str(file),
                 "--participant", "P2"]) == 0
    assert len(log_of(data)) == 7
    capsys.readouterr()
    views_still_work(data, tmp_path, capsys,
                     [(130, 85), (120, 80), SEEDED, (125, 81)])


def test_time_rules_shared_with_bp_add() -> None:
    from isogrip.bp_check import check_taken_at, parse_taken_at

    now = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
    assert parse_taken_at("2026-12-03T09:59Z", now=now) == \
        dt.datetime(2026, 12, 3, 9, 59, tzinfo=dt.UTC)
    with pytest.raises(BpValueError, match="in the future"):
        parse_taken_at("2026-12-03T10:01Z", now=now)
    with pytest.raises(BpValueError, match="before 1900"):
        check_taken_at(dt.datetime(1, 1, 1), now=now)
    with pytest.raises(BpValueError, match="in the future"):
        check_taken_at(dt.datetime.max.replace(tzinfo=dt.UTC), now=now)
    with pytest.raises(BpValueError, match="too long"):
        parse_taken_at("2026-12-01 " + " " * 100 + "08:00", now=now)


def test_read_bp_csv_writes_nothing_and_names_the_line(tmp_path: Path) -> None:
    from isogrip.cli.bp_csv import read_bp_csv

    file = tmp_path / "bp.csv"
    file.write_text(HEADER + GOOD + GOOD.replace("121", "122"))
    got = read_bp_csv(file)
    assert [(r.line, r.entry.sbp) for r in got] == [(2, 121), (3, 122)]


def test_bp_add_refuses_a_long_reading_in_one_short_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = ["--data-dir", str(tmp_path / "data")]
    assert main([*d, "bp", "add", "1" * 5000 + "/80"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "upper/lower" in line and "(5003 characters)" in line and len(line) < 200
    assert main([*d, "bp", "add", "120/80", "--participant", "x" * 100000]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "not a name" in line and len(line) < 300
    with Store.open(tmp_path / "data") as store:
        assert store.list_bp_readings() == []
