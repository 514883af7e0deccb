"""The starter protocol and when the summary suggests it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from engine_driver import drive

from isogrip.protocols.engine import Engine
from isogrip.protocols.events import Command, Phase, Snapshot
from isogrip.protocols.loader import builtin_names, load_protocol
from isogrip.protocols.records import HoldFinished
from isogrip.protocols.starter import (
    STARTER_PROTOCOL,
    HoldOutcome,
    not_held_reason,
    starter_advice,
)
from isogrip.runtime import SessionConfig, SessionRuntime
from isogrip.storage.history import session_starter_advice
from isogrip.storage.store import Store
from isogrip.types import Hand


def held(rep: int = 1, **kw: float) -> HoldOutcome:
    values = {"target_pct": 30.0, "band_low_pct": 27.0, "time_in_band_pct": 98.0,
              "mean_pct_mvc": 30.0, "drift_pct_mvc_per_min": -0.5, **kw}
    return HoldOutcome(rep=rep, **values)


def test_starter_preset_is_the_cited_intensity_and_never_above_the_cap() -> None:
    p = load_protocol(STARTER_PROTOCOL)
    assert STARTER_PROTOCOL in builtin_names()
    assert (p.reps, p.hold_s, p.target_pct, p.rest_s) == (4, 120.0, 20.0, 60.0)
    assert p.warn_above_pct == 30.0  # the intensity cap
    assert "Baffour-Awuah" in p.source and "15-20 %" in p.source


def test_rule_tells_not_held_from_unsteady_or_fine() -> None:
    assert not_held_reason(held()) == ""
    # Unsteady but on target on average (the sloppy participant): not a reason.
    assert not_held_reason(held(time_in_band_pct=55.0, mean_pct_mvc=29.5)) == ""
    # Sank under the band for most of the hold.
    assert "below the green band" in not_held_reason(
        held(time_in_band_pct=40.0, mean_pct_mvc=24.0))
    # Kept falling: 6 % MVC per minute is 12 % over 2 minutes.
    assert "kept falling" in not_held_reason(held(drift_pct_mvc_per_min=-6.0))
    assert not_held_reason(held(drift_pct_mvc_per_min=-5.0)) == ""
    # Low targets (the starter itself, shams at 5 % true) are never judged.
    assert not_held_reason(held(target_pct=20.0, band_low_pct=17.0, time_in_band_pct=10.0,
                                mean_pct_mvc=10.0)) == ""
    assert not_held_reason(held(target_pct=math.nan, time_in_band_pct=math.nan)) == ""


def test_advice_is_advice_and_names_the_hold() -> None:
    assert starter_advice([held(1), held(2)]) == ""
    text = starter_advice([held(1), held(2, drift_pct_mvc_per_min=-8.0), held(3)])
    assert text.startswith("Hold 2 looked hard: the force kept falling during the hold.")
    assert STARTER_PROTOCOL in text and "20 %" in text
    assert "you could" in text and "Ask your doctor" in text


def fading(fall_after_s: float) -> object:
    """Reaches every target, then lets the force sink steadily (cannot hold 2 min)."""
    def fn(s: Snapshot, t: np.ndarray) -> np.ndarray:
        if s.phase is Phase.MVC_EFFORT:
            return np.full(t.shape, 300.0)
        if s.phase is Phase.HOLD and s.target_n is not None:
            assert s.phase_duration_s is not None and s.time_left_s is not None
            in_hold = s.phase_duration_s - s.time_left_s + (t - s.t)
            falling = np.maximum(0.0, in_hold - fall_after_s)
            return s.target_n * np.maximum(0.3, 1.0 - falling / 60.0)
        return np.zeros(t.shape)
    return fn


def test_a_hold_that_fades_gets_the_suggestion_through_the_engine() -> None:
    e = Engine(load_protocol("ihg-4x2-30-alternating"), sample_rate_hz=100)
    e.command(Command.START, 0.0)
    events = drive(e, 3000, fading(30.0))  # type: ignore[arg-type]
    results = [ev for ev in events if isinstance(ev, HoldFinished)]
    assert len(results) == 4
    outcomes = [HoldOutcome(rep=r.rep, target_pct=30.0, band_low_pct=27.0,
                            time_in_band_pct=r.metrics.time_in_band_pct,
                            mean_pct_mvc=r.metrics.mean_pct_mvc,
                            drift_pct_mvc_per_min=r.metrics.drift_pct_mvc_per_min)
                for r in results]
    assert starter_advice(outcomes).startswith("Hold 1 looked hard")


@pytest.mark.parametrize("preset", ["good", "sloppy", "fatigue", "weak"])
def test_simulated_participants_who_hold_get_no_suggestion(
        tmp_path: Path, preset: str) -> None:
    store = Store.open(tmp_path)
    config = SessionConfig(device=f"sim:{preset}?seed=3", speed=None, data_dir=tmp_path,
                           known_mvc={Hand.RIGHT: 392.0, Hand.LEFT: 363.0})
    result = SessionRuntime(config, store=store).run()
    assert result.status == "complete"
    assert session_starter_advice(store, result.session_id) == ""
    store.close()


def test_renamed_holdage_adaptation_says_what_it_is() -> None:
    p = load_protocol("ihg-4x45-50-alternating")
    assert p.name == "ihg-4x45-50-alternating"
    assert "adapted from HoldAge" in p.title and "bilateral" in p.source
    assert "each hand holds twice" in p.description
    assert load_protocol("ihg-4x45-50-bilateral") == p  # old settings keep working
    assert "ihg-4x45-50-bilateral" not in builtin_names()


def test_summary_screen_suggests_the_starter_unless_a_study_locked_the_protocol(
        qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    from isogrip.storage.paths import database_path
    from isogrip.ui.summary_screen import SummaryScreen

    store = Store.open(tmp_path)
    config = SessionConfig(device="sim:good?seed=3", speed=None, data_dir=tmp_path,
                           known_mvc={Hand.RIGHT: 392.0, Hand.LEFT: 363.0})
    sid = SessionRuntime(config, store=store).run().session_id
    store.close()
    with sqlite3.connect(database_path(tmp_path)) as db:  # hold 2 sank steadily
        db.execute("UPDATE holds SET drift_pct_mvc_per_min = -8 WHERE rep = 2")
    store = Store.open(tmp_path)
    for locked in (False, True):
        screen = SummaryScreen()
        qtbot.addWidget(screen)
        screen.suggest_starter = not locked
        screen.load(store, sid)
        qtbot.waitUntil(lambda s=screen: s.data is not None, timeout=30_000)  # type: ignore[misc]
        note = screen.note.text()
        assert ("Hold 2 looked hard: the force kept falling" in note) is not locked
    store.close()
