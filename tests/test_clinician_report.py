"""The clinician page: its words come from the programme, the readings and the MVCs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from isogrip.cli import main
from isogrip.programme_status import load_view
from isogrip.signal.units import KGF_N
from isogrip.storage.store import Store
from isogrip.ui.clinician_report import clinician_content, clinician_report

WEAK = "sim:good?seed=2&endurance_s=25&rate=20&jitter_ms=0"


def cli(tmp_path: Path, *args: str) -> int:
    return main(["--data-dir", str(tmp_path / "data"), *args])


def _readings(store: Store, first: dt.date, sbp: int, dbp: int) -> None:
    """Four readings a day for seven days from ``first`` (local time)."""
    for day in range(7):
        for hour in (7, 8, 19, 20):
            when = dt.datetime.combine(first + dt.timedelta(days=day),
                                       dt.time(hour)).astimezone()
            store.add_bp_reading(sbp=sbp, dbp=dbp, taken_at=when, participant="P01")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    today = dt.datetime.now().astimezone().date()
    start = today - dt.timedelta(days=15)
    assert cli(tmp_path, "programme", "start", "--start", start.isoformat(),
               "--participant", "P01") == 0
    for _ in range(2):
        assert cli(tmp_path, "run", "--device", WEAK, "--speed", "max", "--headless",
                   "--participant", "P01") == 0
    with Store.open(tmp_path / "data") as store:
        _readings(store, start, 140, 90)
    return tmp_path


def test_the_page_says_adherence_bp_and_mvc_and_renders(data: Path) -> None:
    today = dt.datetime.now().astimezone().date()
    with Store.open(data / "data", read_only=True) as store:
        view = load_view(store, "P01", today)
        assert view is not None
        text = "\n".join(clinician_content(store, "P01", today).lines())
        mvc = store.list_mvc("P01")
        pdf = clinician_report(store, "P01", data / "c.pdf", today)
        png = clinician_report(store, "P01", data / "c.png", today)
    st = view.status
    assert f"{st.done_overall} of {st.planned_overall} planned sessions done" in text
    assert "Participant P01" in text
    assert "| 140/90 |" in text and "baseline" in text  # the baseline week's average
    assert f"{mvc[0].mvc_n / KGF_N:.1f} kg" in text
    assert "% MVC" in text  # the intensity steps
    assert "not a medical device" in text and "not a diagnosis" in text
    assert pdf.stat().st_size > 10_000 and pdf.read_bytes().startswith(b"%PDF")
    assert png.stat().st_size > 50_000 and png.read_bytes().startswith(b"\x89PNG")


def test_without_a_programme_the_page_uses_sessions_and_readings(tmp_path: Path) -> None:
    monday = dt.date(2026, 11, 2)
    with Store.open(tmp_path / "data") as store:
        _readings(store, monday, 130, 80)
        c = clinician_content(store, "P01", dt.date(2026, 11, 20))
        out = clinician_report(store, "P01", tmp_path / "n.png", dt.date(2026, 11, 20))
    text = "\n".join(c.lines())
    assert "No programme recorded" in text and "| 130/80 |" in text
    assert "No MVC measured." in text and out.stat().st_size > 20_000


@pytest.mark.parametrize(("args", "message"), [
    (("last", "--clinician"), "--clinician needs --participant"),
    (("--clinician",), "--clinician needs --participant"),
    (("--participant", "P09", "--clinician"), "nothing to report"),
])
def test_clinician_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       args: tuple[str, ...], message: str) -> None:
    assert cli(tmp_path, "report", *args, "--out", str(tmp_path / "x.pdf")) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_the_cli_writes_the_clinician_page(data: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = data / "clin.pdf"
    assert cli(data, "report", "--participant", "P01", "--clinician", "--out", str(out)) == 0
    assert str(out) in capsys.readouterr().out and out.stat().st_size > 10_000


def test_training_despite_a_high_reading_is_a_notable_event(tmp_path: Path) -> None:
    assert cli(tmp_path, "run", "--device", WEAK, "--speed", "max", "--headless",
               "--participant", "P01", "--bp", "190/115", "--train-anyway") == 0
    with Store.open(tmp_path / "data", read_only=True) as store:
        c = clinician_content(store, "P01")
    assert any("trained despite 190/115 mmHg" in e for e in c.events)
    assert "No programme recorded. Sessions: 1 (1 complete)." in c.programme
