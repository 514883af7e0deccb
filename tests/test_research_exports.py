"""Parquet, EDF+ and JSON exports, the participant table, import round trip, BP CLI."""

from __future__ import annotations

import json
import os
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
from isogrip.storage.export import export_session
from isogrip.storage.export_formats import export, participant_table
from isogrip.storage.importer import ImportFileError, import_session
from isogrip.storage.samples_csv import quantize
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
    from isogrip.storage.export_formats import edf_event_text

    data, sid = recorded
    with Store.open(data) as store:
        [path] = export(store, sid, tmp_path, "edf")
        t, _, force = store.load_samples(sid)
        info = store.get_session_info(sid)
        events = [e for e in store.load_events(sid) if e.t_s is not None]
        holds = store.load_holds(sid)
    reader = pyedflib.EdfReader(str(path))
    try:
        assert reader.signals_in_file == 4
        assert reader.getSignalLabels() == ["Force", "Target", "Band low", "Band high"]
        assert all(reader.getPhysicalDimension(i) == "N" for i in range(4))
        assert list(reader.getSampleFrequencies()) == [80] * 4
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
        levels = [reader.readSignal(i) for i in (1, 2, 3)]
        onsets, durations, texts = reader.readAnnotations()
    finally:
        reader.close()
    # Target and band edges: each hold's own values from go to end, 0 outside holds.
    in_hold = np.zeros(len(x), bool)
    for h in holds:
        assert h.t_go_s is not None and h.t_end_s is not None
        sl = (grid >= h.t_go_s - info.t0_s + 1 / 80) & (grid < h.t_end_s - info.t0_s - 1 / 80)
        in_hold |= sl
        for got, want in zip(levels, (h.target_n, h.band_low_n, h.band_high_n), strict=True):
            assert np.max(np.abs(got[sl] - want)) <= step, (h.rep, want)
    assert len({h.target_n for h in holds}) == 2  # one target per hand
    outside = ~in_hold & (grid < holds[0].t_go_s - info.t0_s - 1)  # before the holds
    assert all(np.max(np.abs(v[outside])) <= step for v in levels)
    # Every event annotated with its whole text, none cut.
    gaps = [i for i, s in enumerate(texts) if s.startswith("signal gap")]
    kept = [s for i, s in enumerate(texts) if i not in gaps]
    want_texts = [edf_event_text(e.kind, e.detail) for e in events]
    assert sorted(kept) == sorted(want_texts)
    assert max(len(s) for s in want_texts) > 40  # longer than edflib's writer keeps
    assert any(s == "phase: hold" for s in texts)
    got_at = sorted((s, float(o)) for i, (o, s) in enumerate(zip(onsets, texts,
                                                                   strict=True))
                    if i not in gaps)
    want_at = sorted((w, e.t_s - info.t0_s)  # type: ignore[operator]
                     for e, w in zip(events, want_texts, strict=True))
    assert [w for w, _ in got_at] == [w for w, _ in want_at]
    assert np.allclose([o for _, o in got_at], [o for _, o in want_at], atol=1e-5)
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


def _unwritable_targets(tmp_path: Path) -> list[tuple[Path, str]]:
    """Folders no file can be written to, and the reason the error must give.

    As root, permission bits are ignored, so a pseudo file system stands in for a
    read-only folder there.
    """
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    targets = [(afile / "sub", "afile is a file, not a folder"),
               (afile, "afile is a file, not a folder")]
    if os.geteuid() == 0:
        targets += [(Path("/sys"), "Permission denied"),
                    (Path("/proc/isogrip-none/sub"), "No such file or directory")]
    else:
        ro = tmp_path / "read-only"
        ro.mkdir()
        ro.chmod(0o500)
        targets.append((ro, "Permission denied"))
    return targets


#: Every command that writes a file: the arguments after the --out value is filled in,
#: and the name of the file it writes into that folder.
_FILE_COMMANDS = [
    *((["export", "{sid}", "--format", fmt], None) for fmt in ("csv", "parquet", "edf",
                                                               "json")),
    *((["export", "--participant", "P9", "--format", fmt], None) for fmt in ("parquet",
                                                                         "csv")),
    (["report", "{sid}"], "r.pdf"),
    (["report", "{sid}"], "r.png"),
    (["report", "--participant", "P9"], "p.pdf"),
]


def test_every_file_writing_command_fails_in_one_clean_line(
        recorded: tuple[Path, int], tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    data, sid = recorded
    for folder, why in _unwritable_targets(tmp_path):
        for args, name in _FILE_COMMANDS:
            out = folder / name if name else folder
            argv = ["--data-dir", str(data), *(a.format(sid=sid) for a in args),
                    "--out", str(out)]
            assert main(argv) == 2, argv
            got = capfd.readouterr()
            lines = got.err.strip().splitlines()
            assert len(lines) == 1, (argv, got.err)  # no traceback, no Qt warnings
            assert lines[0].startswith("isogrip: error: cannot "), lines
            assert str(folder) in lines[0] and why in lines[0], lines
            assert got.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) in (["afile"], ["afile", "read-only"])


def test_a_failed_write_leaves_nothing_behind(
        recorded: tuple[Path, int], tmp_path: Path, capfd: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    import isogrip.files as files_module

    def full(tmp: Any, path: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files_module, "durable_replace", full)
    data, sid = recorded
    for args, name in _FILE_COMMANDS:
        out = tmp_path / "out"
        argv = ["--data-dir", str(data), *(a.format(sid=sid) for a in args), "--out",
                str(out / name if name else out)]
        assert main(argv) == 2, argv
        lines = capfd.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and "No space left on device" in lines[0], (argv, lines)
        assert list(out.iterdir()) == [], argv  # no partial file, no temporary file


def test_edf_annotations_of_any_length_are_kept_whole(tmp_path: Path) -> None:
    import datetime as dt

    from isogrip.storage.edf import EdfAnnotation, EdfSignal, write_edf_plus

    x = np.linspace(-5.0, 50.0, 20)
    texts = [f"warning {i}: Ease off a little \u2013 you are above the band; "
             + "relax your shoulders and breathe out. " * (1 + i % 4) for i in range(30)]
    notes = [EdfAnnotation(0.5 + 0.01 * i, None, s) for i, s in enumerate(texts)]
    notes.append(EdfAnnotation(1.2, 0.3, "signal gap (interpolated)"))
    path = tmp_path / "a.edf"
    with path.open("wb") as fh:  # 2 records, far more text than one record's default
        write_edf_plus(fh, [EdfSignal("Force", "N", x, -10.0, 60.0)], 10,
                       dt.datetime(2026, 3, 1, 8, 30, 15, 250_000), notes,
                       patient_code="P 7")
    reader = pyedflib.EdfReader(str(path))
    try:
        onsets, durations, got = reader.readAnnotations()
        y = reader.readSignal(0)
        start = reader.getStartdatetime().replace(microsecond=0)
        # In 100 ns units (pyedflib 0.1.42's getStartdatetime divides it by 100, not 10).
        subsecond = reader.starttime_subsecond
        code = reader.getPatientCode()
    finally:
        reader.close()
    assert list(got) == [*texts, "signal gap (interpolated)"]
    assert np.allclose(onsets, [a.onset_s for a in notes], atol=1e-6)
    assert durations[-1] == pytest.approx(0.3)
    assert np.max(np.abs(y - x)) <= 70.0 / 65535
    assert start == dt.datetime(2026, 3, 1, 8, 30, 15) and subsecond == 2_500_000
    assert code == "P 7" and path.read_bytes()[8:20] == b"P_7 X X X   "  # EDF+ 2.1.3.3
