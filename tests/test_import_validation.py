"""``isogrip import``: every malformed export is refused in one line, and adds nothing.

Each case is an export that once gave a traceback (``"mvc": [1, 2]``, a summary nested
100000 deep, an event detail over 128 KiB), hung or read without end (``events.csv``
as a FIFO or a link to ``/dev/zero``), or was stored and then broke later commands
(``report --participant``, the EDF+ export and the app's Start button on a
``started_at`` that is no date; the report on a hold's hand ``"middle"``; the
participant table on a metric that is text; the EDF+ export on a sample rate that is
text). Now each gives exit status 2 and one line naming the file, the line and the
field, and the store is unchanged. The property test at the end mutates a real
export field by field and, whenever the import accepts it, runs every reader.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import datetime as dt
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from isogrip.cli import main
from isogrip.ids import ParticipantIdError
from isogrip.runtime import SessionConfig, SessionRuntime
from isogrip.storage.export import export_session
from isogrip.storage.importer import ImportFileError, import_session
from isogrip.storage.store import Store

SHORT_PROTOCOL = """\
[protocol]
name = "short-test"
title = "Short test protocol"
[holds]
reps = 2
duration_s = 6
rest_s = 2
[timing]
prepare_s = 1
countdown_s = 1
ramp_s = 1
rest_after_mvc_s = 2
breathing_reminder_s = 5
[mvc]
trials_per_hand = 2
max_trials_per_hand = 3
effort_s = 3
rest_s = 2
"""
PARTICIPANT = "P7"

Edit = Callable[[Path], None]


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real export: a short simulated session (MVC, two holds, a link drop)."""
    base = tmp_path_factory.mktemp("import-validation")
    protocol = base / "short.toml"
    protocol.write_text(SHORT_PROTOCOL)
    store = Store.open(base / "data")
    try:
        result = SessionRuntime(SessionConfig(
            device="sim:good?seed=5&disconnect_at=12&disconnect_s=1", protocol=str(protocol),
            speed=None, participant=PARTICIPANT), store).run()
        export_session(store, result.session_id, base / "export")
    finally:
        store.close()
    return base / "export"


@pytest.fixture
def folder(exported: Path, tmp_path: Path) -> Path:
    """A copy of the export to damage."""
    return Path(shutil.copytree(exported, tmp_path / "export"))


# ---------------------------------------------------------------------------- edits
def _set_path(doc: Any, path: str, value: Any) -> None:
    """Set ``a.b[0].c`` in a JSON document (``DELETE`` removes the key)."""
    parts: list[str | int] = []
    for name in path.split("."):
        key, *indices = name.replace("]", "").split("[")
        parts += [key, *(int(i) for i in indices)]
    for part in parts[:-1]:
        doc = doc[part]
    if value is DELETE:
        del doc[parts[-1]]
    else:
        doc[parts[-1]] = value


DELETE = object()


def summary(path: str, value: Any) -> Edit:
    def edit(folder: Path) -> None:
        p = folder / "summary.json"
        doc = json.loads(p.read_text())
        _set_path(doc, path, value)
        p.write_text(json.dumps(doc, indent=2, allow_nan=True))
    return edit


def summary_text(old: str, new: str) -> Edit:
    def edit(folder: Path) -> None:
        p = folder / "summary.json"
        text = p.read_text()
        assert old in text
        p.write_text(text.replace(old, new, 1))
    return edit


def line(file: str, number: int, text: str | bytes, *, insert: bool = False) -> Edit:
    """Replace (or insert before) line ``number`` (1 = the header) of a CSV file."""
    def edit(folder: Path) -> None:
        p = folder / file
        lines = p.read_bytes().split(b"\n")
        new = text.encode() if isinstance(text, str) else text
        lines[number - 1:number - 1 if insert else number] = [new]
        p.write_bytes(b"\n".join(lines))
    return edit


def sample(number: int, column: int, text: str) -> Edit:
    """Set one number field of ``samples.csv`` (column 0 t_s, 1 t_device_s, 2 force_n)."""
    def edit(folder: Path) -> None:
        p = folder / "samples.csv"
        lines = p.read_text().split("\n")
        fields = lines[number - 1].split(",")
        fields[column] = text
        lines[number - 1] = ",".join(fields)
        p.write_text("\n".join(lines))
    return edit


