"""Protocol fields that schedule something are bounded, and so is the work of a tick.

A breathing reminder every 0.0005 s once made a 1-minute hold at ``--speed max`` run
for ever (the engine scheduled 120 000 reminders and gave them one tick at a time),
and every 1e-6 s exhausted the memory. Files are refused with one line naming the
field; a protocol built in code is refused when it is built (and by the engine, if
changed behind the model's back); a jump of the clock gives one reminder, not every
one it missed.
"""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from isogrip.errors import ProtocolFileError
from isogrip.protocols.bounds import out_of_range
from isogrip.protocols.engine import Engine
from isogrip.protocols.events import Command, EventKind, Phase
from isogrip.protocols.fields import Unit
from isogrip.protocols.loader import load_protocol
from isogrip.protocols.model import Protocol, protocol_slots
from isogrip.protocols.records import PhaseChanged
from isogrip.protocols.validation import ProtocolValueError
from isogrip.types import Hand

DEFAULT = load_protocol("ihg-4x2-30-alternating")
KNOWN = {Hand.RIGHT: 400.0, Hand.LEFT: 380.0}
#: The fields that schedule or count something: model attribute -> its field.
RANGES = {s.path: s for s in protocol_slots()
          if s.spec.unit in (Unit.SECONDS, Unit.HOLDS, Unit.EFFORTS)}

#: Model attribute -> (TOML table, key).
TOML_KEY = {
    "reps": ("holds", "reps"), "hold_s": ("holds", "duration_s"),
    "rest_s": ("holds", "rest_s"), "prepare_s": ("timing", "prepare_s"),
    "countdown_s": ("timing", "countdown_s"), "ramp_s": ("timing", "ramp_s"),
    "rest_after_mvc_s": ("timing", "rest_after_mvc_s"),
    "breathing_reminder_s": ("timing", "breathing_reminder_s"),
    "mvc.trials_per_hand": ("mvc", "trials_per_hand"),
    "mvc.max_trials_per_hand": ("mvc", "max_trials_per_hand"),
    "mvc.effort_s": ("mvc", "effort_s"), "mvc.rest_s": ("mvc", "rest_s"),
    "mvc.window_s": ("mvc", "window_s"),
}


def write_protocol(tmp_path: Path, table: str, key: str, value: object) -> Path:
    path = tmp_path / "p.toml"
    path.write_text(f'[protocol]\nname = "p"\n[{table}]\n{key} = {value!r}\n')
    return path


def test_every_range_has_its_toml_key() -> None:
    assert set(TOML_KEY) == set(RANGES)
    assert {a: (s.spec.table.value, s.spec.key) for a, s in RANGES.items()} == TOML_KEY


@pytest.mark.parametrize("value", [0.0005, 1e-6, 4.9, -5.0])
def test_a_breathing_reminder_too_often_is_refused(tmp_path: Path, value: float) -> None:
    path = write_protocol(tmp_path, "timing", "breathing_reminder_s", value)
    with pytest.raises(ProtocolFileError) as err:
        load_protocol(path)
    message = str(err.value)
    assert "timing.breathing_reminder_s" in message and "\n" not in message
    assert str(path) in message


@pytest.mark.parametrize("value", [0.0, 5.0, 60.0])
def test_a_breathing_reminder_in_range_or_off_is_accepted(tmp_path: Path,
                                                          value: float) -> None:
    p = load_protocol(write_protocol(tmp_path, "timing", "breathing_reminder_s", value))
    assert p.breathing_reminder_s == value


@pytest.mark.parametrize("attr", sorted(RANGES))
def test_below_and_above_every_range_is_refused(tmp_path: Path, attr: str) -> None:
    r = RANGES[attr].spec.range
    assert r is not None and r.high is not None
    table, key = TOML_KEY[attr]
    # No low end of its own: at least another field (max_trials_per_hand >= trials).
    below = 0.0 if r.low is None else r.low / 2 if r.low > 0 else -1.0
    for value in (below, r.high * 2 + 1):
        if RANGES[attr].spec.unit is not Unit.SECONDS:
            value = int(value) if value >= 1 else 0
        path = write_protocol(tmp_path, table, key, value)
        with pytest.raises(ProtocolFileError) as err:
            load_protocol(path)
        assert f"{table}.{key}" in str(err.value), (value, str(err.value))


@pytest.mark.parametrize("field,value", [
    ("breathing_reminder_s", 1e-6), ("rest_s", 1e-9), ("prepare_s", 0.001),
    ("countdown_s", 1e9), ("reps", 10**6), ("hold_s", 1e-9),
])
def test_the_engine_refuses_a_protocol_built_in_code_outside_the_ranges(
        field: str, value: float) -> None:
    with pytest.raises(ProtocolValueError) as err:
        replace(DEFAULT, **{field: value})
    assert err.value.field == RANGES[field].spec.label
    # Changed behind the model's back, the engine still refuses it.
    p = replace(DEFAULT)
    object.__setattr__(p, field, value)
    assert out_of_range(p) == [f"{field} = {value!r}"]
    with pytest.raises(ValueError, match=field):
        Engine(p, sample_rate_hz=80)


def test_every_builtin_protocol_is_within_the_ranges() -> None:
    from isogrip.protocols.loader import builtin_protocols

    for p in builtin_protocols():
        assert out_of_range(p) == [], p.name


def first_hold_go(protocol: Protocol) -> tuple[Engine, float]:
    """An engine just inside its first hold (the MVC is known), and the hold's start."""
    e = Engine(protocol, sample_rate_hz=100, known_mvc=KNOWN)
    e.command(Command.START, 0.0)
    t = 0.0
    while True:
        t += 0.05
        for ev in e.tick(t):
            if isinstance(ev, PhaseChanged) and ev.phase is Phase.HOLD:
                return e, ev.t
        assert t < 600, "the first hold never started"


def test_a_jump_of_the_clock_gives_one_reminder_not_every_one_missed() -> None:
    p = replace(DEFAULT, reps=1, hold_s=120.0, breathing_reminder_s=5.0)
    e, go = first_hold_go(p)
    # The clock jumps almost to the end of the hold (a stalled loop, a suspended
    # laptop): 23 reminders were due, and one is given.
    events = e.tick(go + 118.0)
    assert len([ev for ev in events if ev.kind is EventKind.BREATHE]) == 1
    # The next one keeps the hold's own rhythm: none before go + 120 s, the end.
    later = e.tick(go + 119.5)
    assert not [ev for ev in later if ev.kind is EventKind.BREATHE]


def test_regular_ticks_keep_the_reminders_on_their_times() -> None:
    p = replace(DEFAULT, reps=1, hold_s=120.0, breathing_reminder_s=30.0)
    e, go = first_hold_go(p)
    times = []
    t = go
    while t < go + 121:
        t += 0.05
        times += [ev.t for ev in e.tick(t) if ev.kind is EventKind.BREATHE]
    assert times == pytest.approx([go + 30, go + 60, go + 90], abs=1e-9)


def test_a_fifo_as_the_protocol_file_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "p.toml"
    os.mkfifo(fifo)
    result: list[BaseException | Protocol] = []

    def load() -> None:
        try:
            result.append(load_protocol(fifo))
        except BaseException as exc:  # handed to the test thread
            result.append(exc)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(60)  # a hang, not a slow machine: opening a FIFO waits for a writer
    if thread.is_alive():  # unblock the reader before failing
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        pytest.fail("loading a FIFO as a protocol blocked")
    (outcome,) = result
    assert isinstance(outcome, ProtocolFileError)
    assert "not a regular file" in str(outcome) and "\n" not in str(outcome)
