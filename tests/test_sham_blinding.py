"""Blinding: nothing a participant of a sham protocol sees or hears gives it away.

One walk through every participant-facing surface for a whole session of each sham
preset (and of the active arm, for comparison): the terminal view, the Calibrate and
Train screens (gauge, trace, words), the sounds, the CLI's printed lines and closing
tables, the Summary screen and the History page. And the statistics of what the
simulated participant is shown (tests the display mapping, bench/sham.py).
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from isogrip.ble_device.participant import make_participant
from isogrip.cli import main
from isogrip.cli.session_ref import resolve_session
from isogrip.cli.terminal_view import live_panel
from isogrip.protocols.engine import Engine
from isogrip.protocols.events import Command, Phase, Snapshot, Stage
from isogrip.protocols.loader import load_protocol
from isogrip.protocols.records import Event, MvcChosen, MvcTrialRedone, MvcTrialScored
from isogrip.signal.units import KGF_N, Unit
from isogrip.storage.store import Store
from isogrip.ui.audio import CuePlayer
from isogrip.ui.calibrate_screen import CalibrateScreen
from isogrip.ui.history_screen import HistoryScreen, load_history
from isogrip.ui.summary_screen import SummaryScreen, load_session_data
from isogrip.ui.train_screen import TRACE_WINDOW_S, TrainScreen

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# bench/ is a folder of the checkout, not an installed package.
from bench.sham import ACTIVE, ArmFigures, arm_figures

SHAMS = ("ihg-4x2-5-sham", "ihg-4x2-10-sham")
RATE, PER = 80.0, 4
FRAME_S = 0.5  # a display frame every half second of session time
#: Words that name or measure the blinding.
GIVEAWAYS = re.compile(r"sham|blind|placebo|scale|x ?6|x ?3\b|(?<![\d.])(5|10) ?%|hidden",
                       re.IGNORECASE)


class Sink:
    """Records the cues the participant hears."""

    available = True
    description = "test"

    def __init__(self) -> None:
        self.played: list[str] = []

    def play(self, name: str, volume: float) -> None:
        self.played.append(name)


def session(name: str, seed: int = 3) -> Iterator[tuple[Snapshot, list[Event], np.ndarray,
                                                        np.ndarray]]:
    """A whole session with the virtual participant on the virtual clock, frame by frame.

    Yields (snapshot, events since the last frame, recent sample times, forces).
    """
    engine = Engine(load_protocol(name), sample_rate_hz=RATE)
    participant = make_participant("good", seed)
    events = engine.command(Command.START, 0.0)
    ts: list[np.ndarray] = []
    fs: list[np.ndarray] = []
    k, next_frame = 0, 0.0
    while not engine.finished:
        t = (k + 1 + np.arange(PER)) / RATE
        k += PER
        participant.observe(float(t[-1]), engine.snapshot())
        f = participant.forces(t)
        ts.append(t)
        fs.append(f)
        events += engine.feed(t, f) + engine.tick(float(t[-1]))
        if t[-1] >= next_frame:
            keep = max(1, int(TRACE_WINDOW_S * RATE / PER))
            ts, fs = ts[-keep:], fs[-keep:]
            yield engine.snapshot(), events, np.concatenate(ts), np.concatenate(fs)
            events = []
            next_frame += FRAME_S
    yield engine.snapshot(), events, np.concatenate(ts), np.concatenate(fs)


def words(events: list[Event]) -> set[tuple[str, str]]:
    """Participant-facing messages with their numbers blanked (to compare arms)."""
    return {(e.kind.value, re.sub(r"\d+(\.\d+)?", "#", e.message)) for e in events
            if e.message}


def live_surfaces(name: str, qtbot) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Walk a session through the terminal view, both screens and the sounds."""
    train, cal = TrainScreen(), CalibrateScreen()
    qtbot.addWidget(train)
    qtbot.addWidget(cal)
    sink = Sink()
    audio = CuePlayer(sink, clock=lambda: 0.0, out_of_band_interval_s=0.0)
    console = Console(width=140, record=True, color_system=None)
    texts: list[str] = []
    all_events: list[Event] = []
    hold_pcts: list[float] = []
    targets: list[float] = []
    trace_max: list[float] = []
    mvc_lines: list[tuple[float, float]] = []
    holds_started = False
    for snap, events, t, f in session(name):
        all_events += events
        audio.handle(events)
        for ev in events:
            if isinstance(ev, MvcTrialScored | MvcTrialRedone):
                cal.add_trial(ev)
            elif isinstance(ev, MvcChosen):
                cal.add_result(ev)
        console.print(live_panel(snap, Unit.KGF, "isogrip"))
        panel = console.export_text(clear=True)
        texts.append(panel)
        holds_started |= snap.phase is Phase.HOLD
        if not holds_started and snap.stage is not Stage.HOLD:
            cal.update_frame(snap)
            texts += [cal.instruction.text(), cal.force.text(), cal.advice.text(),
                      cal.subtitle.text()]
            m = re.search(r"Force\s+([\d.]+) kg\s+best so far ([\d.]+) kg", panel)
            if m and snap.phase is Phase.MVC_EFFORT:
                mvc_lines.append((float(m[1]), float(m[2])))
            continue
        train.update_frame(snap, t, f)
        texts += [train.title.text(), train.detail.text(), train.cue.text()]
        if snap.phase is Phase.HOLD and snap.time_left_s is not None \
                and snap.time_left_s < 110 and snap.mvc_n:
            mvc_kg = snap.mvc_n / KGF_N
            assert train.gauge.target is not None
            targets.append(train.gauge.target / mvc_kg)
            m = re.search(r"(\d+) % of your maximum", train.detail.text())
            assert m, train.detail.text()
            hold_pcts.append(float(m[1]))
            assert f"{int(m[1])} % of your maximum" in panel or "% of your maximum" in panel
            trace_max.append(float(np.max(train.trace.curve.yData)) / mvc_kg)
    return {"texts": texts, "events": all_events, "sounds": sink.played,
            "hold_pcts": hold_pcts, "targets": targets, "trace_max": trace_max,
            "mvc_lines": mvc_lines}