def swap_samples(a: int, b: int) -> Edit:
    def edit(folder: Path) -> None:
        p = folder / "samples.csv"
        lines = p.read_text().split("\n")
        lines[a - 1], lines[b - 1] = lines[b - 1], lines[a - 1]
        p.write_text("\n".join(lines))
    return edit


def crowd_the_end(folder: Path) -> None:
    """8000 long events after the last sample: the EDF+ export would need 8 MB a second."""
    with (folder / "events.csv").open("a") as fh:
        for _ in range(8000):
            fh.write('1000.000000,warning,"{""message"":""' + "y" * 990 + '""}"\n')


def event_line(detail: dict[str, Any] | str, kind: str = "warning", t: str = "1.000000") -> str:
    """An events.csv line."""
    text = detail if isinstance(detail, str) else json.dumps(detail, allow_nan=True)
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow((t, kind, text))
    return out.getvalue()


# ---------------------------------------------------------------------------- checks
def store_is_empty(data: Path) -> bool:
    with Store.open(data) as store:
        return store.list_sessions() == []


def refused(folder: Path, data: Path, capsys: pytest.CaptureFixture[str]) -> ImportFileError:
    """Import ``folder`` as a user would: exit 2, one line, nothing stored."""
    with Store.open(data) as store:
        with pytest.raises(ImportFileError) as info:
            import_session(store, folder)
        assert store.list_sessions() == []
    msg = str(info.value)
    assert "\n" not in msg and len(msg) < 400, msg[:400]
    capsys.readouterr()
    code = main(["--data-dir", str(data), "import", str(folder)])
    out, err = capsys.readouterr()
    assert (code, out, err) == (2, "", f"isogrip: error: {msg}\n")
    assert store_is_empty(data)
    return info.value


def names(exc: ImportFileError, file: str, line: int | None, field: str | None,
          words: str) -> None:
    """The error names the file, line and field, and says ``words``."""
    assert (exc.path.name, exc.line, exc.field) == (file, line, field), str(exc)
    assert str(exc).startswith(str(exc.path)), str(exc)
    where = str(exc.path) + (f", line {line}" if line else "") + (f": {field}" if field else "")
    assert str(exc).startswith(where + ": "), str(exc)
    assert words in str(exc), str(exc)


S = "summary.json"
E = "events.csv"
DEEP = "[" * 100_000 + "]" * 100_000
UUID = "0b8e2f4c-6a1d-4c3e-9f2a-1b2c3d4e5f60"

