"""Every file isogrip writes or reads goes through :mod:`isogrip.files` (issue 13).

Each output format (the four session exports, both participant tables, PDF and PNG
reports, the settings file, capture files and the cue-sound cache) is checked for:

* a symlink planted at its name, or at a fixed temporary name older versions used
  (``.session.edf.tmp``, ``.r.pdf.tmp.pdf``), is replaced, never followed;
* a write that fails (full disk on write or on fsync, Ctrl-C) keeps the earlier file
  as it was, says so in one line and leaves no temporary file;
* new folders are ``0o700`` and files ``0o600`` even under ``umask 000``;

and two EDF exports into one folder at once, a really full file system (a tmpfs), and
the readers of captures and export replays (FIFOs, oversized files).
"""

from __future__ import annotations

import errno
import functools
import io
import json
import os
import shlex
import stat
import subprocess
import sys
import threading
import wave
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pyedflib
import pytest

from isogrip.ble_device.capture import CaptureFileError, read_capture, write_capture
from isogrip.ble_device.export_replay import read_export_samples
from isogrip.cli import EXIT_INTERRUPTED, EXIT_USER_ERROR, main
from isogrip.errors import DeviceSpecError, IsogripError
from isogrip.files import TABLE_FILE_LIMIT
from isogrip.protocols.loader import load_protocol
from isogrip.runtime import SessionConfig, SessionRuntime
from isogrip.settings import Settings, load_settings, save_settings
from isogrip.storage import export_formats
from isogrip.storage.edf import write_edf_plus
from isogrip.storage.store import Store
from isogrip.types import Hand
from isogrip.ui.audio import RATE_HZ, synthesize, write_wav

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symlinks, modes and umask")

VICTIM = b"a file elsewhere that no write may change\n"
PREVIOUS = b"the previous good output\n"
CAPTURE = [(0.0, b"\x01\x02\x03\x04"), (0.0125, b"\x05\x06\x07\x08"), (0.025, b"")]


@dataclass(frozen=True)
class Recorded:
    data: Path
    session: int


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """One short simulated session of participant P9 (known MVC: no MVC phase)."""
    data = tmp_path_factory.mktemp("data")
    protocol = replace(load_protocol("ihg-4x2-30-alternating"), reps=2, hold_s=20.0,
                       rest_s=5.0)
    with Store.open(data) as store:
        result = SessionRuntime(SessionConfig(
            device="sim:good?seed=5", protocol=protocol, speed=None, participant="P9",
            known_mvc={Hand.LEFT: 300.0, Hand.RIGHT: 320.0}), store).run()
    assert result.status == "complete"
    return Recorded(data, result.session_id)


# ------------------------------------------------------------------------------ writers
def _cli(*args: str) -> Callable[[Recorded, Path], int]:
    """A CLI command writing into a folder ({out}: the folder, {sid}: the session)."""
    def run(rec: Recorded, folder: Path) -> int:
        return main(["--data-dir", str(rec.data),
                     *(a.format(sid=rec.session, out=folder) for a in args)])

    return run