def stored_surfaces(name: str, tmp_path: Path, qtbot,  # type: ignore[no-untyped-def]
                    capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    """Run ``isogrip run`` (its printed lines), then read Summary and History."""
    data = tmp_path / name
    code = main(["--data-dir", str(data), "run", "--protocol", name, "--device",
                 "sim:good?seed=3", "--speed", "max"])
    out = capsys.readouterr().out
    assert code == 0, out
    store = Store.open(data)
    summary = SummaryScreen()
    qtbot.addWidget(summary)
    summary.store = store
    d = load_session_data(store, resolve_session(store, "last"))
    summary.session_id = d.info.id
    summary._loaded(d)
    cells = [summary.table.item(r, c).text()  # type: ignore[union-attr]
             for r in range(summary.table.rowCount()) for c in range(summary.table.columnCount())]
    mean_col = [summary.table.item(r, 3).text()  # type: ignore[union-attr]
                for r in range(summary.table.rowCount())]
    history = HistoryScreen()
    qtbot.addWidget(history)
    history._loaded(load_history(store, None))
    hist = [history.table.item(r, c).text()  # type: ignore[union-attr]
            for r in range(history.table.rowCount())
            for c in range(history.table.columnCount())]
    store.close()
    return {"cli": out, "summary": [summary.title.text(), summary.subtitle.text(),
                                    summary.note.text(), *cells],
            "mean_col": mean_col, "history": hist}


_ACTIVE: dict[str, dict[str, object]] = {}


@pytest.mark.parametrize("sham", SHAMS)
def test_every_participant_surface_of_a_sham_session_looks_like_the_active_arm(
        sham: str, qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
        capsys: pytest.CaptureFixture[str]) -> None:
    live = live_surfaces(sham, qtbot)
    if ACTIVE not in _ACTIVE:  # one active session serves both shams
        _ACTIVE[ACTIVE] = live_surfaces(ACTIVE, qtbot)
    active = _ACTIVE[ACTIVE]
    stored = stored_surfaces(sham, tmp_path, qtbot, capsys)

    # Nothing names or measures the blinding, anywhere the participant looks.
    seen = [*live["texts"], *(e.message for e in live["events"]),  # type: ignore[attr-defined]
            stored["cli"], *stored["summary"], *stored["history"]]  # type: ignore[misc]
    leaks = [s for s in seen if GIVEAWAYS.search(str(s))]
    assert not leaks, leaks[:5]
    assert sham not in str(stored["cli"])

    # The holds look like 30 %: gauge target, the "% of your maximum", the trace.
    assert live["targets"] and all(abs(x - 0.30) < 0.005 for x in live["targets"])  # type: ignore[attr-defined]
    pcts = np.array(live["hold_pcts"])
    assert 28 <= np.median(pcts) <= 32 and pcts.min() >= 25 and pcts.max() <= 35
    assert max(live["trace_max"]) < 0.36  # type: ignore[arg-type]
    assert all(m.endswith(" %") and 28 <= float(m[:-2]) <= 32 for m in stored["mean_col"])  # type: ignore[attr-defined]
    cli_means = re.findall(r"│\s+\d+ │ \w+\s+│\s+[\d.]+ │\s+([\d.]+) │", str(stored["cli"]))
    assert len(cli_means) == 4 and all(28 <= float(m) <= 32 for m in cli_means)

    # MVC efforts show the true force, consistent with the best so far.
    assert live["mvc_lines"]
    assert all(f <= best + 0.05 * best + 0.1 for f, best in live["mvc_lines"])  # type: ignore[attr-defined]
    assert max(f for f, _ in live["mvc_lines"]) < 45  # type: ignore[attr-defined]  # 40 kg hand

    # The same words, warnings and sounds as the active arm.
    assert words(live["events"]) == words(active["events"])  # type: ignore[arg-type]
    assert live["sounds"] == active["sounds"]


@functools.cache
def _arm(name: str, old: bool = False) -> ArmFigures:
    return arm_figures(name, range(3), reps=2, old=old)


@pytest.mark.parametrize("sham", SHAMS)
def test_sham_display_statistics_match_the_active_arm(sham: str) -> None:
    # The simulated participant reacts to what it is shown; 2 holds x 3 seeds each.
    active = _arm(ACTIVE)
    shown = _arm(sham)
    assert abs(shown.time_in_band_pct - active.time_in_band_pct) <= 5
    assert 0.7 <= shown.cv_pct / active.cv_pct <= 1.4
    assert shown.warnings == active.warnings
    assert abs(shown.out_of_band_cues - active.out_of_band_cues) <= 1
    assert abs(shown.ramp_s - active.ramp_s) <= 0.15
    # The old display (force x scale) was not like the active arm.
    old = _arm(sham, old=True)
    assert old.cv_pct / active.cv_pct > 2


def test_closing_tables_of_a_real_time_sham_run_show_the_shown_figures(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # At real (here 20x) speed the session clock does not start at 0, so the closing
    # tables must line the samples up with the summary's session-relative times.
    proto = tmp_path / "short-sham.toml"
    proto.write_text(
        '[protocol]\nname = "short-sham"\ntitle = "4 x 2 min at 30 % MVC"\n'
        '[holds]\nreps = 1\nduration_s = 20\nrest_s = 5\ntarget_pct_mvc = 5\n'
        '[band]\ngreen_pct_mvc = 0.5\namber_pct_mvc = 0.8333\nwarn_above_pct_mvc = 5.8333\n'
        '[timing]\nprepare_s = 1\nrest_after_mvc_s = 3\n'
        '[display]\nscale = 6.0\nhide_intensity = true\n')
    code = main(["--data-dir", str(tmp_path / "data"), "run", "--protocol", str(proto),
                 "--device", "sim:good?seed=3", "--speed", "20", "--headless",
                 "--reuse-mvc", "30,32"])
    out = capsys.readouterr().out
    assert code == 0, out
    means = re.findall(r"│\s+1 │ \w+\s+│\s+([\d.]+) │\s+([\d.]+) │\s+(\d+) %", out)
    assert len(means) == 1, out
    target_kg, mean_pct, in_band = (float(x) for x in means[0])
    assert abs(target_kg - 0.30 * 32) < 0.1  # the shown target, 30 % of the right MVC
    assert 28 <= mean_pct <= 32 and in_band >= 80
