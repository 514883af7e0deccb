"""Every protocol field is declared once, beside its attribute, and obeyed everywhere.

Each field of ``Protocol`` and ``MvcSpec`` carries its TOML key, unit and range (a
``FieldSpec`` in the dataclass field's metadata), and a protocol checks them when it
is built. So a protocol made in code is refused with the same error, field and
message as the same value in a file; before, it was not checked at all (only some of
its ranges, by the engine), and the loader had a second list of the fields.
"""

from __future__ import annotations

import ast
import dataclasses
import pathlib
import tomllib
from typing import Any

import pytest

from isogrip.errors import ProtocolFileError
from isogrip.protocols.fields import Slot, Table, Unit
from isogrip.protocols.loader import (
    DEFAULT_PROTOCOL,
    load_protocol,
    parse_protocol,
    protocol_from_dict,
    protocol_to_toml,
)
from isogrip.protocols.model import MvcSpec, Protocol, protocol_slots
from isogrip.protocols.validation import BUILT_IN_CODE, ProtocolValueError

SLOTS = protocol_slots()
BY_PATH = {s.path: s for s in SLOTS}
PACKAGE = pathlib.Path(__file__).parents[1] / "isogrip" / "protocols"


def build_in_code(slot: Slot, value: object) -> Protocol:
    if slot.parent:
        inner: dict[str, Any] = {slot.attr: value}
        return Protocol(name="p", mvc=MvcSpec(**inner))
    given: dict[str, Any] = {"name": "p", slot.attr: value}
    return Protocol(**given)


def file_with(slot: Slot, value: object) -> str:
    shown = repr(value) if isinstance(value, float) else str(value)
    return f'[protocol]\nname = "p"\n[{slot.spec.table.value}]\n{slot.spec.key} = {shown}\n'


def code_error(slot: Slot, value: object) -> ProtocolValueError:
    with pytest.raises(ProtocolValueError) as info:
        build_in_code(slot, value)
    return info.value


def file_error(text: str) -> ProtocolFileError:
    with pytest.raises(ProtocolFileError) as info:
        parse_protocol(text, "p.toml")
    return info.value


def reason(err: ProtocolFileError) -> str:
    """The message after its label (the file, or where the protocol came from)."""
    return str(err).removeprefix(f"{err.path}: ")


def outside(slot: Slot) -> list[float]:
    """Values just outside a field's own range, below and above, in model units."""
    r = slot.spec.range
    assert r is not None
    found: list[float] = []
    if r.low is not None:
        found.append(r.low - 1 if slot.type is int else r.low / 2 if r.low > 0 else -1.0)
    if r.high is not None:
        found.append(r.high + 1 if slot.type is int else r.high * 2 + 1)
    return found


RANGED = [s for s in SLOTS if s.spec.range is not None]
CASES = [(s, v) for s in RANGED for v in outside(s)]


# ------------------------------------------------------------------------ the specs


def test_every_field_has_a_spec_with_key_unit_and_range() -> None:
    declared = {f.name for f in dataclasses.fields(Protocol)} - {"mvc", "path"}
    declared |= {f"mvc.{f.name}" for f in dataclasses.fields(MvcSpec)}
    assert {s.path for s in SLOTS} == declared
    for s in SLOTS:
        assert s.spec.key and isinstance(s.spec.table, Table), s.path
        numeric = s.type in (int, float)
        assert (s.spec.unit is not Unit.NONE) == numeric, s.path
        if numeric:
            # A number without a range of its own is bounded by another field.
            assert s.spec.range is not None or s.spec.rules, s.path
        else:
            assert s.spec.range is None, s.path
    assert len({s.spec.label for s in SLOTS}) == len(SLOTS)


def test_the_file_format_is_the_specs() -> None:
    written = tomllib.loads(protocol_to_toml(Protocol(name="x")))
    from_specs = {t.value: [s.spec.key for s in SLOTS if s.spec.table is t] for t in Table}
    assert {t: list(keys) for t, keys in written.items()} == from_specs


@pytest.mark.parametrize("module", ["loader", "fileformat", "sources", "stored"])
def test_the_loaders_list_no_field(module: str) -> None:
    # Everything they know of a field comes from its spec: no key or attribute of a
    # field is spelt out in them (but the required name, which they ask for).
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    literals = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    names = {s.spec.key for s in SLOTS} | {s.attr for s in SLOTS} | {s.path for s in SLOTS}
    assert literals & names <= {"name"}


# ----------------------------------------------------- code and files: the same error


@pytest.mark.parametrize(("slot", "value"), CASES,
                         ids=[f"{s.path}={v!r}" for s, v in CASES])