def _lib(write: Callable[[Path], object]) -> Callable[[Recorded, Path], int]:
    """A library writer, reporting as the CLI would (exit status, one stderr line)."""
    def run(_rec: Recorded, folder: Path) -> int:
        try:
            write(folder)
        except IsogripError as exc:
            print(f"isogrip: error: {exc}", file=sys.stderr)
            return EXIT_USER_ERROR
        except KeyboardInterrupt:
            print("isogrip: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        return 0

    return run


@dataclass(frozen=True)
class Writer:
    id: str
    names: tuple[str, ...]  # the files it writes into the folder
    run: Callable[[Recorded, Path], int]
    makes_folders: bool = True  # creates the folder (and parents) when missing


WRITERS = [
    *(Writer(f"export-{fmt}", names, _cli("export", "{sid}", "--format", fmt, "--out", "{out}"))
      for fmt, names in (("csv", ("samples.csv", "events.csv", "summary.json")),
                         ("parquet", ("samples.parquet",)), ("json", ("session.json",)),
                         ("edf", ("session.edf",)))),
    *(Writer(f"participant-{fmt}", (f"participant-P9.{fmt}",),
             _cli("export", "--participant", "P9", "--format", fmt, "--out", "{out}"))
      for fmt in ("parquet", "csv")),
    Writer("report-pdf", ("r.pdf",), _cli("report", "{sid}", "--out", "{out}/r.pdf")),
    Writer("report-png", ("r.png",), _cli("report", "{sid}", "--out", "{out}/r.png")),
    Writer("participant-report", ("p.pdf",),
           _cli("report", "--participant", "P9", "--out", "{out}/p.pdf")),
    Writer("settings", ("settings.json",), _lib(
        lambda d: save_settings(Settings(first_run_done=True, sbp_limit=165),
                                d / "settings.json"))),
    Writer("capture", ("x.hex",), _lib(lambda d: write_capture(d / "x.hex", CAPTURE)),
           makes_folders=False),
    Writer("cue-sound", ("go.wav",), _lib(lambda d: write_wav(d / "go.wav", synthesize("go"))),
           makes_folders=False),
]
IDS = [w.id for w in WRITERS]


def _check_content(path: Path) -> None:
    """The file is a regular, owner-only file holding a whole new output of its kind."""
    info = path.lstat()
    assert stat.S_ISREG(info.st_mode), f"{path} is not a regular file"
    assert stat.S_IMODE(info.st_mode) == 0o600, f"{path}: mode {info.st_mode:o}"
    data = path.read_bytes()
    assert data not in (VICTIM, PREVIOUS)
    kind = path.suffix
    if kind == ".csv":
        assert b"," in data.splitlines()[0] and data.endswith(b"\n")
    elif kind == ".json":
        assert isinstance(json.loads(data), dict)
    elif kind == ".parquet":
        assert pq.read_metadata(path).num_rows > 0
    elif kind == ".edf":
        _check_edf(path)
    elif kind == ".pdf":
        assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    elif kind == ".png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82")
    elif kind == ".hex":
        assert read_capture(path) == CAPTURE
    elif kind == ".wav":
        with wave.open(str(path)) as fh:
            assert fh.getframerate() == RATE_HZ
            back = np.frombuffer(fh.readframes(fh.getnframes()), dtype="<i2")
        assert np.array_equal(back, synthesize("go"))
    else:
        raise AssertionError(f"no check for {path.name}")


def _check_edf(path: Path) -> None:
    reader = pyedflib.EdfReader(str(path))
    try:
        assert reader.getSignalLabels() == ["Force", "Target", "Band low", "Band high"]
        assert reader.getNSamples()[0] > 0
        assert len(reader.readAnnotations()[0]) > 0
    finally:
        reader.close()


