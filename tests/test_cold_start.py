"""A lean start: what ``isogrip --version``, ``--help`` and the app's window import, and the
one line that names the extra when a research or clinic export's library is missing.

These check *what is imported*, never how long it takes (bench/cold_start.py times it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from isogrip.cli import main
from isogrip.errors import MissingExtraError
from isogrip.runtime import SessionConfig, SessionRuntime
from isogrip.storage.store import Store

#: Libraries that take tens or hundreds of milliseconds to import.
HEAVY = ("numpy", "scipy", "pandas", "pyarrow", "PyQt6", "pyqtgraph", "bleak", "rich",
         "fhir", "pydantic", "icalendar", "pylsl")


def imported_after(code: str, *, env: dict[str, str] | None = None) -> list[str]:
    """The modules that running ``code`` in a new interpreter loads (``code`` may raise
    SystemExit): the top-level packages of :data:`HEAVY`, and ``importlib.metadata``."""
    probe = (
        "import json, sys\n"
        "before = set(sys.modules)\n"
        f"try:\n    exec({code!r})\nexcept SystemExit:\n    pass\n"
        "new = set(sys.modules) - before\n"
        f"heavy = {{m.split('.')[0] for m in new}} & set({HEAVY!r})\n"
        "meta = {'importlib.metadata'} & new\n"
        "print(json.dumps(sorted(heavy | meta)))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120, env=env)
    loaded: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("argv", [["--version"], ["--help"]])
def test_version_and_help_import_nothing_heavy(argv: list[str]) -> None:
    """Nor importlib.metadata: alone it costs more than the rest of the start."""
    code = f"from isogrip.cli import main\nmain({argv!r})"
    assert imported_after(code) == []


def test_the_main_window_waits_for_no_export_or_analysis_library(tmp_path: Path) -> None:
    """Showing the window imports neither scipy (the live filter: when a session starts)
    nor pandas, pyarrow or fhir.resources (exports: when one is asked for)."""
    code = (
        "from pathlib import Path\n"
        "from PyQt6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from isogrip.ui.main_window import MainWindow\n"
        f"w = MainWindow(settings_file=Path({str(tmp_path / 'settings.json')!r}), "
        f"data_dir=Path({str(tmp_path / 'data')!r}))\n"
        "w.show()\n"
        "app.processEvents()\n"
    )
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen",
           "ISOGRIP_CONFIG_DIR": str(tmp_path / "config")}
    loaded = imported_after(code, env=env)
    assert {"PyQt6", "numpy"} <= set(loaded)  # the probe did open the window
    assert not {"scipy", "pandas", "pyarrow", "fhir", "pydantic", "pylsl"} & set(loaded)


def test_first_frame_probe_prints_a_time_stamp_and_quits(tmp_path: Path) -> None:
    """ISOGRIP_EXIT_AFTER_FIRST_FRAME=1 (bench/cold_start.py): one line, then exit 0."""
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen",
           "ISOGRIP_EXIT_AFTER_FIRST_FRAME": "1",
           "ISOGRIP_CONFIG_DIR": str(tmp_path / "config")}
    code = ("import sys\nimport isogrip.cli.gui as g\ng.display_available = lambda: True\n"
            f"from isogrip.cli import main\nsys.exit(main(['--data-dir', "
            f"{str(tmp_path / 'data')!r}, 'gui']))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    [line] = [ln for ln in out.stdout.splitlines() if ln.startswith("isogrip: first frame")]
    assert float(line.rsplit(" ", 1)[1]) > 0


# ---------------------------------------------------------------- missing extras
@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One simulated session of participant P5."""
    data = tmp_path_factory.mktemp("data")
    with Store.open(data) as store:
        SessionRuntime(SessionConfig(device="sim:good?seed=2", speed=None, participant="P5"),
                       store).run()
    return data


def research(feature: str) -> str:
    return (f"isogrip: error: {feature} needs the research extra: pipx install "
            "'isogrip[research]' (or pip install 'isogrip[research]').")


@pytest.mark.parametrize(("missing", "args", "line"), [
    (["pyarrow"], ["export", "last", "--format", "parquet"], research("Parquet export")),
    (["pyarrow"], ["export", "--participant", "P5"], research("Parquet export")),
    (["pandas"], ["export", "--participant", "P5", "--format", "csv"],
     research("The participant table")),
    (["fhir"],
     ["export", "--participant", "P5", "--format", "fhir"],
     "isogrip: error: FHIR export needs the clinic extra: pipx install 'isogrip[clinic]' "
     "(or pip install 'isogrip[clinic]')."),
])
def test_an_export_without_its_extra_says_which_to_install_in_one_line(
        data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], missing: list[str], args: list[str],
        line: str) -> None:
    for name in missing:  # `import name` now raises ImportError, as if not installed
        monkeypatch.setitem(sys.modules, name, None)
    status = main(["--data-dir", str(data_dir), *args, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2
    assert err.splitlines() == [line]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_the_lean_exports_need_no_extra(data_dir: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """CSV, EDF+ and JSON exports and `isogrip import` work without pyarrow or pandas."""
    for name in ("pyarrow", "pyarrow.csv", "pyarrow.parquet", "pandas"):
        monkeypatch.setitem(sys.modules, name, None)
    for fmt in ("csv", "edf", "json"):
        assert main(["--data-dir", str(data_dir), "export", "last", "--format", fmt,
                     "--out", str(tmp_path / fmt)]) == 0
    assert main(["--data-dir", str(tmp_path / "other"), "import", str(tmp_path / "csv")]) == 0
    assert "Imported as session 1." in capsys.readouterr().out


def test_replaying_a_parquet_export_without_pyarrow_names_the_extra(
        data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from isogrip.ble_device.export_replay import read_export_samples

    assert main(["--data-dir", str(data_dir), "export", "last", "--format", "parquet",
                 "--out", str(tmp_path)]) == 0
    t, _, _, _ = read_export_samples(tmp_path)  # with pyarrow: the Parquet file
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingExtraError, match=r"^Replaying a Parquet export needs the "
                       r"research extra: pipx install 'isogrip\[research\]'"):
        read_export_samples(tmp_path / "samples.parquet")
    main(["--data-dir", str(data_dir), "export", "last", "--out", str(tmp_path / "csv")])
    t_csv, _, _, _ = read_export_samples(tmp_path / "csv")  # CSV: no extra needed
    assert len(t_csv) == len(t)


def test_lsl_without_pylsl_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "pylsl", None)
    status = main(["--data-dir", str(tmp_path), "run", "--lsl", "--device", "sim",
                   "--speed", "max", "--headless"])
    assert status == 2
    assert capsys.readouterr().err.splitlines() == [
        "isogrip: error: Lab Streaming Layer needs the lsl extra (also part of research): "
        "pipx install 'isogrip[lsl]' (or pip install 'isogrip[lsl]')."]
