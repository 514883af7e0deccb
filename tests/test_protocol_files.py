"""Protocol files: built-ins, the TOML format, validation errors, serialisation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import pathlib
import tomllib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isogrip.errors import ProtocolFileError, UnknownProtocolError
from isogrip.protocols.loader import (
    DEFAULT_PROTOCOL,
    builtin_names,
    builtin_protocols,
    load_protocol,
    parse_protocol,
    protocol_from_dict,
    protocol_to_dict,
    protocol_to_toml,
)
from isogrip.protocols.model import HandPattern, MvcSpec, Protocol
from isogrip.signal.units import KGF_N
from isogrip.types import Hand

BUILTINS = [
    "ihg-4x2-30-alternating",
    "ihg-4x2-30-single-hand",
    "ihg-4x2-30-workplace",
    "ihg-4x45-50-alternating",
    "ihg-4x2-20-starter",
    "ihg-4x2-5-sham",
    "ihg-4x2-10-sham",
]
BUILTIN_DIR = pathlib.Path(__file__).parents[1] / "isogrip" / "protocols" / "builtin"
HEAD = '[protocol]\nname = "t"\n'

# ------------------------------------------------------------------ a tiny TOML writer


def toml_key(key: str) -> str:
    return toml_str(key)


def toml_str(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out) + '"'


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def to_toml(doc: dict[str, Any]) -> str:
    """Top-level scalars first, then one [table] per dict value."""
    lines = [f"{toml_key(k)} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for table, body in doc.items():
        if isinstance(body, dict):
            lines.append(f"[{toml_key(table)}]")
            lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"


def test_writer_round_trips_through_tomllib() -> None:
    doc = {"x": 1, "t": {"a": [1.5, 'q"\n'], "b": {"c": True}, "d": dt.date(2020, 1, 2)}}
    assert tomllib.loads(to_toml(doc)) == doc


# ---------------------------------------------------------------------------- helpers


def parse(text: str) -> Protocol:
    return parse_protocol(text, "my.toml")


def error_of(text: str, path: str = "my.toml") -> ProtocolFileError:
    with pytest.raises(ProtocolFileError) as info:
        parse_protocol(text, path)
    return info.value


def check_error(err: ProtocolFileError, field: str | None, phrase: str, path: str) -> None:
    msg = str(err)
    assert err.field == field, msg
    assert phrase in msg, msg
    assert msg.startswith(f"{path}: " + (f"{field}: " if field else "")), msg
    assert "\n" not in msg
    assert isinstance(err, ValueError)


# --------------------------------------------------------------------------- built-ins


def test_builtin_names() -> None:
    names = builtin_names()
    assert sorted(names) == sorted(BUILTINS)
    assert names[0] == DEFAULT_PROTOCOL == "ihg-4x2-30-alternating"
    assert sorted(p.stem for p in BUILTIN_DIR.glob("*.toml")) == sorted(BUILTINS)
    assert [p.name for p in builtin_protocols()] == names


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_loads_and_round_trips(name: str) -> None:
    p = load_protocol(name)
    assert p.name == name
    assert p.path is None
    assert p.title and p.description and p.source
    assert "\n" not in p.title
    # dict round trip, through real JSON
    d = protocol_to_dict(p)
    text = json.dumps(d)
    assert protocol_from_dict(json.loads(text)) == p
    assert protocol_from_dict(d) == p
    assert d["hands"] == p.hands.value and type(d["hands"]) is str
    assert type(d["first_hand"]) is str
    assert d["mvc"]["floor_n"] == p.mvc.floor_n
    # TOML round trip
    assert parse_protocol(protocol_to_toml(p)) == p
    # the file on disk loads the same (path recorded)
    f = BUILTIN_DIR / f"{name}.toml"
    from_file = load_protocol(f)
    assert from_file == dataclasses.replace(p, path=os.fspath(f))


def test_default_protocol_matches_science() -> None:
    p = load_protocol(DEFAULT_PROTOCOL)
    assert (p.reps, p.hold_s, p.rest_s, p.target_pct) == (4, 120.0, 60.0, 30.0)
    assert (p.target_pct - p.green_pct, p.target_pct + p.green_pct) == (27.0, 33.0)
    assert (p.target_pct - p.amber_pct, p.target_pct + p.amber_pct) == (25.0, 35.0)
    assert p.warn_above_pct == 35.0
    assert p.hands is HandPattern.ALTERNATING and p.first_hand is Hand.RIGHT
    assert p.mvc.trials_per_hand == 3 and p.mvc.window_s == 0.5
    assert p.mvc.disagreement_pct == 10.0
    assert p.display_scale == 1.0 and not p.hide_intensity
    # the file spells out the dataclass defaults
    assert p == Protocol(name=p.name, title=p.title, description=p.description, source=p.source)


def test_variants() -> None:
    single = load_protocol("ihg-4x2-30-single-hand")
    assert single.hands is HandPattern.NON_DOMINANT and single.rest_s == 180.0
    work = load_protocol("ihg-4x2-30-workplace")
    assert work.rest_s == 120.0 and "10.1111/jch.14621" in work.source
    hold_age = load_protocol("ihg-4x45-50-alternating")
    assert (hold_age.hold_s, hold_age.target_pct, hold_age.rest_s) == (45.0, 50.0, 60.0)
    assert hold_age.warn_above_pct >= hold_age.target_pct + hold_age.green_pct
    assert "10.1111/jgs.19213" in hold_age.source
    assert "30 %" in hold_age.description
    for p in load_protocol("ihg-4x2-30-alternating"), single, work:
        assert "Baffour-Awuah" in p.source or "Cohen" in p.source


@pytest.mark.parametrize(
    ("name", "pct", "scale"), [("ihg-4x2-5-sham", 5, 6), ("ihg-4x2-10-sham", 10, 3)]
)
def test_sham_looks_like_the_real_protocol(name: str, pct: float, scale: float) -> None:
    sham, real = load_protocol(name), load_protocol(DEFAULT_PROTOCOL)
    assert sham.target_pct == pct and sham.display_scale == scale and sham.hide_intensity
    assert (sham.reps, sham.hold_s, sham.rest_s) == (real.reps, real.hold_s, real.rest_s)
    # what the participant sees: target, band edges and warning level as in the real one
    assert sham.target_pct * scale == pytest.approx(real.target_pct)
    assert sham.green_pct * scale == pytest.approx(real.green_pct, abs=1e-3)
    assert sham.amber_pct * scale == pytest.approx(real.amber_pct, abs=1e-3)
    assert sham.warn_above_pct * scale == pytest.approx(real.warn_above_pct, abs=1e-3)


def test_hand_sequences() -> None:
    r, left = Hand.RIGHT, Hand.LEFT
    assert load_protocol(DEFAULT_PROTOCOL).hand_sequence() == (r, left, r, left)
    single = load_protocol("ihg-4x2-30-single-hand")
    assert single.hand_sequence(dominant=r) == (left,) * 4
    assert single.hand_sequence(dominant=left) == (r,) * 4
    assert single.mvc_hands(dominant=r) == (left,)
    p = parse(HEAD + '[holds]\nfirst_hand = "left"\nreps = 3\n')
    assert p.hand_sequence() == (left, r, left)
    assert parse(HEAD + '[holds]\nhands = "right"\n').hand_sequence(left) == (r,) * 4
    assert parse(HEAD + '[holds]\nhands = "left"\nreps = 1\n').hand_sequence() == (left,)


# ----------------------------------------------------------------------- file format


def test_only_the_name_is_required() -> None:
    p = parse_protocol('[protocol]\nname = "mine"\n')
    assert p == Protocol(name="mine")
    assert p.path is None


def test_key_mapping_and_conversions() -> None:
    text = HEAD + (
        "[holds]\nreps = 3\nduration_s = 90\nrest_s = 75.5\ntarget_pct_mvc = 25\n"
        "[band]\ngreen_pct_mvc = 2\namber_pct_mvc = 4\nwarn_above_pct_mvc = 30\n"
        "[timing]\nprepare_s = 0\ncountdown_s = 0\nramp_s = 2\nrest_after_mvc_s = 0\n"
        "breathing_reminder_s = 20\n"
        "[mvc]\ntrials_per_hand = 2\nmax_trials_per_hand = 4.0\neffort_s = 4\nrest_s = 15\n"
        "window_s = 0.25\ndisagreement_pct = 12\nfloor_kgf = 1.5\nextra_trials = false\n"
        "improvement_pct = 7.5\n"
        "[display]\nscale = 2\nhide_intensity = true\n"
    )
    p = parse(text)
    assert (p.reps, p.hold_s, p.rest_s, p.target_pct) == (3, 90.0, 75.5, 25.0)
    assert isinstance(p.hold_s, float) and isinstance(p.display_scale, float)
    assert (p.green_pct, p.amber_pct, p.warn_above_pct) == (2.0, 4.0, 30.0)
    assert (p.prepare_s, p.countdown_s, p.ramp_s, p.rest_after_mvc_s) == (0, 0, 2, 0)
    assert p.breathing_reminder_s == 20
    assert p.mvc == MvcSpec(2, 4, 4.0, 15.0, 0.25, 12.0, 1.5 * KGF_N, False, 7.5)
    assert isinstance(p.mvc.max_trials_per_hand, int)
    assert (p.display_scale, p.hide_intensity) == (2.0, True)
    assert p.path == "my.toml"


def test_multiline_strings_and_bom(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "bom.toml"
    f.write_bytes(
        b'\xef\xbb\xbf[protocol]\nname = "b"\ndescription = """\\\n  two \\\n  lines"""\n'
    )
    assert load_protocol(f).description == "two lines"


# ----------------------------------------------------------------------- load_protocol


def test_load_by_path(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "mine.toml"
    f.write_text('[protocol]\nname = "mine"\n[holds]\nreps = 2\n', encoding="utf-8")
    assert load_protocol(f).reps == 2
    assert load_protocol(str(f)).path == str(f)
    monkeypatch.chdir(tmp_path)
    assert load_protocol("mine.toml").path == "mine.toml"  # ends in .toml -> a path
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "other").write_text('[protocol]\nname = "o"\n', encoding="utf-8")
    assert load_protocol(f"sub{os.sep}other").name == "o"  # has a separator -> a path


def test_unknown_builtin_name() -> None:
    with pytest.raises(UnknownProtocolError) as info:
        load_protocol("ihg-nope")
    msg = str(info.value)
    assert msg.startswith("unknown protocol 'ihg-nope'; built-in protocols: ")
    assert msg.endswith("(or give a path to a .toml file)")
    for name in BUILTINS:
        assert name in msg
    assert isinstance(info.value, LookupError)
    with pytest.raises(UnknownProtocolError):
        load_protocol("")


def test_file_not_found(tmp_path: pathlib.Path) -> None:
    path = str(tmp_path / "nope.toml")
    with pytest.raises(ProtocolFileError) as info:
        load_protocol(path)
    check_error(info.value, None, "file not found", path)
    assert info.value.path == path


def test_not_utf8(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "latin1.toml"
    f.write_bytes('[protocol]\nname = "x"\ntitle = "Übung"\n'.encode("latin-1"))
    with pytest.raises(ProtocolFileError) as info:
        load_protocol(f)
    check_error(info.value, None, "not UTF-8", str(f))


def test_folder_is_not_a_file(tmp_path: pathlib.Path) -> None:
    d = tmp_path / "dir.toml"
    d.mkdir()
    with pytest.raises(ProtocolFileError) as info:
        load_protocol(d)
    check_error(info.value, None, "folder", str(d))


def test_file_too_large(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "big.toml"
    f.write_text(HEAD + "# " + "x" * 1_100_000 + "\n", encoding="utf-8")
    with pytest.raises(ProtocolFileError) as info:
        load_protocol(f)
    check_error(info.value, None, "too large", str(f))


@pytest.mark.parametrize(
    ("text", "field", "phrase"),
    [
        (
            "[holds]\nduration_s = -5\n",
            "holds.duration_s",
            "must be a positive number of seconds, got -5",
        ),
        ("[holdz]\nreps = 4\n", "holdz", "did you mean [holds]"),
        ("[protocol\n", None, "line 1, column"),
    ],
)
def test_errors_from_files_name_the_path(
    tmp_path: pathlib.Path, text: str, field: str | None, phrase: str
) -> None:
    f = tmp_path / "bad.toml"
    f.write_text((HEAD if text.startswith("[h") else "") + text, encoding="utf-8")
    with pytest.raises(ProtocolFileError) as info:
        load_protocol(f)
    check_error(info.value, field, phrase, str(f))
    assert str(f) in str(info.value)


def test_example_message_exactly() -> None:
    err = error_of(HEAD + "[holds]\nduration_s = -5\n")
    assert str(err) == "my.toml: holds.duration_s: must be a positive number of seconds, got -5"


# ------------------------------------------------------------------------ validation

CASES: list[tuple[str, str, str | None, str]] = [
    # id, text after HEAD (the whole text if it starts with "!"), field, phrase
    # -- structure
    ("unknown-table", "[holdz]\nreps = 4\n", "holdz", "unknown table; did you mean [holds]?"),
    ("unknown-table-far", "[zzzz]\n", "zzzz", "unknown table"),
    ("unknown-key", "[holds]\nduraton_s = 120\n", "holds.duraton_s", "did you mean duration_s?"),
    (
        "unknown-key-other-table",
        "[holds]\ngreen_pct_mvc = 3\n",
        "holds.green_pct_mvc",
        "belongs in [band]",
    ),
    ("unknown-key-no-match", "[display]\nqqqqqq = 1\n", "display.qqqqqq", "unknown key"),
    ("key-outside-table", '!name = "x"\n', "name", "put it under [protocol]"),
    ("unknown-top-level-key", "!zz = 1\n" + HEAD, "zz", "unknown key outside any table"),
    ("array-of-tables", "[[holds]]\nreps = 4\n", "holds", "not [[holds]]"),
    ("table-not-table", "!holds = 3\n" + HEAD, "holds", "must be a table"),
    # -- types
    (
        "bool-not-number",
        "[holds]\nduration_s = true\n",
        "holds.duration_s",
        "must be a number, got true",
    ),
    ("text-not-number", '[holds]\nduration_s = "120"\n', "holds.duration_s", "remove the quotes"),
    (
        "list-not-number",
        "[band]\ngreen_pct_mvc = [3]\n",
        "band.green_pct_mvc",
        "must be a number, got a list",
    ),
    ("date-not-number", "[timing]\nramp_s = 2020-01-01\n", "timing.ramp_s", "must be a number"),
    ("fraction-not-int", "[holds]\nreps = 2.5\n", "holds.reps", "must be a whole number, got 2.5"),
    (
        "bool-not-int",
        "[mvc]\ntrials_per_hand = true\n",
        "mvc.trials_per_hand",
        "must be a whole number",
    ),
    ("text-not-bool", '[mvc]\nextra_trials = "yes"\n', "mvc.extra_trials", "must be true or false"),
    (
        "int-not-bool",
        "[display]\nhide_intensity = 1\n",
        "display.hide_intensity",
        "must be true or false",
    ),
    ("number-not-text", "!" + HEAD + "title = 3\n", "protocol.title", "must be text"),
    (
        "huge-int-float",
        "[holds]\nduration_s = " + "9" * 400 + "\n",
        "holds.duration_s",
        "sensible size",
    ),
    # -- durations
    (
        "zero-hold",
        "[holds]\nduration_s = 0\n",
        "holds.duration_s",
        "positive number of seconds, got 0",
    ),
    (
        "nan-hold",
        "[holds]\nduration_s = nan\n",
        "holds.duration_s",
        "positive number of seconds, got nan",
    ),
    ("inf-hold", "[holds]\nduration_s = inf\n", "holds.duration_s", "positive number of seconds"),
    ("zero-rest", "[holds]\nrest_s = 0\n", "holds.rest_s", "positive number of seconds"),
    (
        "negative-prepare",
        "[timing]\nprepare_s = -1\n",
        "timing.prepare_s",
        "zero or a positive number",
    ),
    (
        "inf-countdown",
        "[timing]\ncountdown_s = inf\n",
        "timing.countdown_s",
        "zero or a positive number",
    ),
    (
        "zero-breathing",
        "[timing]\nbreathing_reminder_s = -30\n",
        "timing.breathing_reminder_s",
        "positive",
    ),
    ("zero-effort", "[mvc]\neffort_s = 0\n", "mvc.effort_s", "positive number of seconds"),
    ("nan-mvc-rest", "[mvc]\nrest_s = nan\n", "mvc.rest_s", "positive number of seconds"),
    ("negative-window", "[mvc]\nwindow_s = -0.5\n", "mvc.window_s", "positive number of seconds"),
    ("long-hold", "[holds]\nduration_s = 1801\n", "holds.duration_s", "likely a typo"),
    ("long-rest", "[holds]\nrest_s = 3600\n", "holds.rest_s", "longer than 30 minutes"),
    ("long-mvc-rest", "[mvc]\nrest_s = 7200\n", "mvc.rest_s", "likely a typo"),
    (
        "long-rest-after-mvc",
        "[timing]\nrest_after_mvc_s = 1900\n",
        "timing.rest_after_mvc_s",
        "likely a typo",
    ),
    ("long-effort", "[mvc]\neffort_s = 61\n", "mvc.effort_s", "likely a typo"),
    ("ramp-too-long", "[holds]\nduration_s = 3\n", "timing.ramp_s", "shorter than the hold"),
    # -- intensity and band
    (
        "target-low",
        "[holds]\ntarget_pct_mvc = 0.5\n",
        "holds.target_pct_mvc",
        "between 1 and 100 % MVC",
    ),
    ("target-high", "[holds]\ntarget_pct_mvc = 101\n", "holds.target_pct_mvc", "between 1 and 100"),
    ("target-nan", "[holds]\ntarget_pct_mvc = nan\n", "holds.target_pct_mvc", "got nan"),
    ("green-zero", "[band]\ngreen_pct_mvc = 0\n", "band.green_pct_mvc", "above 0"),
    ("amber-negative", "[band]\namber_pct_mvc = -1\n", "band.amber_pct_mvc", "above 0"),
    (
        "amber-below-green",
        "[band]\ngreen_pct_mvc = 4\namber_pct_mvc = 3\n",
        "band.amber_pct_mvc",
        "at least green_pct_mvc (4)",
    ),
    (
        "warn-below-band",
        "[band]\nwarn_above_pct_mvc = 32\n",
        "band.warn_above_pct_mvc",
        "at least target + green = 33",
    ),
    (
        "warn-default-too-low",
        "[holds]\ntarget_pct_mvc = 50\n",
        "band.warn_above_pct_mvc",
        "(the default; set warn_above_pct_mvc in [band])",
    ),
    ("warn-nan", "[band]\nwarn_above_pct_mvc = nan\n", "band.warn_above_pct_mvc", "got nan"),
    # -- counts and choices
    ("reps-zero", "[holds]\nreps = 0\n", "holds.reps", "between 1 and 20"),
    ("reps-many", "[holds]\nreps = 21\n", "holds.reps", "between 1 and 20"),
    (
        "hands-bad",
        '[holds]\nhands = "both"\n',
        "holds.hands",
        'must be one of "alternating", "left", "right", "non-dominant"',
    ),
    (
        "hands-typo",
        '[holds]\nhands = "nondominant"\n',
        "holds.hands",
        'did you mean "non-dominant"?',
    ),
    ("hands-not-text", "[holds]\nhands = 2\n", "holds.hands", "must be text"),
    (
        "first-hand-bad",
        '[holds]\nfirst_hand = "up"\n',
        "holds.first_hand",
        'must be one of "left", "right"',
    ),
    ("trials-zero", "[mvc]\ntrials_per_hand = 0\n", "mvc.trials_per_hand", "between 1 and"),
    (
        "max-below-trials",
        "[mvc]\ntrials_per_hand = 3\nmax_trials_per_hand = 2\n",
        "mvc.max_trials_per_hand",
        "at least trials_per_hand (3)",
    ),
    (
        "max-default-below-trials",
        "[mvc]\ntrials_per_hand = 6\n",
        "mvc.max_trials_per_hand",
        "the default",
    ),
    ("max-too-many", "[mvc]\nmax_trials_per_hand = 11\n", "mvc.max_trials_per_hand", "at most 10"),
    (
        "window-not-shorter",
        "[mvc]\nwindow_s = 5\n",
        "mvc.window_s",
        "shorter than the effort (effort_s = 5 s)",
    ),
    ("disagreement-zero", "[mvc]\ndisagreement_pct = 0\n", "mvc.disagreement_pct", "above 0"),
    ("improvement-negative", "[mvc]\nimprovement_pct = -1\n", "mvc.improvement_pct",
     "between 0 and 50 %"),
    ("improvement-huge", "[mvc]\nimprovement_pct = 60\n", "mvc.improvement_pct",
     "between 0 and 50 %"),
    ("improvement-nan", "[mvc]\nimprovement_pct = nan\n", "mvc.improvement_pct",
     "between 0 and 50 %"),
    (
        "floor-negative",
        "[mvc]\nfloor_kgf = -1\n",
        "mvc.floor_kgf",
        "zero or more and below 100 kgf, got -1",
    ),
    ("floor-huge", "[mvc]\nfloor_kgf = 150\n", "mvc.floor_kgf", "below 100 kgf"),
    ("scale-zero", "[display]\nscale = 0\n", "display.scale", "above 0"),
    ("scale-negative", "[display]\nscale = -2\n", "display.scale", "got -2"),
    ("scale-inf", "[display]\nscale = inf\n", "display.scale", "got inf"),
    # -- name
    ("no-protocol-table", "![holds]\nreps = 4\n", "protocol.name", "add a [protocol] table"),
    ("empty-file", "!", "protocol.name", "is missing"),
    ("no-name", '![protocol]\ntitle = "x"\n', "protocol.name", "is missing"),
    ("empty-name", '![protocol]\nname = ""\n', "protocol.name", "must not be empty"),
    ("name-upper", '![protocol]\nname = "My Protocol"\n', "protocol.name", "lower-case"),
    ("name-dash-first", '![protocol]\nname = "-x"\n', "protocol.name", "start with"),
    ("name-not-text", "![protocol]\nname = 4\n", "protocol.name", "must be text"),
    ("name-too-long", '![protocol]\nname = "' + "a" * 65 + '"\n', "protocol.name", "at most 64"),
    # -- TOML syntax
    ("toml-syntax", '![protocol]\nname = "x"\nreps 4\n', None, "not valid TOML: line 3, column"),
    ("toml-eof", "!a = ", None, "not valid TOML: at the end of the file"),
    ("toml-duplicate", "!" + HEAD + HEAD, None, "not valid TOML"),
    ("toml-huge-int", "!a = 1" + "0" * 5000, None, "not valid TOML"),
    ("toml-deep", "!a = " + "[" * 5000, None, "not valid TOML"),
]


@pytest.mark.parametrize(
    ("text", "field", "phrase"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_validation_errors(text: str, field: str | None, phrase: str) -> None:
    text = text[1:] if text.startswith("!") else HEAD + text
    check_error(error_of(text), field, phrase, "my.toml")


def test_error_path_defaults_to_string_label() -> None:
    err = error_of("[protocol]\n", path="<string>")
    assert str(err).startswith("<string>: protocol.name: ")
    with pytest.raises(ProtocolFileError):
        parse_protocol("[protocol]\n")


def test_warn_exactly_at_band_edge_is_fine() -> None:
    assert parse(HEAD + "[band]\nwarn_above_pct_mvc = 33\n").warn_above_pct == 33.0
    assert parse(HEAD + "[holds]\ntarget_pct_mvc = 100\n[band]\nwarn_above_pct_mvc = 103\n")


def test_limits_are_inclusive() -> None:
    p = parse(HEAD + "[holds]\nreps = 20\nduration_s = 1800\nrest_s = 1800\ntarget_pct_mvc = 1\n")
    assert (p.reps, p.hold_s, p.target_pct) == (20, 1800.0, 1.0)
    assert parse(HEAD + "[holds]\nreps = 1\n[mvc]\nfloor_kgf = 0\n").mvc.floor_n == 0.0
    assert parse(HEAD + "[timing]\nbreathing_reminder_s = 0\n").breathing_reminder_s == 0.0


# --------------------------------------------------------------- dict serialisation


def test_from_dict_defaults_and_unknown_keys() -> None:
    p = protocol_from_dict({"name": "x", "future_field": 1, "mvc": {"later": 2}})
    assert p == Protocol(name="x")


def test_from_dict_errors() -> None:
    good = protocol_to_dict(load_protocol(DEFAULT_PROTOCOL))
    cases: list[tuple[Any, str | None, str]] = [
        ({**good, "hold_s": "120"}, "hold_s", "must be a number"),
        ({**good, "hold_s": -1}, "hold_s", "positive number of seconds"),
        ({**good, "hands": "both"}, "hands", "must be one of"),
        ({**good, "mvc": [1]}, "mvc", "mapping"),
        ({**good, "mvc": {**good["mvc"], "floor_n": -1.0}}, "mvc.floor_n", "below 980.665 N"),
        ({**good, "mvc": {**good["mvc"], "trials_per_hand": 0}}, "mvc.trials_per_hand", "between"),
        ({**good, "path": 3}, "path", "text or null"),
        ({k: v for k, v in good.items() if k != "name"}, "name", "is required"),
        ([1, 2], None, "mapping"),
    ]
    for d, field, phrase in cases:
        with pytest.raises(ProtocolFileError) as info:
            protocol_from_dict(d)
        check_error(info.value, field, phrase, "<stored protocol>")


def test_to_dict_is_json_ready() -> None:
    p = parse(HEAD)
    d = protocol_to_dict(p)
    assert d["path"] == "my.toml"
    assert json.loads(json.dumps(d)) == d
    assert set(d) == {f.name for f in dataclasses.fields(Protocol)}
    assert set(d["mvc"]) == {f.name for f in dataclasses.fields(MvcSpec)}


# ------------------------------------------------------------------------- hypothesis

#: The format, table by table (spelled out here on purpose: the test documents it).
FORMAT = {
    "protocol": ["name", "title", "description", "source"],
    "holds": ["reps", "hands", "first_hand", "duration_s", "rest_s", "target_pct_mvc"],
    "band": ["green_pct_mvc", "amber_pct_mvc", "warn_above_pct_mvc"],
    "timing": ["prepare_s", "countdown_s", "ramp_s", "rest_after_mvc_s", "breathing_reminder_s"],
    "mvc": [
        "trials_per_hand",
        "max_trials_per_hand",
        "effort_s",
        "rest_s",
        "window_s",
        "disagreement_pct",
        "improvement_pct",
        "floor_kgf",
        "extra_trials",
    ],
    "display": ["scale", "slope", "hide_intensity"],
}
ALL_KEYS = sorted({k for keys in FORMAT.values() for k in keys})

scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(min_value=-5, max_value=200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-10, max_value=2000),
    st.text(max_size=12),
    st.sampled_from(["alternating", "left", "right", "non-dominant", "t", "x-1"]),
    st.dates(),
    st.datetimes(),
    st.times(),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(max_size=5), scalars, max_size=2),
)
#: Mostly plausible values, so that many documents get past the type checks.
plausible = st.one_of(
    st.integers(min_value=0, max_value=60),
    st.floats(min_value=0, max_value=200),
    st.booleans(),
    st.sampled_from(["alternating", "left", "right", "non-dominant"]),
    values,
)
keys = st.one_of(st.sampled_from(ALL_KEYS), st.text(max_size=8))
junk_tables = st.dictionaries(keys, values, max_size=6)
#: Hostile documents: any table names, keys and values.
hostile = st.dictionaries(
    st.one_of(st.sampled_from(list(FORMAT)), st.text(max_size=8)),
    st.one_of(junk_tables, values),
    max_size=6,
)


@st.composite
def near_valid(draw: st.DrawFn) -> dict[str, Any]:
    """Known tables and keys (with an occasional stray), plausible or junk values."""
    doc: dict[str, Any] = {}
    for table in draw(st.lists(st.sampled_from(list(FORMAT)), unique=True)):
        names = st.one_of(st.sampled_from(FORMAT[table]), st.sampled_from(FORMAT[table]), keys)
        doc[table] = draw(st.dictionaries(names, plausible, max_size=4))
    return doc


documents = st.one_of(near_valid(), near_valid(), hostile)


@settings(max_examples=300, deadline=None)
@given(doc=documents, name=st.one_of(st.none(), st.sampled_from(["ok", "ok-2.b_c"]), values))
def test_arbitrary_documents_only_raise_protocol_file_error(doc: dict[str, Any], name: Any) -> None:
    if name is not None:
        head = doc.setdefault("protocol", {})
        if isinstance(head, dict):
            head["name"] = name
    text = to_toml(doc)
    assert tomllib.loads(text) is not None  # the writer produced valid TOML
    try:
        p = parse_protocol(text, "h.toml")
    except ProtocolFileError as exc:
        assert str(exc).startswith("h.toml: ")
        assert "\n" not in str(exc)
    else:
        assert protocol_from_dict(json.loads(json.dumps(protocol_to_dict(p)))) == p


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=80))
def test_arbitrary_text_only_raises_protocol_file_error(text: str) -> None:
    try:
        parse_protocol(HEAD + text)
    except ProtocolFileError as exc:
        assert "\n" not in str(exc)


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=60))
def test_arbitrary_bytes_only_raise_protocol_file_error(
    tmp_path: pathlib.Path, data: bytes
) -> None:
    f = tmp_path / "b.toml"
    f.write_bytes(HEAD.encode() + data)
    try:
        load_protocol(f)
    except ProtocolFileError as exc:
        assert str(f) in str(exc)


def pos(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(min_value=lo, max_value=hi, exclude_min=True)


@st.composite
def valid_documents(draw: st.DrawFn) -> dict[str, Any]:
    target = draw(st.floats(1, 100))
    green = draw(pos(0, 10))
    # Within the ranges of isogrip.protocols.bounds (docs/protocols.md, Ranges).
    effort = draw(st.floats(1, 60))
    trials = draw(st.integers(1, 10))
    hold = draw(pos(1, 1800))
    return {
        "protocol": {
            "name": draw(st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True)),
            "title": draw(st.text(max_size=20)),
        },
        "holds": {
            "reps": draw(st.integers(1, 20)),
            "hands": draw(st.sampled_from([h.value for h in HandPattern])),
            "first_hand": draw(st.sampled_from(["left", "right"])),
            "duration_s": hold,
            "rest_s": draw(st.floats(0.1, 1800)),
            "target_pct_mvc": target,
        },
        "band": {
            "green_pct_mvc": green,
            "amber_pct_mvc": green + draw(st.floats(0, 10)),
            "warn_above_pct_mvc": target + green + draw(st.floats(0, 50)),
        },
        "timing": {
            "ramp_s": draw(st.floats(0, 1)) * min(hold * 0.99, 60),
            "breathing_reminder_s": draw(st.one_of(st.just(0.0), st.floats(5, 1800))),
        },
        "mvc": {
            "trials_per_hand": trials,
            "max_trials_per_hand": draw(st.integers(trials, 10)),
            "effort_s": effort,
            "window_s": draw(st.floats(0.05, min(effort * 0.99, 10))),
            "floor_kgf": draw(st.floats(0, 99)),
            "extra_trials": draw(st.booleans()),
        },
        "display": {"scale": draw(pos(0, 50)), "hide_intensity": draw(st.booleans())},
    }


@settings(max_examples=150, deadline=None)
@given(doc=valid_documents())
def test_valid_documents_load_and_round_trip(doc: dict[str, Any]) -> None:
    p = parse_protocol(to_toml(doc))
    assert p.hold_s == doc["holds"]["duration_s"]
    assert math.isclose(p.mvc.floor_n, doc["mvc"]["floor_kgf"] * KGF_N)
    assert protocol_from_dict(json.loads(json.dumps(protocol_to_dict(p)))) == p
    again = parse_protocol(protocol_to_toml(p))
    # equal, except that floor_kgf -> N -> kgf -> N may move the last binary digit
    assert dataclasses.replace(again, mvc=p.mvc) == p
    assert dataclasses.replace(again.mvc, floor_n=p.mvc.floor_n) == p.mvc
    assert math.isclose(again.mvc.floor_n, p.mvc.floor_n, rel_tol=1e-12, abs_tol=1e-12)


def test_format_covers_every_model_field() -> None:
    written = tomllib.loads(protocol_to_toml(Protocol(name="x")))
    assert {t: list(keys) for t, keys in written.items()} == FORMAT
    n_fields = len(dataclasses.fields(Protocol)) - 2 + len(dataclasses.fields(MvcSpec))
    assert sum(len(keys) for keys in FORMAT.values()) == n_fields  # all but mvc and path
    # every key reaches its field: change all of them and compare with the defaults
    changed = parse_protocol(
        to_toml(
            {
                "protocol": {"name": "y", "title": "T", "description": "D", "source": "S"},
                "holds": {
                    "reps": 3,
                    "hands": "left",
                    "first_hand": "left",
                    "duration_s": 60,
                    "rest_s": 30,
                    "target_pct_mvc": 20,
                },
                "band": {"green_pct_mvc": 2, "amber_pct_mvc": 4, "warn_above_pct_mvc": 25},
                "timing": {
                    "prepare_s": 1,
                    "countdown_s": 2,
                    "ramp_s": 4,
                    "rest_after_mvc_s": 10,
                    "breathing_reminder_s": 20,
                },
                "mvc": {
                    "trials_per_hand": 2,
                    "max_trials_per_hand": 3,
                    "effort_s": 4,
                    "rest_s": 15,
                    "window_s": 0.2,
                    "disagreement_pct": 15,
                    "improvement_pct": 8,
                    "floor_kgf": 1,
                    "extra_trials": False,
                },
                "display": {"scale": 2, "slope": 1.5, "hide_intensity": True},
            }
        )
    )
    default = Protocol(name="x")
    for f in dataclasses.fields(Protocol):
        if f.name not in ("mvc", "path"):
            assert getattr(changed, f.name) != getattr(default, f.name), f.name
    for f in dataclasses.fields(MvcSpec):
        assert getattr(changed.mvc, f.name) != getattr(default.mvc, f.name), f.name
