"""Fuzzing of the files isogrip reads that other suites do not fuzz already.

Each reader either returns values the rest of isogrip can use (finite times in order,
plausible rates) or raises its own error with a one-line message; nothing else. The
settings, protocol files, device packets and exports have their own fuzz tests
(tests/test_settings.py, test_protocol_files.py, test_codecs.py,
test_import_validation.py).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isogrip.ble_device.capture import CaptureFileError, read_capture
from isogrip.ble_device.export_replay import read_export_samples
from isogrip.cli.bp_csv import BpCsvError, read_bp_csv
from isogrip.errors import DeviceSpecError, InputFileError

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)

#: Pieces that real and broken files are made of.
number_text = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**30, 10**30).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e999", "0x10", "1_000", " 12 ", "", "-0"]),
)
field = st.one_of(number_text, st.text(max_size=12),
                  st.sampled_from(["2026-05-01T08:00:00", "0001-01-01T00:00:00+14:00",
                                   "9999-12-31T23:59:59-12:00", "pre", "post", "rest",
                                   '"', '""', "\r", "\n", "\x00", "\ufeff"]))


def one_line(message: str) -> None:
    assert message and "\n" not in message and "Traceback" not in message


@FUZZ
@given(header=st.lists(st.sampled_from(["taken_at", "sbp", "dbp", "pulse", "context",
                                        "note", "junk", ""]), max_size=7),
       rows=st.lists(st.lists(field, max_size=7), max_size=6))
def test_bp_files_are_read_or_refused_in_one_line(tmp_path: Path, header: list[str],
                                                  rows: list[list[str]]) -> None:
    path = tmp_path / "bp.csv"
    path.write_text("\n".join(",".join(r) for r in [header, *rows]), encoding="utf-8",
                    errors="surrogateescape")
    try:
        readings = read_bp_csv(path, now=NOW)
    except (BpCsvError, InputFileError) as exc:
        one_line(str(exc))
        return
    for r in readings:  # what is accepted can be stored and shown
        assert 0 < r.entry.sbp < 400 and 0 < r.entry.dbp < r.entry.sbp
        assert r.taken_at <= NOW + dt.timedelta(days=1)


@FUZZ
@given(data=st.binary(max_size=200))
def test_bp_files_of_any_bytes_are_read_or_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bp.csv"
    path.write_bytes(b"taken_at,sbp,dbp\n" + data)
    try:
        read_bp_csv(path, now=NOW)
    except (BpCsvError, InputFileError) as exc:
        one_line(str(exc))


@FUZZ
@given(lines=st.lists(st.tuples(number_text, st.one_of(
    st.binary(max_size=12).map(bytes.hex), st.text(max_size=8))), max_size=8))
def test_captures_give_finite_ordered_times_or_one_line(
        tmp_path: Path, lines: list[tuple[str, str]]) -> None:
    path = tmp_path / "c.txt"
    path.write_text("\n".join(f"{t} {h}" for t, h in lines), encoding="utf-8")
    try:
        items = read_capture(path)
    except CaptureFileError as exc:
        one_line(str(exc))
        return
    times = [t for t, _ in items]
    assert all(math.isfinite(t) for t in times)
    assert times == sorted(times)


@FUZZ
@given(data=st.binary(max_size=200))
def test_captures_of_any_bytes_are_read_or_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "c.txt"
    path.write_bytes(data)
    try:
        read_capture(path)
    except CaptureFileError as exc:
        one_line(str(exc))


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
              st.floats(allow_nan=False), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=10)


@FUZZ
@given(rate=json_values, rows=st.lists(st.tuples(number_text, number_text, number_text),
                                       min_size=0, max_size=6),
       deep=st.booleans())
def test_export_replays_give_usable_samples_or_one_line(
        tmp_path: Path, rate: object, rows: list[tuple[str, str, str]], deep: bool) -> None:
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    summary: object = {"device_info": {"nominal_rate_hz": rate}}
    text = json.dumps(summary)
    if deep:  # nested far deeper than json.loads can recurse
        text = "[" * 100_000 + "]" * 100_000
    (folder / "summary.json").write_text(text)
    (folder / "samples.csv").write_text(
        "t_s,t_device_s,force_n\n" + "\n".join(",".join(r) for r in rows))
    try:
        t, _td, f, hz = read_export_samples(folder)
    except DeviceSpecError as exc:
        one_line(str(exc))
        return
    assert len(t) == len(f) > 0
    assert np.isfinite(t).all() and np.isfinite(f).all()
    assert np.all(np.diff(t) >= 0)  # replayed in order
    assert math.isfinite(hz) and 0 < hz <= 10_000


@pytest.mark.parametrize("rate", [float("nan"), float("inf"), -80.0, 0.0, 1e12, [80], "80"])
def test_an_export_replay_with_an_odd_rate_uses_80_hz(tmp_path: Path, rate: object) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    text = json.dumps({"device_info": {"nominal_rate_hz": rate}})
    (folder / "summary.json").write_text(text)
    (folder / "samples.csv").write_text("t_s,t_device_s,force_n\n0.0,,1.0\n0.0125,,2.0\n")
    *_, hz = read_export_samples(folder)
    assert hz == 80.0