def test_built_in_code_out_of_range_gives_the_file_error(slot: Slot, value: float) -> None:
    in_code = code_error(slot, value)
    in_file = file_error(file_with(slot, value / slot.spec.file_scale))
    assert type(in_code) is type(in_file) is ProtocolValueError
    assert in_code.field == in_file.field == slot.spec.label
    assert in_code.path == BUILT_IN_CODE and in_file.path == "p.toml"
    assert str(in_code).startswith(f"{BUILT_IN_CODE}: {slot.spec.label}: ")
    assert "\n" not in str(in_code)
    if slot.spec.file_scale == 1.0:  # a file gives floor_kgf in kilograms
        assert reason(in_code) == reason(in_file)


def test_a_scaled_field_speaks_the_unit_of_its_source() -> None:
    floor = BY_PATH["mvc.floor_n"]
    in_code = code_error(floor, -1.0)
    assert reason(in_code) == "mvc.floor_kgf: must be zero or more and below 980.665 N, got -1"
    in_file = file_error(file_with(floor, -1))
    assert reason(in_file) == "mvc.floor_kgf: must be zero or more and below 100 kgf, got -1"


@pytest.mark.parametrize(("attr", "value", "toml"), [
    ("amber_pct", 2.0, "[band]\namber_pct_mvc = 2.0\n"),
    ("ramp_s", 130.0, "[holds]\nduration_s = 120\n[timing]\nramp_s = 130\n"),
    ("hold_s", 2.0, "[holds]\nduration_s = 2\n"),  # the default ramp of 3 s
    ("target_pct", 50.0, "[holds]\ntarget_pct_mvc = 50\n"),  # the default warning
    ("name", "My Protocol", ""),
])
def test_rules_between_fields_give_the_file_error(attr: str, value: object, toml: str) -> None:
    with pytest.raises(ProtocolValueError) as info:
        build_in_code(BY_PATH[attr], value)
    in_code = info.value
    text = f'[protocol]\nname = "{value}"\n' if attr == "name" else '[protocol]\nname = "p"\n'
    in_file = file_error(text + toml)
    assert type(in_file) is ProtocolValueError and in_code.field == in_file.field
    # Only a file knows which values are defaults the reader never wrote.
    note = f" (the default; set {in_file.problem.spec.key} in [{in_file.problem.spec.table.value}])"
    assert reason(in_file) in (reason(in_code), reason(in_code) + note)


def test_mvc_settings_built_in_code_check_themselves() -> None:
    with pytest.raises(ProtocolValueError) as info:
        MvcSpec(trials_per_hand=6)
    assert str(info.value) == (f"{BUILT_IN_CODE}: mvc.max_trials_per_hand: must be at least "
                               "trials_per_hand (6), got 5")
    with pytest.raises(ProtocolValueError, match=r"mvc\.window_s: must be shorter than the effort"):
        MvcSpec(effort_s=1.0, window_s=1.0)


def test_replace_checks_the_new_protocol() -> None:
    p = load_protocol(DEFAULT_PROTOCOL)
    with pytest.raises(ProtocolValueError,
                       match=r"timing\.breathing_reminder_s: must be at least 5 s"):
        dataclasses.replace(p, breathing_reminder_s=0.001)
    assert dataclasses.replace(p, breathing_reminder_s=0.0).breathing_reminder_s == 0.0


@pytest.mark.parametrize(("attr", "value", "phrase"), [
    ("reps", 2.5, "holds.reps: must be a whole number, got 2.5"),
    ("reps", True, "holds.reps: must be a whole number, got True"),
    ("hold_s", "120", "holds.duration_s: must be a number, got '120'"),
    ("hands", "left", "holds.hands: must be a HandPattern, got 'left'"),
    ("hide_intensity", 1, "display.hide_intensity: must be true or false, got 1"),
])
def test_wrong_types_in_code_are_refused(attr: str, value: object, phrase: str) -> None:
    with pytest.raises(ProtocolValueError) as info:
        build_in_code(BY_PATH[attr], value)
    assert reason(info.value) == phrase


def test_whole_numbers_are_numbers_in_code() -> None:
    assert Protocol(name="p", hold_s=90).hold_s == 90


def test_a_stored_protocol_gives_the_same_problem_named_by_attribute() -> None:
    with pytest.raises(ProtocolValueError) as info:
        protocol_from_dict({"name": "p", "green_pct": 4.0, "amber_pct": 3.0})
    stored = info.value
    assert stored.field == "amber_pct" and stored.path == "<stored protocol>"
    assert reason(stored) == ("amber_pct: must be at least green_pct (4), since the amber band "
                              "surrounds the green one; got 3")
    with pytest.raises(ProtocolValueError) as code:
        Protocol(name="p", green_pct=4.0, amber_pct=3.0)
    assert code.value.problem == stored.problem
    assert reason(code.value) == ("band.amber_pct_mvc: must be at least green_pct_mvc (4), since "
                                  "the amber band surrounds the green one; got 3")