# (case, edit, file, line, field, words)
CASES: list[tuple[str, Edit, str, int | None, str | None, str]] = [
    # types and nesting in summary.json
    ("mvc as a list", summary("mvc", [1, 2]), S, None, "mvc", "must be an object"),
    ("summary nested 100000 deep", summary_text('"note": null', '"note": ' + DEEP), S,
     None, None, "nested 100001 levels deep"),
    ("device_info a list", summary("device_info", [1]), S, None, "device_info",
     "must be an object"),
    ("unknown key", summary("extra", 1), S, None, "extra", "not a known key"),
    ("format version 2", summary("format_version", 2), S, None, "format_version",
     "must be 1"),
    ("NaN in the protocol", summary("protocol.hold_s", float("nan")), S, None,
     "protocol.hold_s", "finite"),
    ("lone surrogate", summary_text('"app_version": "', '"app_version": "\\ud800'), S,
     None, "app_version", "U+D800"),
    # dates and time zones
    ("started_at not a date", summary("started_at", "yesterday"), S, None, "started_at",
     "ISO 8601"),
    ("started_at without a time zone", summary("started_at", "2024-05-01T09:30:00"), S,
     None, "started_at", "time zone"),
    ("year 1", summary("started_at", "0001-01-01T00:00:00+00:00"), S, None, "started_at",
     "between 2000-01-01 and 2084-12-30"),
    ("year 9999", summary("started_at", "9999-12-31T23:59:59.999999+14:00"), S, None,
     "started_at", "between"),
    ("30 February", summary("started_at", "2024-02-30T10:00:00+00:00"), S, None,
     "started_at", "not a real date"),
    ("offset of 15 hours", summary("started_at", "2024-05-01T09:30:00+15:00"), S, None,
     "started_at", "beyond 14 hours"),
    ("in the future", summary("started_at", "2080-01-01T00:00:00+00:00"), S, None,
     "started_at", "in the future"),
    ("ended before it started", summary("ended_at", "2001-01-01T00:00:00+00:00"), S,
     None, "ended_at", "before started_at"),
    # enumerations, identifiers
    ("unknown status", summary("status", "bogus"), S, None, "status",
     "complete, aborted, interrupted"),
    ("still running", summary("status", "running"), S, None, "status", "has ended"),
    ("completed disagrees", summary("completed", False), S, None, "completed",
     "status is complete"),
    ("session id beyond 64 bits", summary("session_id", 2**70), S, None, "session_id",
     "64 bits"),
    ("session id too large", summary("session_id", 2**40), S, None, "session_id",
     "between 1 and 1000000000"),
    ("session id text", summary("session_id", "x"), S, None, "session_id",
     "whole number"),
    ("session id true", summary("session_id", True), S, None, "session_id",
     "whole number"),
    ("uuid not a uuid", summary("uuid", "abc"), S, None, "uuid", "not a UUID"),
    ("uuid in capitals", summary("uuid", UUID.upper()), S, None, "uuid", "lower case"),
    ("participant a number", summary("participant", 17), S, None, "participant",
     "must be text"),
    ("participant with escape codes", summary("participant", "P7\x1b[2J"), S, None,
     "participant", "control character U+001B"),
    ("protocol out of range", summary("protocol.reps", -3), S, None, "protocol.reps",
     "between 1 and 20"),
    ("protocol without a name", summary("protocol.name", DELETE), S, None,
     "protocol.name", "required"),
    ("protocol a list", summary("protocol", [1]), S, None, "protocol", "must be an object"),
    ("sample rate as text", summary("device_info.nominal_rate_hz", "abc"), S, None,
     "device_info.nominal_rate_hz", "must be a number"),
    ("sample rate of a GHz", summary("device_info.nominal_rate_hz", 1e9), S, None,
     "device_info.nominal_rate_hz", "between"),
    ("note with a NUL", summary("note", "stop\x00"), S, None, "note", "U+0000"),
    # MVC, trials and holds
    ("MVC as text", summary("mvc.left.mvc_n", "big"), S, None, "mvc.left.mvc_n",
     "must be a number"),
    ("third hand", summary("mvc.middle", {}), S, None, "mvc.middle", "not a known key"),
    ("trial of the other hand", summary("mvc.left.trials[0].hand", "right"), S, None,
     "mvc.left.trials[0].hand", "must be left"),
    ("trial listed twice", summary("mvc.left.trials[1].trial", 1), S, None,
     "mvc.left.trials[1].trial", "repeats trial 1"),
    ("trial ends before it starts", summary("mvc.left.trials[0].t_end_s", 0.5), S, None,
     "mvc.left.trials[0].t_end_s", "before t_start_s"),
    ("hand 'middle'", summary("holds[0].hand", "middle"), S, None, "holds[0].hand",
     "left, right or null"),
    ("rep as text", summary("holds[0].rep", "one"), S, None, "holds[0].rep",
     "whole number"),
    ("rep beyond the range", summary("holds[0].rep", 40_000), S, None, "holds[0].rep",
     "between 1 and 10000"),
    ("hold listed twice", summary("holds[1].rep", 1), S, None, "holds[1]",
     "repeats hold 1, attempt 1"),
    ("metric as text", summary("holds[0].duration_s", "abc"), S, None,
     "holds[0].duration_s", "must be a number"),
    ("metric replacing a table column", summary("holds[0].started_at", 1.0), S, None,
     "holds[0].started_at", "not a hold metric name"),
    ("completed as text", summary("holds[0].completed", "yes"), S, None,
     "holds[0].completed", "true or false"),
    ("force of a megatonne", summary("holds[0].target_n", 1e10), S, None,
     "holds[0].target_n", "between"),
    ("n_samples as text", summary("n_samples", "70808"), S, None, "n_samples",
     "whole number"),
    ("n_samples disagrees", summary("n_samples", 3), "samples.csv", None, None,
     "the export is incomplete"),
    # events.csv
    ("detail over 128 KiB", line(E, 3, event_line({"message": "x" * 140_000}), insert=True), E,
     3, "detail", "longer than 131072 characters"),
    ("detail over 16 KiB", line(E, 3, event_line({"message": "x" * 20_000}), insert=True), E, 3,
     "detail", "longer than 16384 characters"),
    ("detail nested deep", line(E, 3, event_line("[" * 1000 + "]" * 1000), insert=True), E, 3,
     "detail", "nested 1000 levels deep"),
    ("detail not JSON", line(E, 3, "1.000000,warning,{nope", insert=True), E, 3, "detail",
     "not valid JSON"),
    ("detail not an object", line(E, 3, event_line("[1]"), insert=True), E, 3, "detail",
     "must be an object"),
    ("message as a list", line(E, 3, event_line({"message": [1]}), insert=True), E, 3,
     "detail.message", "must be text"),
    ("unknown event kind", line(E, 3, event_line({}, kind="whatever"), insert=True), E, 3,
     "kind", "not a kind of isogrip event"),
    ("NaN time", line(E, 3, event_line({}, t="nan"), insert=True), E, 3, "t_s",
     "number like 12.5"),
    ("time as an exponent", line(E, 3, event_line({}, t="1e5"), insert=True), E, 3, "t_s",
     "number like 12.5"),
    ("time past a day", line(E, 3, event_line({}, t="90000.000000"), insert=True), E, 3, "t_s",
     "between -3600 and 86400"),
    ("unknown phase", line(E, 3, event_line({"phase": "dancing"}, kind="phase"), insert=True),
     E, 3, "detail.phase", "must be one of"),
    ("phase rep as text", line(E, 3, event_line({"phase": "hold", "rep": "one"}, kind="phase"),
                               insert=True), E, 3, "detail.rep", "whole number"),
    ("phase target NaN", line(E, 3, event_line({"phase": "hold", "target_n": float("nan")},
                                          kind="phase"), insert=True), E, 3,
     "detail.target_n", "finite"),
    ("phase hand 'middle'", line(E, 3, event_line({"phase": "hold", "hand": "middle"},
                                             kind="phase"), insert=True), E, 3,
     "detail.hand", "left, right or null"),
    ("two fields", line(E, 3, "1.000000,warning", insert=True), E, 3, None,
     "has 2 fields"),
    ("NUL byte", line(E, 3, "1.000000,warning,{}\x00", insert=True), E, 3, "detail",
     "not valid JSON"),
    ("quote in the middle", line(E, 3, '1.000000,warning,"{}"x', insert=True), E, 3, None,
     "not valid CSV"),
    ("not UTF-8", line(E, 3, b"1.000000,warning,\xff", insert=True), E, None, None,
     "not UTF-8"),
    ("events header", line(E, 1, "time,kind,detail"), E, 1, None, "the header must be"),
    ("events crowding the end", crowd_the_end, E, None, None, "EDF+ export"),
    # samples.csv
    ("NaN force", sample(101, 2, "nan"), "samples.csv", 101, "force_n", "number like 12.5"),
    ("infinite time", sample(101, 0, "inf"), "samples.csv", 101, "t_s", "number like"),
    ("force as an exponent", sample(101, 2, "1e300"), "samples.csv", 101, "force_n",
     "number like"),
    ("force beyond 20 kN", sample(101, 2, "30000.0000"), "samples.csv", 101, "force_n",
     "between -20000 and 20000"),
    ("quoted time", sample(101, 0, '"0.5"'), "samples.csv", 101, "t_s", "number like"),
    ("empty time", sample(101, 0, ""), "samples.csv", 101, "t_s", "is empty"),
    ("time past a day", sample(101, 0, "86400.000001"), "samples.csv", 101, "t_s",
     "between"),
    ("device clock of a millennium", sample(101, 1, "99999999999.0"), "samples.csv", 101,
     "t_device_s", "between"),
    ("time going back", swap_samples(100, 101), "samples.csv", 101, "t_s",
     "goes back in time"),
    ("blank line", line("samples.csv", 101, ""), "samples.csv", 101, "t_s", "is empty"),
    ("short line", line("samples.csv", 101, "1,2"), "samples.csv", 101, None,
     "has 2 fields; samples.csv has 12"),
    ("samples header", line("samples.csv", 1, "t_s,force_n"), "samples.csv", 1, None,
     "the header must be"),
]