def _listing(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every entry of a folder: content and mode (links as their target's name)."""
    out: dict[str, tuple[bytes, int]] = {}
    for p in folder.iterdir():
        info = p.lstat()
        body = os.readlink(p).encode() if p.is_symlink() else p.read_bytes()
        out[p.name] = (body, info.st_mode)
    return out


def _planted_names(name: str) -> list[str]:
    """The output name and fixed temporary names writers used (or could use) for it.

    Before the atomic writer was used everywhere, the EDF export wrote
    ``.session.edf.tmp`` and the report ``.r.pdf.tmp.pdf``, then renamed them.
    """
    stem, suffix = os.path.splitext(name)
    return [name, f".{name}.tmp", f".{name}.tmp{suffix}", f".{stem}.tmp{suffix}"]


# ------------------------------------------------------------------------------ a. links
@pytest.mark.parametrize("target", ["existing", "dangling"])
@pytest.mark.parametrize("writer", WRITERS, ids=IDS)
def test_a_planted_symlink_is_replaced_never_followed(
        writer: Writer, target: str, recorded: Recorded, tmp_path: Path,
        capfd: pytest.CaptureFixture[str]) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    victim = elsewhere / "victim"
    if target == "existing":
        victim.write_bytes(VICTIM)
        victim.chmod(0o640)
    out = tmp_path / "out"
    out.mkdir(mode=0o700)
    planted = [n for name in writer.names for n in _planted_names(name)]
    for name in planted:
        (out / name).symlink_to(victim)
    assert writer.run(recorded, out) == 0, capfd.readouterr().err
    if target == "existing":
        assert victim.read_bytes() == VICTIM
        assert stat.S_IMODE(victim.stat().st_mode) == 0o640
    else:  # following the link would have created the file it names
        assert not victim.exists()
    assert sorted(p.name for p in elsewhere.iterdir()) == (["victim"] if target == "existing"
                                                           else [])
    for name in writer.names:
        _check_content(out / name)
    # Nothing else appeared (the planted temporary names are left alone or removed).
    assert {p.name for p in out.iterdir()} <= set(planted)


# ------------------------------------------------------------------------------ b, c. failures
class _FullDisk(io.FileIO):
    """A file on a disk that fills after a few bytes: write(2) then fails."""

    room = 16
    error: BaseException = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def write(self, b: Any) -> int:
        if self.room <= 0:
            raise self.error
        n = super().write(memoryview(b)[:self.room])
        assert n is not None
        self.room -= n
        return n


def _fail_writes(monkeypatch: pytest.MonkeyPatch, folder: Path, error: BaseException) -> None:
    """Writes of new files in ``folder`` fail after 16 bytes, as on a full disk."""
    real_open = io.open

    def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str | os.PathLike) and Path(file).parent == folder \
                and "w" in mode and "b" in mode:
            raw = _FullDisk(os.fspath(file), "wb")
            raw.error = error
            return io.BufferedWriter(raw)
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(io, "open", open_)


def _fail_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """fsync reports a full disk (delayed allocation, network file systems)."""
    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize("failure", ["write-enospc", "fsync-enospc", "write-interrupted"])
@pytest.mark.parametrize("writer", WRITERS, ids=IDS)
def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temporary_file(
        writer: Writer, failure: str, recorded: Recorded, tmp_path: Path,
        capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir(mode=0o700)
    for name in writer.names:
        (out / name).write_bytes(PREVIOUS)
        (out / name).chmod(0o600)
    before = _listing(out)
    if failure == "fsync-enospc":
        _fail_fsync(monkeypatch)
    else:
        _fail_writes(monkeypatch, out, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                     if failure == "write-enospc" else KeyboardInterrupt())
    code = writer.run(recorded, out)
    monkeypatch.undo()
    lines = capfd.readouterr().err.strip().splitlines()
    if failure == "write-interrupted":
        assert (code, lines) == (EXIT_INTERRUPTED, ["isogrip: interrupted"])
    else:
        assert code == EXIT_USER_ERROR
        assert len(lines) == 1, lines  # one clear line: no traceback, no Qt noise
        assert "No space left on device" in lines[0] and writer.names[0] in lines[0], lines
    assert _listing(out) == before  # the earlier files whole, no temporary file left


# ------------------------------------------------------------------------------ d. modes
@pytest.mark.parametrize("writer", WRITERS, ids=IDS)
def test_new_folders_are_0700_and_files_0600_under_umask_000(
        writer: Writer, recorded: Recorded, tmp_path: Path,
        capfd: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "new" / "sub" if writer.makes_folders else tmp_path / "existing"
    if not writer.makes_folders:
        out.mkdir()
    old = os.umask(0)
    try:
        code = writer.run(recorded, out)
    finally:
        os.umask(old)
    assert code == 0, capfd.readouterr().err
    if writer.makes_folders:
        for folder in (tmp_path / "new", out):
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for name in writer.names:
        _check_content(out / name)  # mode 0o600 included
    assert sorted(p.name for p in out.iterdir()) == sorted(writer.names)


# ------------------------------------------------------------------------------ e. together
def test_two_edf_exports_into_one_folder_at_once_both_finish_with_a_valid_file(
        recorded: Recorded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store.open(recorded.data) as store:
        (reference,) = export_formats.export(store, recorded.session, tmp_path / "ref", "edf")
    out = tmp_path / "out"
    out.mkdir(mode=0o700)
    # Both writers have written their whole file before either renames it: with one
    # fixed temporary name, one would write over (or delete) the other's file.
    both_written = threading.Barrier(2, timeout=120)  # a hang guard, not a speed check
    real = write_edf_plus

    def write_then_wait(fh: Any, *args: Any, **kwargs: Any) -> None:
        real(fh, *args, **kwargs)
        fh.flush()
        both_written.wait()

    monkeypatch.setattr(export_formats, "write_edf_plus", write_then_wait)
    done: list[list[Path]] = []
    errors: list[BaseException] = []

    def export_one() -> None:
        try:
            with Store.open(recorded.data) as store:
                done.append(export_formats.export(store, recorded.session, out, "edf"))
        except BaseException as exc:
            errors.append(exc)
            both_written.abort()

    threads = [threading.Thread(target=export_one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and done == [[out / "session.edf"]] * 2
    assert sorted(p.name for p in out.iterdir()) == ["session.edf"]
    assert (out / "session.edf").read_bytes() == reference.read_bytes()
    _check_content(out / "session.edf")


# ------------------------------------------------------------------------------ b. real disk
def test_export_and_report_into_a_really_full_file_system(recorded: Recorded,
                                                          tmp_path: Path) -> None:
    """``isogrip export --format edf`` and ``isogrip report`` into a full 2 MiB tmpfs.

    The tmpfs is mounted in a private user and mount namespace (``unshare``), so no
    privileges are needed and nothing outside sees it; its content is copied out
    before the namespace goes away: once after a good export and report, once after
    both were run again with the file system full.
    """
    out, logs = tmp_path / "out", tmp_path / "logs"
    out.mkdir()
    logs.mkdir()
    isogrip = shlex.join([str(Path(sys.executable).with_name("isogrip")), "--data-dir",
                          str(recorded.data)])
    o, lg = shlex.quote(str(out)), shlex.quote(str(logs))
    commands = (f"export {recorded.session} --format edf --out {o}",
                f"report {recorded.session} --out {o}/r.pdf")

    def both(tag: str) -> str:
        return "; ".join(f"{isogrip} {cmd} >/dev/null 2>{lg}/{tag}{i}.err; "
                         f"echo $? >{lg}/{tag}{i}.rc" for i, cmd in enumerate(commands))

    script = (f"mount -t tmpfs -o size=2m tmpfs {o} || exit 90; "
              f"{both('good')}; mkdir {lg}/before; cp -a {o}/. {lg}/before/; "
              f"dd if=/dev/zero of={o}/filler bs=64k 2>/dev/null; "
              f"dd if=/dev/zero of={o}/filler2 bs=512 2>/dev/null; "
              f"{both('full')}; rm {o}/filler {o}/filler2; "
              f"mkdir {lg}/after; cp -a {o}/. {lg}/after/")
    proc = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                           script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode != 90, f"could not mount a tmpfs here: {proc.stderr}"
    assert proc.returncode == 0, proc.stderr

    def result(name: str) -> tuple[int, list[str]]:
        return (int((logs / f"{name}.rc").read_text()),
                (logs / f"{name}.err").read_text().strip().splitlines())

    assert result("good0") == (0, []) and result("good1") == (0, [])
    for i, name in enumerate(("session.edf", "r.pdf")):
        code, lines = result(f"full{i}")
        assert code == EXIT_USER_ERROR and len(lines) == 1, lines
        assert lines[0].startswith("isogrip: error: cannot write ")
        assert name in lines[0] and "No space left on device" in lines[0], lines
    before, after = _listing(logs / "before"), _listing(logs / "after")
    assert sorted(before) == ["r.pdf", "session.edf"]
    assert after == before  # the old files intact, no temporary file left
    _check_edf(logs / "after" / "session.edf")


# ------------------------------------------------------------------------------ readers
def _in_thread(call: Callable[[], object]) -> BaseException | None:
    """Run ``call``; the error it raised. A read that blocks for ever fails the test."""
    caught: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:
            caught.append(exc)
        else:
            caught.append(None)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout=120)  # a hang guard only: a FIFO read would block for ever
    assert caught, "the read blocked"
    return caught[0]


def test_a_capture_that_is_a_fifo_or_too_large_is_refused_in_one_line(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.hex"
    os.mkfifo(fifo)
    big = tmp_path / "big.hex"
    with big.open("wb") as fh:  # sparse: no disk space used
        fh.truncate(TABLE_FILE_LIMIT + 1)
    for path, why in ((fifo, "not a regular file"), (big, "too large")):
        exc = _in_thread(functools.partial(read_capture, path))
        assert isinstance(exc, CaptureFileError) and why in str(exc), exc
        assert str(path) in str(exc) and "\n" not in str(exc)
    with pytest.raises(CaptureFileError, match="no such file"):
        read_capture(tmp_path / "missing.hex")


def test_an_export_replay_reads_only_regular_files(recorded: Recorded, tmp_path: Path) -> None:
    assert main(["--data-dir", str(recorded.data), "export", str(recorded.session),
                 "--out", str(tmp_path / "good")]) == 0
    t, _, force, rate = read_export_samples(tmp_path / "good")
    assert len(t) == len(force) > 0 and rate > 0
    bad = tmp_path / "bad"
    bad.mkdir()
    os.mkfifo(bad / "summary.json")  # ignored: the rate is a nicety
    os.mkfifo(bad / "samples.csv")
    exc = _in_thread(lambda: read_export_samples(bad))
    assert isinstance(exc, DeviceSpecError) and "not a regular file" in str(exc), exc
    assert str(bad / "samples.csv") in str(exc)


def test_settings_saved_over_a_planted_link_load_back(tmp_path: Path) -> None:
    """The saved settings are read back by the bounded reader (a round trip)."""
    path = tmp_path / "settings.json"
    path.symlink_to(tmp_path / "elsewhere.json")
    save_settings(Settings(first_run_done=True, sbp_limit=165), path)
    settings, problems = load_settings(path)
    assert problems == [] and settings.sbp_limit == 165
    assert not (tmp_path / "elsewhere.json").exists()
