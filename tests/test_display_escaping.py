"""What isogrip shows is shown exactly, and every time a person reads is local time.

Protocol titles, device names, notes and paths come from files, devices and the
database: rich must not read them as markup (``[/]`` raised MarkupError, ``[sham]``
vanished) and Qt must not read them as HTML. Times are stored in UTC but shown in
the local time of the computer, the same in ``isogrip sessions`` and ``bp list``.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from virtual_ble import ProgressorPeripheral, VirtualBleWorld

import isogrip.ble_device.scanner as scanner
from isogrip.ble_device.scanner import FoundDevice
from isogrip.cli import main
from isogrip.storage.store import Store
from isogrip.timefmt import LONG, local_time

TITLE = "Study A [/] week 2 [sham]"
NOTE = "[bold]x[/] :fire: <i>y</i>"
AT = dt.datetime(2026, 1, 15, 14, 30, tzinfo=dt.UTC)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

PROTOCOL = f"""\
[protocol]
name = "study-a"
title = "{TITLE}"

[holds]
reps = 1
hands = "right"
duration_s = 10
rest_s = 5
target_pct_mvc = 30
"""


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    out, _err = capsys.readouterr()
    return code, _ANSI.sub("", out)


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is New York's (UTC-5 in January) for the test."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def stored_session(store: Store, *, protocol_name: str, note: str | None) -> int:
    sid = store.create_session(started_at=AT, protocol_name=protocol_name,
                               protocol={"name": "study-a", "title": protocol_name},
                               device="sim", participant="P01", app_version="0",
                               t0_s=0.0)
    store.finish_session(sid, "aborted", AT + dt.timedelta(minutes=3), note=note)
    return sid


# ------------------------------------------------------------------ terminal (rich)
def test_a_run_in_a_terminal_shows_the_title_exactly_and_completes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich: a terminal, so the live view runs
    proto = tmp_path / "study.toml"
    proto.write_text(PROTOCOL, encoding="utf-8")
    code, out = cli(capsys, "--data-dir", str(tmp_path / "data"), "run", "--protocol",
                    str(proto), "--device", "sim:good", "--speed", "max")
    assert code == 0
    assert f"isogrip · {TITLE}" in out  # the live view's title, every character
    assert "Session 1 complete" in out
    with Store.open(tmp_path / "data") as store:
        assert [s.status for s in store.list_sessions()] == ["complete"]


def test_scan_lists_a_device_name_exactly(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    real_scan = scanner.scan

    async def virtual_scan(timeout: float, *, include_unknown: bool = False,
                           backend: type | None = None) -> list[FoundDevice]:
        async with VirtualBleWorld() as world:
            await world.add(ProgressorPeripheral("Progressor [/]"))
            return await real_scan(0.3, include_unknown=include_unknown,
                                   backend=world.scanner_backend)

    monkeypatch.setattr(scanner, "scan", virtual_scan)
    code, out = cli(capsys, "scan", "--timeout", "0.3")
    assert code == 0
    assert "Progressor [/]" in out and "Tindeq Progressor" in out


def test_sessions_show_protocol_name_and_note_literally(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Store.open(tmp_path) as store:
        stored_session(store, protocol_name=TITLE, note=NOTE)
    code, out = cli(capsys, "--data-dir", str(tmp_path), "sessions")
    assert code == 0
    assert TITLE in out and NOTE in out


def test_exported_paths_are_printed_exactly(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Store.open(tmp_path / "data") as store:
        stored_session(store, protocol_name="study-a", note=None)
    out_dir = tmp_path / "export [sham]"
    code, out = cli(capsys, "--data-dir", str(tmp_path / "data"), "export", "last",
                    "--out", str(out_dir))
    assert code == 0
    assert str(out_dir / "summary.json") in out.replace("\n", "")


# ------------------------------------------------------------------ time convention
@pytest.mark.usefixtures("new_york")
def test_sessions_and_bp_list_show_the_same_local_time(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Store.open(tmp_path) as store:
        stored_session(store, protocol_name="study-a", note=None)
        store.add_bp_reading(sbp=120, dbp=80, taken_at=AT, participant="P01")
    _, sessions = cli(capsys, "--data-dir", str(tmp_path), "sessions")
    _, readings = cli(capsys, "--data-dir", str(tmp_path), "bp", "list")
    # 14:30 UTC is 09:30 in New York; neither list shows the UTC time.
    assert "2026-01-15 09:30" in sessions and "2026-01-15 09:30" in readings
    assert "14:30" not in sessions and "14:30" not in readings
    assert "Started (local time)" in sessions


@pytest.mark.usefixtures("new_york")
def test_local_time_formats() -> None:
    assert local_time(AT.isoformat()) == "2026-01-15 09:30"
    assert local_time(AT, LONG, zone=True) == "Thursday 15 January 2026, 09:30 (UTC-05:00)"
    assert local_time("2026-01-15T09:30:00") == "2026-01-15 09:30"  # naive: local already
    assert local_time("not a time") == "not a time"  # a damaged value is seen, not hidden


# ------------------------------------------------------------------ Qt
def test_qt_labels_show_stored_text_as_plain_text(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PyQt6.QtCore import Qt

    from isogrip.ui.common import label
    from isogrip.ui.summary_screen import SummaryScreen

    assert label("<b>x</b>").textFormat() == Qt.TextFormat.PlainText
    with Store.open(tmp_path) as store:
        sid = stored_session(store, protocol_name="<b>x</b>", note="<i>y</i> [bold]z[/]")
        screen = SummaryScreen()
        qtbot.addWidget(screen)
        screen.load(store, sid)
        qtbot.waitUntil(lambda: screen.data is not None, timeout=10_000)
    sub = screen.subtitle
    assert sub.textFormat() == Qt.TextFormat.PlainText
    assert "<b>x</b>" in sub.text() and "<i>y</i> [bold]z[/]" in sub.text()


def test_only_isogrip_s_own_html_is_rendered(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PyQt6.QtCore import Qt

    from isogrip.ui.common import label, question_box
    from isogrip.ui.welcome_screen import WelcomeScreen

    welcome = WelcomeScreen()
    qtbot.addWidget(welcome)
    formats = {w.textFormat() for w in welcome.findChildren(type(label()))}
    assert Qt.TextFormat.RichText in formats  # the welcome text is HTML written here
    # A question quoting an error (with a path) is not read as HTML either.
    box = question_box(None, "The database is damaged", "/data/<b>x</b>.db")
    qtbot.addWidget(box)
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert box.text() == "/data/<b>x</b>.db"
