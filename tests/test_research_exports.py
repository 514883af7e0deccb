"""Parquet, EDF+ and JSON exports, the participant table, import round trip, BP CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyedflib
import pytest

from isogrip.cli import main
from isogrip.errors import IsogripError, StorageError
from isogrip.runtime import SessionConfig, SessionRuntime
from isogrip.storage.export import export_session, quantize
from isogrip.storage.export_formats import export, participant_table
from isogrip.storage.importer import ImportFileError, import_session
from isogrip.storage.store import Store
from isogrip.types import Hand


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """One full simulated session (with a link drop) and one reused-MVC session of P9."""
    data = tmp_path_factory.mktemp("data")
    store = Store.open(data)
    first = SessionRuntime(SessionConfig(
        device="sim:good?seed=5&disconnect_at=300&disconnect_s=3", speed=None,
        participant="P9"), store).run()
    SessionRuntime(SessionConfig(device="sim:good?seed=6", speed=None, participant="P9",
                                 known_mvc={Hand.LEFT: 300.0, Hand.RIGHT: 320.0}),
                   store).run()
    store.close()
    return data, first.session_id


def test_parquet_has_typed_columns_and_the_session_in_its_metadata(
        recorded: tuple[Path, int], tmp_path: Path) -> None:
    data, sid = recorded
    with Store.open(data) as store:
        [path] = export(store, sid, tmp_path, "parquet")
        t, _, force = store.load_samples(sid)
        holds = store.load_holds(sid)
    assert path.name == "samples.parquet" and path.stat().st_mode & 0o077 == 0
    table = pq.read_table(path)
    types = {f.name: str(f.type) for f in table.schema}
    assert types["t_s"] == "double" and types["force_n"] == "double"
    assert types["rep"] == "int16" and types["in_band"] == "bool"
    assert types["phase"].startswith("dictionary<values=string")
    df = table.to_pandas()
    assert len(df) == len(t)
    assert np.array_equal(df["force_n"].to_numpy(), force)  # exact, not rounded
    hold2 = df[(df["phase"] == "hold") & (df["rep"] == 2)]
    assert set(hold2["hand"]) == {"left"}
    assert 20 < hold2["pct_mvc"].median() < 40
    assert df["in_band"].isna().sum() > 0 and df["in_band"].sum() > 0
    meta = table.schema.metadata
    summary = json.loads(meta[b"isogrip.summary"])
    events = json.loads(meta[b"isogrip.events"])
    assert summary["session_id"] == sid and summary["participant"] == "P9"
    assert len(summary["holds"]) == len(holds)
    assert any(e["kind"] == "device_disconnected" for e in events)


def test_edf_plus_has_the_force_channel_and_every_event(
        recorded: tuple[Path, int], tmp_path: Path) -> None:
    data, sid = recorded
    with Store.open(data) as store:
        [path] = export(store, sid, tmp_path, "edf")
        t, _, force = store.load_samples(sid)
        info = store.get_session_info(sid)
        n_events = len(store.load_events(sid))
    reader = pyedflib.EdfReader(str(path))
    try:
        assert reader.signals_in_file == 1
        assert reader.getLabel(0) == "Force" and reader.getPhysicalDimension(0) == "N"
        assert reader.getSampleFrequency(0) == 80
        assert reader.getPatientCode() == "P9"
        x = reader.readSignal(0)
        lo, hi = reader.getPhysicalMinimum(0), reader.getPhysicalMaximum(0)
        assert lo <= force.min() and hi >= force.max()
        step = (hi - lo) / 65535
        grid = np.arange(len(x)) / 80.0
        t_rel = t - info.t0_s
        inside = grid <= t_rel[-1]
        expected = np.interp(grid[inside], t_rel, force)
        assert np.max(np.abs(x[inside] - expected)) <= step
        onsets, durations, texts = reader.readAnnotations()
    finally:
        reader.close()
    gaps = [i for i, s in enumerate(texts) if s.startswith("signal gap")]
    assert len(texts) - len(gaps) == n_events
    assert any(s == "phase: hold" for s in texts)
    assert gaps and 2.5 < durations[gaps[0]] < 4.5 and 295 < onsets[gaps[0]] < 320


def test_json_export_holds_everything(recorded: tuple[Path, int], tmp_path: Path) -> None:
    data, sid = recorded
    with Store.open(data) as store:
        [path] = export(store, sid, tmp_path, "json")
        n = store.count_samples(sid)
    doc = json.loads(path.read_text())
    assert set(doc) == {"summary", "events", "samples"}
    assert len(doc["samples"]["force_n"]) == n == doc["summary"]["n_samples"]


def test_participant_table_is_tidy(recorded: tuple[Path, int], tmp_path: Path) -> None:
    data, _ = recorded
    with Store.open(data) as store:
        df = participant_table(store, "P9")
        with pytest.raises(IsogripError, match="no sessions of participant"):
            participant_table(store, "nobody")
    assert df["session_id"].nunique() == 2
    complete = df[df["completed"]]
    assert len(complete) == 8
    assert {"time_in_band_pct", "mean_pct_mvc", "cv_mean_pct", "mvc_left_n",
            "mvc_right_n", "mvc_left_reused"} <= set(df.columns)
    second = df[df["session_id"] == df["session_id"].max()]
    assert second["mvc_left_reused"].all() and (second["mvc_left_n"] == 300.0).all()
    assert str(df["hand"].dtype) == "category" and str(df["rep"].dtype) == "Int16"
    code = main(["--data-dir", str(data), "export", "--participant", "P9",
                 "--out", str(tmp_path)])
    assert code == 0
    back = pd.read_parquet(tmp_path / "participant-P9.parquet")
    assert len(back) == len(df)
    assert back["mean_pct_mvc"].tolist() == pytest.approx(df["mean_pct_mvc"].tolist(),
                                                          nan_ok=True)


def test_export_import_export_is_identical(recorded: tuple[Path, int], tmp_path: Path) -> None:
    data, sid = recorded
    with Store.open(data) as store:
        first = export_session(store, sid, tmp_path / "a")
    with Store.open(tmp_path / "other") as other:
        new_id = import_session(other, tmp_path / "a")
        assert new_id == sid  # the id was free, so it is kept
        second = export_session(other, new_id, tmp_path / "b")
        with pytest.raises(StorageError, match="already in the store"):
            import_session(other, tmp_path / "a")
        assert len(other.list_sessions()) == 1
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_import_refuses_damaged_exports_and_writes_nothing(
        recorded: tuple[Path, int], tmp_path: Path) -> None:
    data, sid = recorded
    with Store.open(data) as store:
        export_session(store, sid, tmp_path / "x")
    summary = tmp_path / "x" / "summary.json"
    good = summary.read_text()
    samples = tmp_path / "x" / "samples.csv"
    lines = samples.read_text().splitlines(keepends=True)
    samples.write_text("".join(lines[:-100]))  # truncated
    with Store.open(tmp_path / "other") as other:
        with pytest.raises(ImportFileError, match="incomplete"):
            import_session(other, tmp_path / "x")
        summary.write_text("{broken")
        with pytest.raises(ImportFileError, match=r"summary\.json: cannot be read"):
            import_session(other, tmp_path / "x")
        summary.write_text(good)
        (tmp_path / "x" / "events.csv").write_text("t_s,kind,detail\n1.0,phase,{nope\n")
        with pytest.raises(ImportFileError, match=r"events\.csv, line 2"):
            import_session(other, tmp_path / "x")
        with pytest.raises(ImportFileError, match="not an isogrip export"):
            import_session(other, tmp_path)
        assert other.list_sessions() == []


def test_cli_export_formats_and_import(recorded: tuple[Path, int], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    data, sid = recorded
    for fmt, name in (("parquet", "samples.parquet"), ("edf", "session.edf"),
                      ("json", "session.json")):
        assert main(["--data-dir", str(data), "export", str(sid), "--format", fmt,
                     "--out", str(tmp_path / fmt)]) == 0
        assert (tmp_path / fmt / name).exists()
    assert main(["--data-dir", str(data), "export", str(sid), "--out",
                 str(tmp_path / "csv")]) == 0
    assert main(["--data-dir", str(tmp_path / "new"), "import", str(tmp_path / "csv")]) == 0
    assert f"Imported as session {sid}." in capsys.readouterr().out
    assert main(["--data-dir", str(data), "export", "--out", str(tmp_path)]) == 2
    assert "either a session" in capsys.readouterr().err


def test_bp_cli_add_list_and_csv_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = ["--data-dir", str(tmp_path / "data")]
    assert main([*d, "bp", "add", "128/82", "--pulse", "64", "--participant", "P9"]) == 0
    assert "Saved 128/82 mmHg." in capsys.readouterr().out
    assert main([*d, "bp", "add", "185/100"]) == 0
    assert "do not train today" in capsys.readouterr().out
    assert main([*d, "bp", "add", "82/128"]) == 2
    assert "higher than the diastolic" in capsys.readouterr().err
    assert main([*d, "bp", "add", "high"]) == 2
    assert "upper/lower" in capsys.readouterr().err
    csv_file = tmp_path / "bp.csv"
    csv_file.write_text("taken_at,sbp,dbp,pulse,context\n2026-11-01 08:00,140,90,70,rest\n"
                        "2026-11-02T08:00:00+01:00,138,88,,pre\n")
    assert main([*d, "bp", "import", str(csv_file), "--participant", "P9"]) == 0
    assert "Added 2 readings." in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("taken_at,sbp,dbp\n2026-11-03 08:00,120,80\nyesterday,120,80\n")
    assert main([*d, "bp", "import", str(bad)]) == 2
    assert "line 3" in capsys.readouterr().err
    with Store.open(tmp_path / "data") as store:
        got: list[Any] = store.list_bp_readings("P9")
        assert [(r.sbp, r.dbp, r.source) for r in got] == [
            (140, 90, "csv"), (138, 88, "csv"), (128, 82, "manual")]
        assert len(store.list_bp_readings()) == 4  # the bad file added nothing
    assert main([*d, "bp", "list", "--participant", "P9"]) == 0
    out = capsys.readouterr().out
    assert "128/82" in out and "140/90" in out


def test_reports_render_offscreen(recorded: tuple[Path, int], tmp_path: Path) -> None:
    from PyQt6.QtGui import QImage

    from isogrip.ui.report import ReportError

    data, sid = recorded
    assert main(["--data-dir", str(data), "report", str(sid), "--out",
                 str(tmp_path / "s.pdf")]) == 0
    pdf = (tmp_path / "s.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
    assert (tmp_path / "s.pdf").stat().st_mode & 0o077 == 0
    assert main(["--data-dir", str(data), "report", str(sid), "--out",
                 str(tmp_path / "s.png")]) == 0
    img = QImage(str(tmp_path / "s.png"))
    assert (img.width(), img.height()) == (1240, 1754)  # A4 at 150 dpi
    # Ink on the page: the traces and tables are drawn, not a blank sheet.
    dark = sum(1 for y in range(0, 1754, 7) for x in range(0, 1240, 7)
               if img.pixelColor(x, y).lightness() < 100)
    assert dark > 500
    assert main(["--data-dir", str(data), "report", "--participant", "P9", "--out",
                 str(tmp_path / "p.pdf")]) == 0
    assert (tmp_path / "p.pdf").read_bytes().startswith(b"%PDF")
    with Store.open(data) as store:
        from isogrip.ui.report import participant_report, session_report

        with pytest.raises(ReportError, match=r"\.pdf or \.png"):
            session_report(store, sid, tmp_path / "s.docx")
        with pytest.raises(ReportError, match="no sessions"):
            participant_report(store, "nobody", tmp_path / "n.pdf")


def test_replay_of_an_export_runs_a_session_on_the_recorded_force(
        recorded: tuple[Path, int], tmp_path: Path) -> None:
    data, sid = recorded
    with Store.open(data) as store:
        export_session(store, sid, tmp_path / "csv")
        export(store, sid, tmp_path / "pq", "parquet")
        _, _, force = store.load_samples(sid)
    for source in (tmp_path / "csv", tmp_path / "pq" / "samples.parquet"):
        with Store.open(tmp_path / f"replayed-{source.name}") as store:
            result = SessionRuntime(SessionConfig(device=f"replay:{source}", speed=None,
                                                  tare=False), store).run()
            _, _, f2 = store.load_samples(result.session_id)
            info = store.get_session_info(result.session_id)
        assert info.device_info["kind"] == "replay"
        n = len(f2)
        assert n > 0.9 * len(force)
        # The same force, sample for sample (as written: 4 decimals in CSV, exact in
        # Parquet).
        expected = force[:n] if source.suffix == ".parquet" else quantize(force[:n], 4)
        assert np.array_equal(f2, expected)
    with pytest.raises(IsogripError, match="no such capture file or export folder"):
        SessionRuntime(SessionConfig(device=f"replay:{tmp_path / 'nothing'}", speed=None))