@pytest.mark.parametrize(("edit", "file", "line_no", "field", "words"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_malformed_export_is_refused_in_one_line(
        folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Edit,
        file: str, line_no: int | None, field: str | None, words: str) -> None:
    edit(folder)
    names(refused(folder, tmp_path / "data", capsys), file, line_no, field, words)


def test_a_name_as_participant_is_refused(folder: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    summary("participant", "John Smith")(folder)
    exc = refused(folder, tmp_path / "data", capsys)
    names(exc, S, None, "participant", "not a name")
    assert isinstance(exc, ParticipantIdError)


def _import_in_a_subprocess(folder: Path, data: Path) -> subprocess.CompletedProcess[str]:
    """``isogrip import`` in its own process: with 2 GB of memory, for 60 s at most."""
    def limit_memory() -> None:
        import resource  # POSIX only, like the FIFO and /dev/zero these tests need

        with contextlib.suppress(ValueError, OSError):  # macOS may refuse RLIMIT_AS
            resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    return subprocess.run(
        [sys.executable, "-m", "isogrip", "--data-dir", str(data), "import", str(folder)],
        capture_output=True, text=True, timeout=60, preexec_fn=limit_memory, check=False,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_as_events_does_not_block(folder: Path, tmp_path: Path) -> None:
    (folder / "events.csv").unlink()
    os.mkfifo(folder / "events.csv")  # nobody ever writes to it
    done = _import_in_a_subprocess(folder, tmp_path / "data")
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr == (f"isogrip: error: {folder / 'events.csv'}: is not a regular "
                           "file; give a file (not a folder, pipe or device)\n")
    assert store_is_empty(tmp_path / "data")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_events_linked_to_dev_zero_is_not_read(folder: Path, tmp_path: Path) -> None:
    (folder / "events.csv").unlink()
    (folder / "events.csv").symlink_to("/dev/zero")
    done = _import_in_a_subprocess(folder, tmp_path / "data")
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.startswith(f"isogrip: error: {folder / 'events.csv'}: is not a "
                                  "regular file")
    assert done.stderr.count("\n") == 1
    assert store_is_empty(tmp_path / "data")


def test_files_too_large_or_missing_are_refused(folder: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from isogrip.files import SAMPLES_FILE_LIMIT, SMALL_FILE_LIMIT

    data = tmp_path / "data"
    good = (folder / "summary.json").read_bytes()
    with (folder / "summary.json").open("ab") as fh:
        fh.truncate(SMALL_FILE_LIMIT + 1)  # sparse: costs no disk
    names(refused(folder, data, capsys), S, None, None, "too large")
    (folder / "summary.json").write_bytes(good)
    with (folder / "samples.csv").open("ab") as fh:
        fh.truncate(SAMPLES_FILE_LIMIT + 1)
    names(refused(folder, data, capsys), "samples.csv", None, None, "is too large")
    (folder / "samples.csv").unlink()
    names(refused(folder, data, capsys), folder.name, None, None,
          "not a complete export: samples.csv is missing")
    (folder / "samples.csv").mkdir()
    names(refused(folder, data, capsys), "samples.csv", None, None, "not a regular file")


# ---------------------------------------------------------------------------- accepted
def test_what_the_format_allows_is_still_imported(folder: Path, tmp_path: Path) -> None:
    """Empty force and device-clock fields, an event without a time, ``Z``, no participant."""
    sample(101, 2, "")(folder)
    sample(102, 1, "")(folder)
    line(E, 3, event_line({"message": "a note"}, t=""), insert=True)(folder)
    summary("started_at", "2024-05-01T09:30:00Z")(folder)
    summary("ended_at", "2024-05-01T09:45:00.5-12:00")(folder)
    summary("participant", None)(folder)
    with Store.open(tmp_path / "data") as store:
        sid = import_session(store, folder)
        read_everything(store, sid, tmp_path / "out")
        _, t_dev, force = store.load_samples(sid)
        events = store.load_events(sid)
    assert math.isnan(force[99]) and math.isnan(t_dev[100]) and events[1].t_s is None
    assert len(events) == len((folder / "events.csv").read_text().splitlines()) - 1


def read_everything(store: Store, sid: int, out: Path) -> None:
    """Every command and view that reads a stored session; none may raise."""
    from isogrip.storage.export_formats import EXPORT_FORMATS, export, export_participant
    from isogrip.storage.history import last_measured_mvc, previous_mvc
    from isogrip.ui.history_screen import HistoryScreen, load_history
    from isogrip.ui.report import participant_report, session_report
    from isogrip.ui.summary_screen import SummaryScreen, load_session_data

    assert main(["--data-dir", str(store.path.parent), "sessions"]) == 0
    for fmt in EXPORT_FORMATS:
        export(store, sid, out / fmt, fmt)
    with Store.open(out / "again") as again:  # what export writes, import reads
        import_session(again, out / "csv")
    session_report(store, sid, out / "session.png")
    info = store.get_session_info(sid)
    who = info.participant
    if who is not None:
        participant_report(store, who, out / "progress.png")
        for fmt in ("parquet", "csv"):
            export_participant(store, who, out, fmt)
    last_measured_mvc(store, who, within_days=365_000)  # the app's Start button
    previous_mvc(store, sid)
    history = HistoryScreen()
    history._loaded(load_history(store, who))
    screen = SummaryScreen()
    screen._loaded(load_session_data(store, sid))
    history.deleteLater()
    screen.deleteLater()


# ---------------------------------------------------------------------------- property
TIME_ZONES = [dt.UTC, dt.timezone(dt.timedelta(hours=14)),
              dt.timezone(dt.timedelta(hours=-12)), dt.timezone(dt.timedelta(hours=5.5)),
              None]
DATES = st.builds(
    lambda when, zone, spec: when.replace(tzinfo=zone).isoformat(timespec=spec),
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),
    st.sampled_from(TIME_ZONES), st.sampled_from(["seconds", "milliseconds", "minutes"]))
CALENDAR_ENDS = st.sampled_from([
    "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59.999999+00:00",
    "2000-01-01T00:00:00+00:00", "1999-12-31T23:59:59-14:00", "2000-01-01T00:00:00+14:00",
    "2084-12-30T00:00:00+00:00", "2084-12-31T23:59:59+14:00", "2024-02-29T12:00:00+00:00",
    "2023-02-29T12:00:00+00:00", "2024-12-31T23:59:60+00:00", "2024-05-01T09:30:00Z",
    "2024-05-01 09:30:00+00:00", "2024-05-01T24:00:00+00:00", "2024-05-01T09:30:00+14:00",
    "2024-05-01T09:30:00-12:00", "2024-05-01T09:30:00+99:99", "2024-05-01"])
ODD_TEXT = st.sampled_from([
    "", " ", "P 7", "John Smith", "P7\n", "\x00", "\x1b[31m", "[/bold]", "\ud800", "x" * 5000,
    "left", "right", "middle", "hold", "phase", "complete", "running", "aborted",
    "interrupted", str(uuid.uuid4()), UUID.upper(), "NaN", "1e309", "-0", "2**63"])
NUMBERS = st.one_of(
    st.integers(min_value=-2**70, max_value=2**70), st.floats(),
    st.sampled_from([0, -1, 1, 2, 20, 21, 10_000, 10_001, 2**31, 2**63, 1e300, -0.0,
                     -3600.0, -3600.5, 86400.0, 86400.001, 20000.0, 20000.1, 0.05, 1e9]))
VALUES = st.one_of(
    st.none(), st.booleans(), NUMBERS, st.text(max_size=30), ODD_TEXT, DATES,
    CALENDAR_ENDS, st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2), st.just(DELETE))
SUMMARY_FIELDS = [
    "session_id", "uuid", "started_at", "ended_at", "status", "completed", "note",
    "device", "participant", "app_version", "n_samples", "format_version", "bp_check",
    "protocol.reps", "protocol.hold_s", "protocol.target_pct", "protocol.name",
    "protocol.title", "protocol.display_scale", "protocol.hide_intensity",
    "protocol.mvc.floor_n", "device_info", "device_info.nominal_rate_hz",
    "device_info.full_scale_n", "device_info.kind", "mvc.left", "mvc.left.mvc_n",
    "mvc.left.best_trial", "mvc.left.flags", "mvc.right.trials", "mvc.left.trials[0].trial",
    "mvc.left.trials[0].t_start_s", "mvc.left.trials[0].score_n",
    "mvc.left.trials[0].plausible", "mvc.left.trials[0].message", "holds",
    "holds[0].rep", "holds[0].attempt", "holds[0].hand", "holds[0].t_go_s",
    "holds[0].t_end_s", "holds[0].target_n", "holds[0].band_high_n", "holds[0].mvc_n",
    "holds[0].completed", "holds[0].time_in_band_pct", "holds[0].n_samples",
    "holds[1].new_metric"]
DETAIL_KEYS = ["phase", "hand", "rep", "trial", "target_n", "band_low_n", "band_high_n",
               "mvc_n", "message", "duration_s", "stage", "metrics"]
CSV_NUMBERS = st.one_of(
    st.floats().map(lambda x: f"{x:.6f}"), st.floats().map(repr),
    st.integers(min_value=-10**7, max_value=10**7).map(str),
    st.sampled_from(["", "nan", "inf", "-0", "1e5", "+1", " 1", "0x10", "1_0", "99999.999999",
                     "-3600.000000", "-3600.000001", "86400.000000", "19999.9999",
                     "20000.0001"]))


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, Any, Any]:
    """One change to a real export: (file, where, new value)."""
    file = draw(st.sampled_from(["summary.json", "events.csv", "samples.csv"]))
    if file == "summary.json":
        return file, draw(st.sampled_from(SUMMARY_FIELDS)), draw(VALUES)
    if file == "events.csv":
        column = draw(st.sampled_from(["t_s", "kind", "detail"]))
        key = draw(st.sampled_from(DETAIL_KEYS))
        value = (draw(VALUES) if column == "detail" else
                 draw(st.one_of(CSV_NUMBERS, ODD_TEXT)) if column == "t_s" else
                 draw(st.one_of(ODD_TEXT, st.sampled_from(["phase", "gap", "warning"]))))
        return file, (draw(st.sampled_from(["phase", "hold_result", "warning", "other"])),
                      column, key), value
    where = (draw(st.integers(min_value=2, max_value=3000)), draw(st.integers(0, 2)))
    return file, where, draw(CSV_NUMBERS)


def mutate(folder: Path, change: tuple[str, Any, Any]) -> None:
    file, where, value = change
    if file == "summary.json":
        # A part this export does not have is left as it is.
        with contextlib.suppress(KeyError, IndexError, TypeError):
            summary(where, value)(folder)
        return
    if file == "samples.csv":
        sample(where[0], where[1], value)(folder)
        return
    kind, column, key = where
    p = folder / "events.csv"
    rows = list(csv.reader(p.open(newline="")))
    n = next((i for i, r in enumerate(rows[1:], 1) if r[1] == kind), len(rows) - 1)
    row = rows[n]
    if column == "detail":
        detail = json.loads(row[2])
        if value is DELETE:
            detail.pop(key, None)
        else:
            detail[key] = copy.deepcopy(value)
        row[2] = json.dumps(detail, allow_nan=True)
    else:
        row[0 if column == "t_s" else 1] = value
    # A lone surrogate is written as the bytes Python would make of it: not UTF-8.
    with p.open("w", newline="", encoding="utf-8", errors="surrogatepass") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(change=mutations())
def test_whatever_import_accepts_every_reader_reads(exported: Path,
                                                    change: tuple[str, Any, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(shutil.copytree(exported, Path(tmp) / "export"))
        mutate(folder, change)
        with Store.open(Path(tmp) / "data") as store:
            try:
                sid = import_session(store, folder)
            except ImportFileError as exc:
                assert "\n" not in str(exc) and str(exc).startswith(str(exc.path))
                assert store.list_sessions() == []
                event("refused")
                return
            event("accepted")
            read_everything(store, sid, Path(tmp) / "out")
